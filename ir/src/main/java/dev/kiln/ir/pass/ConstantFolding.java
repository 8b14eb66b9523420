package dev.kiln.ir.pass;

import dev.kiln.ir.Elementwise;
import dev.kiln.ir.Graph;
import dev.kiln.ir.GraphCopier;
import dev.kiln.ir.Leaf;
import dev.kiln.ir.Node;

/**
 * Replaces an elementwise op on scalar constants by its value, computed in double precision as
 * the native code would compute scalars, so IEEE special values come out the same.
 */
public final class ConstantFolding implements Pass {
    @Override
    public String name() {
        return "fold";
    }

    @Override
    public Graph run(Graph graph) {
        GraphCopier copier = new GraphCopier(graph.name());
        for (Node node : graph.nodes()) {
            if (node.op() instanceof Elementwise op && node.shape().isScalar() && allConstant(copier, node)) {
                double[] operands = new double[node.inputs().size()];
                for (int i = 0; i < operands.length; i++) {
                    operands[i] = ((Leaf.Constant) copier.mapped(node.input(i)).op()).value();
                }
                copier.map(node, copier.builder().constant(op.apply(operands)));
            } else {
                copier.copy(node);
            }
        }
        return copier.finish(graph);
    }

    private static boolean allConstant(GraphCopier copier, Node node) {
        for (Node input : node.inputs()) {
            if (!(copier.mapped(input).op() instanceof Leaf.Constant)) {
                return false;
            }
        }
        return true;
    }
}
