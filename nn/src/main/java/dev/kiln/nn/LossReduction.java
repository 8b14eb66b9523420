package dev.kiln.nn;

/**
 * The combination of a standard loss's terms, as PyTorch's {@code reduction} argument, chosen
 * with {@code @Model(reduction = ...)}.
 */
public enum LossReduction {
    /**
     * The mean of the terms: over the batch for losses on class rows, over every output element
     * for the elementwise losses. PyTorch's default.
     */
    MEAN,
    /** The sum of the terms over the batch (and every output element), PyTorch's {@code reduction="sum"}. */
    SUM
}
