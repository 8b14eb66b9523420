package dev.kiln.runtime.opencl;

import static org.junit.jupiter.api.Assertions.fail;

import java.util.List;
import org.junit.jupiter.api.Assumptions;

/**
 * Finds the OpenCL devices for tests. Without OpenCL the tests are skipped with the reason,
 * unless {@code KILN_REQUIRE_OPENCL=1} is set, in which case they fail.
 */
final class OpenClTestSupport {
    static final String REQUIRE_VARIABLE = "KILN_REQUIRE_OPENCL";

    private OpenClTestSupport() {
    }

    static List<OpenClDevice> devicesOrSkip() {
        try {
            return OpenClDevice.list();
        } catch (OpenClUnavailableException e) {
            if ("1".equals(System.getenv(REQUIRE_VARIABLE))) {
                fail(REQUIRE_VARIABLE + "=1 but OpenCL is unavailable: " + e.getMessage(), e);
            }
            Assumptions.abort("OpenCL is unavailable, so this test is skipped (set " + REQUIRE_VARIABLE
                    + "=1 to fail instead): " + e.getMessage());
            throw new AssertionError("unreachable");
        }
    }

    static OpenClDevice deviceOrSkip() {
        devicesOrSkip();
        return OpenClDevice.best();
    }
}
