package dev.kiln.frontend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.github.javaparser.JavaParser;
import com.github.javaparser.ParseResult;
import com.github.javaparser.ParserConfiguration;
import com.github.javaparser.ast.CompilationUnit;
import com.github.javaparser.ast.body.ClassOrInterfaceDeclaration;
import dev.kiln.ir.Graph;
import dev.kiln.ir.Leaf;
import dev.kiln.ir.ModelSpec;
import dev.kiln.ir.ModelSpec.ParamSpec;
import dev.kiln.ir.Node;
import dev.kiln.ir.Shape;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Translates model sources with {@link ModelTranslator} and compares the forward graph's IR text
 * with the golden files in {@code src/test/resources/golden}. Run with {@code -Dkiln.updateGolden=true}
 * to rewrite the golden files after an intended change, then review their diff.
 */
class GoldenIrTest {
    private static final boolean UPDATE = Boolean.getBoolean("kiln.updateGolden");

    private static final String WINE_NET = """
            package demo;

            import static dev.kiln.nn.Functional.tanh;

            import dev.kiln.nn.Linear;
            import dev.kiln.nn.Model;
            import dev.kiln.nn.Shape;
            import dev.kiln.nn.Tensor;

            @Model
            public class WineNet {
                static final int DEPTH = 9;

                final Linear fc1 = new Linear(13, 20);
                final Linear fc2 = new Linear(20, 20);
                final Linear fc3 = new Linear(20, 3);

                public Tensor forward(@Shape(13) Tensor x) {
                    x = tanh(fc1.apply(x));
                    for (int i = 0; i < DEPTH; i++) {
                        x = tanh(fc2.apply(x));
                    }
                    return fc3.apply(x);
                }
            }
            """;

    private static final String NESTED = """
            package demo;

            import static dev.kiln.nn.Functional.relu;

            import dev.kiln.nn.Linear;
            import dev.kiln.nn.Model;
            import dev.kiln.nn.Shape;
            import dev.kiln.nn.Tensor;

            @Model
            public class Stacked {
                final Linear stem = new Linear(4, 20);
                final Block block = new Block(20);
                final Linear head = new Linear(20, 2);

                public Tensor forward(@Shape(4) Tensor x) {
                    return head.apply(block.forward(stem.apply(x)));
                }

                static class Block {
                    final Linear fc;
                    final Linear proj;

                    Block(int width) {
                        this.fc = new Linear(width, 2 * width);
                        proj = new Linear(2 * width, width, false);
                    }

                    Tensor forward(Tensor x) {
                        return proj.apply(relu(fc.apply(x)));
                    }
                }
            }
            """;

    private static final String RESIDUAL = """
            package demo;

            import static dev.kiln.nn.Functional.add;
            import static dev.kiln.nn.Functional.relu;
            import static dev.kiln.nn.Functional.tanh;

            import dev.kiln.nn.Linear;
            import dev.kiln.nn.LossKind;
            import dev.kiln.nn.Model;
            import dev.kiln.nn.Shape;
            import dev.kiln.nn.Tensor;

            @Model(loss = LossKind.MSE)
            public class Residual {
                final Linear fc = new Linear(8, 8);
                final Linear gate = new Linear(8, 8);

                public Tensor forward(@Shape(8) Tensor x) {
                    Tensor h = x.add(tanh(fc.apply(x)));
                    return add(h, relu(gate.apply(h)));
                }
            }
            """;

    private static final String ZERO_TRIP = """
            package demo;

            import static dev.kiln.nn.Functional.sigmoid;
            import static dev.kiln.nn.Functional.tanh;

            import dev.kiln.nn.Linear;
            import dev.kiln.nn.Model;
            import dev.kiln.nn.Shape;
            import dev.kiln.nn.Tensor;

            @Model
            public class ZeroTrip {
                final Linear fc = new Linear(5, 5);
                final Linear out = new Linear(5, 2);

                public Tensor forward(@Shape(5) Tensor x) {
                    for (int i = 0; i < 0; i++) {
                        x = tanh(fc.apply(x));
                    }
                    return out.apply(sigmoid(x));
                }
            }
            """;

    /** Helper methods, an if on a constant, a constant-derived loop bound and a layer without bias. */
    private static final String HELPERS = """
            package demo;

            import static dev.kiln.nn.Functional.relu;
            import static dev.kiln.nn.Functional.sigmoid;
            import static dev.kiln.nn.Functional.tanh;

            import dev.kiln.nn.Linear;
            import dev.kiln.nn.Model;
            import dev.kiln.nn.Shape;
            import dev.kiln.nn.Tensor;

            @Model
            public class Helpers {
                static final int WIDTH = 6;
                static final int REPEATS = WIDTH / 3;
                static final boolean USE_RELU = false;

                final Linear fc = new Linear(WIDTH, WIDTH, false);
                final Linear out = new Linear(WIDTH, 3);

                public Tensor forward(@Shape(WIDTH) Tensor x) {
                    for (int i = 0; i < REPEATS; i++) {
                        x = layer(x);
                    }
                    return out.apply(x);
                }

                private Tensor layer(Tensor x) {
                    return activate(fc.apply(x));
                }

                private Tensor activate(Tensor x) {
                    if (USE_RELU) {
                        return relu(x);
                    } else if (REPEATS == 2) {
                        return tanh(x);
                    }
                    return sigmoid(x);
                }
            }
            """;

    @Test
    void wineNetTiesWeights() throws IOException {
        ModelSpec model = translate(WINE_NET, "WineNet");
        assertGolden("wine_net", model.forward());

        Graph forward = model.forward();
        List<Node> params = forward.leaves(Leaf.Param.class);
        assertEquals(6, params.size(), "one param node per parameter: tied weights are not duplicated");
        Node tied = forward.leaf(Leaf.Param.class, "fc2.weight");
        long tiedUses = forward.users().get(tied).size();
        assertEquals(9, tiedUses, "fc2.weight is read by the nine unrolled matmuls");
        assertEquals(10, forward.opCounts().get("tanh"));
        assertEquals(11, forward.opCounts().get("matmul"));

        assertEquals(List.of(
                new ParamSpec("fc1.weight", Shape.of(20, 13), 13),
                new ParamSpec("fc1.bias", Shape.of(20), 13),
                new ParamSpec("fc2.weight", Shape.of(20, 20), 20),
                new ParamSpec("fc2.bias", Shape.of(20), 20),
                new ParamSpec("fc3.weight", Shape.of(3, 20), 20),
                new ParamSpec("fc3.bias", Shape.of(3), 20)), model.params());
        assertEquals(20 * 13 + 20 + 20 * 20 + 20 + 3 * 20 + 3, model.parameterCount());
        assertEquals("WineNet", model.name());
        assertEquals(Shape.batched(3), model.output().shape());
    }

    @Test
    void nestedBlockPrefixesParams() throws IOException {
        ModelSpec model = translate(NESTED, "Stacked");
        assertGolden("nested_block", model.forward());

        assertEquals(List.of(
                new ParamSpec("stem.weight", Shape.of(20, 4), 4),
                new ParamSpec("stem.bias", Shape.of(20), 4),
                new ParamSpec("block.fc.weight", Shape.of(40, 20), 20),
                new ParamSpec("block.fc.bias", Shape.of(40), 20),
                new ParamSpec("block.proj.weight", Shape.of(20, 40), 40),
                new ParamSpec("head.weight", Shape.of(2, 20), 20),
                new ParamSpec("head.bias", Shape.of(2), 20)), model.params());
        assertTrue(model.forward().leaf(Leaf.Param.class, "block.proj.bias") == null,
                "Linear(40, 20, false) has no bias parameter");
    }

    private static final String TWO_TOWERS = """
            package demo;

            import static dev.kiln.nn.Functional.*;

            import dev.kiln.nn.*;

            @Model(loss = LossKind.CUSTOM)
            public class TwoTowers {
                final Tower tower = new Tower();
                final Linear shared = new Linear(3, 3);
                final Sequential head = new Sequential(new Linear(6, 4), new ReLU(), new Linear(4, 2));

                public Tensor[] forward(@Shape(2) Tensor left, @Shape(2) Tensor right) {
                    Tensor a = shared.apply(tower.forward(left));
                    Tensor b = shared.apply(tower.forward(right));
                    return new Tensor[] {head.apply(cat(1, a, b)), sum(a.mul(b), 1, true)};
                }

                public Tensor loss(Tensor left, Tensor right, @Shape(3) Tensor target) {
                    Tensor[] out = forward(left, right);
                    return mean(square(cat(1, out[0], out[1]).sub(target)));
                }
            }

            class Tower {
                final Block block = new Block();

                Tensor forward(Tensor x) {
                    return block.forward(x);
                }
            }

            class Block {
                final Linear fc = new Linear(2, 3);

                Tensor forward(Tensor x) {
                    return tanh(fc.apply(x));
                }
            }
            """;

    @Test
    void twoInputsTwoOutputsSequentialAndSharedLayers() throws IOException {
        ModelSpec model = translate(TWO_TOWERS, "TwoTowers");
        assertGolden("two_towers", model.forward());
        assertEquals(List.of("tower.block.fc.weight", "tower.block.fc.bias", "shared.weight", "shared.bias",
                "head.0.weight", "head.0.bias", "head.2.weight", "head.2.bias"),
                model.params().stream().map(ParamSpec::name).toList());
        assertEquals(Shape.batched(4), model.inputs().get(0).shape());
        assertEquals(Shape.batched(3), model.output().shape());
    }

    @Test
    void sequentialHoldsEveryLayerKind() {
        String source = """
                package demo;

                import dev.kiln.nn.*;

                @Model
                public class Tokens {
                    final Sequential body = new Sequential(new Embedding(10, 4), new LayerNorm(4), new Dropout(0.5),
                            new Flatten(), new Linear(12, 2));

                    public Tensor forward(@Shape(3) Tensor tokens) {
                        return body.apply(tokens);
                    }
                }
                """;
        ModelSpec model = translate(source, "Tokens");
        assertEquals(List.of("body.0.weight", "body.1.weight", "body.1.bias", "body.4.weight", "body.4.bias"),
                model.params().stream().map(ParamSpec::name).toList());
        assertTrue(model.forward().nodes().stream().anyMatch(n -> n.op().name().equals("dropout")),
                "the forward graph applies dropout");
        assertEquals(Shape.batched(2), model.output().shape());
    }

    @Test
    void secondTopLevelBlockResolves() {
        String source = """
                package demo;

                import dev.kiln.nn.Linear;
                import dev.kiln.nn.Model;
                import dev.kiln.nn.Shape;
                import dev.kiln.nn.Tensor;

                @Model
                public class Outer {
                    final Block block = new Block(20);

                    public Tensor forward(@Shape(20) Tensor x) {
                        return block.forward(x);
                    }
                }

                class Block {
                    final Linear fc;

                    Block(int width) {
                        fc = new Linear(width, 3);
                    }

                    Tensor forward(Tensor x) {
                        return fc.apply(x);
                    }
                }
                """;
        ModelSpec model = translate(source, "Outer");
        assertEquals(List.of(
                new ParamSpec("block.fc.weight", Shape.of(3, 20), 20),
                new ParamSpec("block.fc.bias", Shape.of(3), 20)), model.params());
        assertEquals(Shape.batched(3), model.output().shape());
    }

    @Test
    void residualAddsSkipConnection() throws IOException {
        ModelSpec model = translate(RESIDUAL, "Residual");
        assertGolden("residual", model.forward());

        Graph forward = model.forward();
        Node input = forward.leaves(Leaf.Input.class).get(0);
        assertEquals(2, forward.users().get(input).size(), "x feeds fc and the skip connection");
        assertEquals(dev.kiln.ir.Loss.MSE, model.loss());
    }

    @Test
    void zeroTripLoopAddsNoNodes() throws IOException {
        ModelSpec model = translate(ZERO_TRIP, "ZeroTrip");
        assertGolden("zero_trip", model.forward());

        Graph forward = model.forward();
        assertTrue(forward.leaf(Leaf.Param.class, "fc.weight") == null, "the loop body never ran");
        assertEquals(null, forward.opCounts().get("tanh"));
        assertEquals(List.of("fc.weight", "fc.bias", "out.weight", "out.bias"),
                model.params().stream().map(ParamSpec::name).toList(),
                "an unused layer still has parameters in the checkpoint");
    }

    @Test
    void helpersConstantsAndNoBias() throws IOException {
        ModelSpec model = translate(HELPERS, "Helpers");
        assertGolden("helpers", model.forward());

        Graph forward = model.forward();
        assertEquals(2, forward.opCounts().get("tanh"), "REPEATS = WIDTH / 3 = 2 iterations, tanh branch taken");
        assertEquals(null, forward.opCounts().get("relu"));
        assertEquals(null, forward.opCounts().get("sigmoid"));
        assertEquals(List.of(
                new ParamSpec("fc.weight", Shape.of(6, 6), 6),
                new ParamSpec("out.weight", Shape.of(3, 6), 6),
                new ParamSpec("out.bias", Shape.of(3), 6)), model.params());
        assertEquals(Shape.batched(6), model.inputs().get(0).shape());
    }

    // ---- helpers ---------------------------------------------------------------------------

    /** Parses {@code source} as KilnProcessor does and translates the class {@code name}. */
    static ModelSpec translate(String source, String name) {
        ModelTranslator.Result result = translateResult(source, name);
        if (result.model().isEmpty()) {
            fail("translation of " + name + " failed: " + result.diagnostics());
        }
        assertEquals(List.of(), result.diagnostics());
        return result.model().get();
    }

    static ModelTranslator.Result translateResult(String source, String name) {
        ParseResult<CompilationUnit> parsed = new JavaParser(new ParserConfiguration()
                .setLanguageLevel(ParserConfiguration.LanguageLevel.JAVA_25)).parse(source);
        assertTrue(parsed.isSuccessful(), () -> "source does not parse: " + parsed.getProblems());
        CompilationUnit unit = parsed.getResult().orElseThrow();
        ClassOrInterfaceDeclaration model = unit.getClassByName(name).orElseThrow();
        SourceResolver sameFile = (simpleName, context) -> unit.findAll(ClassOrInterfaceDeclaration.class).stream()
                .filter(c -> c.getNameAsString().equals(simpleName)).findFirst();
        return new ModelTranslator(sameFile).translate(model);
    }

    private static void assertGolden(String name, Graph graph) throws IOException {
        String actual = graph.toString();
        String resource = "golden/" + name + ".ir";
        if (UPDATE) {
            Path file = Path.of("src/test/resources", resource);
            Files.createDirectories(file.getParent());
            Files.writeString(file, actual);
            return;
        }
        try (InputStream in = GoldenIrTest.class.getClassLoader().getResourceAsStream(resource)) {
            if (in == null) {
                fail("golden file " + resource + " is missing; run with -Dkiln.updateGolden=true to write it");
            }
            assertEquals(new String(in.readAllBytes(), StandardCharsets.UTF_8), actual, "IR of " + name);
        }
    }
}
