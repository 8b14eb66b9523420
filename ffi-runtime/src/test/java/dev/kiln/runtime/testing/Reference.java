package dev.kiln.runtime.testing;

import dev.kiln.ir.Entries;
import dev.kiln.ir.Entry;
import dev.kiln.ir.Evaluator;
import dev.kiln.ir.Graph;
import dev.kiln.ir.ModelSpec;
import dev.kiln.runtime.CompiledModel;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The double-precision oracle for a model: its predict and forward_backward entries, as
 * {@link Entries} builds them before any optimization pass, run by the reference {@link Evaluator}.
 */
public final class Reference {
    private final ModelSpec spec;
    private final Graph predict;
    private final Graph forwardBackward;

    /** Loss and parameter gradients of one batch. */
    public record LossAndGradients(double loss, Map<String, double[]> gradients) {
    }

    public Reference(ModelSpec spec) {
        this.spec = spec;
        Map<String, Graph> graphs = new LinkedHashMap<>();
        for (Entry entry : Entries.build(spec)) {
            graphs.put(entry.name(), entry.graph());
        }
        this.predict = graphs.get("predict");
        this.forwardBackward = graphs.get("forward_backward");
    }

    /** Returns a copy in double of every parameter of a native model, by name. */
    public static Map<String, double[]> parameters(CompiledModel model) {
        Map<String, double[]> values = new LinkedHashMap<>();
        for (String name : model.parameterNames()) {
            values.put(name, toDoubles(model.parameter(name)));
        }
        return values;
    }

    /** Returns the model outputs for a batch, row-major. */
    public double[] predict(Map<String, double[]> parameters, float[] samples, int batch) {
        return evaluator(parameters, samples).run(predict, batch).output("output");
    }

    /**
     * Returns the mean loss and the parameter gradients for a batch.
     *
     * @param labels class indices for cross-entropy, or targets for mean squared error
     */
    public LossAndGradients forwardBackward(Map<String, double[]> parameters, float[] samples, double[] labels,
                                            int batch) {
        return forwardBackward(parameters, samples, labels, batch, Map.of());
    }

    /**
     * Returns the mean loss and the parameter gradients for a batch, with the given per-call
     * hyperparameters, such as the dropout seed and step of a training call.
     */
    public LossAndGradients forwardBackward(Map<String, double[]> parameters, float[] samples, double[] labels,
                                            int batch, Map<String, Double> hyperparameters) {
        Evaluator evaluator = evaluator(parameters, samples).input(spec.loss().labelName(), labels);
        hyperparameters.forEach(evaluator::hyper);
        Evaluator.Result result = evaluator.run(forwardBackward, batch);
        Map<String, double[]> gradients = new LinkedHashMap<>();
        for (ModelSpec.ParamSpec p : spec.params()) {
            gradients.put(p.name(), result.output("grad." + p.name()));
        }
        return new LossAndGradients(result.output("loss")[0], gradients);
    }

    private Evaluator evaluator(Map<String, double[]> parameters, float[] samples) {
        Evaluator evaluator = new Evaluator();
        parameters.forEach(evaluator::param);
        String input = Graph.labelOf(spec.inputs().getFirst());
        return evaluator.input(input, toDoubles(samples));
    }

    public static double[] toDoubles(float[] values) {
        double[] out = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = values[i];
        }
        return out;
    }

    public static double[] toDoubles(int[] values) {
        double[] out = new double[values.length];
        for (int i = 0; i < values.length; i++) {
            out[i] = values[i];
        }
        return out;
    }

    /** Returns the names of the model's parameters in block order. */
    public List<String> parameterNames() {
        return spec.params().stream().map(ModelSpec.ParamSpec::name).toList();
    }
}
