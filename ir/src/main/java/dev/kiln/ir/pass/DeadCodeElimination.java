package dev.kiln.ir.pass;

import dev.kiln.ir.Graph;
import dev.kiln.ir.Node;
import java.util.BitSet;
import java.util.List;

/** Drops every node that no output or store depends on. */
public final class DeadCodeElimination implements Pass {
    @Override
    public String name() {
        return "dce";
    }

    @Override
    public Graph run(Graph graph) {
        List<Node> nodes = graph.nodes();
        BitSet live = new BitSet(nodes.size());
        graph.outputs().values().forEach(n -> live.set(n.id()));
        graph.stores().forEach((target, value) -> {
            live.set(target.id());
            live.set(value.id());
        });
        for (int i = nodes.size() - 1; i >= 0; i--) {
            if (live.get(i)) {
                for (Node input : nodes.get(i).inputs()) {
                    live.set(input.id());
                }
            }
        }
        return graph.filter(node -> live.get(node.id()));
    }
}
