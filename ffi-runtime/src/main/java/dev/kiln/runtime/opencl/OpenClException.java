package dev.kiln.runtime.opencl;

/** An OpenCL call that returned an error status; carries the status code, its C name and the call. */
public class OpenClException extends RuntimeException {
    private final int code;
    private final String call;

    /** Creates the exception for {@code call} failing with status {@code code}, adding {@code detail} if not null. */
    public OpenClException(String call, int code, String detail) {
        super(call + " failed with " + ClErrors.name(code) + " (" + code + ")" + (detail == null ? "" : ": " + detail));
        this.code = code;
        this.call = call;
    }

    /** Returns the OpenCL status code, such as -46. */
    public int code() {
        return code;
    }

    /** Returns the C name of the status code, such as {@code CL_INVALID_KERNEL_NAME}. */
    public String codeName() {
        return ClErrors.name(code);
    }

    /** Returns the OpenCL function that failed, such as {@code clCreateKernel}. */
    public String call() {
        return call;
    }
}
