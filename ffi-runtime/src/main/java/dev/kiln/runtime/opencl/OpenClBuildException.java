package dev.kiln.runtime.opencl;

/** A program that the device compiler rejected; the message ends with the compiler's build log. */
public final class OpenClBuildException extends OpenClException {
    private final String buildLog;

    /** Creates the exception for a failed {@code clBuildProgram} with the device compiler's log. */
    public OpenClBuildException(int code, String deviceName, String buildLog) {
        super("clBuildProgram", code, "the OpenCL compiler of " + deviceName + " rejected the program. Build log:\n"
                + (buildLog.isBlank() ? "(empty)" : buildLog.strip()));
        this.buildLog = buildLog;
    }

    /** Returns the build log exactly as {@code clGetProgramBuildInfo(CL_PROGRAM_BUILD_LOG)} reported it. */
    public String buildLog() {
        return buildLog;
    }
}
