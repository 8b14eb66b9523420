package dev.kiln.ir;

/**
 * The standard losses a model can name, built as IR so that they differentiate like any op. By
 * default a loss is the mean over its terms, as PyTorch's {@code reduction="mean"}: over the batch
 * for the losses on class rows, over every output element for the elementwise ones; with
 * {@link Reduction#SUM} it is their sum.
 */
public enum Loss {
    /**
     * Softmax cross-entropy over class indices, averaged over the batch:
     * mean_r(-log_softmax(logits)[r, label_r]), as PyTorch's {@code CrossEntropyLoss}.
     */
    CROSS_ENTROPY,
    /** Mean squared error over every element, as PyTorch's {@code MSELoss}. */
    MSE,
    /** Mean absolute error over every element, as PyTorch's {@code L1Loss}; d/dx |x| at 0 is 0. */
    L1,
    /**
     * Huber loss with delta 1, as PyTorch's {@code HuberLoss()} with its default delta: per element
     * d^2 / 2 where |d| <= 1, else |d| - 1/2, with d = output - target, averaged over every element.
     * With delta 1 it equals PyTorch's {@code SmoothL1Loss()}.
     */
    HUBER,
    /**
     * Binary cross-entropy on logits s with float targets y in [0, 1], as PyTorch's
     * {@code BCEWithLogitsLoss}: per element max(s, 0) - s y + log1p(exp(-|s|)), averaged over
     * every element. No term overflows for large |s|, and d/ds is sigmoid(s) - y everywhere,
     * also at s = 0 (see {@link #bceWithLogits}).
     */
    BCE_WITH_LOGITS,
    /**
     * Softmax cross-entropy over class probabilities p of shape [B, classes]:
     * mean_r(-sum_c p[r, c] log_softmax(logits)[r, c]), as PyTorch's {@code CrossEntropyLoss}
     * with probability targets.
     */
    SOFT_CROSS_ENTROPY,
    /**
     * Negative log-likelihood over class indices of an output that already contains
     * log-probabilities: mean_r(-output[r, label_r]), as PyTorch's {@code NLLLoss}.
     */
    NLL,
    /**
     * The model's own {@code loss(x, target)} method, which may use any op and input gradients:
     * the frontend builds it into the forward graph as the output {@code loss}, reading the float
     * input {@code targets}.
     */
    CUSTOM;

    /** The combination of a standard loss's terms, as PyTorch's {@code reduction} argument. */
    public enum Reduction {
        /** The mean over the batch for losses on class rows, over every output element for the others. */
        MEAN,
        /** The sum of every term. */
        SUM
    }

    /** Returns the mean loss over the batch for model outputs and labels or targets. */
    public Node build(GraphBuilder b, Node output, Node labels) {
        return build(b, output, labels, Reduction.MEAN);
    }

    /** Returns the loss for model outputs and labels or targets, combined by {@code reduction}. */
    public Node build(GraphBuilder b, Node output, Node labels, Reduction reduction) {
        if (reduction == Reduction.SUM) {
            return switch (this) {
                case CUSTOM -> build(b, output, labels, Reduction.MEAN);
                case CROSS_ENTROPY -> b.neg(b.sum(b.pick(b.logSoftmax(output), labels)));
                case NLL -> b.neg(b.sum(b.pick(output, labels)));
                case SOFT_CROSS_ENTROPY -> b.neg(b.sum(b.mul(labels, b.logSoftmax(output))));
                case MSE -> {
                    Node error = b.sub(output, labels);
                    yield b.sum(b.mul(error, error));
                }
                case L1 -> b.sum(abs(b, b.sub(output, labels)));
                case HUBER -> b.sum(huber(b, b.sub(output, labels)));
                case BCE_WITH_LOGITS -> b.sum(bceWithLogits(b, output, labels));
            };
        }
        return switch (this) {
            case CUSTOM -> throw new IrException("a custom loss is the model's own loss method, which the frontend"
                    + " builds into the forward graph as the output 'loss'");
            case CROSS_ENTROPY -> meanOverBatch(b, b.neg(b.sum(b.pick(b.logSoftmax(output), labels))));
            case NLL -> meanOverBatch(b, b.neg(b.sum(b.pick(output, labels))));
            case SOFT_CROSS_ENTROPY -> meanOverBatch(b, b.neg(b.sum(b.mul(labels, b.logSoftmax(output)))));
            case MSE -> {
                Node error = b.sub(output, labels);
                yield meanOverElements(b, output, b.mul(error, error));
            }
            case L1 -> meanOverElements(b, output, abs(b, b.sub(output, labels)));
            case HUBER -> meanOverElements(b, output, huber(b, b.sub(output, labels)));
            case BCE_WITH_LOGITS -> meanOverElements(b, output, bceWithLogits(b, output, labels));
        };
    }

    /**
     * Huber terms with delta 1: d^2 / 2 inside [-1, 1], |d| - 1/2 outside. Both branches have
     * the derivative sign(d) at |d| = 1, so the loss is continuously differentiable.
     */
    private static Node huber(GraphBuilder b, Node difference) {
        Node delta = b.constant(1);
        Node half = b.constant(0.5);
        Node magnitude = abs(b, difference);
        Node quadratic = b.mul(half, b.square(difference));
        Node linear = b.mul(delta, b.sub(magnitude, b.mul(half, delta)));
        return b.where(b.le(magnitude, delta), quadratic, linear);
    }

    /**
     * BCE terms max(s, 0) - s y + log1p(exp(-|s|)), with max(s, 0) = relu(s) and -|s| written as
     * s - 2 relu(s). Its derivative is step(s) - y + sigmoid(-|s|) (1 - 2 step(s)), which is
     * sigmoid(s) - y on either side of 0 and 0 + 1/2 - y at s = 0, as PyTorch's sigmoid(0) - y.
     * Unlike softplus, relu and log1p lower on every backend.
     */
    private static Node bceWithLogits(GraphBuilder b, Node s, Node y) {
        Node positive = b.relu(s);
        Node negativeMagnitude = b.sub(s, b.mul(b.constant(2), positive));
        return b.add(b.sub(positive, b.mul(s, y)), b.log1p(b.exp(negativeMagnitude)));
    }

    /**
     * |x| as relu(x) + relu(-x), whose derivative step(x) - step(-x) is sign(x) with 0 at x = 0,
     * as PyTorch's. Unlike the abs op, whose derivative uses sign, it lowers on every backend.
     */
    private static Node abs(GraphBuilder b, Node x) {
        return b.add(b.relu(x), b.relu(b.neg(x)));
    }

    private static Node meanOverBatch(GraphBuilder b, Node total) {
        return b.div(total, b.batchSize());
    }

    private static Node meanOverElements(GraphBuilder b, Node output, Node terms) {
        double perRow = output.shape().staticElements();
        return b.div(b.div(b.sum(terms), b.batchSize()), b.constant(perRow));
    }

    /** Returns whether the labels are int class indices, one per sample, rather than float targets. */
    public boolean takesClassIndices() {
        return this == CROSS_ENTROPY || this == NLL;
    }

    /** Returns whether the output must be class scores of shape [B, classes]. */
    public boolean needsClassRows() {
        return this == CROSS_ENTROPY || this == NLL || this == SOFT_CROSS_ENTROPY;
    }

    /** Returns the shape and type of the labels for a model output of shape {@code output}. */
    public Shape labelShape(Shape output) {
        return takesClassIndices() ? Shape.batched() : output;
    }

    public DType labelType() {
        return takesClassIndices() ? DType.I32 : DType.F32;
    }

    /** Returns the name of the label input in compiled entries. */
    public String labelName() {
        return takesClassIndices() ? "labels" : "targets";
    }
}
