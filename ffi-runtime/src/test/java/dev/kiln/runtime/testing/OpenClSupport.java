package dev.kiln.runtime.testing;

import static org.junit.jupiter.api.Assertions.fail;

import dev.kiln.runtime.Device;
import dev.kiln.runtime.opencl.OpenClUnavailableException;
import java.util.function.Supplier;
import org.junit.jupiter.api.Assumptions;

/**
 * OpenCL devices and work-group caps for model tests. Without OpenCL a test is skipped with the
 * reason, unless {@code KILN_REQUIRE_OPENCL=1} is set, in which case it fails.
 */
public final class OpenClSupport {
    /** Environment variable that turns a missing OpenCL platform from a skip into a failure. */
    public static final String REQUIRE_VARIABLE = "KILN_REQUIRE_OPENCL";

    /** System property that caps the work-group size when an OpenCL model is created. */
    public static final String CAP_PROPERTY = "kiln.opencl.maxWorkGroupSize";

    private OpenClSupport() {
    }

    /** Returns the best OpenCL device with its own context, or skips the test without one. */
    public static Device.OpenCl deviceOrSkip() {
        try {
            Device.OpenCl device = (Device.OpenCl) Device.openCl();
            device.context();
            return device;
        } catch (OpenClUnavailableException e) {
            if ("1".equals(System.getenv(REQUIRE_VARIABLE))) {
                fail(REQUIRE_VARIABLE + "=1 but OpenCL is unavailable: " + e.getMessage(), e);
            }
            Assumptions.abort("OpenCL is unavailable, so this test is skipped (set " + REQUIRE_VARIABLE
                    + "=1 to fail instead): " + e.getMessage());
            throw new AssertionError("unreachable");
        }
    }

    /**
     * Runs {@code create} with the work-group size capped at {@code cap} items, or uncapped when
     * {@code cap} is 0, and restores the property's previous value afterwards. The runtime reads
     * the cap when a model is created, so the model keeps it for its lifetime.
     */
    public static <T> T withWorkGroupCap(int cap, Supplier<T> create) {
        if (cap == 0) {
            return create.get();
        }
        String previous = System.getProperty(CAP_PROPERTY);
        System.setProperty(CAP_PROPERTY, Integer.toString(cap));
        try {
            return create.get();
        } finally {
            if (previous == null) {
                System.clearProperty(CAP_PROPERTY);
            } else {
                System.setProperty(CAP_PROPERTY, previous);
            }
        }
    }
}
