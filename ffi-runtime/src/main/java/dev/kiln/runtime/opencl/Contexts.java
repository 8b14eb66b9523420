package dev.kiln.runtime.opencl;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;

/** Bindings of the context calls: {@code clCreateContext} and {@code clReleaseContext}. */
public final class Contexts {
    public static final int CL_CONTEXT_PLATFORM = 0x1084;

    private static final Downcall CREATE_CONTEXT = new Downcall("clCreateContext",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS));
    private static final Downcall RELEASE_CONTEXT = new Downcall("clReleaseContext",
            FunctionDescriptor.of(JAVA_INT, ADDRESS));

    private Contexts() {
    }

    /**
     * Creates a context for one device of {@code platform}, with the properties list
     * {@code {CL_CONTEXT_PLATFORM, platform, 0}} and no error callback.
     */
    public static MemorySegment clCreateContext(MemorySegment platform, MemorySegment device) {
        ClInfo.requireHandle(platform, "platform");
        ClInfo.requireHandle(device, "device");
        try (Arena arena = Arena.ofConfined()) {
            // cl_context_properties is intptr_t: pairs of (name, value), ended by 0.
            MemorySegment properties = arena.allocate(JAVA_LONG, 3);
            properties.setAtIndex(JAVA_LONG, 0, CL_CONTEXT_PLATFORM);
            properties.setAtIndex(JAVA_LONG, 1, platform.address());
            properties.setAtIndex(JAVA_LONG, 2, 0L);
            MemorySegment devices = arena.allocate(ADDRESS);
            devices.set(ADDRESS, 0, device);
            MemorySegment error = arena.allocate(JAVA_INT);
            MemorySegment context;
            try {
                context = (MemorySegment) CREATE_CONTEXT.handle().invokeExact(properties, 1, devices,
                        MemorySegment.NULL, MemorySegment.NULL, error);
            } catch (Throwable thrown) {
                throw OpenClLibrary.rethrow(thrown, CREATE_CONTEXT.name());
            }
            OpenClLibrary.check(error.get(JAVA_INT, 0), CREATE_CONTEXT.name());
            return context;
        }
    }

    /** Releases a context. */
    public static void clReleaseContext(MemorySegment context) {
        RELEASE_CONTEXT.callOnHandle(context, "context");
    }
}
