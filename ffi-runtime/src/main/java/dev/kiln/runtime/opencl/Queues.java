package dev.kiln.runtime.opencl;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;

/**
 * Bindings of the command-queue calls: {@code clCreateCommandQueue}, {@code clFinish},
 * {@code clFlush} and {@code clReleaseCommandQueue}.
 */
public final class Queues {
    public static final long CL_QUEUE_OUT_OF_ORDER_EXEC_MODE_ENABLE = 1L << 0;
    public static final long CL_QUEUE_PROFILING_ENABLE = 1L << 1;

    // clCreateCommandQueue is deprecated since OpenCL 2.0 but present in every ICD loader,
    // and its replacement does not exist on OpenCL 1.2 drivers.
    private static final Downcall CREATE_COMMAND_QUEUE = new Downcall("clCreateCommandQueue",
            FunctionDescriptor.of(ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS));
    private static final Downcall FINISH = new Downcall("clFinish", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final Downcall FLUSH = new Downcall("clFlush", FunctionDescriptor.of(JAVA_INT, ADDRESS));
    private static final Downcall RELEASE_COMMAND_QUEUE = new Downcall("clReleaseCommandQueue",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));

    private Queues() {
    }

    /** Creates an in-order command queue; pass {@link #CL_QUEUE_PROFILING_ENABLE} to time its commands. */
    public static MemorySegment clCreateCommandQueue(MemorySegment context, MemorySegment device, long properties) {
        ClInfo.requireHandle(context, "context");
        ClInfo.requireHandle(device, "device");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment error = arena.allocate(JAVA_INT);
            MemorySegment queue;
            try {
                queue = (MemorySegment) CREATE_COMMAND_QUEUE.handle().invokeExact(context, device, properties, error);
            } catch (Throwable thrown) {
                throw OpenClLibrary.rethrow(thrown, CREATE_COMMAND_QUEUE.name());
            }
            OpenClLibrary.check(error.get(JAVA_INT, 0), CREATE_COMMAND_QUEUE.name());
            return queue;
        }
    }

    /** Blocks until every command of the queue has completed. */
    public static void clFinish(MemorySegment queue) {
        FINISH.callOnHandle(queue, "command queue");
    }

    /** Submits every queued command to the device without waiting for it. */
    public static void clFlush(MemorySegment queue) {
        FLUSH.callOnHandle(queue, "command queue");
    }

    /** Releases a command queue; the driver finishes its commands first. */
    public static void clReleaseCommandQueue(MemorySegment queue) {
        RELEASE_COMMAND_QUEUE.callOnHandle(queue, "command queue");
    }
}
