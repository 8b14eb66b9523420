package dev.kiln.runtime;

import dev.kiln.ir.DType;
import dev.kiln.ir.Graph;
import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.Loss;
import dev.kiln.ir.ModelSpec;
import dev.kiln.ir.ModelSpec.ParamSpec;
import dev.kiln.ir.Node;
import dev.kiln.ir.Shape;
import dev.kiln.runtime.testing.NativeBuild;
import dev.kiln.runtime.testing.NativeBuild.TestModel;
import dev.kiln.runtime.testing.OpenClSupport;
import dev.kiln.runtime.testing.Reference;
import dev.kiln.runtime.testing.TestData;
import dev.kiln.runtime.testing.Tolerance;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Layer widths and batch sizes that are not multiples of any work-group size, drawn from {1, 63,
 * 64, 65, 127, 4095, 4097}, on the OpenCL device against the C backend. A linear layer's forward
 * pass is a matmul with the weight transposed, its weight gradient one with the cotangent
 * transposed, and its bias gradient a sum over the batch. The mean squared error reduces all
 * batch * n outputs to one scalar through work-group partial sums. The two-layer case adds the
 * untransposed matmul that carries the cotangent back to the hidden layer. Widths and batches are
 * paired so that k * n * batch stays below about 3e7 multiply-adds per call.
 */
class OpenClSizesTest {
    private static final Map<String, NativeBuild> BUILDS = new HashMap<>();

    private static Device.OpenCl device;

    @BeforeAll
    static void openDevice() {
        device = OpenClSupport.deviceOrSkip();
    }

    @AfterAll
    static void closeDevice() {
        if (device != null) {
            device.close();
        }
    }

    /** Layer widths from input to output, and the batch sizes run on them. */
    static Stream<Arguments> widthsAndBatches() {
        return Stream.of(
                        cases(new int[] {1, 1}, 1, 4097),
                        cases(new int[] {63, 65}, 127, 64),
                        cases(new int[] {65, 63}, 4095),
                        cases(new int[] {64, 64}, 65),
                        cases(new int[] {4097, 1}, 63, 1),
                        cases(new int[] {1, 4097}, 127),
                        cases(new int[] {4095, 65}, 64),
                        cases(new int[] {127, 4095}, 1),
                        cases(new int[] {65, 127, 63}, 1, 64, 127))
                .flatMap(s -> s);
    }

    private static Stream<Arguments> cases(int[] widths, int... batches) {
        return Arrays.stream(batches).mapToObj(batch -> Arguments.of(widths, batch));
    }

    @ParameterizedTest(name = "widths {0} at batch {1}")
    @MethodSource("widthsAndBatches")
    void predictMatchesC(int[] widths, int batch) {
        NativeBuild build = build(widths);
        float[] x = TestData.samples(new SplittableRandom(batch * 7L + widths.length), build.descriptor(), batch);
        try (TestModel openCl = build.openClModel(device, 3); TestModel c = build.newModel(3)) {
            float[] output = openCl.predict(x, batch);

            Tolerance.assertClose(build.spec().name() + " OpenCL output at batch " + batch + " against C",
                    Reference.toDoubles(c.predict(x, batch)), output);
        }
    }

    @ParameterizedTest(name = "widths {0} at batch {1}")
    @MethodSource("widthsAndBatches")
    void forwardBackwardMatchesC(int[] widths, int batch) {
        NativeBuild build = build(widths);
        SplittableRandom random = new SplittableRandom(batch * 11L + widths.length);
        float[] x = TestData.samples(random, build.descriptor(), batch);
        float[] targets = TestData.uniform(random, Math.toIntExact(batch * build.descriptor().outputWidth()));
        try (TestModel openCl = build.openClModel(device, 5); TestModel c = build.newModel(5)) {
            float loss = openCl.forwardBackward(x, targets, batch);
            float cLoss = c.forwardBackward(x, targets, batch);

            String name = build.spec().name();
            Tolerance.assertClose(name + " OpenCL loss at batch " + batch + " against C", cLoss, loss);
            for (String parameter : openCl.parameterNames()) {
                Tolerance.assertClose(name + " OpenCL grad." + parameter + " at batch " + batch + " against C",
                        Reference.toDoubles(c.gradient(parameter)), openCl.gradient(parameter));
            }
        }
    }

    private static synchronized NativeBuild build(int[] widths) {
        String name = "Linear_" + Arrays.stream(widths).mapToObj(Integer::toString).collect(Collectors.joining("_"));
        return BUILDS.computeIfAbsent(name, key -> NativeBuild.of(layers(key, widths)));
    }

    /**
     * Returns linear layers {@code fc1, fc2, ...} between the given widths, with tanh between
     * layers and mean squared error on the last. The model has no optimizer entries, because only
     * predict and forward_backward run.
     */
    private static ModelSpec layers(String name, int[] widths) {
        GraphBuilder b = new GraphBuilder("forward");
        List<ParamSpec> params = new ArrayList<>();
        Node h = b.input("x", Shape.batched(widths[0]), DType.F32);
        for (int layer = 1; layer < widths.length; layer++) {
            int in = widths[layer - 1];
            int out = widths[layer];
            String prefix = "fc" + layer;
            params.add(new ParamSpec(prefix + ".weight", Shape.of(out, in), in));
            params.add(new ParamSpec(prefix + ".bias", Shape.of(out), in));
            Node product = b.matmul(h, b.param(prefix + ".weight", Shape.of(out, in)), false, true);
            h = b.add(product, b.param(prefix + ".bias", Shape.of(out)));
            if (layer < widths.length - 1) {
                h = b.tanh(h);
            }
        }
        b.output("output", h);
        Graph graph = b.build();
        return new ModelSpec(name, graph, params, Loss.MSE, List.of());
    }
}
