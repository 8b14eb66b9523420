package dev.kiln.nn;

import dev.kiln.ir.Hyperparameters;

/** SGD as PyTorch's {@code torch.optim.SGD}: optional momentum, dampening and Nesterov momentum. */
public final class Sgd extends OptimizerConfig {
    private double momentum;
    private double dampening;
    private boolean nesterov;

    public Sgd(double lr) {
        super(lr);
    }

    @Override
    public OptimizerKind kind() {
        return OptimizerKind.SGD;
    }

    /** Sets the momentum factor, >= 0; 0 turns momentum off. */
    public Sgd momentum(double momentum) {
        if (!(momentum >= 0) || Double.isInfinite(momentum)) {
            throw new IllegalArgumentException("momentum must be finite and >= 0, got " + momentum);
        }
        this.momentum = momentum;
        return this;
    }

    /** Sets the dampening of the momentum update. */
    public Sgd dampening(double dampening) {
        this.dampening = dampening;
        return this;
    }

    /** Turns Nesterov momentum on or off; the first step checks that momentum > 0 and dampening is 0. */
    public Sgd nesterov(boolean nesterov) {
        this.nesterov = nesterov;
        return this;
    }

    private void checkNesterov() {
        if (nesterov && (momentum <= 0 || dampening != 0)) {
            throw new IllegalArgumentException("Nesterov momentum needs momentum > 0 and dampening 0, got momentum "
                    + momentum + " and dampening " + dampening);
        }
    }

    public double momentum() {
        return momentum;
    }

    public double dampening() {
        return dampening;
    }

    public boolean nesterov() {
        return nesterov;
    }

    @Override
    void write(double[] call) {
        checkNesterov();
        call[Hyperparameters.index(Hyperparameters.MOMENTUM)] = momentum;
        call[Hyperparameters.index(Hyperparameters.DAMPENING)] = dampening;
        call[Hyperparameters.index(Hyperparameters.NESTEROV)] = nesterov ? 1 : 0;
    }
}
