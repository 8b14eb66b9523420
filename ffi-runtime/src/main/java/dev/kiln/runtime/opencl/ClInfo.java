package dev.kiln.runtime.opencl;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/** Shared steps of the {@code clGet*Info} calls and of argument checks made before any native call. */
final class ClInfo {
    private ClInfo() {
    }

    /** One {@code clGet*Info} call with its object and parameter fixed: (size, value, size_ret) -> status. */
    @FunctionalInterface
    interface Query {
        int query(long valueSize, MemorySegment value, MemorySegment sizeReturned) throws Throwable;
    }

    /** Queries a variable-sized value: first its size, then the bytes, which live in {@code arena}. */
    static MemorySegment bytes(Arena arena, String call, Query query) {
        MemorySegment sizeReturned = arena.allocate(JAVA_LONG);
        check(call, invoke(call, query, 0, MemorySegment.NULL, sizeReturned));
        long size = sizeReturned.get(JAVA_LONG, 0);
        MemorySegment value = arena.allocate(Math.max(size, 1), Long.BYTES);
        check(call, invoke(call, query, size, value, MemorySegment.NULL));
        return value.asSlice(0, size);
    }

    /** Queries a NUL-terminated string value. */
    static String string(String call, Query query) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = bytes(arena, call, query);
            return value.byteSize() == 0 ? "" : value.getString(0);
        }
    }

    /** Queries a 64-bit value: a {@code cl_ulong}, a bitfield or a {@code size_t}. */
    static long int64(String call, Query query) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(JAVA_LONG);
            check(call, invoke(call, query, JAVA_LONG.byteSize(), value, MemorySegment.NULL));
            return value.get(JAVA_LONG, 0);
        }
    }

    /** Queries a 32-bit value: a {@code cl_uint}, a {@code cl_bool} or an enumeration. */
    static int int32(String call, Query query) {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(JAVA_INT);
            check(call, invoke(call, query, JAVA_INT.byteSize(), value, MemorySegment.NULL));
            return value.get(JAVA_INT, 0);
        }
    }

    private static int invoke(String call, Query query, long size, MemorySegment value, MemorySegment sizeReturned) {
        try {
            return query.query(size, value, sizeReturned);
        } catch (Throwable thrown) {
            throw OpenClLibrary.rethrow(thrown, call);
        }
    }

    static void check(String call, int status) {
        OpenClLibrary.check(status, call);
    }

    /** Rejects a NULL OpenCL object handle before it reaches the driver. */
    static MemorySegment requireHandle(MemorySegment handle, String what) {
        if (handle == null || handle.equals(MemorySegment.NULL)) {
            throw new IllegalArgumentException(what + " must be a valid OpenCL handle, but was "
                    + (handle == null ? "null" : "NULL"));
        }
        return handle;
    }

    /** Rejects a host pointer the driver could not use: on the Java heap, or shorter than {@code bytes}. */
    static void requireHostMemory(MemorySegment memory, long bytes, String what) {
        if (memory == null) {
            throw new IllegalArgumentException(what + " must not be null");
        }
        if (!memory.isNative()) {
            throw new IllegalArgumentException(what + " must be native memory (from an Arena), but is a heap segment");
        }
        if (memory.byteSize() < bytes) {
            throw new IllegalArgumentException(what + " contains " + memory.byteSize() + " bytes, but " + bytes
                    + " are needed");
        }
    }

    /** Rejects a negative size or offset. */
    static void requireNonNegative(long value, String what) {
        if (value < 0) {
            throw new IllegalArgumentException(what + " must not be negative, but was " + value);
        }
    }
}
