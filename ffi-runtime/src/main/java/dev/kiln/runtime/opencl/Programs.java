package dev.kiln.runtime.opencl;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;

/**
 * Bindings of the program calls: {@code clCreateProgramWithSource}, {@code clBuildProgram},
 * {@code clGetProgramBuildInfo}, {@code clGetProgramInfo}, {@code clCreateProgramWithBinary}
 * and {@code clReleaseProgram}. Every call here is for a program of one device.
 */
public final class Programs {
    public static final int CL_PROGRAM_NUM_DEVICES = 0x1162;
    public static final int CL_PROGRAM_BINARY_SIZES = 0x1165;
    public static final int CL_PROGRAM_BINARIES = 0x1166;
    public static final int CL_PROGRAM_BUILD_STATUS = 0x1181;
    public static final int CL_PROGRAM_BUILD_OPTIONS = 0x1182;
    public static final int CL_PROGRAM_BUILD_LOG = 0x1183;

    private static final Downcall CREATE_PROGRAM_WITH_SOURCE = new Downcall("clCreateProgramWithSource",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS));
    private static final Downcall CREATE_PROGRAM_WITH_BINARY = new Downcall("clCreateProgramWithBinary",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
    private static final Downcall BUILD_PROGRAM = new Downcall("clBuildProgram",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
    private static final Downcall GET_PROGRAM_BUILD_INFO = new Downcall("clGetProgramBuildInfo",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS));
    private static final Downcall GET_PROGRAM_INFO = new Downcall("clGetProgramInfo",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS));
    private static final Downcall RELEASE_PROGRAM = new Downcall("clReleaseProgram",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));

    private Programs() {
    }

    /** Creates a program from OpenCL C source; it still needs {@link #clBuildProgram}. */
    public static MemorySegment clCreateProgramWithSource(MemorySegment context, String source) {
        ClInfo.requireHandle(context, "context");
        if (source == null || source.isBlank()) {
            throw new IllegalArgumentException("OpenCL program source must not be null or blank");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment strings = arena.allocate(ADDRESS);
            strings.set(ADDRESS, 0, arena.allocateFrom(source));
            MemorySegment error = arena.allocate(JAVA_INT);
            MemorySegment program;
            try {
                // With a NULL lengths array the driver reads the string up to its NUL terminator.
                program = (MemorySegment) CREATE_PROGRAM_WITH_SOURCE.handle().invokeExact(context, 1, strings,
                        MemorySegment.NULL, error);
            } catch (Throwable thrown) {
                throw OpenClLibrary.rethrow(thrown, CREATE_PROGRAM_WITH_SOURCE.name());
            }
            OpenClLibrary.check(error.get(JAVA_INT, 0), CREATE_PROGRAM_WITH_SOURCE.name());
            return program;
        }
    }

    /**
     * Creates a program for one device from a binary that {@link #clGetProgramBinary} returned;
     * it still needs {@link #clBuildProgram}. A binary the driver rejects raises
     * {@code CL_INVALID_BINARY}.
     */
    public static MemorySegment clCreateProgramWithBinary(MemorySegment context, MemorySegment device, byte[] binary) {
        ClInfo.requireHandle(context, "context");
        ClInfo.requireHandle(device, "device");
        if (binary == null || binary.length == 0) {
            throw new IllegalArgumentException("OpenCL program binary must not be null or empty");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment devices = arena.allocate(ADDRESS);
            devices.set(ADDRESS, 0, device);
            MemorySegment lengths = arena.allocate(JAVA_LONG);
            lengths.set(JAVA_LONG, 0, binary.length);
            MemorySegment binaries = arena.allocate(ADDRESS);
            binaries.set(ADDRESS, 0, arena.allocateFrom(JAVA_BYTE, binary));
            MemorySegment binaryStatus = arena.allocate(JAVA_INT);
            MemorySegment error = arena.allocate(JAVA_INT);
            MemorySegment program;
            try {
                program = (MemorySegment) CREATE_PROGRAM_WITH_BINARY.handle().invokeExact(context, 1, devices, lengths,
                        binaries, binaryStatus, error);
            } catch (Throwable thrown) {
                throw OpenClLibrary.rethrow(thrown, CREATE_PROGRAM_WITH_BINARY.name());
            }
            int status = error.get(JAVA_INT, 0);
            if (status != ClErrors.CL_SUCCESS) {
                throw new OpenClException(CREATE_PROGRAM_WITH_BINARY.name(), status,
                        "binary status " + ClErrors.name(binaryStatus.get(JAVA_INT, 0)));
            }
            return program;
        }
    }

    /**
     * Builds a program for one device with compiler {@code options} (may be empty). A rejected
     * program raises {@link OpenClBuildException} carrying the build log.
     */
    public static void clBuildProgram(MemorySegment program, MemorySegment device, String options) {
        ClInfo.requireHandle(program, "program");
        ClInfo.requireHandle(device, "device");
        int status;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment devices = arena.allocate(ADDRESS);
            devices.set(ADDRESS, 0, device);
            MemorySegment optionString = arena.allocateFrom(options == null ? "" : options);
            try {
                status = (int) BUILD_PROGRAM.handle().invokeExact(program, 1, devices, optionString,
                        MemorySegment.NULL, MemorySegment.NULL);
            } catch (Throwable thrown) {
                throw OpenClLibrary.rethrow(thrown, BUILD_PROGRAM.name());
            }
        }
        if (status == ClErrors.CL_BUILD_PROGRAM_FAILURE) {
            String deviceName = Devices.clGetDeviceInfoString(device, Devices.CL_DEVICE_NAME);
            throw new OpenClBuildException(status, deviceName, clGetProgramBuildInfoLog(program, device));
        }
        OpenClLibrary.check(status, BUILD_PROGRAM.name());
    }

    /** Returns the device compiler's log of the last build of a program. */
    public static String clGetProgramBuildInfoLog(MemorySegment program, MemorySegment device) {
        ClInfo.requireHandle(program, "program");
        ClInfo.requireHandle(device, "device");
        return ClInfo.string(GET_PROGRAM_BUILD_INFO.name(), (size, value, sizeReturned) ->
                (int) GET_PROGRAM_BUILD_INFO.handle().invokeExact(program, device, CL_PROGRAM_BUILD_LOG, size, value,
                        sizeReturned));
    }

    /**
     * Returns the binary of a built program of one device, through {@code clGetProgramInfo} with
     * {@link #CL_PROGRAM_BINARY_SIZES} and then {@link #CL_PROGRAM_BINARIES}.
     */
    public static byte[] clGetProgramBinary(MemorySegment program) {
        ClInfo.requireHandle(program, "program");
        int devices = ClInfo.int32(GET_PROGRAM_INFO.name(), programInfo(program, CL_PROGRAM_NUM_DEVICES));
        if (devices != 1) {
            throw new IllegalArgumentException("expected a program of one device, but it has " + devices);
        }
        long size = ClInfo.int64(GET_PROGRAM_INFO.name(), programInfo(program, CL_PROGRAM_BINARY_SIZES));
        if (size <= 0 || size > Integer.MAX_VALUE - 8) {
            throw new OpenClException(GET_PROGRAM_INFO.name(), ClErrors.CL_SUCCESS,
                    "the driver reported a program binary of " + size + " bytes, which cannot be stored");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment binary = arena.allocate(size);
            // CL_PROGRAM_BINARIES fills caller-allocated buffers, one pointer per device.
            MemorySegment pointers = arena.allocate(ADDRESS);
            pointers.set(ADDRESS, 0, binary);
            int status;
            try {
                status = (int) GET_PROGRAM_INFO.handle().invokeExact(program, CL_PROGRAM_BINARIES, ADDRESS.byteSize(),
                        pointers, MemorySegment.NULL);
            } catch (Throwable thrown) {
                throw OpenClLibrary.rethrow(thrown, GET_PROGRAM_INFO.name());
            }
            OpenClLibrary.check(status, GET_PROGRAM_INFO.name());
            return binary.toArray(JAVA_BYTE);
        }
    }

    /** Releases a program. */
    public static void clReleaseProgram(MemorySegment program) {
        RELEASE_PROGRAM.callOnHandle(program, "program");
    }

    private static ClInfo.Query programInfo(MemorySegment program, int paramName) {
        return (size, value, sizeReturned) ->
                (int) GET_PROGRAM_INFO.handle().invokeExact(program, paramName, size, value, sizeReturned);
    }
}
