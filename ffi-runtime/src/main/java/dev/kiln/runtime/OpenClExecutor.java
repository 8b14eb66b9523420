package dev.kiln.runtime;

import dev.kiln.ir.Hyperparameters;
import dev.kiln.runtime.opencl.DeviceBuffer;
import dev.kiln.runtime.opencl.Kernel;
import dev.kiln.runtime.opencl.OpenClContext;
import dev.kiln.runtime.opencl.Program;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Runs entries on an OpenCL device by replaying each entry's launch list. Parameters, gradients
 * and optimizer state stay resident in device buffers across calls; only inputs and labels go in
 * and only outputs and losses come back. Calls are serialized on the model's command queue.
 *
 * <p>Work-group sizes come from the device: the elementwise and reduction local size is
 * min(64, max work-group size) and the matmul tile edge the largest power of two whose square
 * fits, at most 16. {@code -Dkiln.opencl.maxWorkGroupSize=N} or the environment variable
 * {@code KILN_OPENCL_MAX_WORK_GROUP_SIZE} caps the device's limit, to run under GPU-like limits.
 */
final class OpenClExecutor implements Executor {
    private static final int GROUPS = 64;
    private static final int FIRST_ARG = 4;

    private final String modelName;
    private final OpenClContext context;
    private final LaunchList launchList;
    private final Program program;
    private final Map<String, Kernel> kernels = new HashMap<>();
    private final int local;
    private final int tile;
    private final Map<Long, Resident> residents = new LinkedHashMap<>();
    private final DeviceBuffer[] staging = new DeviceBuffer[Workspace.MAX_ARGS];
    private final DeviceBuffer call;
    private final DeviceBuffer scalars;
    private final float[] callValues = new float[Hyperparameters.NAMES.size()];
    private DeviceBuffer workspace;
    private boolean closed;

    /** A parameter, gradient or state block kept on the device, with which copy is newer. */
    private static final class Resident {
        final MemorySegment host;
        final DeviceBuffer device;
        boolean hostNewer = true;
        boolean deviceNewer;

        Resident(MemorySegment host, DeviceBuffer device) {
            this.host = host;
            this.device = device;
        }
    }

    /** Loads the program and launch list that the processor wrote next to the generated class. */
    static OpenClExecutor fromResources(ModelDescriptor descriptor, Class<?> owner, OpenClContext context) {
        String base = "META-INF/kiln/opencl/" + descriptor.libraryName();
        return new OpenClExecutor(descriptor, resource(owner, base + ".cl"), resource(owner, base + ".launches"),
                base + ".launches", context);
    }

    OpenClExecutor(ModelDescriptor descriptor, String source, String launches, String launchesName,
                   OpenClContext context) {
        this.modelName = descriptor.modelName();
        this.context = context;
        this.launchList = LaunchList.parse(launches, launchesName);
        long limit = Math.min(context.device().maxWorkGroupSize(), workGroupCap());
        this.local = (int) Math.max(1, Math.min(64, limit));
        int edge = 1;
        while (edge * 2 <= 16 && (long) (edge * 2) * (edge * 2) <= limit) {
            edge *= 2;
        }
        this.tile = edge;
        this.program = context.buildShared(source, "-DKILN_LOCAL=" + local + " -DKILN_TILE=" + tile + " -DKILN_GROUPS=" + GROUPS);
        for (LaunchList.EntryPlan plan : launchList.entries().values()) {
            for (LaunchList.Launch launch : plan.launches()) {
                Kernel kernel = program.kernel(launch.kernel());
                long needed = switch (launch.kind()) {
                    case MATMUL -> (long) tile * tile;
                    case REDUCE -> local;
                    default -> 1;
                };
                if (kernel.workGroupSize() < needed) {
                    throw new NativeLibraryException("kernel " + launch.kernel() + " of " + modelName + " allows work groups of "
                            + kernel.workGroupSize() + " items on " + context.device().name() + " but needs " + needed
                            + "; cap the work-group size with -Dkiln.opencl.maxWorkGroupSize=" + kernel.workGroupSize());
                }
                kernels.put(launch.kernel(), kernel);
            }
        }
        this.call = context.allocate((long) callValues.length * Float.BYTES);
        this.scalars = context.allocate((long) (launchList.scalars() + GROUPS) * Float.BYTES);
        this.workspace = context.allocate(64);
    }

    private static long workGroupCap() {
        String value = System.getProperty("kiln.opencl.maxWorkGroupSize", System.getenv("KILN_OPENCL_MAX_WORK_GROUP_SIZE"));
        if (value == null || value.isBlank()) {
            return Long.MAX_VALUE;
        }
        try {
            long cap = Long.parseLong(value.trim());
            if (cap < 1) {
                throw new NumberFormatException();
            }
            return cap;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("work-group size cap must be a positive integer, got '" + value + "'");
        }
    }

    private static String resource(Class<?> owner, String name) {
        ClassLoader loader = owner.getClassLoader() != null ? owner.getClassLoader() : ClassLoader.getSystemClassLoader();
        try (InputStream in = loader.getResourceAsStream(name)) {
            if (in == null) {
                throw new NativeLibraryException("no OpenCL program " + name + " in the class path of " + owner.getName()
                        + "; rebuild the project with the Kiln annotation processor");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new NativeLibraryException("cannot read " + name + ": " + e.getMessage(), e);
        }
    }

    @Override
    public long workspaceBytes(String entry, long batch) {
        return 0;
    }

    @Override
    public synchronized void invoke(String entry, long batch, Workspace ws) {
        checkOpen();
        LaunchList.EntryPlan plan = launchList.entries().get(entry);
        long workspaceBytes = (plan.workspacePerRow() * batch + plan.workspaceFixed()) * Float.BYTES;
        if (workspace.bytes() < workspaceBytes) {
            workspace.close();
            workspace = context.allocate(workspaceBytes);
        }
        for (int i = 0; i < callValues.length; i++) {
            callValues[i] = (float) ws.callValues[i];
        }
        context.write(call, callValues);

        DeviceBuffer[] buffers = new DeviceBuffer[plan.argNames().size()];
        for (int i = 0; i < buffers.length; i++) {
            buffers[i] = stage(plan, i, ws);
        }
        for (LaunchList.Launch launch : plan.launches()) {
            enqueue(launch, batch, buffers);
        }
        for (int i = 0; i < buffers.length; i++) {
            if (!plan.written().get(i)) {
                continue;
            }
            if (isResident(plan.argNames().get(i))) {
                residents.get(ws.argSegments[i].address()).deviceNewer = true;
            } else if (ws.argBytes[i] > 0) {
                context.read(buffers[i], 0, ws.argSegments[i].asSlice(0, ws.argBytes[i]));
            }
        }
        context.finish();
    }

    private static boolean isResident(String argName) {
        return argName.equals("params") || argName.equals("grads") || argName.equals("state");
    }

    /** Returns the device buffer of argument {@code i}, uploading what the host has newer. */
    private DeviceBuffer stage(LaunchList.EntryPlan plan, int i, Workspace ws) {
        MemorySegment host = ws.argSegments[i];
        if (isResident(plan.argNames().get(i))) {
            Resident resident = residents.computeIfAbsent(host.address(),
                    address -> new Resident(host, context.allocate(Math.max(host.byteSize(), Float.BYTES))));
            if (resident.hostNewer) {
                context.write(resident.device, 0, host);
                resident.hostNewer = false;
            }
            return resident.device;
        }
        long bytes = Math.max(ws.argBytes[i], Float.BYTES);
        if (staging[i] == null || staging[i].bytes() < bytes) {
            if (staging[i] != null) {
                staging[i].close();
            }
            staging[i] = context.allocate(bytes);
        }
        if (!plan.written().get(i) && ws.argBytes[i] > 0) {
            context.write(staging[i], 0, host.asSlice(0, ws.argBytes[i]));
        }
        return staging[i];
    }

    private void enqueue(LaunchList.Launch launch, long batch, DeviceBuffer[] buffers) {
        long[] global;
        long[] localSize;
        switch (launch.kind()) {
            case ELEMENTS -> {
                long n = launch.perRow() * batch + launch.fixed();
                if (n == 0) {
                    return;
                }
                global = new long[] {roundUp(n, local)};
                localSize = new long[] {local};
            }
            case MATMUL -> {
                long rows = launch.perRow() * batch + launch.fixed();
                long columns = launch.columnsPerRow() * batch + launch.columnsFixed();
                if (rows == 0 || columns == 0) {
                    return;
                }
                global = new long[] {roundUp(columns, tile), roundUp(rows, tile)};
                localSize = new long[] {tile, tile};
            }
            case REDUCE -> {
                global = new long[] {(long) GROUPS * local};
                localSize = new long[] {local};
            }
            case SINGLE -> {
                global = new long[] {1};
                localSize = new long[] {1};
            }
            default -> throw new IllegalStateException("unknown launch kind " + launch.kind());
        }
        Kernel kernel = kernels.get(launch.kernel());
        kernel.setArgLong(0, batch).setArg(1, call).setArg(2, workspace).setArg(3, scalars);
        for (int i = 0; i < buffers.length; i++) {
            kernel.setArg(FIRST_ARG + i, buffers[i]);
        }
        context.enqueue(kernel, global, localSize);
    }

    private static long roundUp(long n, long multiple) {
        return (n + multiple - 1) / multiple * multiple;
    }

    @Override
    public synchronized void hostChanged(MemorySegment block) {
        Resident resident = residents.get(block.address());
        if (resident != null) {
            resident.hostNewer = true;
            resident.deviceNewer = false;
        }
    }

    @Override
    public synchronized void beforeHostRead(MemorySegment block) {
        Resident resident = residents.get(block.address());
        if (resident != null && resident.deviceNewer) {
            checkOpen();
            context.read(resident.device, 0, block);
            resident.deviceNewer = false;
        }
    }

    /** Returns nanoseconds spent in kernels and in host-device copies since the last reset. */
    synchronized DeviceProfile profile() {
        return new DeviceProfile(context.kernelNanos(), context.transferNanos());
    }

    synchronized void resetProfile() {
        context.resetProfile();
    }

    private void checkOpen() {
        if (closed || context.isClosed()) {
            throw new IllegalStateException("the OpenCL context of model " + modelName + " on "
                    + context.device().name() + " is closed");
        }
    }

    @Override
    public String describe() {
        return "OpenCL on " + context.device().name() + " (local size " + local + ", matmul tile " + tile + ")";
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (context.isClosed()) {
            return;
        }
        // The program is shared with other models on this context, which releases it.
        List<AutoCloseable> owned = new java.util.ArrayList<>(kernels.values());
        residents.values().forEach(r -> owned.add(r.device));
        for (DeviceBuffer buffer : staging) {
            if (buffer != null) {
                owned.add(buffer);
            }
        }
        owned.add(call);
        owned.add(scalars);
        owned.add(workspace);
        for (AutoCloseable resource : owned) {
            try {
                resource.close();
            } catch (Exception e) {
                // Releasing is best effort once the model is closed; the context frees the rest.
            }
        }
    }
}
