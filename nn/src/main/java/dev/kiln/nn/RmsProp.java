package dev.kiln.nn;

import dev.kiln.ir.Hyperparameters;

/**
 * RMSprop as PyTorch's {@code torch.optim.RMSprop}: the gradient divided by the root of a moving
 * average of its square, with optional momentum and centering (dividing by an estimate of the
 * gradient's standard deviation instead). Defaults as in PyTorch: lr 1e-2, alpha 0.99, eps 1e-8,
 * no momentum, not centered, no weight decay (an L2 term added to the gradient when set).
 */
public final class RmsProp extends OptimizerConfig {
    private double alpha = 0.99;
    private double eps = 1e-8;
    private double momentum;
    private boolean centered;

    public RmsProp() {
        this(1e-2);
    }

    public RmsProp(double lr) {
        super(lr);
    }

    @Override
    public OptimizerKind kind() {
        return OptimizerKind.RMSPROP;
    }

    /** Sets the smoothing constant of the squared-gradient average, in [0, 1]. */
    public RmsProp alpha(double alpha) {
        if (!(alpha >= 0 && alpha <= 1)) {
            throw new IllegalArgumentException("alpha must be in [0, 1], got " + alpha);
        }
        this.alpha = alpha;
        return this;
    }

    /** Sets the term added to the denominator for numerical stability. */
    public RmsProp eps(double eps) {
        if (!(eps >= 0) || Double.isInfinite(eps)) {
            throw new IllegalArgumentException("eps must be finite and >= 0, got " + eps);
        }
        this.eps = eps;
        return this;
    }

    /** Sets the momentum factor, >= 0; 0 turns momentum off. */
    public RmsProp momentum(double momentum) {
        if (!(momentum >= 0) || Double.isInfinite(momentum)) {
            throw new IllegalArgumentException("momentum must be finite and >= 0, got " + momentum);
        }
        this.momentum = momentum;
        return this;
    }

    /** Turns centering on or off: whether to normalize by the estimated variance of the gradient. */
    public RmsProp centered(boolean centered) {
        this.centered = centered;
        return this;
    }

    public double alpha() {
        return alpha;
    }

    public double eps() {
        return eps;
    }

    public double momentum() {
        return momentum;
    }

    public boolean centered() {
        return centered;
    }

    @Override
    void write(double[] call) {
        call[Hyperparameters.index(Hyperparameters.ALPHA)] = alpha;
        call[Hyperparameters.index(Hyperparameters.EPS)] = eps;
        call[Hyperparameters.index(Hyperparameters.MOMENTUM)] = momentum;
        call[Hyperparameters.index(Hyperparameters.CENTERED)] = centered ? 1 : 0;
    }
}
