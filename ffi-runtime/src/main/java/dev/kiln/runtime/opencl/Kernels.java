package dev.kiln.runtime.opencl;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.util.Optional;

/**
 * Bindings of the kernel calls: {@code clCreateKernel}, {@code clSetKernelArg},
 * {@code clGetKernelInfo}, {@code clGetKernelArgInfo}, {@code clGetKernelWorkGroupInfo},
 * {@code clEnqueueNDRangeKernel} and {@code clReleaseKernel}.
 */
public final class Kernels {
    public static final int CL_KERNEL_FUNCTION_NAME = 0x1190;
    public static final int CL_KERNEL_NUM_ARGS = 0x1191;
    public static final int CL_KERNEL_ARG_ADDRESS_QUALIFIER = 0x1196;
    public static final int CL_KERNEL_ARG_TYPE_NAME = 0x1198;
    public static final int CL_KERNEL_ARG_ADDRESS_GLOBAL = 0x119B;
    public static final int CL_KERNEL_ARG_ADDRESS_LOCAL = 0x119C;
    public static final int CL_KERNEL_ARG_ADDRESS_CONSTANT = 0x119D;
    public static final int CL_KERNEL_ARG_ADDRESS_PRIVATE = 0x119E;
    public static final int CL_KERNEL_WORK_GROUP_SIZE = 0x11B0;
    public static final int CL_KERNEL_LOCAL_MEM_SIZE = 0x11B2;
    public static final int CL_KERNEL_PREFERRED_WORK_GROUP_SIZE_MULTIPLE = 0x11B3;

    private static final Downcall CREATE_KERNEL = new Downcall("clCreateKernel",
            FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, ADDRESS));
    private static final Downcall SET_KERNEL_ARG = new Downcall("clSetKernelArg",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS));
    private static final Downcall GET_KERNEL_INFO = new Downcall("clGetKernelInfo",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS));
    private static final Downcall GET_KERNEL_ARG_INFO = new Downcall("clGetKernelArgInfo",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS));
    private static final Downcall GET_KERNEL_WORK_GROUP_INFO = new Downcall("clGetKernelWorkGroupInfo",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS));
    private static final Downcall ENQUEUE_ND_RANGE_KERNEL = new Downcall("clEnqueueNDRangeKernel",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS,
                    ADDRESS));
    private static final Downcall RELEASE_KERNEL = new Downcall("clReleaseKernel",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));

    private Kernels() {
    }

    /** Creates the kernel {@code kernelName} of a built program; an unknown name raises {@code CL_INVALID_KERNEL_NAME}. */
    public static MemorySegment clCreateKernel(MemorySegment program, String kernelName) {
        ClInfo.requireHandle(program, "program");
        if (kernelName == null || kernelName.isBlank()) {
            throw new IllegalArgumentException("kernel name must not be null or blank");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment error = arena.allocate(JAVA_INT);
            MemorySegment kernel;
            try {
                kernel = (MemorySegment) CREATE_KERNEL.handle().invokeExact(program, arena.allocateFrom(kernelName), error);
            } catch (Throwable thrown) {
                throw OpenClLibrary.rethrow(thrown, CREATE_KERNEL.name());
            }
            int status = error.get(JAVA_INT, 0);
            if (status != ClErrors.CL_SUCCESS) {
                throw new OpenClException(CREATE_KERNEL.name(), status, "kernel '" + kernelName + "'");
            }
            return kernel;
        }
    }

    /** Sets a {@code __global} or {@code __constant} buffer argument to a memory object. */
    public static void clSetKernelArgBuffer(MemorySegment kernel, int index, MemorySegment memory) {
        ClInfo.requireHandle(memory, "memory object");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment value = arena.allocate(ADDRESS);
            value.set(ADDRESS, 0, memory);
            setKernelArg(kernel, index, ADDRESS.byteSize(), value);
        }
    }

    /** Sets an {@code int} or {@code uint} argument. */
    public static void clSetKernelArgInt(MemorySegment kernel, int index, int value) {
        try (Arena arena = Arena.ofConfined()) {
            setKernelArg(kernel, index, JAVA_INT.byteSize(), arena.allocateFrom(JAVA_INT, value));
        }
    }

    /** Sets a {@code long} or {@code ulong} argument. */
    public static void clSetKernelArgLong(MemorySegment kernel, int index, long value) {
        try (Arena arena = Arena.ofConfined()) {
            setKernelArg(kernel, index, JAVA_LONG.byteSize(), arena.allocateFrom(JAVA_LONG, value));
        }
    }

    /** Sets a {@code float} argument. */
    public static void clSetKernelArgFloat(MemorySegment kernel, int index, float value) {
        try (Arena arena = Arena.ofConfined()) {
            setKernelArg(kernel, index, JAVA_FLOAT.byteSize(), arena.allocateFrom(JAVA_FLOAT, value));
        }
    }

    /** Sets a {@code __local} argument: the driver allocates {@code bytes} of local memory per work-group. */
    public static void clSetKernelArgLocal(MemorySegment kernel, int index, long bytes) {
        if (bytes <= 0) {
            throw new IllegalArgumentException("local memory size must be positive, but was " + bytes);
        }
        setKernelArg(kernel, index, bytes, MemorySegment.NULL);
    }

    /** Returns the number of arguments of a kernel ({@link #CL_KERNEL_NUM_ARGS}). */
    public static int clGetKernelNumArgs(MemorySegment kernel) {
        ClInfo.requireHandle(kernel, "kernel");
        return ClInfo.int32(GET_KERNEL_INFO.name(), (size, value, sizeReturned) ->
                (int) GET_KERNEL_INFO.handle().invokeExact(kernel, CL_KERNEL_NUM_ARGS, size, value, sizeReturned));
    }

    /**
     * Returns the address qualifier of an argument, such as {@link #CL_KERNEL_ARG_ADDRESS_GLOBAL},
     * or empty when the program keeps no argument metadata ({@code CL_KERNEL_ARG_INFO_NOT_AVAILABLE},
     * which is common for programs created from a binary).
     */
    public static Optional<Integer> clGetKernelArgAddressQualifier(MemorySegment kernel, int index) {
        ClInfo.requireHandle(kernel, "kernel");
        try {
            return Optional.of(ClInfo.int32(GET_KERNEL_ARG_INFO.name(), (size, value, sizeReturned) ->
                    (int) GET_KERNEL_ARG_INFO.handle().invokeExact(kernel, index, CL_KERNEL_ARG_ADDRESS_QUALIFIER, size,
                            value, sizeReturned)));
        } catch (OpenClException e) {
            if (e.code() == ClErrors.CL_KERNEL_ARG_INFO_NOT_AVAILABLE) {
                return Optional.empty();
            }
            throw e;
        }
    }

    /** Returns the declared type of an argument, such as {@code float*} or {@code int}, or empty without metadata. */
    public static Optional<String> clGetKernelArgTypeName(MemorySegment kernel, int index) {
        ClInfo.requireHandle(kernel, "kernel");
        try {
            return Optional.of(ClInfo.string(GET_KERNEL_ARG_INFO.name(), (size, value, sizeReturned) ->
                    (int) GET_KERNEL_ARG_INFO.handle().invokeExact(kernel, index, CL_KERNEL_ARG_TYPE_NAME, size, value,
                            sizeReturned)));
        } catch (OpenClException e) {
            if (e.code() == ClErrors.CL_KERNEL_ARG_INFO_NOT_AVAILABLE) {
                return Optional.empty();
            }
            throw e;
        }
    }

    /** Returns a {@code size_t} or {@code cl_ulong} parameter of a kernel on a device, such as {@link #CL_KERNEL_WORK_GROUP_SIZE}. */
    public static long clGetKernelWorkGroupInfo(MemorySegment kernel, MemorySegment device, int paramName) {
        ClInfo.requireHandle(kernel, "kernel");
        ClInfo.requireHandle(device, "device");
        return ClInfo.int64(GET_KERNEL_WORK_GROUP_INFO.name(), (size, value, sizeReturned) ->
                (int) GET_KERNEL_WORK_GROUP_INFO.handle().invokeExact(kernel, device, paramName, size, value,
                        sizeReturned));
    }

    /**
     * Enqueues a kernel over {@code globalSize} work-items (1 to 3 dimensions) in work-groups of
     * {@code localSize}, or of a size the driver picks when {@code localSize} is null, and
     * returns the event of the launch, which the caller must release.
     */
    public static MemorySegment clEnqueueNDRangeKernel(MemorySegment queue, MemorySegment kernel, long[] globalSize,
            long[] localSize) {
        ClInfo.requireHandle(queue, "command queue");
        ClInfo.requireHandle(kernel, "kernel");
        checkRange(globalSize, localSize);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment global = arena.allocateFrom(JAVA_LONG, globalSize);
            MemorySegment local = localSize == null ? MemorySegment.NULL : arena.allocateFrom(JAVA_LONG, localSize);
            MemorySegment event = arena.allocate(ADDRESS);
            int status;
            try {
                status = (int) ENQUEUE_ND_RANGE_KERNEL.handle().invokeExact(queue, kernel, globalSize.length,
                        MemorySegment.NULL, global, local, 0, MemorySegment.NULL, event);
            } catch (Throwable thrown) {
                throw OpenClLibrary.rethrow(thrown, ENQUEUE_ND_RANGE_KERNEL.name());
            }
            OpenClLibrary.check(status, ENQUEUE_ND_RANGE_KERNEL.name());
            return event.get(ADDRESS, 0);
        }
    }

    /** Releases a kernel. */
    public static void clReleaseKernel(MemorySegment kernel) {
        RELEASE_KERNEL.callOnHandle(kernel, "kernel");
    }

    static void checkRange(long[] globalSize, long[] localSize) {
        if (globalSize == null || globalSize.length < 1 || globalSize.length > 3) {
            throw new IllegalArgumentException("global size must have 1 to 3 dimensions, but has "
                    + (globalSize == null ? "none (null)" : globalSize.length));
        }
        for (int d = 0; d < globalSize.length; d++) {
            if (globalSize[d] <= 0) {
                throw new IllegalArgumentException("global size in dimension " + d + " must be positive, but was "
                        + globalSize[d]);
            }
        }
        if (localSize == null) {
            return;
        }
        if (localSize.length != globalSize.length) {
            throw new IllegalArgumentException("local size has " + localSize.length + " dimensions, but global size has "
                    + globalSize.length);
        }
        for (int d = 0; d < localSize.length; d++) {
            // OpenCL 1.2 requires every work-group to be full.
            if (localSize[d] <= 0 || globalSize[d] % localSize[d] != 0) {
                throw new IllegalArgumentException("local size " + localSize[d] + " in dimension " + d
                        + " must be positive and divide the global size " + globalSize[d]
                        + "; round the global size up to a multiple of the local size and guard the extra work-items");
            }
        }
    }

    private static void setKernelArg(MemorySegment kernel, int index, long size, MemorySegment value) {
        ClInfo.requireHandle(kernel, "kernel");
        if (index < 0) {
            throw new IllegalArgumentException("kernel argument index must not be negative, but was " + index);
        }
        int status;
        try {
            status = (int) SET_KERNEL_ARG.handle().invokeExact(kernel, index, size, value);
        } catch (Throwable thrown) {
            throw OpenClLibrary.rethrow(thrown, SET_KERNEL_ARG.name());
        }
        if (status != ClErrors.CL_SUCCESS) {
            throw new OpenClException(SET_KERNEL_ARG.name(), status, "argument " + index + " (" + size + " bytes)");
        }
    }
}
