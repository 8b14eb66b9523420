package dev.kiln.ir.pass;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.ir.Evaluator;
import dev.kiln.ir.Graph;
import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.Node;
import dev.kiln.ir.Shape;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Runs each optimization pass on a graph with dead, repeated and constant work and evaluates both. */
class PassesPreserveResultsTest {
    private static Graph graph() {
        GraphBuilder b = new GraphBuilder("passes");
        Node a = b.param("a", Shape.of(2, 3));
        Node c = b.param("c", Shape.of(3));
        Node scale = b.mul(b.constant(2), b.add(b.constant(1), b.constant(0.5)));
        Node first = b.tanh(b.add(a, c));
        Node second = b.tanh(b.add(a, c));
        b.tanh(b.exp(a));
        b.output("y", b.mul(scale, b.add(first, second)));
        return b.build();
    }

    private static double[] evaluate(Graph graph) {
        return new Evaluator().param("a", new double[] {0.1, -0.2, 0.3, 0.4, -0.5, 0.6})
                .param("c", new double[] {1, -1, 0.5}).run(graph, 1).output("y");
    }

    @Test
    void everyPassKeepsResultsAndRemovesWork() {
        Graph before = graph();
        double[] expected = evaluate(before);
        Pass dce = new DeadCodeElimination();
        Graph live = dce.run(before);
        assertArrayEquals(expected, evaluate(live), 1e-12, dce.name());
        assertTrue(live.nodes().size() < before.nodes().size(), dce.name() + " removes work:\n" + live);
        // Folding and merging leave unused nodes behind for dead-code elimination to drop.
        for (Pass pass : List.of(new CommonSubexpressionElimination(), new ConstantFolding())) {
            Graph after = dce.run(pass.run(live));
            assertArrayEquals(expected, evaluate(after), 1e-12, pass.name());
            assertTrue(after.nodes().size() < live.nodes().size(), pass.name() + " removes work:\n" + after);
        }
    }
}
