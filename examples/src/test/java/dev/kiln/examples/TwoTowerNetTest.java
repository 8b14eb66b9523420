package dev.kiln.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.nn.Adam;
import dev.kiln.nn.LayerNorm;
import dev.kiln.nn.Linear;
import dev.kiln.nn.Tensor;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * A model with two inputs, two outputs, a loss over both, nested model classes two levels deep,
 * a layer shared by both inputs and a Sequential head with a LayerNorm, compiled by the processor.
 */
class TwoTowerNetTest {
    private static final int ROWS = 12;

    @Test
    void parametersAreNamedAsInAPyTorchStateDict() {
        try (CompiledTwoTowerNet model = new CompiledTwoTowerNet(1)) {
            assertEquals(List.of("tower.first.fc.weight", "tower.first.fc.bias", "tower.second.fc.weight",
                    "tower.second.fc.bias", "shared.weight", "shared.bias", "classifier.0.weight", "classifier.0.bias",
                    "classifier.1.weight", "classifier.1.bias", "classifier.3.weight", "classifier.3.bias",
                    "regressor.weight", "regressor.bias"),
                    model.parameterNames());
            assertEquals(List.of(6, 6), toList(CompiledTwoTowerNet.INPUT_WIDTHS));
            assertEquals(List.of(3, 1), toList(CompiledTwoTowerNet.OUTPUT_WIDTHS));
        }
    }

    @Test
    void eagerOutputsMatchCompiledOutputs() {
        TwoTowerNet eager = new TwoTowerNet();
        float[] left = samples(ROWS * 6, 1);
        float[] right = samples(ROWS * 6, 2);
        Tensor[] expected = eager.forward(Tensor.of(left, ROWS, 6), Tensor.of(right, ROWS, 6));
        try (CompiledTwoTowerNet compiled = new CompiledTwoTowerNet(0)) {
            copy(compiled, "tower.first.fc", eager.tower.first.fc);
            copy(compiled, "tower.second.fc", eager.tower.second.fc);
            copy(compiled, "shared", eager.shared);
            copy(compiled, "classifier.0", (Linear) eager.classifier.get(0));
            copy(compiled, "classifier.3", (Linear) eager.classifier.get(3));
            LayerNorm norm = (LayerNorm) eager.classifier.get(1);
            compiled.setParameter("classifier.1.weight", floats(norm.weight().values()));
            compiled.setParameter("classifier.1.bias", floats(norm.bias().values()));
            copy(compiled, "regressor", eager.regressor);
            float[] packed = compiled.predict(CompiledTwoTowerNet.inputs(ROWS, left, right), ROWS);
            for (int k = 0; k < 2; k++) {
                double[] want = expected[k].values();
                float[] got = CompiledTwoTowerNet.output(k, packed, ROWS);
                assertEquals(want.length, got.length, "output " + k);
                for (int i = 0; i < want.length; i++) {
                    assertEquals(want[i], got[i], 1e-4 * (1 + Math.abs(want[i])), "output " + k + " element " + i);
                }
            }
        }
    }

    @Test
    void gradientsMatchFiniteDifferencesOfTheCompiledLoss() {
        float[] inputs = CompiledTwoTowerNet.inputs(ROWS, samples(ROWS * 6, 3), samples(ROWS * 6, 4));
        float[] targets = targets(ROWS, 5);
        try (CompiledTwoTowerNet model = new CompiledTwoTowerNet(7)) {
            model.forwardBackward(inputs, targets, ROWS);
            for (String name : List.of("tower.first.fc.weight", "shared.bias", "classifier.3.weight", "classifier.1.bias", "regressor.weight")) {
                float[] gradient = model.gradient(name);
                float[] values = model.parameter(name);
                for (int i = 0; i < Math.min(values.length, 5); i++) {
                    float original = values[i];
                    double step = 1e-3;
                    values[i] = (float) (original + step);
                    model.setParameter(name, values);
                    double plus = model.forwardBackward(inputs, targets, ROWS);
                    values[i] = (float) (original - step);
                    model.setParameter(name, values);
                    double minus = model.forwardBackward(inputs, targets, ROWS);
                    values[i] = original;
                    model.setParameter(name, values);
                    double numeric = (plus - minus) / (2 * step);
                    assertEquals(numeric, gradient[i], 2e-3 + 2e-2 * Math.abs(numeric), name + "[" + i + "]");
                }
            }
        }
    }

    @Test
    void trainingLowersTheCombinedLoss() {
        float[] left = samples(64 * 6, 8);
        float[] right = samples(64 * 6, 9);
        float[] targets = new float[64 * 4];
        for (int r = 0; r < 64; r++) {
            double difference = left[r * 6] - right[r * 6];
            int label = 1;
            if (difference > 0.5) {
                label = 0;
            } else if (difference < -0.5) {
                label = 2;
            }
            targets[r * 4 + label] = 1;
            targets[r * 4 + 3] = (float) difference;
        }
        float[] inputs = CompiledTwoTowerNet.inputs(64, left, right);
        try (CompiledTwoTowerNet model = new CompiledTwoTowerNet(3)) {
            Adam adam = new Adam(1e-2);
            float first = model.trainStep(inputs, targets, 64, adam);
            float last = first;
            for (int step = 0; step < 300; step++) {
                last = model.trainStep(inputs, targets, 64, adam);
            }
            assertTrue(last < 0.3 * first, "loss went from " + first + " to " + last);
        }
    }

    @Test
    void packingRejectsPartsOfTheWrongLength() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CompiledTwoTowerNet.inputs(2, new float[12], new float[11]));
        assertTrue(e.getMessage().contains("part 1 needs 2 rows of 6 floats (12), got 11"), e.getMessage());
    }

    private static void copy(dev.kiln.runtime.CompiledModel compiled, String name, Linear layer) {
        compiled.setParameter(name + ".weight", floats(layer.weight().values()));
        compiled.setParameter(name + ".bias", floats(layer.bias().values()));
    }

    private static List<Integer> toList(int[] values) {
        return java.util.Arrays.stream(values).boxed().toList();
    }

    private static float[] targets(int rows, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] out = new float[rows * 4];
        for (int r = 0; r < rows; r++) {
            out[r * 4 + random.nextInt(3)] = 1;
            out[r * 4 + 3] = (float) random.nextDouble(-1, 1);
        }
        return out;
    }

    private static float[] samples(int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        float[] out = new float[n];
        for (int i = 0; i < n; i++) {
            out[i] = (float) random.nextDouble(-2, 2);
        }
        return out;
    }

    private static float[] floats(double[] values) {
        float[] out = new float[values.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) values[i];
        }
        return out;
    }
}
