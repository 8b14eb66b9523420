package dev.kiln.nn;

/** The layer form of {@link Functional#flatten}: joins every axis after the batch axis, as nn.Flatten. It has no parameters. */
public final class Flatten implements Layer {
    @Override
    public Tensor apply(Tensor x) {
        return Functional.flatten(x);
    }
}
