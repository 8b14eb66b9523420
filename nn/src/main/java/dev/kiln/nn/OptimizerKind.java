package dev.kiln.nn;

/** The optimizers that can be compiled into a model's library. */
public enum OptimizerKind {
    /** Stochastic gradient descent with optional momentum, dampening, Nesterov and weight decay. */
    SGD,
    /** Adam with L2 weight decay, as PyTorch's {@code torch.optim.Adam}. */
    ADAM
}
