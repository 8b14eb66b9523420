package dev.kiln.examples;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.runtime.Device;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** The model whose loss contains du/dx trains end to end and learns both u and its slope. */
class DerivativeFitTest {

    @Test
    void learnsSineAndItsDerivative() {
        DerivativeFitJob.Outcome outcome = DerivativeFitJob.run(3000, 42, Device.cpu(),
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));

        assertTrue(outcome.lastLoss() < 1e-3 * outcome.firstLoss(),
                "loss went from " + outcome.firstLoss() + " to " + outcome.lastLoss());
        assertTrue(outcome.maxValueError() < 0.02, "max |u - sin x| = " + outcome.maxValueError());
        assertTrue(outcome.maxSlopeError() < 0.05, "max |du/dx - cos x| = " + outcome.maxSlopeError());
    }
}
