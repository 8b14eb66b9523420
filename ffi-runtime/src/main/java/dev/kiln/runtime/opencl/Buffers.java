package dev.kiln.runtime.opencl;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;

/**
 * Bindings of the buffer calls: {@code clCreateBuffer}, {@code clEnqueueWriteBuffer},
 * {@code clEnqueueReadBuffer}, {@code clEnqueueFillBuffer}, {@code clEnqueueCopyBuffer} and
 * {@code clReleaseMemObject}. Every enqueue returns its event, which the caller must release.
 */
public final class Buffers {
    public static final long CL_MEM_READ_WRITE = 1L << 0;
    public static final long CL_MEM_WRITE_ONLY = 1L << 1;
    public static final long CL_MEM_READ_ONLY = 1L << 2;

    private static final Downcall CREATE_BUFFER = new Downcall("clCreateBuffer",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, ADDRESS, ADDRESS));
    private static final FunctionDescriptor READ_OR_WRITE = FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT,
            JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_INT, ADDRESS, ADDRESS);
    private static final Downcall ENQUEUE_WRITE_BUFFER = new Downcall("clEnqueueWriteBuffer", READ_OR_WRITE);
    private static final Downcall ENQUEUE_READ_BUFFER = new Downcall("clEnqueueReadBuffer", READ_OR_WRITE);
    private static final Downcall ENQUEUE_FILL_BUFFER = new Downcall("clEnqueueFillBuffer",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT,
                    ADDRESS, ADDRESS));
    private static final Downcall ENQUEUE_COPY_BUFFER = new Downcall("clEnqueueCopyBuffer",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, JAVA_LONG, JAVA_LONG, JAVA_INT,
                    ADDRESS, ADDRESS));
    private static final Downcall RELEASE_MEM_OBJECT = new Downcall("clReleaseMemObject",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));

    private Buffers() {
    }

    /** Creates a buffer of {@code size} bytes with memory {@code flags} and no host pointer. */
    public static MemorySegment clCreateBuffer(MemorySegment context, long flags, long size) {
        ClInfo.requireHandle(context, "context");
        if (size <= 0) {
            throw new IllegalArgumentException("buffer size must be positive, but was " + size + " bytes");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment error = arena.allocate(JAVA_INT);
            MemorySegment buffer;
            try {
                buffer = (MemorySegment) CREATE_BUFFER.handle().invokeExact(context, flags, size, MemorySegment.NULL,
                        error);
            } catch (Throwable thrown) {
                throw OpenClLibrary.rethrow(thrown, CREATE_BUFFER.name());
            }
            int status = error.get(JAVA_INT, 0);
            if (status != ClErrors.CL_SUCCESS) {
                throw new OpenClException(CREATE_BUFFER.name(), status, size + " bytes");
            }
            return buffer;
        }
    }

    /**
     * Enqueues a blocking copy of {@code size} bytes from native host memory {@code source} into
     * the buffer at byte {@code offset}; the host memory may be reused once this returns.
     */
    public static MemorySegment clEnqueueWriteBuffer(MemorySegment queue, MemorySegment buffer, long offset, long size,
            MemorySegment source) {
        ClInfo.requireHostMemory(source, size, "source");
        return readOrWrite(ENQUEUE_WRITE_BUFFER, queue, buffer, offset, size, source);
    }

    /**
     * Enqueues a blocking copy of {@code size} bytes from the buffer at byte {@code offset} into
     * native host memory {@code destination}; the bytes are there once this returns.
     */
    public static MemorySegment clEnqueueReadBuffer(MemorySegment queue, MemorySegment buffer, long offset, long size,
            MemorySegment destination) {
        ClInfo.requireHostMemory(destination, size, "destination");
        if (destination.isReadOnly()) {
            throw new IllegalArgumentException("destination must be writable, but is a read-only segment");
        }
        return readOrWrite(ENQUEUE_READ_BUFFER, queue, buffer, offset, size, destination);
    }

    /**
     * Enqueues filling {@code size} bytes of the buffer from byte {@code offset} with copies of
     * {@code pattern}; both must be multiples of the pattern's size (1, 2, 4, ... 128 bytes).
     */
    public static MemorySegment clEnqueueFillBuffer(MemorySegment queue, MemorySegment buffer, MemorySegment pattern,
            long offset, long size) {
        ClInfo.requireHandle(queue, "command queue");
        ClInfo.requireHandle(buffer, "buffer");
        ClInfo.requireHostMemory(pattern, 1, "pattern");
        ClInfo.requireNonNegative(offset, "offset");
        ClInfo.requireNonNegative(size, "size");
        long patternSize = pattern.byteSize();
        if (Long.bitCount(patternSize) != 1 || patternSize > 128 || offset % patternSize != 0 || size % patternSize != 0) {
            throw new IllegalArgumentException("fill pattern of " + patternSize + " bytes must be a power of two up to"
                    + " 128 that divides offset " + offset + " and size " + size);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment event = arena.allocate(ADDRESS);
            int status;
            try {
                status = (int) ENQUEUE_FILL_BUFFER.handle().invokeExact(queue, buffer, pattern, patternSize, offset, size,
                        0, MemorySegment.NULL, event);
            } catch (Throwable thrown) {
                throw OpenClLibrary.rethrow(thrown, ENQUEUE_FILL_BUFFER.name());
            }
            OpenClLibrary.check(status, ENQUEUE_FILL_BUFFER.name());
            return event.get(ADDRESS, 0);
        }
    }

    /** Enqueues a device-side copy of {@code size} bytes between two buffers. */
    public static MemorySegment clEnqueueCopyBuffer(MemorySegment queue, MemorySegment source, MemorySegment destination,
            long sourceOffset, long destinationOffset, long size) {
        ClInfo.requireHandle(queue, "command queue");
        ClInfo.requireHandle(source, "source buffer");
        ClInfo.requireHandle(destination, "destination buffer");
        ClInfo.requireNonNegative(sourceOffset, "source offset");
        ClInfo.requireNonNegative(destinationOffset, "destination offset");
        ClInfo.requireNonNegative(size, "size");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment event = arena.allocate(ADDRESS);
            int status;
            try {
                status = (int) ENQUEUE_COPY_BUFFER.handle().invokeExact(queue, source, destination, sourceOffset,
                        destinationOffset, size, 0, MemorySegment.NULL, event);
            } catch (Throwable thrown) {
                throw OpenClLibrary.rethrow(thrown, ENQUEUE_COPY_BUFFER.name());
            }
            OpenClLibrary.check(status, ENQUEUE_COPY_BUFFER.name());
            return event.get(ADDRESS, 0);
        }
    }

    /** Releases a buffer or other memory object. */
    public static void clReleaseMemObject(MemorySegment memory) {
        RELEASE_MEM_OBJECT.callOnHandle(memory, "memory object");
    }

    private static MemorySegment readOrWrite(Downcall call, MemorySegment queue, MemorySegment buffer, long offset,
            long size, MemorySegment host) {
        ClInfo.requireHandle(queue, "command queue");
        ClInfo.requireHandle(buffer, "buffer");
        ClInfo.requireNonNegative(offset, "offset");
        ClInfo.requireNonNegative(size, "size");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment event = arena.allocate(ADDRESS);
            int status;
            try {
                status = (int) call.handle().invokeExact(queue, buffer, 1, offset, size, host, 0, MemorySegment.NULL,
                        event);
            } catch (Throwable thrown) {
                throw OpenClLibrary.rethrow(thrown, call.name());
            }
            OpenClLibrary.check(status, call.name());
            return event.get(ADDRESS, 0);
        }
    }
}
