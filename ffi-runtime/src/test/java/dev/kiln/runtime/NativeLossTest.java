package dev.kiln.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.ir.DType;
import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.Loss;
import dev.kiln.ir.ModelSpec;
import dev.kiln.ir.ModelSpec.ParamSpec;
import dev.kiln.ir.Node;
import dev.kiln.ir.Optimizer;
import dev.kiln.ir.Shape;
import dev.kiln.nn.AdamW;
import dev.kiln.nn.RmsProp;
import dev.kiln.runtime.testing.NativeBuild;
import dev.kiln.runtime.testing.NativeBuild.TestModel;
import dev.kiln.runtime.testing.Reference;
import dev.kiln.runtime.testing.TestData;
import dev.kiln.runtime.testing.TestModels;
import dev.kiln.runtime.testing.Tolerance;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Runs the L1, Huber, BCE-with-logits, soft cross-entropy and NLL losses natively in float32 and
 * through the double-precision reference evaluator on the same parameters and data, and compares
 * loss and gradients. It also checks their special values and how the runtime takes their labels.
 */
class NativeLossTest {
    private static final List<Loss> LOSSES = List.of(Loss.L1, Loss.HUBER, Loss.BCE_WITH_LOGITS,
            Loss.SOFT_CROSS_ENTROPY, Loss.NLL);
    private static final Map<Loss, NativeBuild> BUILDS = new EnumMap<>(Loss.class);

    private static NativeBuild bceLayer;

    @BeforeAll
    static void compileModels() {
        for (Loss loss : LOSSES) {
            BUILDS.put(loss, NativeBuild.of(twoLayer(loss)));
        }
        bceLayer = NativeBuild.of(TestModels.singleLayer("BceLayer", 4, TestModels.Activation.IDENTITY,
                Loss.BCE_WITH_LOGITS, List.of(Optimizer.SGD)));
    }

    /**
     * tanh(fc1 5->4), then fc2 4->3, with the scores turned into log-probabilities by log_softmax
     * for NLL, as a PyTorch model trained with NLLLoss ends in {@code log_softmax}.
     */
    private static ModelSpec twoLayer(Loss loss) {
        GraphBuilder b = new GraphBuilder("forward");
        Node x = b.input("x", Shape.batched(5), DType.F32);
        Node h = b.tanh(b.linear(x, b.param("fc1.weight", Shape.of(4, 5)), b.param("fc1.bias", Shape.of(4))));
        Node out = b.linear(h, b.param("fc2.weight", Shape.of(3, 4)), b.param("fc2.bias", Shape.of(3)));
        b.output("output", loss == Loss.NLL ? b.logSoftmax(out) : out);
        List<ParamSpec> params = List.of(new ParamSpec("fc1.weight", Shape.of(4, 5), 5),
                new ParamSpec("fc1.bias", Shape.of(4), 5), new ParamSpec("fc2.weight", Shape.of(3, 4), 4),
                new ParamSpec("fc2.bias", Shape.of(3), 4));
        return new ModelSpec("Loss_" + loss.name(), b.build(), params, loss, List.of(Optimizer.ADAMW, Optimizer.RMSPROP));
    }

    static Stream<Arguments> lossesAndBatches() {
        return LOSSES.stream().flatMap(loss -> Stream.of(1, 7, 64).map(batch -> Arguments.of(loss, batch)));
    }

    @ParameterizedTest(name = "{0} at batch {1}")
    @MethodSource("lossesAndBatches")
    void forwardBackwardMatchesReference(Loss loss, int batch) {
        NativeBuild build = BUILDS.get(loss);
        SplittableRandom random = new SplittableRandom(batch * 13L + loss.ordinal());
        try (TestModel model = build.newModel(batch + 3)) {
            float[] x = TestData.samples(random, build.descriptor(), batch);
            double[] labels = labels(random, loss, batch, 3);

            float nativeLoss = forwardBackward(model, x, labels, batch);

            Reference.LossAndGradients expected = new Reference(build.spec())
                    .forwardBackward(Reference.parameters(model), x, labels, batch);
            Tolerance.assertClose(loss + " loss", expected.loss(), nativeLoss);
            for (String name : model.parameterNames()) {
                Tolerance.assertClose(loss + " grad." + name, expected.gradients().get(name), model.gradient(name));
            }
        }
    }

    @ParameterizedTest(name = "{0} at batch {1}")
    @MethodSource("lossesAndBatches")
    void evaluateAndTrainStepReportReferenceLoss(Loss loss, int batch) {
        NativeBuild build = BUILDS.get(loss);
        SplittableRandom random = new SplittableRandom(batch * 29L + loss.ordinal());
        try (TestModel model = build.newModel(batch + 11)) {
            float[] x = TestData.samples(random, build.descriptor(), batch);
            double[] labels = labels(random, loss, batch, 3);
            double expected = new Reference(build.spec())
                    .forwardBackward(Reference.parameters(model), x, labels, batch).loss();

            double evaluated = loss.takesClassIndices()
                    ? model.evaluate(x, TestData.classIndices(labels), batch, 5).meanLoss()
                    : model.evaluate(x, TestData.toFloats(labels), batch, 5).meanLoss();
            float trained = loss.takesClassIndices()
                    ? model.trainStep(x, TestData.classIndices(labels), batch, new AdamW(1e-2))
                    : model.trainStep(x, TestData.toFloats(labels), batch, new RmsProp(1e-2).momentum(0.9));

            Tolerance.assertClose(loss + " evaluate", expected, evaluated);
            Tolerance.assertClose(loss + " trainStep, before its update", expected, trained);
        }
    }

    @Test
    void bceWithLogitsSpecialValues() {
        try (TestModel model = identityLayer(bceLayer)) {
            float[] x = {0, 0, -100, 100};
            float[] y = {0, 1, 0, 1};

            float loss = model.forwardBackward(x, y, 1);

            // Two terms of log 2 and two of log1p(e^-100), about 3.7e-44, over four elements.
            assertEquals(Math.log(2) / 2, loss, 1e-6);
            float[] biasGrad = model.gradient("fc.bias");
            assertEquals(0.5 / 4, biasGrad[0], 1e-7, "sigmoid(0) - 0 over four elements");
            assertEquals(-0.5 / 4, biasGrad[1], 1e-7, "sigmoid(0) - 1 over four elements");
            assertEquals(0, biasGrad[2], 1e-7, "s = -100, y = 0");
            assertEquals(0, biasGrad[3], 1e-7, "s = 100, y = 1");
        }
    }

    @Test
    void bceWithLogitsConfidentWrongAnswersStayFinite() {
        try (TestModel model = identityLayer(bceLayer)) {
            float[] x = {-100, 100, -100, 100};
            float[] y = {1, 0, 0, 1};

            float loss = model.forwardBackward(x, y, 1);

            assertEquals(50, loss, 1e-3, "two terms of 100 and two of about 0, over four elements");
            float[] biasGrad = model.gradient("fc.bias");
            assertEquals(-0.25, biasGrad[0], 1e-7);
            assertEquals(0.25, biasGrad[1], 1e-7);
        }
    }

    @Test
    void bceRejectsTargetsOutsideUnitRange() {
        try (TestModel model = bceLayer.newModel(1)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> model.forwardBackward(new float[] {0, 0, 0, 0}, new float[] {0, 1, 1.5f, 0}, 1));
            assertTrue(e.getMessage().contains("1.5"), e.getMessage());
            assertTrue(e.getMessage().contains("[0, 1]"), e.getMessage());
        }
    }

    @Test
    void nllTakesClassIndices() {
        try (TestModel model = BUILDS.get(Loss.NLL).newModel(1)) {
            float[] x = new float[10];
            IllegalArgumentException floats = assertThrows(IllegalArgumentException.class,
                    () -> model.trainStep(x, new float[6], 2, new AdamW()));
            assertTrue(floats.getMessage().contains("int class labels"), floats.getMessage());
            IllegalArgumentException range = assertThrows(IllegalArgumentException.class,
                    () -> model.forwardBackward(x, new int[] {0, 3}, 2));
            assertTrue(range.getMessage().contains("out of range"), range.getMessage());
            assertEquals(model.predictClass(new float[5]), model.predictClass(new float[5]));
        }
    }

    @Test
    void softCrossEntropyTakesProbabilities() {
        try (TestModel model = BUILDS.get(Loss.SOFT_CROSS_ENTROPY).newModel(1)) {
            float[] x = new float[10];
            IllegalArgumentException ints = assertThrows(IllegalArgumentException.class,
                    () -> model.trainStep(x, new int[] {0, 1}, 2, new AdamW()));
            assertTrue(ints.getMessage().contains("float targets"), ints.getMessage());
            int predicted = model.predictClass(new float[5]);
            assertTrue(predicted >= 0, "class " + predicted);
            assertTrue(predicted < 3, "class " + predicted);
        }
    }

    @Test
    void elementwiseLossesDoNotPredictClasses() {
        try (TestModel model = BUILDS.get(Loss.HUBER).newModel(1)) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> model.predictClass(new float[5]));
            assertTrue(e.getMessage().contains("class scores"), e.getMessage());
        }
    }

    /** Returns a model whose output is its input: weight identity, bias zero. */
    private static TestModel identityLayer(NativeBuild build) {
        TestModel model = build.newModel(1);
        int width = (int) build.descriptor().outputWidth();
        float[] identity = new float[width * width];
        for (int i = 0; i < width; i++) {
            identity[i * width + i] = 1;
        }
        model.setParameter("fc.weight", identity);
        model.setParameter("fc.bias", new float[width]);
        return model;
    }

    private static float forwardBackward(TestModel model, float[] x, double[] labels, int batch) {
        return model.spec().loss().takesClassIndices()
                ? model.forwardBackward(x, TestData.classIndices(labels), batch)
                : model.forwardBackward(x, TestData.toFloats(labels), batch);
    }

    /**
     * Returns labels as the reference takes them: class indices for NLL, rows of probabilities
     * for soft cross-entropy, targets in [0, 1] for BCE and in [-2, 2) for L1 and Huber.
     */
    private static double[] labels(SplittableRandom random, Loss loss, int batch, int classes) {
        if (loss.takesClassIndices()) {
            return Reference.toDoubles(TestData.labels(random, classes, batch));
        }
        double[] values = new double[batch * classes];
        for (int i = 0; i < values.length; i++) {
            values[i] = loss == Loss.L1 || loss == Loss.HUBER ? random.nextDouble(-2, 2) : random.nextDouble();
        }
        if (loss == Loss.SOFT_CROSS_ENTROPY) {
            for (int r = 0; r < batch; r++) {
                double sum = 0;
                for (int c = 0; c < classes; c++) {
                    sum += values[r * classes + c];
                }
                for (int c = 0; c < classes; c++) {
                    values[r * classes + c] /= sum;
                }
            }
        }
        // The reference reads the targets the native code receives, after rounding to float.
        return Reference.toDoubles(TestData.toFloats(values));
    }
}
