package dev.kiln.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kiln.ir.Autodiff;
import dev.kiln.ir.DType;
import dev.kiln.ir.Entries;
import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.Loss;
import dev.kiln.ir.ModelSpec;
import dev.kiln.ir.Node;
import dev.kiln.ir.Optimizer;
import dev.kiln.ir.Shape;
import dev.kiln.runtime.testing.NativeBuild;
import dev.kiln.runtime.testing.NativeBuild.TestModel;
import dev.kiln.runtime.testing.Reference;
import dev.kiln.runtime.testing.TestData;
import dev.kiln.runtime.testing.Tolerance;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A loss that contains d(output)/d(input): its parameter gradients are second derivatives, which
 * the native training entries must get right against the double reference.
 */
class CustomLossTest {
    static NativeBuild build;

    /** u = fc2(tanh(fc1 x)); loss = mean((u - t)^2) + mean((du/dx - cos x)^2). */
    static ModelSpec derivativeFit() {
        GraphBuilder b = new GraphBuilder("forward");
        Node x = b.input("x", Shape.batched(1), DType.F32);
        Node hidden = b.tanh(b.linear(x, b.param("fc1.weight", Shape.of(6, 1)), b.param("fc1.bias", Shape.of(6))));
        Node u = b.linear(hidden, b.param("fc2.weight", Shape.of(1, 6)), b.param("fc2.bias", Shape.of(1)));
        b.output("output", u);
        Node targets = b.input(Loss.CUSTOM.labelName(), Shape.batched(1), DType.F32);
        Node slope = Autodiff.grad(b, b.sum(u), List.of(x)).get(0);
        Node valueError = b.sub(u, targets);
        Node slopeError = b.sub(slope, b.cos(x));
        Node loss = b.add(b.div(b.sum(b.mul(valueError, valueError)), b.batchSize()),
                b.div(b.sum(b.mul(slopeError, slopeError)), b.batchSize()));
        b.output(Entries.LOSS, loss);
        return new ModelSpec("DerivativeFit", b.build(), List.of(
                new ModelSpec.ParamSpec("fc1.weight", Shape.of(6, 1), 1),
                new ModelSpec.ParamSpec("fc1.bias", Shape.of(6), 1),
                new ModelSpec.ParamSpec("fc2.weight", Shape.of(1, 6), 6),
                new ModelSpec.ParamSpec("fc2.bias", Shape.of(1), 6)), Loss.CUSTOM, List.of(Optimizer.ADAM));
    }

    @BeforeAll
    static void compile() {
        build = NativeBuild.of(derivativeFit());
    }

    @Test
    void secondDerivativeGradientsMatchReference() {
        Reference reference = new Reference(build.spec());
        for (int batch : new int[] {1, 7, 64}) {
            SplittableRandom random = new SplittableRandom(batch);
            float[] x = TestData.samples(random, build.descriptor(), batch);
            float[] targets = TestData.uniform(random, batch);
            try (TestModel model = build.newModel(batch)) {
                Map<String, double[]> parameters = Reference.parameters(model);
                float loss = model.forwardBackward(x, targets, batch);
                Reference.LossAndGradients expected = reference.forwardBackward(parameters, x,
                        Reference.toDoubles(targets), batch);

                Tolerance.assertClose("loss at batch " + batch, expected.loss(), loss);
                for (String name : model.parameterNames()) {
                    Tolerance.assertClose("grad." + name + " at batch " + batch, expected.gradients().get(name),
                            model.gradient(name));
                }
            }
        }
    }

    @Test
    void trainingStepLowersTheLoss() {
        SplittableRandom random = new SplittableRandom(3);
        float[] x = TestData.samples(random, build.descriptor(), 32);
        float[] targets = new float[32];
        for (int i = 0; i < targets.length; i++) {
            targets[i] = (float) Math.sin(x[i]);
        }
        try (TestModel model = build.newModel(1)) {
            dev.kiln.nn.Adam adam = new dev.kiln.nn.Adam(1e-2);
            float first = model.trainStep(x, targets, 32, adam);
            float last = first;
            for (int step = 0; step < 200; step++) {
                last = model.trainStep(x, targets, 32, adam);
            }
            org.junit.jupiter.api.Assertions.assertTrue(last < 0.5 * first, "loss went from " + first + " to " + last);
        }
    }
}
