package dev.kiln.nn;

/** The layer form of {@link Functional#gelu}: the exact GELU, x * Phi(x). It has no parameters. */
public final class GELU implements Layer {
    @Override
    public Tensor apply(Tensor x) {
        return Functional.gelu(x);
    }
}
