package dev.kiln.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.nn.Adam;
import dev.kiln.nn.OptimizerConfig;
import dev.kiln.nn.Sgd;
import dev.kiln.runtime.checkpoint.Checkpoint;
import dev.kiln.runtime.checkpoint.Safetensors;
import dev.kiln.runtime.testing.NativeBuild;
import dev.kiln.runtime.testing.NativeBuild.TestModel;
import dev.kiln.runtime.testing.TestModels;
import dev.kiln.runtime.testing.Tolerance;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Trains the reference MLP from the PyTorch fixtures (same initial parameters, data and
 * optimizer settings) and compares the per-step losses and the initial gradients with the ones
 * PyTorch recorded.
 */
class PyTorchParityTest {
    private static final Path FIXTURES = Path.of("../examples/src/test/resources/fixtures");
    private static final Path INIT = FIXTURES.resolve("reference_mlp_init.safetensors");
    private static final int BATCH = 50;
    private static final int STEPS = 20;
    private static final double LOSS_TOLERANCE = 1e-5;

    private static NativeBuild build;
    private static Checkpoint run;
    private static float[] x;
    private static int[] y;

    @BeforeAll
    static void loadFixtures() throws IOException {
        build = NativeBuild.of(TestModels.referenceMlp());
        run = Safetensors.read(FIXTURES.resolve("reference_mlp_run.safetensors"));
        x = run.tensor("x").toFloatArray();
        long[] labels = run.tensor("y").toLongArray();
        y = new int[labels.length];
        for (int i = 0; i < labels.length; i++) {
            y[i] = Math.toIntExact(labels[i]);
        }
        assertEquals(BATCH, y.length, "fixture batch");
    }

    @Test
    void adamLossesMatchPyTorch() throws IOException {
        checkLosses("adam_losses", new Adam(1e-2));
    }

    @Test
    void sgdWithMomentumLossesMatchPyTorch() throws IOException {
        checkLosses("sgd_losses", new Sgd(0.05).momentum(0.9));
    }

    private static void checkLosses(String fixture, OptimizerConfig optimizer) throws IOException {
        double[] expected = run.tensor(fixture).toDoubleArray();
        assertEquals(STEPS, expected.length, fixture + " length");
        try (TestModel model = build.newModel(0)) {
            model.load(INIT);
            for (int step = 0; step < STEPS; step++) {
                float loss = model.trainStep(x, y, BATCH, optimizer);
                double error = Math.abs(loss - expected[step]);
                assertTrue(error <= LOSS_TOLERANCE * Math.abs(expected[step]), fixture + " step " + step
                        + ": Kiln " + loss + ", PyTorch " + expected[step] + ", relative error "
                        + error / Math.abs(expected[step]));
            }
        }
    }

    @Test
    void initialGradientsMatchPyTorch() throws IOException {
        try (TestModel model = build.newModel(0)) {
            model.load(INIT);

            float loss = model.forwardBackward(x, y, BATCH);

            Tolerance.assertClose("loss0", run.tensor("loss0").toDoubleArray()[0], loss);
            for (String name : model.parameterNames()) {
                Tolerance.assertClose("grad." + name, run.tensor("grad." + name).toDoubleArray(),
                        model.gradient(name));
            }
        }
    }
}
