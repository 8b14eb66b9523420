package dev.kiln.nn;

/**
 * A learning-rate schedule over epochs, as PyTorch's {@code torch.optim.lr_scheduler}: create it
 * after the optimizer and call {@link #step()} once at the end of every epoch. Each step sets the
 * optimizer's learning rate from a closed form of the epoch count and the learning rate the
 * optimizer had when the schedule was created. Compiled models read the learning rate per call,
 * so a schedule needs no rebuild.
 *
 * <p>Like PyTorch's schedulers, a schedule overwrites the learning rate at each step, so a value
 * set on the optimizer by hand between steps lasts only until the next {@link #step()}.
 */
public abstract sealed class LrScheduler permits StepLr, CosineAnnealingLr {
    private final OptimizerConfig optimizer;
    private final double baseLr;
    private long epoch;

    LrScheduler(OptimizerConfig optimizer) {
        if (optimizer == null) {
            throw new IllegalArgumentException("a learning-rate schedule needs an optimizer, got null");
        }
        this.optimizer = optimizer;
        this.baseLr = optimizer.lr();
    }

    /** Returns the learning rate of epoch {@code epoch} for the initial learning rate {@code baseLr}. */
    abstract double lrAt(long epoch, double baseLr);

    /** Ends an epoch: counts it and sets the optimizer's learning rate for the next one. */
    public void step() {
        epoch++;
        optimizer.lr(lrAt(epoch, baseLr));
    }

    /** Returns the number of {@link #step()} calls so far, PyTorch's {@code last_epoch}. */
    public long epoch() {
        return epoch;
    }

    /** Returns the learning rate of the current epoch, PyTorch's {@code get_last_lr()[0]}. */
    public double lastLr() {
        return lrAt(epoch, baseLr);
    }

    /** Returns the learning rate the optimizer had when the schedule was created. */
    public double baseLr() {
        return baseLr;
    }

    /** Returns the optimizer whose learning rate this schedule sets. */
    public OptimizerConfig optimizer() {
        return optimizer;
    }
}
