package dev.kiln.ir.pass;

import dev.kiln.ir.Graph;
import dev.kiln.ir.GraphCopier;
import dev.kiln.ir.Node;
import dev.kiln.ir.Op;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Merges nodes that apply the same op to the same operands. Every op is pure, so two such nodes
 * always hold the same value.
 */
public final class CommonSubexpressionElimination implements Pass {
    @Override
    public String name() {
        return "cse";
    }

    private record Key(Op op, List<Node> inputs) {
    }

    @Override
    public Graph run(Graph graph) {
        GraphCopier copier = new GraphCopier(graph.name());
        Map<Key, Node> seen = new HashMap<>();
        for (Node node : graph.nodes()) {
            if (node.inputs().isEmpty()) {
                copier.copy(node);
                continue;
            }
            List<Node> inputs = node.inputs().stream().map(copier::mapped).toList();
            Node existing = seen.get(new Key(node.op(), inputs));
            if (existing != null) {
                copier.map(node, existing);
            } else {
                seen.put(new Key(node.op(), inputs), copier.copy(node));
            }
        }
        return copier.finish(graph);
    }
}
