package dev.kiln.ir;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds the functions of a model library from its forward graph:
 * <ul>
 *   <li>{@code predict(params, inputs..., output)};
 *   <li>{@code evaluate(params, inputs..., labels, output, loss)}: outputs and the mean loss;
 *   <li>{@code forward_backward(params, inputs..., labels, loss, grads)};
 *   <li>{@code update_<opt>(params, state, grads)}: one optimizer step from given gradients;
 *   <li>{@code train_<opt>(params, state, inputs..., labels, loss)}: forward, loss, backward and
 *       update in one call.
 * </ul>
 * Parameters and gradients are blocks laid out in the order of {@link ModelSpec#params()}; the
 * state of an optimizer is one block holding each state tensor for every parameter in turn.
 *
 * <p>{@code predict} and {@code evaluate} run the model in evaluation mode, as PyTorch's
 * {@code model.eval()}: their graphs replace every {@link Dropout} by its input and hold no dropout
 * hyperparameters. The training entries {@code forward_backward} and {@code train_<opt>} keep it.
 */
public final class Entries {
    private Entries() {
    }

    public static final String PARAMS = "params";
    public static final String GRADS = "grads";
    public static final String STATE = "state";
    public static final String OUTPUT = "output";
    public static final String LOSS = "loss";

    /** Returns every entry of the model, passes not yet applied. */
    public static List<Entry> build(ModelSpec model) {
        List<Entry> entries = new ArrayList<>();
        entries.add(predict(model));
        entries.add(evaluate(model));
        entries.add(forwardBackward(model));
        for (Optimizer optimizer : model.optimizers()) {
            entries.add(update(model, optimizer));
            entries.add(train(model, optimizer));
        }
        return entries;
    }

    /**
     * Returns the entries {@code derivative_0} to {@code derivative_<order>} of a function with one
     * input {@code x} and an output named {@code output}: entry k computes the k-th derivative of
     * the sum of the outputs with respect to the input, by differentiating the (k-1)-th derivative
     * again. For a function applied elementwise that is f^(k) at every element. Each entry takes
     * {@code (x, output)}.
     */
    public static List<Entry> derivatives(Graph function, int order) {
        if (order < 0) {
            throw new IrException("derivative order must be >= 0, got " + order);
        }
        List<Node> inputs = function.leaves(Leaf.Input.class);
        if (inputs.size() != 1 || !function.leaves(Leaf.Param.class).isEmpty()) {
            throw new IrException("a differentiable function takes exactly one input and no parameters; "
                    + function.name() + " has inputs " + inputs + " and parameters " + function.leaves(Leaf.Param.class));
        }
        String inputLabel = Graph.labelOf(inputs.get(0));
        List<Entry> entries = new ArrayList<>();
        for (int k = 0; k <= order; k++) {
            GraphCopier copier = new GraphCopier("derivative_" + k);
            for (Node node : function.nodes()) {
                copier.copy(node);
            }
            GraphBuilder b = copier.builder();
            Node x = copier.mapped(inputs.get(0));
            Node value = copier.mapped(function.output(OUTPUT));
            for (int i = 0; i < k; i++) {
                value = Autodiff.grad(b, b.sum(value), List.of(x)).get(0);
            }
            b.output(OUTPUT, value);
            List<Entry.Arg> args = List.of(new Entry.Arg(inputLabel, DType.F32, false),
                    new Entry.Arg(OUTPUT, DType.F32, true));
            Map<String, Entry.Binding> bindings = Map.of("input:" + inputLabel, new Entry.Binding(0, 0),
                    "output:" + OUTPUT, new Entry.Binding(1, 0));
            entries.add(new Entry("derivative_" + k, b.build(), args, bindings));
        }
        return entries;
    }

    /** Returns the mean loss: the standard loss built on the output, or the model's own loss method. */
    private static Node loss(ModelSpec model, GraphCopier copier, Layout layout, Node output) {
        if (model.loss() == Loss.CUSTOM) {
            layout.bindLabels();
            return copier.mapped(model.forward().output(LOSS));
        }
        return model.loss().build(copier.builder(), output, layout.labels(output), model.reduction());
    }

    /** Returns the offset of each parameter in the parameter block. */
    public static Map<String, Long> paramOffsets(ModelSpec model) {
        Map<String, Long> offsets = new LinkedHashMap<>();
        long offset = 0;
        for (ModelSpec.ParamSpec p : model.params()) {
            offsets.put(p.name(), offset);
            offset += p.shape().staticElements();
        }
        return offsets;
    }

    /** Returns the offset of each state tensor in an optimizer's state block. */
    public static Map<String, Long> stateOffsets(ModelSpec model, Optimizer optimizer) {
        Map<String, Long> offsets = new LinkedHashMap<>();
        long offset = 0;
        for (String stateName : optimizer.stateNames()) {
            for (ModelSpec.ParamSpec p : model.params()) {
                offsets.put(Optimizer.stateLabel(stateName, p.name()), offset);
                offset += p.shape().staticElements();
            }
        }
        return offsets;
    }

    private static Entry predict(ModelSpec model) {
        Layout layout = new Layout(model);
        GraphCopier copier = layout.copyForwardForEvaluation("predict");
        layout.params(false);
        layout.inputs();
        layout.output(OUTPUT, copier.mapped(model.output()));
        return layout.finish("predict");
    }

    private static Entry evaluate(ModelSpec model) {
        Layout layout = new Layout(model);
        GraphCopier copier = layout.copyForwardForEvaluation("evaluate");
        layout.params(false);
        layout.inputs();
        Node output = copier.mapped(model.output());
        Node loss = loss(model, copier, layout, output);
        layout.output(OUTPUT, output);
        layout.output(LOSS, loss);
        return layout.finish("evaluate");
    }

    private static Entry forwardBackward(ModelSpec model) {
        Layout layout = new Layout(model);
        GraphCopier copier = layout.copyForward("forward_backward");
        GraphBuilder b = copier.builder();
        layout.params(false);
        layout.inputs();
        Node output = copier.mapped(model.output());
        Node loss = loss(model, copier, layout, output);
        layout.output(LOSS, loss);
        List<Node> grads = Autodiff.grad(b, loss, layout.paramNodes());
        layout.gradOutputs(grads);
        return layout.finish("forward_backward");
    }

    private static Entry update(ModelSpec model, Optimizer optimizer) {
        Layout layout = new Layout(model);
        GraphBuilder b = layout.builder("update_" + optimizer.id());
        for (ModelSpec.ParamSpec p : model.params()) {
            b.param(p.name(), p.shape());
        }
        layout.params(true);
        layout.state(optimizer);
        List<Node> grads = layout.gradInputs();
        optimizer.update(b, layout.paramNodes(), grads);
        layout.bindState(optimizer);
        return layout.finish("update_" + optimizer.id());
    }

    private static Entry train(ModelSpec model, Optimizer optimizer) {
        Layout layout = new Layout(model);
        GraphCopier copier = layout.copyForward("train_" + optimizer.id());
        GraphBuilder b = copier.builder();
        layout.params(true);
        layout.state(optimizer);
        layout.inputs();
        Node output = copier.mapped(model.output());
        Node loss = loss(model, copier, layout, output);
        layout.output(LOSS, loss);
        List<Node> grads = Autodiff.grad(b, loss, layout.paramNodes());
        optimizer.update(b, layout.paramNodes(), grads);
        layout.bindState(optimizer);
        return layout.finish("train_" + optimizer.id());
    }

    /** Collects the arguments and bindings of one entry while its graph is built. */
    private static final class Layout {
        private final ModelSpec model;
        private final List<Entry.Arg> args = new ArrayList<>();
        private final Map<String, Entry.Binding> bindings = new LinkedHashMap<>();
        private GraphBuilder builder;
        private int stateArg = -1;

        Layout(ModelSpec model) {
            this.model = model;
        }

        GraphBuilder builder(String name) {
            builder = new GraphBuilder(name);
            return builder;
        }

        GraphCopier copyForward(String name) {
            GraphCopier copier = new GraphCopier(name);
            for (Node node : model.forward().nodes()) {
                copier.copy(node);
            }
            builder = copier.builder();
            return copier;
        }

        /** Copies the forward graph in evaluation mode: each dropout becomes the identity. */
        GraphCopier copyForwardForEvaluation(String name) {
            GraphCopier copier = new GraphCopier(name);
            for (Node node : model.forward().nodes()) {
                if (node.op() instanceof Dropout) {
                    copier.map(node, copier.mapped(node.input(0)));
                } else if (!isDropoutHyperparameter(node)) {
                    copier.copy(node);
                }
            }
            builder = copier.builder();
            return copier;
        }

        private static boolean isDropoutHyperparameter(Node node) {
            return node.op() instanceof Leaf.Hyper h && (h.label().equals(Hyperparameters.DROPOUT_SEED)
                    || h.label().equals(Hyperparameters.DROPOUT_STEP));
        }

        void params(boolean written) {
            int arg = addArg(PARAMS, DType.F32, written);
            Entries.paramOffsets(model).forEach((label, offset) ->
                    bindings.put("param:" + label, new Entry.Binding(arg, offset)));
        }

        List<Node> paramNodes() {
            List<Node> nodes = new ArrayList<>();
            for (ModelSpec.ParamSpec p : model.params()) {
                nodes.add(builder.param(p.name(), p.shape()));
            }
            return nodes;
        }

        void state(Optimizer optimizer) {
            stateArg = addArg(STATE, DType.F32, true);
        }

        void bindState(Optimizer optimizer) {
            Entries.stateOffsets(model, optimizer).forEach((label, offset) ->
                    bindings.put("state:" + label, new Entry.Binding(stateArg, offset)));
        }

        void inputs() {
            for (Node input : model.inputs()) {
                String label = Graph.labelOf(input);
                int arg = addArg(label, input.dtype(), false);
                bindings.put("input:" + label, new Entry.Binding(arg, 0));
            }
        }

        Node labels(Node output) {
            Loss loss = model.loss();
            bindLabels();
            return builder.input(loss.labelName(), loss.labelShape(output.shape()), loss.labelType());
        }

        /** Adds the labels or targets argument. */
        void bindLabels() {
            Loss loss = model.loss();
            int arg = addArg(loss.labelName(), loss.labelType(), false);
            bindings.put("input:" + loss.labelName(), new Entry.Binding(arg, 0));
        }

        void output(String label, Node value) {
            int arg = addArg(label, DType.F32, true);
            bindings.put("output:" + label, new Entry.Binding(arg, 0));
            builder.output(label, value);
        }

        void gradOutputs(List<Node> grads) {
            int arg = addArg(GRADS, DType.F32, true);
            Map<String, Long> offsets = Entries.paramOffsets(model);
            for (int i = 0; i < grads.size(); i++) {
                String label = "grad." + model.params().get(i).name();
                bindings.put("output:" + label, new Entry.Binding(arg, offsets.get(model.params().get(i).name())));
                builder.output(label, grads.get(i));
            }
        }

        List<Node> gradInputs() {
            int arg = addArg(GRADS, DType.F32, false);
            Map<String, Long> offsets = Entries.paramOffsets(model);
            List<Node> grads = new ArrayList<>();
            for (ModelSpec.ParamSpec p : model.params()) {
                String label = "grad." + p.name();
                bindings.put("input:" + label, new Entry.Binding(arg, offsets.get(p.name())));
                grads.add(builder.input(label, p.shape(), DType.F32));
            }
            return grads;
        }

        private int addArg(String name, DType dtype, boolean written) {
            args.add(new Entry.Arg(name, dtype, written));
            return args.size() - 1;
        }

        Entry finish(String name) {
            return new Entry(name, builder.build(), args, bindings);
        }
    }
}
