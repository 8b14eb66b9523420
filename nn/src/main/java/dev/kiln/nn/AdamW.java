package dev.kiln.nn;

import dev.kiln.ir.Hyperparameters;

/**
 * AdamW as PyTorch's {@code torch.optim.AdamW}: Adam with decoupled weight decay, which shrinks
 * each parameter by the factor (1 - lr * weight_decay) before the Adam step instead of adding an
 * L2 term to the gradient. Defaults as in PyTorch: lr 1e-3, betas (0.9, 0.999), eps 1e-8 and
 * weight decay 0.01.
 */
public final class AdamW extends OptimizerConfig {
    /** PyTorch's default {@code weight_decay} for AdamW. */
    public static final double DEFAULT_WEIGHT_DECAY = 0.01;

    private double beta1 = 0.9;
    private double beta2 = 0.999;
    private double eps = 1e-8;

    public AdamW() {
        this(1e-3);
    }

    public AdamW(double lr) {
        super(lr);
        weightDecay(DEFAULT_WEIGHT_DECAY);
    }

    @Override
    public OptimizerKind kind() {
        return OptimizerKind.ADAMW;
    }

    /** Sets the decay rates of the first and second moment estimates, each in [0, 1). */
    public AdamW betas(double beta1, double beta2) {
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("betas must be in [0, 1), got (" + beta1 + ", " + beta2 + ")");
        }
        this.beta1 = beta1;
        this.beta2 = beta2;
        return this;
    }

    /** Sets the term added to the denominator for numerical stability. */
    public AdamW eps(double eps) {
        if (!(eps >= 0) || Double.isInfinite(eps)) {
            throw new IllegalArgumentException("eps must be finite and >= 0, got " + eps);
        }
        this.eps = eps;
        return this;
    }

    public double beta1() {
        return beta1;
    }

    public double beta2() {
        return beta2;
    }

    public double eps() {
        return eps;
    }

    @Override
    void write(double[] call) {
        call[Hyperparameters.index(Hyperparameters.BETA1)] = beta1;
        call[Hyperparameters.index(Hyperparameters.BETA2)] = beta2;
        call[Hyperparameters.index(Hyperparameters.EPS)] = eps;
    }
}
