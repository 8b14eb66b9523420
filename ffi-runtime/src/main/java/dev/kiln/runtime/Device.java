package dev.kiln.runtime;

import dev.kiln.runtime.opencl.OpenClContext;
import dev.kiln.runtime.opencl.OpenClDevice;
import dev.kiln.runtime.opencl.OpenClUnavailableException;
import java.util.Locale;

/**
 * Where a compiled model runs: the C library on the CPU, or an OpenCL device. Pick one the way
 * PyTorch users write {@code cuda if available else cpu}: {@link #best()} takes the best OpenCL
 * device when one is present and the CPU otherwise.
 *
 * <p>An OpenCL device has one OpenCL context that every model created on it shares; closing the
 * device closes the context, after which those models throw {@link IllegalStateException}.
 */
public abstract sealed class Device implements AutoCloseable permits Device.Cpu, Device.OpenCl {

    private static final Cpu CPU = new Cpu();

    /** Returns the CPU: models run their compiled C library. */
    public static Device cpu() {
        return CPU;
    }

    /**
     * Returns the best OpenCL device (a GPU before an accelerator before a CPU).
     *
     * @throws OpenClUnavailableException without an OpenCL library or device
     */
    public static Device openCl() {
        return new OpenCl(OpenClDevice.best());
    }

    /** Returns an OpenCL device. */
    public static Device openCl(OpenClDevice device) {
        return new OpenCl(device);
    }

    /** Returns the best OpenCL device if one is present, else the CPU. */
    public static Device best() {
        try {
            return openCl();
        } catch (OpenClUnavailableException e) {
            return CPU;
        }
    }

    /**
     * Parses a device option: {@code cpu}, {@code opencl} (the best OpenCL device),
     * {@code opencl:<part of the device name>}, or {@code best}.
     */
    public static Device parse(String text) {
        String lower = text.toLowerCase(Locale.ROOT);
        if (lower.equals("cpu")) {
            return cpu();
        }
        if (lower.equals("best")) {
            return best();
        }
        if (lower.equals("opencl")) {
            return openCl();
        }
        if (lower.startsWith("opencl:")) {
            return openCl(OpenClDevice.byName(text.substring("opencl:".length())));
        }
        throw new IllegalArgumentException("unknown device '" + text + "'; use cpu, opencl, opencl:<name> or best");
    }

    abstract Executor executor(ModelDescriptor descriptor, Class<?> owner);

    /** Releases the device's resources; closing the CPU does nothing. */
    @Override
    public abstract void close();

    /** The C library on the CPU. */
    static final class Cpu extends Device {
        @Override
        Executor executor(ModelDescriptor descriptor, Class<?> owner) {
            return new NativeExecutor(descriptor, NativeModelLibrary.load(descriptor, owner));
        }

        @Override
        public void close() {
        }

        @Override
        public String toString() {
            return "cpu";
        }
    }

    /** An OpenCL device with its context. */
    public static final class OpenCl extends Device {
        private final OpenClDevice device;
        private OpenClContext context;

        OpenCl(OpenClDevice device) {
            this.device = device;
        }

        /** Returns the OpenCL device. */
        public OpenClDevice device() {
            return device;
        }

        /** Returns the context, opening it on first use. */
        public synchronized OpenClContext context() {
            if (context == null) {
                context = OpenClContext.open(device);
            }
            return context;
        }

        @Override
        Executor executor(ModelDescriptor descriptor, Class<?> owner) {
            return OpenClExecutor.fromResources(descriptor, owner, context());
        }

        @Override
        public synchronized void close() {
            if (context != null) {
                context.close();
            }
        }

        @Override
        public String toString() {
            return "opencl:" + device.name();
        }
    }
}
