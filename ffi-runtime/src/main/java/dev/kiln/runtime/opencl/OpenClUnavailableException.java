package dev.kiln.runtime.opencl;

/**
 * No usable OpenCL: the ICD loader library is missing, no driver is registered, or no device
 * matches the request. The message names what is missing and how to install it.
 */
public final class OpenClUnavailableException extends RuntimeException {
    /** Install hint for Debian and Ubuntu: the ICD loader plus PoCL, a driver for the CPU. */
    static final String INSTALL_HINT = "On Debian or Ubuntu run: apt-get install ocl-icd-libopencl1 pocl-opencl-icd"
            + " (PoCL runs OpenCL on the CPU); for a GPU install its vendor's OpenCL driver.";

    /** Creates the exception with a message that names what is missing. */
    public OpenClUnavailableException(String message) {
        super(message);
    }

    /** Creates the exception with a message and the failure that revealed the problem. */
    public OpenClUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
