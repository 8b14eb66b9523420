package dev.kiln.ir;

import java.util.ArrayList;
import java.util.List;

/**
 * Optimizers that can be compiled into a model's library, with PyTorch's update rules (as of
 * PyTorch 1.13, without {@code maximize}, {@code amsgrad} or {@code foreach}). Every
 * hyperparameter is read per call from {@code kiln_call}, so schedules need no rebuild.
 *
 * <p>Every optimizer first clips the gradients by their global L2 norm, as
 * {@code torch.nn.utils.clip_grad_norm_(params, max_norm)} does before {@code step()}: with
 * total = sqrt(sum over all gradients of g^2), each gradient is scaled by
 * min(1, max_norm / (total + 1e-6)). A max_norm of 0 or infinity leaves the gradients unchanged.
 */
public enum Optimizer {
    /**
     * SGD as {@code torch.optim.SGD}: g += wd p; with momentum, buf = g on the first step and
     * momentum buf + (1 - dampening) g after; g = g + momentum buf (Nesterov) or buf; p -= lr g.
     */
    SGD("sgd", List.of("momentum")),
    /**
     * Adam as {@code torch.optim.Adam} (L2 weight decay, no amsgrad): m = lerp(m, g, 1 - beta1),
     * v = beta2 v + (1 - beta2) g^2, p -= lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps).
     */
    ADAM("adam", List.of("exp_avg", "exp_avg_sq")),
    /**
     * AdamW as {@code torch.optim.AdamW}: the Adam step without the L2 term in the gradient, on
     * the parameter after decoupled weight decay p = p (1 - lr wd).
     */
    ADAMW("adamw", List.of("exp_avg", "exp_avg_sq")),
    /**
     * RMSprop as {@code torch.optim.RMSprop}: g += wd p; v = alpha v + (1 - alpha) g^2; centered,
     * also a = alpha a + (1 - alpha) g and v is replaced by v - a^2 below; d = sqrt(v) + eps; with
     * momentum, buf = momentum buf + g / d and p -= lr buf, else p -= lr g / d.
     */
    RMSPROP("rmsprop", List.of("square_avg", "momentum_buffer", "grad_avg"));

    /** Added to the total norm before dividing, as in {@code clip_grad_norm_}. */
    private static final double CLIP_EPSILON = 1e-6;

    private final String id;
    private final List<String> stateNames;

    Optimizer(String id, List<String> stateNames) {
        this.id = id;
        this.stateNames = stateNames;
    }

    /** Returns the lower-case name used in entry and state names. */
    public String id() {
        return id;
    }

    /**
     * Returns the names of the per-parameter state tensors, as in PyTorch's optimizer state.
     * RMSprop always has all three, whether momentum and centering are on or not, because the
     * state layout is fixed at build time while those flags are read per call.
     */
    public List<String> stateNames() {
        return stateNames;
    }

    /** Returns the label of a state tensor, for example {@code exp_avg.fc1.weight}. */
    public static String stateLabel(String stateName, String paramLabel) {
        return stateName + "." + paramLabel;
    }

    /** Adds the update of every parameter, given its gradient, as stores into params and state. */
    public void update(GraphBuilder b, List<Node> params, List<Node> grads) {
        List<Node> clipped = clipByGlobalNorm(b, grads);
        List<Node[]> updates = new ArrayList<>();
        for (int i = 0; i < params.size(); i++) {
            Node p = params.get(i);
            Node g = clipped.get(i);
            switch (this) {
                case SGD -> sgd(b, p, withWeightDecay(b, g, p), updates);
                case ADAM -> adam(b, p, p, withWeightDecay(b, g, p), updates);
                case ADAMW -> {
                    Node decay = b.mul(b.hyper(Hyperparameters.LR), b.hyper(Hyperparameters.WEIGHT_DECAY));
                    Node decayed = b.mul(p, b.sub(b.constant(1), decay));
                    adam(b, p, decayed, g, updates);
                }
                case RMSPROP -> rmsprop(b, p, withWeightDecay(b, g, p), updates);
            }
        }
        for (Node[] update : updates) {
            b.store(update[0], update[1]);
        }
    }

    /**
     * Scales every gradient by min(1, max_norm / (total + 1e-6)). The scale is 1 where max_norm is
     * 0 (the value of a call that sets no clipping); infinity gives 1 by the formula itself.
     */
    private static List<Node> clipByGlobalNorm(GraphBuilder b, List<Node> grads) {
        if (grads.isEmpty()) {
            return grads;
        }
        Node squares = null;
        for (Node g : grads) {
            Node sum = b.sum(b.mul(g, g));
            squares = squares == null ? sum : b.add(squares, sum);
        }
        Node total = b.sqrt(squares);
        Node maxNorm = b.hyper(Hyperparameters.MAX_GRAD_NORM);
        Node one = b.constant(1);
        Node ratio = b.div(maxNorm, b.add(total, b.constant(CLIP_EPSILON)));
        // min(1, ratio) as a where, because the OpenCL backend has no minimum helper.
        Node coefficient = b.where(b.lt(ratio, one), ratio, one);
        Node scale = b.where(b.gt(maxNorm, b.constant(0)), coefficient, one);
        List<Node> clipped = new ArrayList<>();
        for (Node g : grads) {
            clipped.add(b.mul(g, scale));
        }
        return clipped;
    }

    /** Returns g + wd p, PyTorch's L2 penalty folded into the gradient. */
    private static Node withWeightDecay(GraphBuilder b, Node g, Node p) {
        return b.add(g, b.mul(b.hyper(Hyperparameters.WEIGHT_DECAY), p));
    }

    private static void sgd(GraphBuilder b, Node p, Node g, List<Node[]> updates) {
        Node one = b.constant(1);
        Node lr = b.hyper(Hyperparameters.LR);
        Node step = b.hyper(Hyperparameters.STEP);
        Node momentum = b.hyper(Hyperparameters.MOMENTUM);
        Node dampening = b.hyper(Hyperparameters.DAMPENING);
        Node nesterov = b.hyper(Hyperparameters.NESTEROV);
        Node buf = b.state(stateLabel("momentum", Graph.labelOf(p)), p.shape());
        Node later = b.add(b.mul(momentum, buf), b.mul(b.sub(one, dampening), g));
        Node newBuf = b.where(b.eq(step, one), g, later);
        Node direction = b.where(nesterov, b.add(g, b.mul(momentum, newBuf)), newBuf);
        Node noMomentum = b.eq(momentum, b.constant(0));
        Node d = b.where(noMomentum, g, direction);
        updates.add(new Node[] {buf, b.where(noMomentum, buf, newBuf)});
        updates.add(new Node[] {p, b.sub(p, b.mul(lr, d))});
    }

    /**
     * Adds the Adam step of parameter {@code p}, applied to {@code start}: p itself for Adam, the
     * decayed parameter for AdamW.
     */
    private static void adam(GraphBuilder b, Node p, Node start, Node g, List<Node[]> updates) {
        Node one = b.constant(1);
        Node lr = b.hyper(Hyperparameters.LR);
        Node step = b.hyper(Hyperparameters.STEP);
        Node beta1 = b.hyper(Hyperparameters.BETA1);
        Node beta2 = b.hyper(Hyperparameters.BETA2);
        Node eps = b.hyper(Hyperparameters.EPS);
        String label = Graph.labelOf(p);
        Node m = b.state(stateLabel("exp_avg", label), p.shape());
        Node v = b.state(stateLabel("exp_avg_sq", label), p.shape());
        Node newM = b.add(m, b.mul(b.sub(one, beta1), b.sub(g, m)));
        Node newV = b.add(b.mul(beta2, v), b.mul(b.sub(one, beta2), b.mul(g, g)));
        Node stepSize = b.div(lr, b.sub(one, b.pow(beta1, step)));
        Node correction2 = b.sqrt(b.sub(one, b.pow(beta2, step)));
        Node denominator = b.add(b.div(b.sqrt(newV), correction2), eps);
        updates.add(new Node[] {m, newM});
        updates.add(new Node[] {v, newV});
        updates.add(new Node[] {p, b.sub(start, b.mul(stepSize, b.div(newM, denominator)))});
    }

    private static void rmsprop(GraphBuilder b, Node p, Node g, List<Node[]> updates) {
        Node one = b.constant(1);
        Node zero = b.constant(0);
        Node lr = b.hyper(Hyperparameters.LR);
        Node alpha = b.hyper(Hyperparameters.ALPHA);
        Node eps = b.hyper(Hyperparameters.EPS);
        Node momentum = b.hyper(Hyperparameters.MOMENTUM);
        Node centered = b.hyper(Hyperparameters.CENTERED);
        String label = Graph.labelOf(p);
        Node squareAvg = b.state(stateLabel("square_avg", label), p.shape());
        Node buf = b.state(stateLabel("momentum_buffer", label), p.shape());
        Node gradAvg = b.state(stateLabel("grad_avg", label), p.shape());

        Node newSquareAvg = b.add(b.mul(alpha, squareAvg), b.mul(b.sub(one, alpha), b.mul(g, g)));
        Node newGradAvg = b.add(b.mul(alpha, gradAvg), b.mul(b.sub(one, alpha), g));
        // v - a^2 >= 0 in exact arithmetic (Cauchy-Schwarz on the same weights), but float rounding
        // can make it slightly negative where it is near 0, and sqrt would then give NaN. PyTorch
        // does not guard this; relu, max(x, 0), differs from it only where PyTorch returns NaN.
        Node variance = b.relu(b.sub(newSquareAvg, b.mul(newGradAvg, newGradAvg)));
        Node denominator = b.add(b.sqrt(b.where(centered, variance, newSquareAvg)), eps);
        Node scaled = b.div(g, denominator);
        Node newBuf = b.add(b.mul(momentum, buf), scaled);
        Node hasMomentum = b.gt(momentum, zero);

        updates.add(new Node[] {squareAvg, newSquareAvg});
        updates.add(new Node[] {gradAvg, b.where(centered, newGradAvg, gradAvg)});
        updates.add(new Node[] {buf, b.where(hasMomentum, newBuf, buf)});
        updates.add(new Node[] {p, b.sub(p, b.mul(lr, b.where(hasMomentum, newBuf, scaled)))});
    }
}
