package dev.kiln.runtime.opencl;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/** Bindings of the device calls: {@code clGetDeviceIDs} and {@code clGetDeviceInfo}. */
public final class Devices {
    public static final long CL_DEVICE_TYPE_DEFAULT = 1L << 0;
    public static final long CL_DEVICE_TYPE_CPU = 1L << 1;
    public static final long CL_DEVICE_TYPE_GPU = 1L << 2;
    public static final long CL_DEVICE_TYPE_ACCELERATOR = 1L << 3;
    public static final long CL_DEVICE_TYPE_CUSTOM = 1L << 4;
    public static final long CL_DEVICE_TYPE_ALL = 0xFFFFFFFFL;

    /** {@code cl_device_type} bitfield. */
    public static final int CL_DEVICE_TYPE = 0x1000;
    /** {@code cl_uint}. */
    public static final int CL_DEVICE_MAX_COMPUTE_UNITS = 0x1002;
    /** {@code size_t}. */
    public static final int CL_DEVICE_MAX_WORK_GROUP_SIZE = 0x1004;
    /** {@code cl_ulong}, in bytes. */
    public static final int CL_DEVICE_GLOBAL_MEM_SIZE = 0x101F;
    /** {@code cl_ulong}, in bytes. */
    public static final int CL_DEVICE_LOCAL_MEM_SIZE = 0x1023;
    /** {@code cl_bool}. */
    public static final int CL_DEVICE_AVAILABLE = 0x1027;
    /** {@code cl_bool}. */
    public static final int CL_DEVICE_COMPILER_AVAILABLE = 0x1028;
    /** String. */
    public static final int CL_DEVICE_NAME = 0x102B;
    /** String. */
    public static final int CL_DEVICE_VENDOR = 0x102C;
    /** String. */
    public static final int CL_DRIVER_VERSION = 0x102D;
    /** String, such as {@code OpenCL 3.0 PoCL ...}. */
    public static final int CL_DEVICE_VERSION = 0x102F;
    /** String, such as {@code OpenCL C 1.2}. */
    public static final int CL_DEVICE_OPENCL_C_VERSION = 0x103D;

    private static final Downcall GET_DEVICE_IDS = new Downcall("clGetDeviceIDs",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS));
    private static final Downcall GET_DEVICE_INFO = new Downcall("clGetDeviceInfo",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS));

    private Devices() {
    }

    /** Returns the ids of the devices of {@code deviceType} on a platform; empty on {@code CL_DEVICE_NOT_FOUND}. */
    public static List<MemorySegment> clGetDeviceIDs(MemorySegment platform, long deviceType) {
        ClInfo.requireHandle(platform, "platform");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment count = arena.allocate(JAVA_INT);
            int status = getDeviceIds(platform, deviceType, 0, MemorySegment.NULL, count);
            if (status == ClErrors.CL_DEVICE_NOT_FOUND) {
                return List.of();
            }
            OpenClLibrary.check(status, GET_DEVICE_IDS.name());
            int n = count.get(JAVA_INT, 0);
            if (n == 0) {
                return List.of();
            }
            MemorySegment ids = arena.allocate(ADDRESS, n);
            OpenClLibrary.check(getDeviceIds(platform, deviceType, n, ids, MemorySegment.NULL), GET_DEVICE_IDS.name());
            List<MemorySegment> devices = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                devices.add(ids.getAtIndex(ADDRESS, i));
            }
            return List.copyOf(devices);
        }
    }

    /** Returns a string parameter of a device, such as {@link #CL_DEVICE_NAME}. */
    public static String clGetDeviceInfoString(MemorySegment device, int paramName) {
        ClInfo.requireHandle(device, "device");
        return ClInfo.string(GET_DEVICE_INFO.name(), query(device, paramName));
    }

    /** Returns a {@code cl_ulong}, {@code size_t} or bitfield parameter of a device. */
    public static long clGetDeviceInfoLong(MemorySegment device, int paramName) {
        ClInfo.requireHandle(device, "device");
        return ClInfo.int64(GET_DEVICE_INFO.name(), query(device, paramName));
    }

    /** Returns a {@code cl_uint} or {@code cl_bool} parameter of a device. */
    public static int clGetDeviceInfoInt(MemorySegment device, int paramName) {
        ClInfo.requireHandle(device, "device");
        return ClInfo.int32(GET_DEVICE_INFO.name(), query(device, paramName));
    }

    private static ClInfo.Query query(MemorySegment device, int paramName) {
        return (size, value, sizeReturned) ->
                (int) GET_DEVICE_INFO.handle().invokeExact(device, paramName, size, value, sizeReturned);
    }

    private static int getDeviceIds(MemorySegment platform, long type, int entries, MemorySegment ids, MemorySegment count) {
        try {
            return (int) GET_DEVICE_IDS.handle().invokeExact(platform, type, entries, ids, count);
        } catch (Throwable thrown) {
            throw OpenClLibrary.rethrow(thrown, GET_DEVICE_IDS.name());
        }
    }
}
