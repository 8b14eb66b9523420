package dev.kiln.ir;

import java.util.IdentityHashMap;
import java.util.Map;

/**
 * Copies nodes of one graph into a new builder, remapping operands. Passes use it to rebuild a
 * graph with nodes dropped or replaced.
 */
public final class GraphCopier {
    private final GraphBuilder builder;
    private final Map<Node, Node> mapping = new IdentityHashMap<>();

    public GraphCopier(String name) {
        this.builder = new GraphBuilder(name);
    }

    public GraphBuilder builder() {
        return builder;
    }

    /** Copies {@code node}, whose operands must have been copied or mapped already. */
    public Node copy(Node node) {
        builder.origin(node.origin());
        Node copy;
        if (node.op() instanceof Leaf) {
            copy = switch (node.op()) {
                case Leaf.Input in -> builder.input(in.label(), node.shape(), node.dtype());
                case Leaf.Param p -> builder.param(p.label(), node.shape());
                case Leaf.State s -> builder.state(s.label(), node.shape());
                case Leaf.Hyper h -> builder.hyper(h.label());
                case Leaf.Constant c -> builder.constant(c.value());
                case Leaf.BatchSize b -> builder.batchSize();
                default -> throw new IrException("unknown leaf " + node);
            };
        } else {
            Node[] inputs = new Node[node.inputs().size()];
            for (int i = 0; i < inputs.length; i++) {
                inputs[i] = mapped(node.input(i));
            }
            copy = builder.apply(node.op(), inputs);
        }
        mapping.put(node, copy);
        return copy;
    }

    /** Makes {@code original} refer to {@code replacement} in nodes copied later. */
    public void map(Node original, Node replacement) {
        mapping.put(original, replacement);
    }

    /** Returns the copy of {@code original}. */
    public Node mapped(Node original) {
        Node copy = mapping.get(original);
        if (copy == null) {
            throw new IrException("node " + original + " was used before it was copied");
        }
        return copy;
    }

    public boolean isMapped(Node original) {
        return mapping.containsKey(original);
    }

    /** Copies the outputs and stores of {@code source} and returns the new graph. */
    public Graph finish(Graph source) {
        source.outputs().forEach((label, node) -> builder.output(label, mapped(node)));
        source.stores().forEach((target, value) -> builder.store(mapped(target), mapped(value)));
        return builder.build();
    }
}
