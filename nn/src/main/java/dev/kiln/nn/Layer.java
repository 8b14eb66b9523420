package dev.kiln.nn;

/**
 * A layer that maps one tensor to another, as the children of a {@link Sequential}. Linear
 * layers, the activation layers and Sequential itself are layers; a model class used inside a
 * Sequential implements it by calling its {@code forward}.
 */
public interface Layer {
    /** Applies the layer: in eager mode, computes its output now. */
    Tensor apply(Tensor x);
}
