package dev.kiln.runtime;

import org.junit.jupiter.api.Nested;

/**
 * The OpenCL conformance checks with the work-group size capped, as on devices with small limits.
 * A cap of 1 item runs every reduction serially within its group. A cap of 3 is no power of two,
 * so the tree reduction in a group has an unpaired lane and the matmul tile shrinks to one element.
 * A cap of 17 gives a tile edge of 4 and a local size that divides none of the test widths.
 */
class OpenClWorkGroupCapTest {
    @Nested
    class CapOf1 extends OpenClConformance {
        @Override
        int workGroupCap() {
            return 1;
        }
    }

    @Nested
    class CapOf3 extends OpenClConformance {
        @Override
        int workGroupCap() {
            return 3;
        }
    }

    @Nested
    class CapOf17 extends OpenClConformance {
        @Override
        int workGroupCap() {
            return 17;
        }
    }
}
