package dev.kiln.nn;

import dev.kiln.ir.Hyperparameters;

/** Adam as PyTorch's {@code torch.optim.Adam}; defaults lr 1e-3, betas (0.9, 0.999), eps 1e-8. */
public final class Adam extends OptimizerConfig {
    private double beta1 = 0.9;
    private double beta2 = 0.999;
    private double eps = 1e-8;

    public Adam() {
        super(1e-3);
    }

    public Adam(double lr) {
        super(lr);
    }

    @Override
    public OptimizerKind kind() {
        return OptimizerKind.ADAM;
    }

    /** Sets the decay rates of the first and second moment estimates, each in [0, 1). */
    public Adam betas(double beta1, double beta2) {
        if (!(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("betas must be in [0, 1), got (" + beta1 + ", " + beta2 + ")");
        }
        this.beta1 = beta1;
        this.beta2 = beta2;
        return this;
    }

    /** Sets the term added to the denominator for numerical stability. */
    public Adam eps(double eps) {
        if (!(eps >= 0)) {
            throw new IllegalArgumentException("eps must be >= 0, got " + eps);
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
