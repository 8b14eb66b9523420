package dev.kiln.nn;

/** The layer form of {@link Functional#relu}: max(x, 0). It has no parameters. */
public final class ReLU implements Layer {
    @Override
    public Tensor apply(Tensor x) {
        return Functional.relu(x);
    }
}
