package dev.kiln.runtime.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Comparison of float32 native results with the double-precision reference. An element passes
 * when |native - reference| <= 1e-4 (|reference| + max |reference over the tensor|), so an element
 * near zero is judged on the scale of its tensor rather than on its own.
 */
public final class Tolerance {
    /** Relative tolerance of float32 results against the double reference. */
    public static final double RELATIVE = 1e-4;

    private Tolerance() {
    }

    /** Asserts that every element of {@code actual} is within tolerance of {@code reference}. */
    public static void assertClose(String description, double[] reference, float[] actual) {
        assertEquals(reference.length, actual.length, description + ": element count");
        double scale = 0;
        for (double r : reference) {
            scale = Math.max(scale, Math.abs(r));
        }
        for (int i = 0; i < reference.length; i++) {
            double allowed = RELATIVE * (Math.abs(reference[i]) + scale);
            double error = Math.abs(actual[i] - reference[i]);
            if (!(error <= allowed)) {
                fail(description + "[" + i + "]: native " + actual[i] + ", reference " + reference[i] + ", error " + error
                        + " exceeds " + allowed);
            }
        }
    }

    /** Asserts that a scalar is within tolerance: |native - reference| <= 2e-4 |reference|. */
    public static void assertClose(String description, double reference, double actual) {
        double allowed = RELATIVE * 2 * Math.abs(reference);
        assertTrue(Math.abs(actual - reference) <= allowed,
                description + ": native " + actual + ", reference " + reference + ", allowed error " + allowed);
    }
}
