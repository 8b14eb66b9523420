package dev.kiln.ir;

import java.util.Map;

/**
 * Inputs of the reference evaluator besides operand values: the batch size and the values of
 * scalar hyperparameters.
 */
public record EvalContext(long batch, Map<String, Double> hyperparameters) {

    public EvalContext {
        hyperparameters = Map.copyOf(hyperparameters);
    }

    public double hyperparameter(String name) {
        Double value = hyperparameters.get(name);
        if (value == null) {
            throw new IllegalArgumentException("no value given for hyperparameter '" + name + "'");
        }
        return value;
    }
}
