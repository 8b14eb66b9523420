package dev.kiln.nn;

import dev.kiln.ir.Hyperparameters;

/**
 * Hyperparameters of an optimizer and its step count. Like a PyTorch optimizer, one instance
 * stands for one optimization run: a compiled model keeps the optimizer state (moments, momentum
 * buffers) of the instance it last trained with and starts fresh state for a new instance.
 * Setters may be called between steps, for learning-rate schedules.
 */
public abstract sealed class OptimizerConfig permits Adam, AdamW, RmsProp, Sgd {
    private double lr;
    private double weightDecay;
    private double maxGradNorm = Double.POSITIVE_INFINITY;
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

    /** Returns the maximum global gradient norm, or infinity when clipping is off (the default). */
    public double clipGradNorm() {
        return maxGradNorm;
    }

    /**
     * Clips the gradients by their global L2 norm before each update, as
     * {@code torch.nn.utils.clip_grad_norm_(parameters, maxNorm)} before {@code step()}: every
     * gradient is scaled by min(1, maxNorm / (total + 1e-6)), where total is the L2 norm over all
     * parameter gradients together. The clipping runs inside the compiled update, so a training
     * step stays one native call. Infinity turns clipping off.
     *
     * @throws IllegalArgumentException if {@code maxNorm} is not positive
     */
    public OptimizerConfig clipGradNorm(double maxNorm) {
        if (!(maxNorm > 0)) {
            throw new IllegalArgumentException("max gradient norm must be > 0 (infinity turns clipping off), got "
                    + maxNorm);
        }
        this.maxGradNorm = maxNorm;
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
        // 0 turns clipping off in the compiled update without computing max_norm / total at all.
        call[Hyperparameters.index(Hyperparameters.MAX_GRAD_NORM)] = Double.isInfinite(maxGradNorm) ? 0 : maxGradNorm;
    }

    abstract void write(double[] call);
}
