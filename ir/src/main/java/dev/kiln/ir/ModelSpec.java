package dev.kiln.ir;

import java.util.List;

/**
 * A model as the frontend hands it to the compiler: the forward graph, its parameters in
 * checkpoint order, its loss and the optimizers to compile.
 *
 * @param name the model's simple name, e.g. {@code WineNet}
 * @param forward graph with inputs, parameters and one output named {@code output}
 * @param params parameters in the order of the parameter block and of checkpoints
 * @param loss the loss the training entries minimize
 * @param optimizers the optimizers compiled into the library
 * @param reduction how a standard loss combines its terms
 */
public record ModelSpec(String name, Graph forward, List<ParamSpec> params, Loss loss, List<Optimizer> optimizers,
                        Loss.Reduction reduction) {

    /** Creates a model whose standard loss is the mean of its terms. */
    public ModelSpec(String name, Graph forward, List<ParamSpec> params, Loss loss, List<Optimizer> optimizers) {
        this(name, forward, params, loss, optimizers, Loss.Reduction.MEAN);
    }

    public ModelSpec {
        java.util.Objects.requireNonNull(reduction, "reduction");
        params = List.copyOf(params);
        optimizers = List.copyOf(optimizers);
        forward.output("output");
        if (loss == Loss.CUSTOM) {
            forward.output(Entries.LOSS);
            if (forward.leaf(Leaf.Input.class, loss.labelName()) == null) {
                throw new IrException("a custom loss reads the input '" + loss.labelName() + "', which the forward graph lacks");
            }
        }
        for (ParamSpec p : params) {
            Node leaf = forward.leaf(Leaf.Param.class, p.name());
            if (leaf != null && !leaf.shape().equals(p.shape())) {
                throw new IrException("parameter '" + p.name() + "' is " + leaf.shape() + " in the graph but "
                        + p.shape() + " in the parameter list");
            }
        }
    }

    /** Returns the inputs of the forward graph, in graph order. */
    public List<Node> inputs() {
        List<Node> inputs = new java.util.ArrayList<>(forward.leaves(Leaf.Input.class));
        if (loss == Loss.CUSTOM) {
            inputs.removeIf(input -> Graph.labelOf(input).equals(loss.labelName()));
        }
        return inputs;
    }

    /** Returns the per-sample shape of the float targets, or of the class index for class losses. */
    public Shape targetShape() {
        if (loss == Loss.CUSTOM) {
            return forward.leaf(Leaf.Input.class, loss.labelName()).shape().dropFirst();
        }
        return loss.labelShape(output().shape()).dropFirst();
    }

    public Node output() {
        return forward.output("output");
    }

    /** Returns the total number of parameter elements. */
    public long parameterCount() {
        long n = 0;
        for (ParamSpec p : params) {
            n += p.shape().staticElements();
        }
        return n;
    }

    /**
     * A trainable tensor and how it is initialized.
     *
     * @param fanIn the input width that bounds {@link ParamInit#UNIFORM_FAN_IN}
     * @param init the initialization, PyTorch's default for the owning layer
     */
    public record ParamSpec(String name, Shape shape, int fanIn, ParamInit init) {
        public ParamSpec {
            if (shape.isBatched()) {
                throw new IrException("parameter '" + name + "' cannot have a batch axis");
            }
            if (init == null) {
                throw new IrException("parameter '" + name + "' needs an initialization");
            }
        }

        /** A tensor initialized like PyTorch's {@code Linear}: uniform in [-1/sqrt(fanIn), 1/sqrt(fanIn)]. */
        public ParamSpec(String name, Shape shape, int fanIn) {
            this(name, shape, fanIn, ParamInit.UNIFORM_FAN_IN);
        }
    }
}
