package dev.kiln.ir;

import java.util.ArrayList;
import java.util.List;

/**
 * Optimizers that can be compiled into a model's library, with PyTorch's update rules. Every
 * hyperparameter is read per call from {@code kiln_call}, so schedules need no rebuild.
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
    ADAM("adam", List.of("exp_avg", "exp_avg_sq"));

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

    /** Returns the names of the per-parameter state tensors, as in PyTorch's optimizer state. */
    public List<String> stateNames() {
        return stateNames;
    }

    /** Returns the label of a state tensor, for example {@code exp_avg.fc1.weight}. */
    public static String stateLabel(String stateName, String paramLabel) {
        return stateName + "." + paramLabel;
    }

    /** Adds the update of every parameter, given its gradient, as stores into params and state. */
    public void update(GraphBuilder b, List<Node> params, List<Node> grads) {
        Node one = b.constant(1);
        Node lr = b.hyper(Hyperparameters.LR);
        Node weightDecay = b.hyper(Hyperparameters.WEIGHT_DECAY);
        Node step = b.hyper(Hyperparameters.STEP);
        List<Node[]> updates = new ArrayList<>();
        for (int i = 0; i < params.size(); i++) {
            Node p = params.get(i);
            String label = Graph.labelOf(p);
            Node g = b.add(grads.get(i), b.mul(weightDecay, p));
            switch (this) {
                case SGD -> {
                    Node momentum = b.hyper(Hyperparameters.MOMENTUM);
                    Node dampening = b.hyper(Hyperparameters.DAMPENING);
                    Node nesterov = b.hyper(Hyperparameters.NESTEROV);
                    Node buf = b.state(stateLabel("momentum", label), p.shape());
                    Node later = b.add(b.mul(momentum, buf), b.mul(b.sub(one, dampening), g));
                    Node newBuf = b.where(b.eq(step, one), g, later);
                    Node direction = b.where(nesterov, b.add(g, b.mul(momentum, newBuf)), newBuf);
                    Node noMomentum = b.eq(momentum, b.constant(0));
                    Node d = b.where(noMomentum, g, direction);
                    updates.add(new Node[] {buf, b.where(noMomentum, buf, newBuf)});
                    updates.add(new Node[] {p, b.sub(p, b.mul(lr, d))});
                }
                case ADAM -> {
                    Node beta1 = b.hyper(Hyperparameters.BETA1);
                    Node beta2 = b.hyper(Hyperparameters.BETA2);
                    Node eps = b.hyper(Hyperparameters.EPS);
                    Node m = b.state(stateLabel("exp_avg", label), p.shape());
                    Node v = b.state(stateLabel("exp_avg_sq", label), p.shape());
                    Node newM = b.add(m, b.mul(b.sub(one, beta1), b.sub(g, m)));
                    Node newV = b.add(b.mul(beta2, v), b.mul(b.sub(one, beta2), b.mul(g, g)));
                    Node stepSize = b.div(lr, b.sub(one, b.pow(beta1, step)));
                    Node correction2 = b.sqrt(b.sub(one, b.pow(beta2, step)));
                    Node denominator = b.add(b.div(b.sqrt(newV), correction2), eps);
                    updates.add(new Node[] {m, newM});
                    updates.add(new Node[] {v, newV});
                    updates.add(new Node[] {p, b.sub(p, b.mul(stepSize, b.div(newM, denominator)))});
                }
            }
        }
        for (Node[] update : updates) {
            b.store(update[0], update[1]);
        }
    }
}
