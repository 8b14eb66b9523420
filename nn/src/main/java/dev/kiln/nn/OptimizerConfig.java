package dev.kiln.nn;

import dev.kiln.ir.Hyperparameters;

/**
 * Hyperparameters of an optimizer and its step count. Like a PyTorch optimizer, one instance
 * stands for one optimization run: a compiled model keeps the optimizer state (moments, momentum
 * buffers) of the instance it last trained with and starts fresh state for a new instance.
 * Setters may be called between steps, for learning-rate schedules.
 */
public abstract sealed class OptimizerConfig permits Adam, Sgd {
    private double lr;
    private double weightDecay;
    private long steps;

    OptimizerConfig(double lr) {
        lr(lr);
    }

    /** Returns which compiled optimizer this configures. */
    public abstract OptimizerKind kind();

    public double lr() {
        return lr;
    }

    /** Sets the learning rate, used from the next step on. */
    public OptimizerConfig lr(double lr) {
        if (!(lr >= 0) || Double.isInfinite(lr)) {
            throw new IllegalArgumentException("learning rate must be finite and >= 0, got " + lr);
        }
        this.lr = lr;
        return this;
    }

    public double weightDecay() {
        return weightDecay;
    }

    /** Sets the L2 penalty added to the gradient, as PyTorch's {@code weight_decay}. */
    public OptimizerConfig weightDecay(double weightDecay) {
        if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
            throw new IllegalArgumentException("weight decay must be finite and >= 0, got " + weightDecay);
        }
        this.weightDecay = weightDecay;
        return this;
    }

    /** Returns the number of steps taken so far. */
    public long steps() {
        return steps;
    }

    /**
     * Counts one step and writes the hyperparameters of that step into a {@code kiln_call} array.
     * The compiled training step calls this once per step, whatever the number of parameters.
     */
    public void beginStep(double[] call) {
        write(call);
        steps++;
        call[Hyperparameters.index(Hyperparameters.LR)] = lr;
        call[Hyperparameters.index(Hyperparameters.WEIGHT_DECAY)] = weightDecay;
        call[Hyperparameters.index(Hyperparameters.STEP)] = steps;
    }

    abstract void write(double[] call);
}
