package dev.kiln.ir.pass;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kiln.ir.DType;
import dev.kiln.ir.Graph;
import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.Node;
import dev.kiln.ir.Shape;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * The IR text after each stage of the {@link Pipeline} for one small graph, against the golden
 * files {@code golden/pipeline/<stage>.ir} among the test resources.
 */
class PassGoldenTest {

    /**
     * Builds a graph with work for every pass. Folding gets a constant expression, simplification
     * a product with 1, a subtraction of a negation and a division by 4. CSE gets a tanh that is a
     * duplicate only once simplified, and DCE an exp that no output reads.
     */
    private static Graph graph() {
        GraphBuilder b = new GraphBuilder("golden");
        Node x = b.input("x", Shape.batched(3), DType.F32);
        Node w = b.param("w", Shape.of(3));
        Node half = b.div(b.constant(1), b.add(b.constant(1), b.constant(1)));
        Node first = b.tanh(b.mul(b.sub(x, b.neg(w)), b.constant(1)));
        Node second = b.tanh(b.add(x, w));
        b.exp(x);
        b.output("y", b.mul(b.add(first, second), half));
        b.output("z", b.div(second, b.constant(4)));
        return b.build();
    }

    @Test
    void everyStageMatchesGoldenIr() {
        Pipeline pipeline = new Pipeline(true, true);
        Graph optimized = pipeline.run(graph());
        Map<String, String> dumps = pipeline.dumps();

        assertEquals(List.of("golden.input", "golden.fold", "golden.simplify", "golden.cse", "golden.dce"),
                List.copyOf(dumps.keySet()),
                "pipeline stages changed; give each new stage a golden file under src/test/resources/golden/pipeline");
        assertEquals(dumps.get("golden.dce"), optimized.toString(), "the last stage's dump is the pipeline's result");
        List<Executable> checks = dumps.entrySet().stream().<Executable>map(dump -> () -> {
            String stage = dump.getKey().substring("golden.".length());
            GoldenText.assertMatchesResource("golden/pipeline/" + stage + ".ir", dump.getValue(), "IR after " + stage);
        }).toList();
        assertAll(checks);
    }
}
