package dev.kiln.nn;

/** The standard losses a model can name in {@link Model#loss()}. */
public enum LossKind {
    /** Softmax cross-entropy over class indices, mean over the batch (PyTorch's CrossEntropyLoss). */
    CROSS_ENTROPY,
    /** Mean squared error over every output element (PyTorch's MSELoss). */
    MSE
}
