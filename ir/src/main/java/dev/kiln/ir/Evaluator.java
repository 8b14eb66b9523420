package dev.kiln.ir;

import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The reference evaluator: runs a graph in plain Java in double precision. It is the oracle that
 * native code is tested against, and the engine of eager mode.
 */
public final class Evaluator {
    private final Map<String, double[]> inputs = new HashMap<>();
    private final Map<String, double[]> params = new HashMap<>();
    private final Map<String, double[]> state = new HashMap<>();
    private final Map<String, Double> hyperparameters = new HashMap<>();

    public Evaluator input(String label, double[] value) {
        inputs.put(label, value);
        return this;
    }

    public Evaluator param(String label, double[] value) {
        params.put(label, value);
        return this;
    }

    public Evaluator state(String label, double[] value) {
        state.put(label, value);
        return this;
    }

    public Evaluator hyper(String label, double value) {
        hyperparameters.put(label, value);
        return this;
    }

    /** Evaluates every node of {@code graph} for a batch of {@code batch} rows. */
    public Result run(Graph graph, long batch) {
        EvalContext context = new EvalContext(batch, hyperparameters);
        Map<Node, double[]> values = new IdentityHashMap<>();
        for (Node node : graph.nodes()) {
            double[] value = switch (node.op()) {
                case Leaf.Input in -> bound(inputs, "input", in.label(), node, batch);
                case Leaf.Param p -> bound(params, "parameter", p.label(), node, batch);
                case Leaf.State s -> bound(state, "optimizer state", s.label(), node, batch);
                default -> {
                    List<double[]> operands = node.inputs().stream().map(values::get).toList();
                    yield node.op().evaluate(node, operands, context);
                }
            };
            values.put(node, value);
        }
        return new Result(graph, values);
    }

    private static double[] bound(Map<String, double[]> values, String kind, String label, Node node, long batch) {
        double[] value = values.get(label);
        if (value == null) {
            throw new IllegalArgumentException("no value given for " + kind + " '" + label + "'");
        }
        long expected = node.shape().elements(batch);
        if (value.length != expected) {
            throw new IllegalArgumentException(kind + " '" + label + "' of shape " + node.shape()
                    + " needs " + expected + " values at batch " + batch + ", got " + value.length);
        }
        return value;
    }

    /** Values of every node after a run. */
    public record Result(Graph graph, Map<Node, double[]> values) {
        public double[] value(Node node) {
            return values.get(node);
        }

        public double[] output(String label) {
            return values.get(graph.output(label));
        }

        /** Returns the value stored into a parameter or state leaf with this label. */
        public double[] stored(String label) {
            for (Map.Entry<Node, Node> store : graph.stores().entrySet()) {
                if (Graph.labelOf(store.getKey()).equals(label)) {
                    return values.get(store.getValue());
                }
            }
            throw new IllegalArgumentException("graph '" + graph.name() + "' stores nothing into '" + label + "'");
        }
    }
}
