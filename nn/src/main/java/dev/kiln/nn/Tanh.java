package dev.kiln.nn;

/** The layer form of {@link Functional#tanh}: the hyperbolic tangent. It has no parameters. */
public final class Tanh implements Layer {
    @Override
    public Tensor apply(Tensor x) {
        return Functional.tanh(x);
    }
}
