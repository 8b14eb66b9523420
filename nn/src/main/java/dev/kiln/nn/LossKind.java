package dev.kiln.nn;

/**
 * The standard losses a model can name in {@link Model#loss()}. Each is the mean over the batch
 * (and over the output elements for the elementwise losses), as PyTorch's {@code reduction="mean"}.
 */
public enum LossKind {
    /** Softmax cross-entropy over class indices, mean over the batch (PyTorch's CrossEntropyLoss). */
    CROSS_ENTROPY,
    /** Mean squared error over every output element (PyTorch's MSELoss). */
    MSE,
    /** Mean absolute error over every output element (PyTorch's L1Loss). */
    L1,
    /**
     * Huber loss with the fixed delta 1.0, PyTorch's default: d^2/2 where |d| <= 1, else |d| - 1/2,
     * mean over every output element (PyTorch's {@code HuberLoss()}, equal to {@code SmoothL1Loss()}).
     */
    HUBER,
    /**
     * Binary cross-entropy on logits with float targets in [0, 1], mean over every output element
     * (PyTorch's BCEWithLogitsLoss), computed in a form that does not overflow for large logits.
     */
    BCE_WITH_LOGITS,
    /**
     * Softmax cross-entropy over class probabilities: float targets of shape [B, classes],
     * -sum(p * log_softmax(output)) averaged over the batch (PyTorch's CrossEntropyLoss with
     * probability targets).
     */
    SOFT_CROSS_ENTROPY,
    /**
     * Negative log-likelihood over class indices for a forward that returns log-probabilities,
     * mean over the batch (PyTorch's NLLLoss).
     */
    NLL,
    /**
     * The model's own {@code public Tensor loss(Tensor x, @Shape(...) Tensor target)} method,
     * which may use any op and input gradients ({@code grad(u, x)}); it returns the mean loss as a
     * scalar. Training takes {@code float[]} targets of the shape that method declares.
     */
    CUSTOM;

    /**
     * Returns whether the loss takes one int class index per sample ({@code int[]} labels) rather
     * than one float target per output element ({@code float[]} targets).
     */
    public boolean takesClassIndices() {
        // A switch, not a lookup of the IR loss, because the runtime asks this on every call.
        return this == CROSS_ENTROPY || this == NLL;
    }

    /**
     * Returns whether the model's outputs are class scores of shape [B, classes] (logits, or
     * log-probabilities for NLL), so that the largest one names the predicted class.
     */
    public boolean scoresClasses() {
        return this == CROSS_ENTROPY || this == NLL || this == SOFT_CROSS_ENTROPY;
    }
}
