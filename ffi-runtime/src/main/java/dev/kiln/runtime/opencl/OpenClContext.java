package dev.kiln.runtime.opencl;

import static java.lang.foreign.ValueLayout.JAVA_FLOAT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * An OpenCL context and an in-order profiling command queue for one device, owning the
 * programs, kernels and buffers created through it. All methods lock the context, so it may be
 * shared between threads, but its commands run one after another. Closing it releases
 * everything it owns; any later use throws {@link IllegalStateException}.
 *
 * <p>Copies between host and device block until done. Kernel launches return at once and
 * complete in order; {@link #finish()} waits for them. Profiling adds up, per command, the
 * device time between {@code CL_PROFILING_COMMAND_START} and {@code CL_PROFILING_COMMAND_END}.
 */
public final class OpenClContext implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(OpenClContext.class.getName());
    /** Launch events kept before waiting on them, which bounds the driver objects held per context. */
    private static final int MAX_PENDING_EVENTS = 1024;
    /** OpenCL 1.2 build option that keeps argument names, types and qualifiers for clGetKernelArgInfo. */
    private static final String ARGUMENT_INFO_OPTION = "-cl-kernel-arg-info";

    private final OpenClDevice device;
    private final MemorySegment context;
    private final MemorySegment queue;
    private final ProgramCache cache;
    private final Set<Object> owned = new LinkedHashSet<>();
    private final java.util.Map<String, Program> shared = new java.util.HashMap<>();
    private final List<PendingEvent> pending = new ArrayList<>();
    private long kernelNanos;
    private long transferNanos;
    private long cacheHits;
    private long cacheMisses;
    private boolean closed;

    private record PendingEvent(MemorySegment event, boolean kernel) {
    }

    private OpenClContext(OpenClDevice device, MemorySegment context, MemorySegment queue, ProgramCache cache) {
        this.device = device;
        this.context = context;
        this.queue = queue;
        this.cache = cache;
    }

    /**
     * Opens a context on {@code device} whose program binaries are cached under
     * {@code $KILN_CACHE_DIR/opencl}, or {@code ~/.cache/kiln/opencl} when that variable is unset.
     */
    public static OpenClContext open(OpenClDevice device) {
        return open(device, ProgramCache.defaultDirectory());
    }

    /** Opens a context on {@code device} whose program binaries are cached in {@code cacheDirectory}. */
    public static OpenClContext open(OpenClDevice device, Path cacheDirectory) {
        if (device == null) {
            throw new IllegalArgumentException("device must not be null; pick one with OpenClDevice.best()");
        }
        if (cacheDirectory == null) {
            throw new IllegalArgumentException("cache directory must not be null");
        }
        MemorySegment context = Contexts.clCreateContext(device.platformId(), device.deviceId());
        MemorySegment queue;
        try {
            queue = Queues.clCreateCommandQueue(context, device.deviceId(), Queues.CL_QUEUE_PROFILING_ENABLE);
        } catch (RuntimeException e) {
            Contexts.clReleaseContext(context);
            throw e;
        }
        return new OpenClContext(device, context, queue, new ProgramCache(cacheDirectory));
    }

    /** Returns the device of this context. */
    public OpenClDevice device() {
        return device;
    }

    /** Returns the folder of the program binary cache. */
    public Path cacheDirectory() {
        return cache.directory();
    }

    /**
     * Builds OpenCL C {@code source} with compiler {@code options} (null means none). A binary in
     * the disk cache for the same device, driver, source and options is loaded instead of
     * compiling. If the driver rejects that binary, the source is compiled and the cache entry
     * replaced.
     *
     * @throws OpenClBuildException if the device compiler rejects the source; it carries the build log
     */
    public synchronized Program build(String source, String options) {
        ensureOpen();
        if (source == null || source.isBlank()) {
            throw new IllegalArgumentException("OpenCL program source must not be null or blank");
        }
        String requestedOptions = options == null ? "" : options.strip();
        String key = ProgramCache.key(device, source, requestedOptions);
        // Argument metadata lets Kernel check each argument against its declaration.
        String compilerOptions = (requestedOptions + " " + ARGUMENT_INFO_OPTION).strip();
        Optional<MemorySegment> cached = loadCached(key, compilerOptions);
        if (cached.isPresent()) {
            cacheHits++;
            return own(new Program(this, cached.get(), true));
        }
        MemorySegment program = Programs.clCreateProgramWithSource(context, source);
        try {
            Programs.clBuildProgram(program, device.deviceId(), compilerOptions);
        } catch (RuntimeException e) {
            Programs.clReleaseProgram(program);
            throw e;
        }
        cacheMisses++;
        storeBinary(key, program);
        return own(new Program(this, program, false));
    }

    /**
     * Returns the program for {@code source} and {@code options}, building it on the first request
     * only. The context owns shared programs and releases them when it closes, so callers must not
     * close them. Drivers such as PoCL compile each kernel per program object, so sharing one
     * program between models also shares that work.
     */
    public synchronized Program buildShared(String source, String options) {
        ensureOpen();
        String key = ProgramCache.key(device, source, options == null ? "" : options.strip());
        Program program = shared.get(key);
        if (program == null) {
            program = build(source, options);
            shared.put(key, program);
        }
        return program;
    }

    /** Returns how many {@link #build} calls loaded a cached binary. */
    public synchronized long programCacheHits() {
        return cacheHits;
    }

    /** Returns how many {@link #build} calls compiled from source. */
    public synchronized long programCacheMisses() {
        return cacheMisses;
    }

    /** Allocates a read-write buffer of {@code bytes} bytes in the device's global memory. */
    public synchronized DeviceBuffer allocate(long bytes) {
        ensureOpen();
        if (bytes <= 0) {
            throw new IllegalArgumentException("buffer size must be positive, but was " + bytes + " bytes");
        }
        return own(new DeviceBuffer(this, Buffers.clCreateBuffer(context, Buffers.CL_MEM_READ_WRITE, bytes), bytes));
    }

    /** Copies all of {@code values} to the start of {@code buffer}. */
    public void write(DeviceBuffer buffer, float[] values) {
        write(buffer, 0, values, 0, values == null ? 0 : values.length);
    }

    /** Copies {@code count} floats of {@code values} from index {@code from} to byte {@code byteOffset} of {@code buffer}. */
    public synchronized void write(DeviceBuffer buffer, long byteOffset, float[] values, int from, int count) {
        ensureOpen();
        checkArrayRange(values, from, count);
        MemorySegment memory = checkRange(buffer, byteOffset, (long) count * Float.BYTES);
        if (count == 0) {
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment staging = arena.allocate(JAVA_FLOAT, count);
            MemorySegment.copy(values, from, staging, JAVA_FLOAT, 0, count);
            timeTransfer(Buffers.clEnqueueWriteBuffer(queue, memory, byteOffset, staging.byteSize(), staging));
        }
    }

    /** Copies all bytes of {@code source}, native or heap memory, to byte {@code byteOffset} of {@code buffer}. */
    public synchronized void write(DeviceBuffer buffer, long byteOffset, MemorySegment source) {
        ensureOpen();
        if (source == null) {
            throw new IllegalArgumentException("source segment must not be null");
        }
        MemorySegment memory = checkRange(buffer, byteOffset, source.byteSize());
        if (source.byteSize() == 0) {
            return;
        }
        if (source.isNative()) {
            timeTransfer(Buffers.clEnqueueWriteBuffer(queue, memory, byteOffset, source.byteSize(), source));
            return;
        }
        // The driver needs a stable native address, which a heap segment does not have.
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment staging = arena.allocate(source.byteSize(), Long.BYTES).copyFrom(source);
            timeTransfer(Buffers.clEnqueueWriteBuffer(queue, memory, byteOffset, staging.byteSize(), staging));
        }
    }

    /** Fills {@code values} from the start of {@code buffer}, after every enqueued command has completed. */
    public void read(DeviceBuffer buffer, float[] values) {
        read(buffer, 0, values, 0, values == null ? 0 : values.length);
    }

    /** Reads {@code count} floats from byte {@code byteOffset} of {@code buffer} into {@code values} from index {@code from}. */
    public synchronized void read(DeviceBuffer buffer, long byteOffset, float[] values, int from, int count) {
        ensureOpen();
        checkArrayRange(values, from, count);
        MemorySegment memory = checkRange(buffer, byteOffset, (long) count * Float.BYTES);
        if (count == 0) {
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment staging = arena.allocate(JAVA_FLOAT, count);
            timeTransfer(Buffers.clEnqueueReadBuffer(queue, memory, byteOffset, staging.byteSize(), staging));
            MemorySegment.copy(staging, JAVA_FLOAT, 0, values, from, count);
        }
        collectPending();
    }

    /** Fills all of {@code destination}, native or heap memory, from byte {@code byteOffset} of {@code buffer}. */
    public synchronized void read(DeviceBuffer buffer, long byteOffset, MemorySegment destination) {
        ensureOpen();
        if (destination == null) {
            throw new IllegalArgumentException("destination segment must not be null");
        }
        if (destination.isReadOnly()) {
            throw new IllegalArgumentException("destination segment must be writable, but is read-only");
        }
        MemorySegment memory = checkRange(buffer, byteOffset, destination.byteSize());
        if (destination.byteSize() == 0) {
            return;
        }
        if (destination.isNative()) {
            timeTransfer(Buffers.clEnqueueReadBuffer(queue, memory, byteOffset, destination.byteSize(), destination));
        } else {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment staging = arena.allocate(destination.byteSize(), Long.BYTES);
                timeTransfer(Buffers.clEnqueueReadBuffer(queue, memory, byteOffset, staging.byteSize(), staging));
                destination.copyFrom(staging);
            }
        }
        collectPending();
    }

    /** Enqueues setting every float of {@code buffer} to {@code value}; the buffer size must be a multiple of 4. */
    public synchronized void fill(DeviceBuffer buffer, float value) {
        ensureOpen();
        MemorySegment memory = checkRange(buffer, 0, 0);
        if (buffer.bytes() % Float.BYTES != 0) {
            throw new IllegalArgumentException("cannot fill a buffer of " + buffer.bytes()
                    + " bytes with floats; its size is not a multiple of " + Float.BYTES);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pattern = arena.allocateFrom(JAVA_FLOAT, value);
            addPending(Buffers.clEnqueueFillBuffer(queue, memory, pattern, 0, buffer.bytes()), false);
        }
    }

    /** Enqueues a device-side copy of the first {@code bytes} bytes of {@code source} into {@code destination}. */
    public synchronized void copy(DeviceBuffer source, DeviceBuffer destination, long bytes) {
        ensureOpen();
        MemorySegment from = checkRange(source, 0, bytes);
        MemorySegment to = checkRange(destination, 0, bytes);
        if (source == destination) {
            throw new IllegalArgumentException("source and destination of a copy are the same buffer");
        }
        if (bytes == 0) {
            return;
        }
        addPending(Buffers.clEnqueueCopyBuffer(queue, from, to, 0, 0, bytes), false);
    }

    /**
     * Enqueues {@code kernel} over {@code globalSize} work-items in work-groups of
     * {@code localSize}, or of a size the driver picks when {@code localSize} is null. Each
     * local size must divide its global size, and their product must not exceed
     * {@link Kernel#workGroupSize()}.
     */
    public synchronized void enqueue(Kernel kernel, long[] globalSize, long[] localSize) {
        ensureOpen();
        if (kernel == null) {
            throw new IllegalArgumentException("kernel must not be null");
        }
        MemorySegment handle = kernel.handleForLaunch(this);
        Kernels.checkRange(globalSize, localSize);
        if (localSize != null) {
            long workItems = 1;
            for (long size : localSize) {
                try {
                    workItems = Math.multiplyExact(workItems, size);
                } catch (ArithmeticException e) {
                    workItems = Long.MAX_VALUE;
                }
            }
            if (workItems > kernel.workGroupSize()) {
                throw new IllegalArgumentException("a work-group of " + workItems + " work-items is larger than the "
                        + kernel.workGroupSize() + " that kernel " + kernel.name() + " supports on " + device.name());
            }
        }
        addPending(Kernels.clEnqueueNDRangeKernel(queue, handle, globalSize.clone(),
                localSize == null ? null : localSize.clone()), true);
    }

    /** Blocks until every enqueued command has completed and adds their times to the profile. */
    public synchronized void finish() {
        ensureOpen();
        Queues.clFinish(queue);
        collectPending();
    }

    /** Returns the device nanoseconds spent in kernels since creation or the last {@link #resetProfile()}; waits for pending commands. */
    public synchronized long kernelNanos() {
        finish();
        return kernelNanos;
    }

    /** Returns the device nanoseconds spent in reads, writes, fills and copies since creation or the last reset; waits for pending commands. */
    public synchronized long transferNanos() {
        finish();
        return transferNanos;
    }

    /** Waits for pending commands, then sets both profile counters to zero. */
    public synchronized void resetProfile() {
        finish();
        kernelNanos = 0;
        transferNanos = 0;
    }

    /** Returns whether {@link #close()} has been called. */
    public synchronized boolean isClosed() {
        return closed;
    }

    /**
     * Waits for the queue, then releases every kernel, program and buffer of this context, the
     * queue and the context. A second call does nothing.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        List<Runnable> releases = new ArrayList<>();
        releases.add(() -> Queues.clFinish(queue));
        releases.add(this::releasePending);

        // Kernels first, then programs, then buffers: the reverse of the order they depend on each other.
        for (Object resource : owned) {
            if (resource instanceof Kernel kernel) {
                releases.add(kernel::releasedByContext);
            }
        }
        for (Object resource : owned) {
            if (resource instanceof Program program) {
                releases.add(program::releasedByContext);
            }
        }
        for (Object resource : owned) {
            if (resource instanceof DeviceBuffer buffer) {
                releases.add(buffer::releasedByContext);
            }
        }
        releases.add(() -> Queues.clReleaseCommandQueue(queue));
        releases.add(() -> Contexts.clReleaseContext(context));
        owned.clear();

        RuntimeException first = null;
        for (Runnable release : releases) {
            try {
                release.run();
            } catch (RuntimeException e) {
                if (first == null) {
                    first = e;
                } else {
                    first.addSuppressed(e);
                }
            }
        }
        if (first != null) {
            throw first;
        }
    }

    synchronized void ensureOpen() {
        if (closed) {
            throw new IllegalStateException("the OpenCL context on " + device.name() + " has been closed");
        }
    }

    synchronized void forget(Object resource) {
        owned.remove(resource);
    }

    synchronized Kernel createKernel(MemorySegment program, String name) {
        MemorySegment kernel = Kernels.clCreateKernel(program, name);
        try {
            return own(new Kernel(this, kernel, name, device.deviceId()));
        } catch (RuntimeException e) {
            Kernels.clReleaseKernel(kernel);
            throw e;
        }
    }

    private <T> T own(T resource) {
        owned.add(resource);
        return resource;
    }

    private Optional<MemorySegment> loadCached(String key, String options) {
        Optional<byte[]> binary = cache.load(key);
        if (binary.isEmpty() || binary.get().length == 0) {
            return Optional.empty();
        }
        MemorySegment program = null;
        try {
            program = Programs.clCreateProgramWithBinary(context, device.deviceId(), binary.get());
            Programs.clBuildProgram(program, device.deviceId(), options);
            return Optional.of(program);
        } catch (OpenClException e) {
            LOG.log(System.Logger.Level.WARNING, "the cached OpenCL binary " + key + " was rejected by " + device.name()
                    + "; compiling from source (" + e.getMessage() + ")");
            if (program != null) {
                Programs.clReleaseProgram(program);
            }
            cache.delete(key);
            return Optional.empty();
        }
    }

    private void storeBinary(String key, MemorySegment program) {
        try {
            cache.store(key, Programs.clGetProgramBinary(program));
        } catch (OpenClException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot read the program binary from " + device.name()
                    + "; it will be compiled again next time (" + e.getMessage() + ")");
        }
    }

    private MemorySegment checkRange(DeviceBuffer buffer, long byteOffset, long byteCount) {
        if (buffer == null) {
            throw new IllegalArgumentException("buffer must not be null");
        }
        MemorySegment memory = buffer.handle(this, "buffer");
        if (byteOffset < 0 || byteCount < 0 || byteOffset > buffer.bytes() - byteCount) {
            throw new IllegalArgumentException("bytes [" + byteOffset + ", " + byteOffset + " + " + byteCount
                    + ") are outside the buffer of " + buffer.bytes() + " bytes");
        }
        return memory;
    }

    private static void checkArrayRange(float[] values, int from, int count) {
        if (values == null) {
            throw new IllegalArgumentException("float array must not be null");
        }
        if (from < 0 || count < 0 || from > values.length - count) {
            throw new IllegalArgumentException("floats [" + from + ", " + from + " + " + count
                    + ") are outside the array of " + values.length);
        }
    }

    /** Adds the time of a completed blocking transfer and releases its event. */
    private void timeTransfer(MemorySegment event) {
        try {
            transferNanos += duration(event);
        } finally {
            Events.clReleaseEvent(event);
        }
    }

    private void addPending(MemorySegment event, boolean kernel) {
        pending.add(new PendingEvent(event, kernel));
        if (pending.size() >= MAX_PENDING_EVENTS) {
            collectPending();
        }
    }

    /** Waits for the pending events, adds their times and releases them, even when the wait fails. */
    private void collectPending() {
        if (pending.isEmpty()) {
            return;
        }
        try {
            Events.clWaitForEvents(pending.stream().map(PendingEvent::event).toList());
            for (PendingEvent entry : pending) {
                long nanos = duration(entry.event());
                if (entry.kernel()) {
                    kernelNanos += nanos;
                } else {
                    transferNanos += nanos;
                }
            }
        } finally {
            releasePending();
        }
    }

    private void releasePending() {
        List<PendingEvent> events = List.copyOf(pending);
        pending.clear();
        for (PendingEvent entry : events) {
            Events.clReleaseEvent(entry.event());
        }
    }

    private static long duration(MemorySegment event) {
        long start = Events.clGetEventProfilingInfo(event, Events.CL_PROFILING_COMMAND_START);
        long end = Events.clGetEventProfilingInfo(event, Events.CL_PROFILING_COMMAND_END);
        return Math.max(0, end - start);
    }
}
