package dev.kiln.runtime.opencl;

import java.lang.foreign.MemorySegment;
import java.util.Optional;
import java.util.Set;

/**
 * A kernel of a {@link Program} with its arguments. Every argument is checked against the
 * kernel's declaration when the driver keeps argument metadata, because a scalar passed where
 * the kernel expects a pointer would make the device dereference it. Launch it with
 * {@link OpenClContext#enqueue(Kernel, long[], long[])}.
 */
public final class Kernel implements AutoCloseable {
    private static final Set<String> INT_TYPES = Set.of("int", "uint", "unsigned int");
    private static final Set<String> LONG_TYPES = Set.of("long", "ulong", "unsigned long");
    private static final Set<String> FLOAT_TYPES = Set.of("float");

    private final OpenClContext context;
    private final MemorySegment kernel;
    private final String name;
    private final int argumentCount;
    private final long workGroupSize;
    /** The buffer bound to each argument, or a marker for a scalar or local argument; null while unset. */
    private final Object[] arguments;
    private boolean closed;

    Kernel(OpenClContext context, MemorySegment kernel, String name, MemorySegment device) {
        this.context = context;
        this.kernel = kernel;
        this.name = name;
        this.argumentCount = Kernels.clGetKernelNumArgs(kernel);
        this.workGroupSize = Kernels.clGetKernelWorkGroupInfo(kernel, device, Kernels.CL_KERNEL_WORK_GROUP_SIZE);
        this.arguments = new Object[argumentCount];
    }

    /** Returns the kernel's name in the program. */
    public String name() {
        return name;
    }

    /** Returns the number of arguments the kernel declares. */
    public int argumentCount() {
        return argumentCount;
    }

    /** Returns the largest work-group this kernel can run with on the context's device ({@code CL_KERNEL_WORK_GROUP_SIZE}). */
    public long workGroupSize() {
        return workGroupSize;
    }

    /** Binds a {@code __global} or {@code __constant} pointer argument to a buffer of the same context. */
    public Kernel setArg(int index, DeviceBuffer buffer) {
        synchronized (context) {
            checkUsable(index);
            if (buffer == null) {
                throw new IllegalArgumentException("buffer for argument " + index + " of kernel " + name + " is null");
            }
            MemorySegment memory = buffer.handle(context, "buffer for argument " + index + " of kernel " + name);
            checkQualifier(index, "a buffer", Kernels.CL_KERNEL_ARG_ADDRESS_GLOBAL, Kernels.CL_KERNEL_ARG_ADDRESS_CONSTANT);
            Kernels.clSetKernelArgBuffer(kernel, index, memory);
            arguments[index] = buffer;
            return this;
        }
    }

    /** Sets an {@code int} or {@code uint} argument. */
    public Kernel setArgInt(int index, int value) {
        synchronized (context) {
            checkScalar(index, "an int", INT_TYPES);
            Kernels.clSetKernelArgInt(kernel, index, value);
            arguments[index] = Boolean.TRUE;
            return this;
        }
    }

    /** Sets a {@code long} or {@code ulong} argument. */
    public Kernel setArgLong(int index, long value) {
        synchronized (context) {
            checkScalar(index, "a long", LONG_TYPES);
            Kernels.clSetKernelArgLong(kernel, index, value);
            arguments[index] = Boolean.TRUE;
            return this;
        }
    }

    /** Sets a {@code float} argument. */
    public Kernel setArgFloat(int index, float value) {
        synchronized (context) {
            checkScalar(index, "a float", FLOAT_TYPES);
            Kernels.clSetKernelArgFloat(kernel, index, value);
            arguments[index] = Boolean.TRUE;
            return this;
        }
    }

    /** Sets a {@code __local} pointer argument to {@code bytes} of local memory per work-group. */
    public Kernel setArgLocal(int index, long bytes) {
        synchronized (context) {
            checkUsable(index);
            checkQualifier(index, "local memory", Kernels.CL_KERNEL_ARG_ADDRESS_LOCAL);
            Kernels.clSetKernelArgLocal(kernel, index, bytes);
            arguments[index] = Boolean.TRUE;
            return this;
        }
    }

    /** Releases the kernel; a second call does nothing. */
    @Override
    public void close() {
        synchronized (context) {
            if (!closed) {
                closed = true;
                context.forget(this);
                Kernels.clReleaseKernel(kernel);
            }
        }
    }

    /** Returns the handle for a launch from {@code user} once every argument is set to something still open. */
    MemorySegment handleForLaunch(OpenClContext user) {
        if (user != context) {
            throw new IllegalArgumentException("kernel " + name + " belongs to another OpenClContext");
        }
        if (closed) {
            throw new IllegalStateException("kernel " + name + " has been closed");
        }
        for (int i = 0; i < argumentCount; i++) {
            if (arguments[i] == null) {
                throw new IllegalStateException("argument " + i + " of kernel " + name + " is not set; set all "
                        + argumentCount + " arguments before the launch");
            }
            if (arguments[i] instanceof DeviceBuffer buffer && buffer.isClosed()) {
                throw new IllegalStateException("argument " + i + " of kernel " + name
                        + " is a buffer that has been closed; bind an open buffer");
            }
        }
        return kernel;
    }

    void releasedByContext() {
        if (!closed) {
            closed = true;
            Kernels.clReleaseKernel(kernel);
        }
    }

    private void checkUsable(int index) {
        context.ensureOpen();
        if (closed) {
            throw new IllegalStateException("kernel " + name + " has been closed");
        }
        if (index < 0 || index >= argumentCount) {
            throw new IllegalArgumentException("kernel " + name + " has arguments 0 to " + (argumentCount - 1)
                    + ", but argument " + index + " was set");
        }
    }

    private void checkScalar(int index, String passedKind, Set<String> typeNames) {
        checkUsable(index);
        checkQualifier(index, passedKind, Kernels.CL_KERNEL_ARG_ADDRESS_PRIVATE);
        Optional<String> declared = Kernels.clGetKernelArgTypeName(kernel, index);
        if (declared.isPresent() && !typeNames.contains(declared.get().strip())) {
            throw new IllegalArgumentException("argument " + index + " of kernel " + name + " is declared as "
                    + declared.get() + ", but " + passedKind + " was passed");
        }
    }

    private void checkQualifier(int index, String passedKind, int... allowed) {
        Optional<Integer> qualifier = Kernels.clGetKernelArgAddressQualifier(kernel, index);
        if (qualifier.isEmpty()) {
            return;
        }
        for (int candidate : allowed) {
            if (qualifier.get() == candidate) {
                return;
            }
        }
        throw new IllegalArgumentException("argument " + index + " of kernel " + name + " is " + describe(qualifier.get())
                + ", but " + passedKind + " was passed");
    }

    private static String describe(int qualifier) {
        return switch (qualifier) {
            case Kernels.CL_KERNEL_ARG_ADDRESS_GLOBAL -> "a __global pointer";
            case Kernels.CL_KERNEL_ARG_ADDRESS_LOCAL -> "a __local pointer";
            case Kernels.CL_KERNEL_ARG_ADDRESS_CONSTANT -> "a __constant pointer";
            case Kernels.CL_KERNEL_ARG_ADDRESS_PRIVATE -> "a scalar (private) value";
            default -> "of address qualifier 0x" + Integer.toHexString(qualifier);
        };
    }
}
