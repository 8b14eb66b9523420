package dev.kiln.runtime.opencl;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;

/**
 * One OpenCL function, bound on first use so that loading a binding class never touches the
 * native library; a missing library then surfaces as {@link OpenClUnavailableException} at
 * the first call instead of an {@link ExceptionInInitializerError}.
 */
final class Downcall {
    private final String name;
    private final FunctionDescriptor descriptor;
    private volatile MethodHandle handle;

    Downcall(String name, FunctionDescriptor descriptor) {
        this.name = name;
        this.descriptor = descriptor;
    }

    MethodHandle handle() {
        MethodHandle bound = handle;
        if (bound == null) {
            bound = OpenClLibrary.downcall(name, descriptor);
            handle = bound;
        }
        return bound;
    }

    /**
     * Calls a function of C type {@code cl_int f(handle)}, such as {@code clReleaseContext} or
     * {@code clFinish}, and throws {@link OpenClException} on an error status.
     */
    void callOnHandle(MemorySegment handle, String what) {
        ClInfo.requireHandle(handle, what);
        int status;
        try {
            status = (int) handle().invokeExact(handle);
        } catch (Throwable thrown) {
            throw OpenClLibrary.rethrow(thrown, name);
        }
        OpenClLibrary.check(status, name);
    }

    String name() {
        return name;
    }
}
