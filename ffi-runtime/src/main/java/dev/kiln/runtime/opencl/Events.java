package dev.kiln.runtime.opencl;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.util.List;

/**
 * Bindings of the event calls: {@code clWaitForEvents}, {@code clGetEventProfilingInfo} and
 * {@code clReleaseEvent}.
 */
public final class Events {
    public static final int CL_PROFILING_COMMAND_QUEUED = 0x1280;
    public static final int CL_PROFILING_COMMAND_SUBMIT = 0x1281;
    public static final int CL_PROFILING_COMMAND_START = 0x1282;
    public static final int CL_PROFILING_COMMAND_END = 0x1283;

    private static final Downcall WAIT_FOR_EVENTS = new Downcall("clWaitForEvents",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS));
    private static final Downcall GET_EVENT_PROFILING_INFO = new Downcall("clGetEventProfilingInfo",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, ADDRESS, ADDRESS));
    private static final Downcall RELEASE_EVENT = new Downcall("clReleaseEvent",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));

    private Events() {
    }

    /** Blocks until every event in the list has completed; does nothing for an empty list. */
    public static void clWaitForEvents(List<MemorySegment> events) {
        if (events.isEmpty()) {
            return;
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment list = arena.allocate(ADDRESS, events.size());
            for (int i = 0; i < events.size(); i++) {
                list.setAtIndex(ADDRESS, i, ClInfo.requireHandle(events.get(i), "event " + i));
            }
            int status;
            try {
                status = (int) WAIT_FOR_EVENTS.handle().invokeExact(events.size(), list);
            } catch (Throwable thrown) {
                throw OpenClLibrary.rethrow(thrown, WAIT_FOR_EVENTS.name());
            }
            OpenClLibrary.check(status, WAIT_FOR_EVENTS.name());
        }
    }

    /**
     * Returns a device timestamp of a completed command in nanoseconds, such as
     * {@link #CL_PROFILING_COMMAND_START}; the queue must have been created with profiling enabled.
     */
    public static long clGetEventProfilingInfo(MemorySegment event, int paramName) {
        ClInfo.requireHandle(event, "event");
        return ClInfo.int64(GET_EVENT_PROFILING_INFO.name(), (size, value, sizeReturned) ->
                (int) GET_EVENT_PROFILING_INFO.handle().invokeExact(event, paramName, size, value, sizeReturned));
    }

    /** Releases an event. */
    public static void clReleaseEvent(MemorySegment event) {
        RELEASE_EVENT.callOnHandle(event, "event");
    }
}
