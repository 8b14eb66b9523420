package dev.kiln.runtime.opencl;

import java.lang.foreign.MemorySegment;

/**
 * A program built for the device of an {@link OpenClContext}, from source or from a cached
 * binary. Closing the program or its context releases it; kernels created from it stay usable
 * until they are closed themselves.
 */
public final class Program implements AutoCloseable {
    private final OpenClContext context;
    private final MemorySegment program;
    private final boolean fromCache;
    private boolean closed;

    Program(OpenClContext context, MemorySegment program, boolean fromCache) {
        this.context = context;
        this.program = program;
        this.fromCache = fromCache;
    }

    /** Returns whether the program was loaded from a binary in the disk cache instead of compiled from source. */
    public boolean fromCache() {
        return fromCache;
    }

    /**
     * Creates the kernel {@code name} of this program.
     *
     * @throws OpenClException with {@code CL_INVALID_KERNEL_NAME} if the program has no such kernel
     */
    public Kernel kernel(String name) {
        synchronized (context) {
            context.ensureOpen();
            if (closed) {
                throw new IllegalStateException("the program has been closed; build it again to create kernel " + name);
            }
            return context.createKernel(program, name);
        }
    }

    /** Releases the program; a second call does nothing. */
    @Override
    public void close() {
        synchronized (context) {
            if (!closed) {
                closed = true;
                context.forget(this);
                Programs.clReleaseProgram(program);
            }
        }
    }

    void releasedByContext() {
        if (!closed) {
            closed = true;
            Programs.clReleaseProgram(program);
        }
    }
}
