package dev.kiln.nn;

import dev.kiln.ir.Optimizer;

/** The optimizers that can be compiled into a model's library. */
public enum OptimizerKind {
    /** Stochastic gradient descent with optional momentum, dampening, Nesterov and weight decay. */
    SGD,
    /** Adam with L2 weight decay, as PyTorch's {@code torch.optim.Adam}. */
    ADAM,
    /** Adam with decoupled weight decay, as PyTorch's {@code torch.optim.AdamW}. */
    ADAMW,
    /** RMSprop with optional momentum and centering, as PyTorch's {@code torch.optim.RMSprop}. */
    RMSPROP;

    /** Returns how many state tensors, each shaped like its parameter, the optimizer keeps per parameter. */
    public int stateTensorsPerParameter() {
        return Optimizer.valueOf(name()).stateNames().size();
    }
}
