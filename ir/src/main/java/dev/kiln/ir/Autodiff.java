package dev.kiln.ir;

import java.util.ArrayList;
import java.util.BitSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reverse-mode differentiation over the IR. The cotangents it builds are ordinary nodes in the
 * same graph, so a gradient can be differentiated again for second and higher derivatives.
 */
public final class Autodiff {
    private Autodiff() {
    }

    /** Returns d(output)/d(wrt) for a scalar {@code output}, one node per entry of {@code wrt}. */
    public static List<Node> grad(GraphBuilder b, Node output, List<Node> wrt) {
        if (!output.shape().isScalar()) {
            throw new IrException("grad needs a scalar output, got " + output
                    + "; use vjp with a cotangent for a tensor output");
        }
        return vjp(b, output, b.constant(1), wrt);
    }

    /**
     * Returns the vector-Jacobian products {@code cotangent^T d(output)/d(wrt)}. Cotangents that
     * reach a node along several paths are summed, which is how tied weights and fan-out
     * accumulate. A node of {@code wrt} that {@code output} does not depend on gets zeros.
     */
    public static List<Node> vjp(GraphBuilder b, Node output, Node cotangent, List<Node> wrt) {
        if (!Shape.broadcast(cotangent.shape(), output.shape()).equals(output.shape())) {
            throw new IrException("cotangent " + cotangent + " does not fit output " + output);
        }
        List<Node> nodes = b.nodes();
        BitSet needed = dependsOnAny(nodes, wrt);
        Map<Node, Node> cotangents = new IdentityHashMap<>();
        cotangents.put(output, b.broadcastTo(cotangent, output.shape()));

        String savedOrigin = b.origin();
        for (int id = output.id(); id >= 0; id--) {
            Node node = nodes.get(id);
            Node g = cotangents.get(node);
            if (g == null || node.inputs().isEmpty() || !needed.get(id)) {
                continue;
            }
            b.origin(node.origin());
            List<Node> inputCotangents = node.op().vjp(b, node, g);
            for (int i = 0; i < node.inputs().size(); i++) {
                Node input = node.input(i);
                Node c = inputCotangents.get(i);
                if (c == null || !needed.get(input.id()) || input.dtype() != DType.F32) {
                    continue;
                }
                Node previous = cotangents.get(input);
                cotangents.put(input, previous == null ? c : b.add(previous, c));
            }
        }
        b.origin(savedOrigin);

        List<Node> out = new ArrayList<>(wrt.size());
        for (Node x : wrt) {
            Node g = cotangents.get(x);
            out.add(g != null ? g : b.broadcastTo(b.constant(0), x.shape()));
        }
        return out;
    }

    /** Marks each node that depends on at least one node of {@code roots}, the roots included. */
    private static BitSet dependsOnAny(List<Node> nodes, List<Node> roots) {
        BitSet marked = new BitSet(nodes.size());
        for (Node root : roots) {
            marked.set(root.id());
        }
        for (Node node : nodes) {
            for (Node input : node.inputs()) {
                if (marked.get(input.id())) {
                    marked.set(node.id());
                    break;
                }
            }
        }
        return marked;
    }
}
