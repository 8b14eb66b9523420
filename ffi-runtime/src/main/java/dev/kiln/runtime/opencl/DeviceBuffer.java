package dev.kiln.runtime.opencl;

import java.lang.foreign.MemorySegment;

/**
 * A buffer in the global memory of a device, created by {@link OpenClContext#allocate(long)}.
 * Closing the buffer or its context releases it; using it afterwards throws
 * {@link IllegalStateException}.
 */
public final class DeviceBuffer implements AutoCloseable {
    private final OpenClContext context;
    private final MemorySegment memory;
    private final long bytes;
    private boolean closed;

    DeviceBuffer(OpenClContext context, MemorySegment memory, long bytes) {
        this.context = context;
        this.memory = memory;
        this.bytes = bytes;
    }

    /** Returns the size of the buffer in bytes. */
    public long bytes() {
        return bytes;
    }

    /** Returns whether this buffer or its context has been closed. */
    public boolean isClosed() {
        synchronized (context) {
            return closed || context.isClosed();
        }
    }

    /** Releases the buffer; a second call does nothing. Commands already enqueued on it still complete. */
    @Override
    public void close() {
        synchronized (context) {
            if (!closed) {
                closed = true;
                context.forget(this);
                Buffers.clReleaseMemObject(memory);
            }
        }
    }

    /** Returns the {@code cl_mem} handle after checking that the buffer is open and belongs to {@code user}. */
    MemorySegment handle(OpenClContext user, String role) {
        if (user != context) {
            throw new IllegalArgumentException(role + " belongs to another OpenClContext; allocate it in this one");
        }
        if (closed) {
            throw new IllegalStateException(role + " of " + bytes + " bytes has been closed");
        }
        return memory;
    }

    /** Marks the buffer released by its context's close. */
    void releasedByContext() {
        if (!closed) {
            closed = true;
            Buffers.clReleaseMemObject(memory);
        }
    }
}
