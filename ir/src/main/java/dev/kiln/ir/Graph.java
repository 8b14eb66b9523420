package dev.kiln.ir;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * A computation: nodes in topological order, named outputs, and stores that overwrite
 * parameters or optimizer state once the computation is done.
 */
public final class Graph {
    private final String name;
    private final List<Node> nodes;
    private final Map<String, Node> outputs;
    private final Map<Node, Node> stores;

    Graph(String name, List<Node> nodes, Map<String, Node> outputs, Map<Node, Node> stores) {
        this.name = name;
        this.nodes = List.copyOf(nodes);
        this.outputs = Collections.unmodifiableMap(new LinkedHashMap<>(outputs));
        this.stores = Collections.unmodifiableMap(new LinkedHashMap<>(stores));
    }

    public String name() {
        return name;
    }

    public List<Node> nodes() {
        return nodes;
    }

    public Map<String, Node> outputs() {
        return outputs;
    }

    public Node output(String label) {
        Node node = outputs.get(label);
        if (node == null) {
            throw new IrException("graph '" + name + "' has no output '" + label + "'; it has " + outputs.keySet());
        }
        return node;
    }

    /** Returns the stores, target leaf to value, in declaration order. */
    public Map<Node, Node> stores() {
        return stores;
    }

    /** Returns the leaves of one kind, in graph order. */
    public List<Node> leaves(Class<? extends Leaf> kind) {
        List<Node> out = new ArrayList<>();
        for (Node node : nodes) {
            if (kind.isInstance(node.op())) {
                out.add(node);
            }
        }
        return out;
    }

    /** Returns the leaf of a kind with a label, or {@code null}. */
    public Node leaf(Class<? extends Leaf> kind, String label) {
        for (Node node : nodes) {
            if (kind.isInstance(node.op()) && label.equals(labelOf(node))) {
                return node;
            }
        }
        return null;
    }

    /** Returns the label of an input, parameter, state or hyperparameter leaf. */
    public static String labelOf(Node leaf) {
        return switch (leaf.op()) {
            case Leaf.Input in -> in.label();
            case Leaf.Param p -> p.label();
            case Leaf.State s -> s.label();
            case Leaf.Hyper h -> h.label();
            default -> throw new IrException(leaf + " has no label");
        };
    }

    /** Returns the number of nodes of each op name, for tests and build reports. */
    public Map<String, Integer> opCounts() {
        Map<String, Integer> counts = new java.util.TreeMap<>();
        for (Node node : nodes) {
            counts.merge(node.op().name(), 1, Integer::sum);
        }
        return counts;
    }

    /** Returns the nodes that read each node. */
    public Map<Node, List<Node>> users() {
        Map<Node, List<Node>> users = new IdentityHashMap<>();
        for (Node node : nodes) {
            users.put(node, new ArrayList<>());
        }
        for (Node node : nodes) {
            for (Node input : node.inputs()) {
                users.get(input).add(node);
            }
        }
        return users;
    }

    /** Returns the nodes that pass {@code keep}, renumbered into a fresh graph. */
    public Graph filter(Predicate<Node> keep) {
        GraphCopier copier = new GraphCopier(name);
        for (Node node : nodes) {
            if (keep.test(node)) {
                copier.copy(node);
            }
        }
        return copier.finish(this);
    }

    /** Renders the graph as IR text, one node per line. */
    @Override
    public String toString() {
        Map<Node, String> names = new HashMap<>();
        for (Node node : nodes) {
            names.put(node, node.ref());
        }
        StringBuilder sb = new StringBuilder("graph ").append(name).append(" {\n");
        for (Node node : nodes) {
            sb.append("  ").append(node.ref()).append(" = ").append(node.op().text());
            for (int i = 0; i < node.inputs().size(); i++) {
                sb.append(i == 0 ? " " : ", ").append(names.get(node.input(i)));
            }
            sb.append(" : ").append(node.dtype().text()).append(node.shape()).append('\n');
        }
        outputs.forEach((label, node) ->
                sb.append("  output \"").append(label).append("\" = ").append(node.ref()).append('\n'));
        stores.forEach((target, value) ->
                sb.append("  store ").append(target.op().text()).append(" = ").append(value.ref()).append('\n'));
        return sb.append("}\n").toString();
    }
}
