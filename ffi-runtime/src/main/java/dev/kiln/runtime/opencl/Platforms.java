package dev.kiln.runtime.opencl;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/** Bindings of the platform calls: {@code clGetPlatformIDs} and {@code clGetPlatformInfo}. */
public final class Platforms {
    public static final int CL_PLATFORM_PROFILE = 0x0900;
    public static final int CL_PLATFORM_VERSION = 0x0901;
    public static final int CL_PLATFORM_NAME = 0x0902;
    public static final int CL_PLATFORM_VENDOR = 0x0903;
    public static final int CL_PLATFORM_EXTENSIONS = 0x0904;

    private static final Downcall GET_PLATFORM_IDS = new Downcall("clGetPlatformIDs",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, ADDRESS));
    private static final Downcall GET_PLATFORM_INFO = new Downcall("clGetPlatformInfo",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS));

    private Platforms() {
    }

    /**
     * Returns the ids of every installed platform; empty when the ICD loader finds no driver
     * ({@code CL_PLATFORM_NOT_FOUND_KHR}).
     */
    public static List<MemorySegment> clGetPlatformIDs() {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment count = arena.allocate(JAVA_INT);
            int status = getPlatformIds(0, MemorySegment.NULL, count);
            if (status == ClErrors.CL_PLATFORM_NOT_FOUND_KHR) {
                return List.of();
            }
            OpenClLibrary.check(status, GET_PLATFORM_IDS.name());
            int n = count.get(JAVA_INT, 0);
            if (n == 0) {
                return List.of();
            }
            MemorySegment ids = arena.allocate(ADDRESS, n);
            OpenClLibrary.check(getPlatformIds(n, ids, MemorySegment.NULL), GET_PLATFORM_IDS.name());
            List<MemorySegment> platforms = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                platforms.add(ids.getAtIndex(ADDRESS, i));
            }
            return List.copyOf(platforms);
        }
    }

    /** Returns a string parameter of a platform, such as {@link #CL_PLATFORM_NAME}. */
    public static String clGetPlatformInfo(MemorySegment platform, int paramName) {
        ClInfo.requireHandle(platform, "platform");
        return ClInfo.string(GET_PLATFORM_INFO.name(), (size, value, sizeReturned) ->
                (int) GET_PLATFORM_INFO.handle().invokeExact(platform, paramName, size, value, sizeReturned));
    }

    private static int getPlatformIds(int entries, MemorySegment ids, MemorySegment count) {
        try {
            return (int) GET_PLATFORM_IDS.handle().invokeExact(entries, ids, count);
        } catch (Throwable thrown) {
            throw OpenClLibrary.rethrow(thrown, GET_PLATFORM_IDS.name());
        }
    }
}
