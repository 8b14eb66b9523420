package dev.kiln.ir;

import java.util.List;

/**
 * The per-call hyperparameters of compiled code, in the order of the C struct {@code kiln_call}.
 * Every entry is a double; flags are 0 or 1 and the step counter counts from 1.
 */
public final class Hyperparameters {
    private Hyperparameters() {
    }

    public static final String LR = "lr";
    public static final String MOMENTUM = "momentum";
    public static final String DAMPENING = "dampening";
    public static final String NESTEROV = "nesterov";
    public static final String BETA1 = "beta1";
    public static final String BETA2 = "beta2";
    public static final String EPS = "eps";
    public static final String WEIGHT_DECAY = "weight_decay";
    public static final String STEP = "step";
    public static final String TRAINING = "training";
    public static final String SEED = "seed";
    /** RMSprop's smoothing constant of the squared-gradient average. */
    public static final String ALPHA = "alpha";
    /** RMSprop's flag: normalize by the estimated variance instead of the uncentered second moment. */
    public static final String CENTERED = "centered";
    /** Maximum global L2 norm of the gradients; 0 or infinity turns clipping off. */
    public static final String MAX_GRAD_NORM = "max_grad_norm";
    /**
     * Key of the dropout masks, an integer below 2^24 derived from the model's seed; see
     * {@link Dropout#hyperparameters(long, long)}.
     */
    public static final String DROPOUT_SEED = "dropout_seed";
    /** Training step of the dropout masks, an integer below 2^24 that advances on every training call. */
    public static final String DROPOUT_STEP = "dropout_step";

    /**
     * Field order of {@code kiln_call}. New names go at the end, so that the index of every
     * existing field stays the same.
     */
    public static final List<String> NAMES = List.of(
            LR, MOMENTUM, DAMPENING, NESTEROV, BETA1, BETA2, EPS, WEIGHT_DECAY, STEP, TRAINING, SEED,
            ALPHA, CENTERED, MAX_GRAD_NORM, DROPOUT_SEED, DROPOUT_STEP);

    /** Returns the index of a hyperparameter in {@code kiln_call}. */
    public static int index(String name) {
        int index = NAMES.indexOf(name);
        if (index < 0) {
            throw new IrException("unknown hyperparameter '" + name + "'; known: " + NAMES);
        }
        return index;
    }
}
