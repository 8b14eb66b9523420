package dev.kiln.nn;

/** The layer form of {@link Functional#silu}: x * sigmoid(x). It has no parameters. */
public final class SiLU implements Layer {
    @Override
    public Tensor apply(Tensor x) {
        return Functional.silu(x);
    }
}
