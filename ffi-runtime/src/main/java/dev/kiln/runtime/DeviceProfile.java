package dev.kiln.runtime;

/**
 * Time an OpenCL model spent on its device, from OpenCL profiling events.
 *
 * @param kernelNanos nanoseconds in kernels
 * @param transferNanos nanoseconds in host-device copies
 */
public record DeviceProfile(long kernelNanos, long transferNanos) {

    /** Returns the share of device time spent copying, from 0 to 1. */
    public double transferShare() {
        long total = kernelNanos + transferNanos;
        return total == 0 ? 0 : (double) transferNanos / total;
    }
}
