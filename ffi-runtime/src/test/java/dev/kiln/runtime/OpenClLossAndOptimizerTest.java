package dev.kiln.runtime;

import dev.kiln.ir.DType;
import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.Loss;
import dev.kiln.ir.ModelSpec;
import dev.kiln.ir.ModelSpec.ParamSpec;
import dev.kiln.ir.Node;
import dev.kiln.ir.Optimizer;
import dev.kiln.ir.Shape;
import dev.kiln.nn.AdamW;
import dev.kiln.nn.OptimizerConfig;
import dev.kiln.nn.RmsProp;
import dev.kiln.runtime.testing.NativeBuild;
import dev.kiln.runtime.testing.NativeBuild.TestModel;
import dev.kiln.runtime.testing.OpenClSupport;
import dev.kiln.runtime.testing.TestData;
import dev.kiln.runtime.testing.Tolerance;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Trains with the L1, Huber, BCE-with-logits, soft cross-entropy and NLL losses and with AdamW and
 * RMSprop (clipped, centered, with momentum) on an OpenCL device and on the C backend from the
 * same start, and compares losses and parameters. Skipped without an OpenCL device.
 */
class OpenClLossAndOptimizerTest {
    private static final int BATCH = 6;
    private static final int STEPS = 3;

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = Loss.class, names = {"L1", "HUBER", "BCE_WITH_LOGITS", "SOFT_CROSS_ENTROPY", "NLL"})
    void trainingMatchesC(Loss loss) {
        Device.OpenCl device = OpenClSupport.deviceOrSkip();
        NativeBuild build = NativeBuild.of(model(loss));
        try (device; TestModel c = build.newModel(3); TestModel openCl = build.openClModel(device, 3)) {
            check(loss + " with AdamW", c, openCl, () -> new AdamW(1e-2).clipGradNorm(0.5), loss);
            check(loss + " with RMSprop", c, openCl,
                    () -> new RmsProp(1e-2).momentum(0.9).centered(true).clipGradNorm(0.5), loss);
        }
    }

    private static void check(String what, TestModel c, TestModel openCl, Supplier<OptimizerConfig> optimizer,
                              Loss loss) {
        OptimizerConfig forC = optimizer.get();
        OptimizerConfig forOpenCl = optimizer.get();
        SplittableRandom random = new SplittableRandom(what.hashCode());
        for (int step = 0; step < STEPS; step++) {
            float[] x = TestData.samples(random, c.descriptor(), BATCH);
            float lossC;
            float lossOpenCl;
            if (loss.takesClassIndices()) {
                int[] labels = TestData.labels(random, 3, BATCH);
                lossC = c.trainStep(x, labels, BATCH, forC);
                lossOpenCl = openCl.trainStep(x, labels, BATCH, forOpenCl);
            } else {
                float[] targets = targets(random, loss);
                lossC = c.trainStep(x, targets, BATCH, forC);
                lossOpenCl = openCl.trainStep(x, targets, BATCH, forOpenCl);
            }
            Tolerance.assertClose(what + " loss at step " + step, lossC, lossOpenCl);
        }
        for (String name : c.parameterNames()) {
            float[] expected = c.parameter(name);
            double[] reference = new double[expected.length];
            for (int i = 0; i < expected.length; i++) {
                reference[i] = expected[i];
            }
            Tolerance.assertClose(what + ", " + name + " on OpenCL", reference, openCl.parameter(name));
        }
    }

    /** Returns targets in [0, 1], normalized to rows of probabilities for soft cross-entropy. */
    private static float[] targets(SplittableRandom random, Loss loss) {
        float[] values = new float[BATCH * 3];
        for (int r = 0; r < BATCH; r++) {
            float sum = 0;
            for (int i = 0; i < 3; i++) {
                values[r * 3 + i] = (float) random.nextDouble();
                sum += values[r * 3 + i];
            }
            if (loss == Loss.SOFT_CROSS_ENTROPY) {
                for (int i = 0; i < 3; i++) {
                    values[r * 3 + i] /= sum;
                }
            }
        }
        return values;
    }

    /** tanh(fc1 5->4), then fc2 4->3, ending in log_softmax for NLL. */
    private static ModelSpec model(Loss loss) {
        GraphBuilder b = new GraphBuilder("forward");
        Node x = b.input("x", Shape.batched(5), DType.F32);
        Node h = b.tanh(b.linear(x, b.param("fc1.weight", Shape.of(4, 5)), b.param("fc1.bias", Shape.of(4))));
        Node out = b.linear(h, b.param("fc2.weight", Shape.of(3, 4)), b.param("fc2.bias", Shape.of(3)));
        b.output("output", loss == Loss.NLL ? b.logSoftmax(out) : out);
        List<ParamSpec> params = List.of(new ParamSpec("fc1.weight", Shape.of(4, 5), 5),
                new ParamSpec("fc1.bias", Shape.of(4), 5), new ParamSpec("fc2.weight", Shape.of(3, 4), 4),
                new ParamSpec("fc2.bias", Shape.of(3), 4));
        return new ModelSpec("OpenClLoss_" + loss.name(), b.build(), params, loss,
                List.of(Optimizer.ADAMW, Optimizer.RMSPROP));
    }
}
