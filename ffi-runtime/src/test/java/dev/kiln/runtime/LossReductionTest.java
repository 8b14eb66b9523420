package dev.kiln.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kiln.ir.Loss;
import dev.kiln.ir.ModelSpec;
import dev.kiln.ir.Optimizer;
import dev.kiln.runtime.testing.NativeBuild;
import dev.kiln.runtime.testing.NativeBuild.TestModel;
import dev.kiln.runtime.testing.Reference;
import dev.kiln.runtime.testing.TestModels;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Standard losses with {@code reduction = SUM}, compiled and run natively: the loss and the
 * gradients are the mean's times the number of terms (the batch for losses on class rows, every
 * output element for the others) and agree with the reference evaluator, and {@code evaluate}
 * reports the loss per sample.
 */
class LossReductionTest {
    private static final int WIDTH = 3;
    private static final int BATCH = 5;

    @ParameterizedTest
    @EnumSource(value = Loss.class, names = "CUSTOM", mode = EnumSource.Mode.EXCLUDE)
    void sumIsTheMeanTimesTheNumberOfTerms(Loss loss) {
        ModelSpec mean = TestModels.singleLayer("Reduction" + loss.name(), WIDTH, TestModels.Activation.IDENTITY,
                loss, List.of(Optimizer.SGD));
        ModelSpec sum = new ModelSpec(mean.name() + "Sum", mean.forward(), mean.params(), loss, mean.optimizers(),
                Loss.Reduction.SUM);
        SplittableRandom random = new SplittableRandom(loss.ordinal());
        float[] x = new float[BATCH * WIDTH];
        float[] targets = new float[BATCH * WIDTH];
        int[] labels = new int[BATCH];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) random.nextDouble(-2, 2);
            targets[i] = (float) random.nextDouble(0, 1);
        }
        for (int r = 0; r < BATCH; r++) {
            labels[r] = random.nextInt(WIDTH);
        }
        boolean classes = loss.takesClassIndices();
        // SOFT_CROSS_ENTROPY takes probabilities: make each row sum to 1.
        if (loss == Loss.SOFT_CROSS_ENTROPY) {
            for (int r = 0; r < BATCH; r++) {
                float total = targets[r * WIDTH] + targets[r * WIDTH + 1] + targets[r * WIDTH + 2];
                for (int c = 0; c < WIDTH; c++) {
                    targets[r * WIDTH + c] /= total;
                }
            }
        }
        double terms = loss.needsClassRows() ? BATCH : BATCH * WIDTH;
        try (TestModel meanModel = NativeBuild.of(mean).newModel(3);
             TestModel sumModel = NativeBuild.of(sum).newModel(3)) {
            float meanLoss = classes ? meanModel.forwardBackward(x, labels, BATCH)
                    : meanModel.forwardBackward(x, targets, BATCH);
            float sumLoss = classes ? sumModel.forwardBackward(x, labels, BATCH)
                    : sumModel.forwardBackward(x, targets, BATCH);
            assertEquals(meanLoss * terms, sumLoss, 1e-5 * Math.abs(sumLoss) + 1e-6, "loss");
            for (String name : sumModel.parameterNames()) {
                float[] meanGradient = meanModel.gradient(name);
                float[] sumGradient = sumModel.gradient(name);
                for (int i = 0; i < meanGradient.length; i++) {
                    assertEquals(meanGradient[i] * terms, sumGradient[i], 1e-5 * Math.abs(sumGradient[i]) + 1e-6,
                            name + "[" + i + "]");
                }
            }

            Map<String, double[]> parameters = Reference.parameters(sumModel);
            double[] referenceLabels = classes ? Reference.toDoubles(toFloats(labels)) : Reference.toDoubles(targets);
            Reference.LossAndGradients expected = new Reference(sum).forwardBackward(parameters, x, referenceLabels, BATCH);
            assertEquals(expected.loss(), sumLoss, 1e-5 * Math.abs(expected.loss()) + 1e-6, "loss against the reference");

            Evaluation evaluation = classes ? sumModel.evaluate(x, labels, BATCH, 2)
                    : sumModel.evaluate(x, targets, BATCH, 2);
            assertEquals(sumLoss / BATCH, evaluation.meanLoss(), 1e-5 * Math.abs(sumLoss), "loss per sample");
        }
    }

    private static float[] toFloats(int[] values) {
        float[] out = new float[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = values[i];
        }
        return out;
    }
}
