package dev.kiln.ir.pass;

import dev.kiln.ir.Graph;
import dev.kiln.ir.IrException;
import dev.kiln.ir.Node;
import dev.kiln.ir.Shape;
import dev.kiln.ir.ShapeException;

/**
 * Checks a graph's invariants: ids match positions, operands come earlier, and every node's
 * shape is what its op's shape rule gives. A failure names the node and prints the IR around it.
 */
public final class Verifier {
    private Verifier() {
    }

    public static void verify(Graph graph, String afterPass) {
        for (int i = 0; i < graph.nodes().size(); i++) {
            Node node = graph.nodes().get(i);
            if (node.id() != i) {
                fail(graph, node, afterPass, "id " + node.id() + " at position " + i);
            }
            for (Node input : node.inputs()) {
                if (input.id() >= i || graph.nodes().get(input.id()) != input) {
                    fail(graph, node, afterPass, "operand " + input.ref() + " is not defined before it");
                }
            }
            if (!node.inputs().isEmpty()) {
                Shape expected;
                try {
                    expected = node.op().shape(node.inputs());
                } catch (ShapeException e) {
                    fail(graph, node, afterPass, e.getMessage());
                    return;
                }
                if (!expected.equals(node.shape())) {
                    fail(graph, node, afterPass, "shape " + node.shape() + " but the op gives " + expected);
                }
            }
        }
    }

    private static void fail(Graph graph, Node node, String afterPass, String problem) {
        StringBuilder context = new StringBuilder();
        String[] lines = graph.toString().split("\n");
        for (int i = Math.max(0, node.id() - 3); i <= Math.min(lines.length - 1, node.id() + 4); i++) {
            context.append(i == node.id() + 1 ? "> " : "  ").append(lines[i]).append('\n');
        }
        throw new IrException("invalid IR after pass '" + afterPass + "' at " + node + ": " + problem
                + "\n" + context);
    }
}
