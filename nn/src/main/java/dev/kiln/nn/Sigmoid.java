package dev.kiln.nn;

/** The layer form of {@link Functional#sigmoid}: the logistic sigmoid 1 / (1 + exp(-x)). It has no parameters. */
public final class Sigmoid implements Layer {
    @Override
    public Tensor apply(Tensor x) {
        return Functional.sigmoid(x);
    }
}
