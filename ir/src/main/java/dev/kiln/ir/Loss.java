package dev.kiln.ir;

/** The standard losses a model can name, built as IR so that they differentiate like any op. */
public enum Loss {
    /**
     * Softmax cross-entropy over class indices, averaged over the batch:
     * mean_r(-log_softmax(logits)[r, label_r]), as PyTorch's {@code CrossEntropyLoss}.
     */
    CROSS_ENTROPY,
    /** Mean squared error over every element, as PyTorch's {@code MSELoss}. */
    MSE;

    /** Returns the mean loss over the batch for model outputs and labels or targets. */
    public Node build(GraphBuilder b, Node output, Node labels) {
        return switch (this) {
            case CROSS_ENTROPY -> {
                Node picked = b.pick(b.logSoftmax(output), labels);
                yield b.div(b.neg(b.sum(picked)), b.batchSize());
            }
            case MSE -> {
                Node error = b.sub(output, labels);
                Node sum = b.sum(b.mul(error, error));
                double perRow = output.shape().staticElements();
                yield b.div(b.div(sum, b.batchSize()), b.constant(perRow));
            }
        };
    }

    /** Returns the shape and type of the labels for a model output of shape {@code output}. */
    public Shape labelShape(Shape output) {
        return this == CROSS_ENTROPY ? Shape.batched() : output;
    }

    public DType labelType() {
        return this == CROSS_ENTROPY ? DType.I32 : DType.F32;
    }

    /** Returns the name of the label input in compiled entries. */
    public String labelName() {
        return this == CROSS_ENTROPY ? "labels" : "targets";
    }
}
