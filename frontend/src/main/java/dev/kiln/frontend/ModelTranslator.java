package dev.kiln.frontend;

import com.github.javaparser.ast.Node;
import com.github.javaparser.ast.NodeList;
import com.github.javaparser.ast.body.ClassOrInterfaceDeclaration;
import com.github.javaparser.ast.body.ConstructorDeclaration;
import com.github.javaparser.ast.body.FieldDeclaration;
import com.github.javaparser.ast.body.MethodDeclaration;
import com.github.javaparser.ast.body.Parameter;
import com.github.javaparser.ast.body.VariableDeclarator;
import com.github.javaparser.ast.expr.AnnotationExpr;
import com.github.javaparser.ast.expr.ArrayInitializerExpr;
import com.github.javaparser.ast.expr.Expression;
import com.github.javaparser.ast.expr.MemberValuePair;
import com.github.javaparser.ast.expr.NormalAnnotationExpr;
import com.github.javaparser.ast.expr.SingleMemberAnnotationExpr;
import dev.kiln.frontend.Values.LinearLayer;
import dev.kiln.frontend.Values.ModuleInstance;
import dev.kiln.frontend.Values.Poison;
import dev.kiln.frontend.Values.TensorValue;
import dev.kiln.ir.DType;
import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.Loss;
import dev.kiln.ir.ModelSpec;
import dev.kiln.ir.Optimizer;
import dev.kiln.ir.Shape;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.StringJoiner;

/**
 * Turns a model class into a {@link ModelSpec}: instantiates its fields symbolically (layers and
 * nested model classes, with constructor arguments that are compile-time constants), then
 * evaluates {@code forward} into the forward graph. Errors are collected as diagnostics on the
 * user's lines; evaluation goes on past an error where it can.
 */
public final class ModelTranslator {
    private final SourceResolver resolver;
    private final List<Diagnostic> diagnostics = new ArrayList<>();
    private final List<ModelSpec.ParamSpec> params = new ArrayList<>();
    private final Set<String> paramNames = new LinkedHashSet<>();
    private final java.util.Deque<MethodDeclaration> callStack = new java.util.ArrayDeque<>();
    private int unrolledIterations;
    private GraphBuilder graph;

    public ModelTranslator(SourceResolver resolver) {
        this.resolver = resolver;
    }

    /** The result: a model, or the diagnostics that prevented it. */
    public record Result(Optional<ModelSpec> model, List<Diagnostic> diagnostics) {
    }

    /** Translates the model class {@code model}. */
    public Result translate(ClassOrInterfaceDeclaration model) {
        graph = new GraphBuilder("forward");
        ModuleInstance root = new ModuleInstance(model, "");
        Instantiator instantiator = new Instantiator(this);
        instantiator.instantiate(root, List.of(), model);
        Optional<ModelSpec> spec = Optional.empty();
        MethodDeclaration forward = findForward(model);
        if (forward != null) {
            spec = buildSpec(model, root, forward);
        }
        return new Result(diagnostics.isEmpty() ? spec : Optional.empty(), List.copyOf(diagnostics));
    }

    /** The result of translating a differentiable function: its graph, or the diagnostics. */
    public record FunctionResult(Optional<dev.kiln.ir.Graph> function, List<Diagnostic> diagnostics) {
    }

    /**
     * Translates a method {@code Tensor m(@Shape(...) Tensor x)} of {@code owner} into a graph with
     * input {@code x} and output {@code output}, for compiling with its derivatives.
     */
    public FunctionResult translateFunction(ClassOrInterfaceDeclaration owner, MethodDeclaration method) {
        graph = new GraphBuilder(method.getNameAsString());
        ModuleInstance root = new ModuleInstance(owner, "");
        new Instantiator(this).instantiate(root, List.of(), owner);
        if (!params.isEmpty()) {
            error(DiagnosticIds.MODEL_STRUCTURE, method, "differentiable function " + method.getNameAsString()
                    + " belongs to a class with layers " + paramNames + "; compile layers as a @Model and keep"
                    + " @Differentiable methods free of trainable parameters");
        }
        if (method.getParameters().size() != 1 || !method.getParameter(0).getTypeAsString().equals("Tensor")) {
            error(DiagnosticIds.MODEL_STRUCTURE, method, "a @Differentiable method takes exactly one input,"
                    + " '" + method.getNameAsString() + "(@Shape(...) Tensor x)'");
            return new FunctionResult(Optional.empty(), List.copyOf(diagnostics));
        }
        Parameter input = method.getParameter(0);
        int[] sampleShape = shapeOf(input, root);
        if (sampleShape == null) {
            return new FunctionResult(Optional.empty(), List.copyOf(diagnostics));
        }
        graph.origin(origin(input));
        dev.kiln.ir.Node x = graph.input(input.getNameAsString(), Shape.batched(sampleShape), DType.F32);
        Object result = new Interpreter(this, root).call(method, List.of(new TensorValue(x)), method);
        if (result instanceof TensorValue tensor && diagnostics.isEmpty()) {
            if (!tensor.node().shape().isBatched()) {
                error(DiagnosticIds.SHAPE, method, method.getNameAsString() + " returns shape " + tensor.node().shape()
                        + " without the batch axis; return one value per sample");
            } else {
                graph.output("output", tensor.node());
                return new FunctionResult(Optional.of(graph.build()), List.of());
            }
        } else if (result != Poison.INSTANCE && diagnostics.isEmpty()) {
            error(DiagnosticIds.MODEL_STRUCTURE, method, method.getNameAsString() + " must return a tensor");
        }
        return new FunctionResult(Optional.empty(), List.copyOf(diagnostics));
    }

    private MethodDeclaration findForward(ClassOrInterfaceDeclaration model) {
        List<MethodDeclaration> forwards = model.getMethodsByName("forward");
        if (forwards.isEmpty()) {
            error(DiagnosticIds.MODEL_STRUCTURE, model,
                    "model class " + model.getNameAsString() + " has no forward method; add"
                            + " 'public Tensor forward(@Shape(...) Tensor x)' that computes the model's output");
            return null;
        }
        if (forwards.size() > 1) {
            error(DiagnosticIds.MODEL_STRUCTURE, forwards.get(1),
                    "model class " + model.getNameAsString() + " declares forward more than once; keep one forward method");
        }
        return forwards.get(0);
    }

    private Optional<ModelSpec> buildSpec(ClassOrInterfaceDeclaration model, ModuleInstance root, MethodDeclaration forward) {
        if (forward.getParameters().isEmpty()) {
            error(DiagnosticIds.MODEL_STRUCTURE, forward, "forward takes no parameters; declare its inputs as"
                    + " 'forward(@Shape(...) Tensor x)', or several such tensors");
            return Optional.empty();
        }
        List<int[]> sampleShapes = new ArrayList<>();
        for (Parameter input : forward.getParameters()) {
            if (!input.getTypeAsString().equals("Tensor")) {
                error(DiagnosticIds.MODEL_STRUCTURE, input, "the parameter of forward has type " + input.getTypeAsString()
                        + "; declare it as '@Shape(...) Tensor " + input.getNameAsString() + "'");
                return Optional.empty();
            }
            int[] sampleShape = shapeOf(input, root);
            if (sampleShape == null) {
                return Optional.empty();
            }
            sampleShapes.add(sampleShape);
        }
        List<TensorValue> inputs = inputs(forward, sampleShapes);
        Object result = new Interpreter(this, root).call(forward, List.copyOf(inputs), forward);
        List<Integer> outputWidths = new ArrayList<>();
        if (result instanceof Values.TensorArray outputs) {
            for (Object value : outputs.values()) {
                outputWidths.add(Math.toIntExact(((TensorValue) value).node().shape().staticElements()));
            }
            result = packOutputs(forward, outputs);
        } else if (result instanceof TensorValue single) {
            outputWidths.add(Math.toIntExact(single.node().shape().staticElements()));
        }
        packing = new Packing(forward.getParameters().stream().map(Parameter::getNameAsString).toList(),
                sampleShapes.stream().map(d -> Math.toIntExact(Shape.of(d).staticElements())).toList(),
                List.copyOf(outputWidths));
        if (!(result instanceof TensorValue tensor)) {
            if (result != Poison.INSTANCE) {
                error(DiagnosticIds.MODEL_STRUCTURE, forward, "forward must return the output tensor");
            }
            return Optional.empty();
        }
        if (!tensor.node().shape().isBatched()) {
            error(DiagnosticIds.SHAPE, forward, "forward returns a tensor of shape " + tensor.node().shape()
                    + " without the batch axis; return one value per sample, shape [B, ...]");
            return Optional.empty();
        }
        Loss loss = lossOf(model);
        if (loss.needsClassRows() && tensor.node().shape().rank() != 2) {
            error(DiagnosticIds.SHAPE, forward, lossText(loss) + " needs forward to return class scores of shape [B, classes], got "
                    + tensor.node().shape());
            return Optional.empty();
        }
        graph.output("output", tensor.node());
        List<MethodDeclaration> lossMethods = model.getMethodsByName("loss");
        if (loss == Loss.CUSTOM) {
            buildCustomLoss(model, root, lossMethods, inputs);
        } else if (!lossMethods.isEmpty()) {
            error(DiagnosticIds.MODEL_STRUCTURE, lossMethods.get(0), "model class " + model.getNameAsString()
                    + " declares loss(...) but trains with " + loss + "; set @Model(loss = LossKind.CUSTOM) to train"
                    + " with the method, or remove it");
        }
        if (!diagnostics.isEmpty()) {
            return Optional.empty();
        }
        Loss.Reduction reduction = reductionOf(model, loss);
        if (!diagnostics.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new ModelSpec(model.getNameAsString(), graph.build(), params, loss, optimizersOf(model),
                reduction));
    }

    /**
     * Declares the model's input. One parameter of forward is the input itself. Several are
     * packed side by side in one input row, in declaration order, and each is a slice of it.
     */
    private List<TensorValue> inputs(MethodDeclaration forward, List<int[]> sampleShapes) {
        List<Parameter> parameters = forward.getParameters();
        if (parameters.size() == 1) {
            graph.origin(origin(parameters.get(0)));
            return List.of(new TensorValue(graph.input(parameters.get(0).getNameAsString(),
                    Shape.batched(sampleShapes.get(0)), DType.F32)));
        }
        int total = 0;
        for (int[] shape : sampleShapes) {
            total += Math.toIntExact(Shape.of(shape).staticElements());
        }
        graph.origin(origin(forward));
        dev.kiln.ir.Node packed = graph.input(PACKED_INPUT, Shape.batched(total), DType.F32);
        List<TensorValue> inputs = new ArrayList<>();
        int offset = 0;
        for (int i = 0; i < parameters.size(); i++) {
            graph.origin(origin(parameters.get(i)));
            int width = Math.toIntExact(Shape.of(sampleShapes.get(i)).staticElements());
            dev.kiln.ir.Node slice = graph.slice(packed, 1, offset, offset + width, 1);
            inputs.add(new TensorValue(graph.reshape(slice, Shape.batched(sampleShapes.get(i)))));
            offset += width;
        }
        return inputs;
    }

    /** Label of the input row that packs several inputs of forward. */
    static final String PACKED_INPUT = "inputs";

    /**
     * The layout of forward's inputs and outputs in the model's one input row and one output row:
     * the parameter names and widths, and the output widths, in order.
     */
    record Packing(List<String> inputNames, List<Integer> inputWidths, List<Integer> outputWidths) {
    }

    private Packing packing = new Packing(List.of(), List.of(), List.of());

    /** Returns the packing of the last translated model. */
    Packing packing() {
        return packing;
    }

    /** Packs several outputs of forward side by side in one output row, each flattened per sample. */
    private Object packOutputs(MethodDeclaration forward, Values.TensorArray outputs) {
        List<dev.kiln.ir.Node> parts = new ArrayList<>();
        for (Object value : outputs.values()) {
            dev.kiln.ir.Node node = ((TensorValue) value).node();
            if (!node.shape().isBatched()) {
                error(DiagnosticIds.SHAPE, forward, "forward returns an output of shape " + node.shape()
                        + " without the batch axis; every output needs one value per sample, shape [B, ...]");
                return Poison.INSTANCE;
            }
            parts.add(graph.reshape(node, Shape.batched(Math.toIntExact(node.shape().staticElements()))));
        }
        if (parts.isEmpty()) {
            error(DiagnosticIds.MODEL_STRUCTURE, forward, "forward returns no tensors");
            return Poison.INSTANCE;
        }
        graph.origin(origin(forward));
        return new TensorValue(graph.concat(1, parts));
    }

    /**
     * Evaluates {@code loss(x, target)} into the forward graph as the output {@code loss}, reading
     * the input {@code targets}. The method may call forward and use input gradients.
     */
    private void buildCustomLoss(ClassOrInterfaceDeclaration model, ModuleInstance root,
                                 List<MethodDeclaration> lossMethods, List<TensorValue> inputs) {
        if (lossMethods.size() != 1 || lossMethods.get(0).getParameters().size() != inputs.size() + 1) {
            error(DiagnosticIds.MODEL_STRUCTURE, lossMethods.isEmpty() ? model : lossMethods.get(0),
                    "@Model(loss = LossKind.CUSTOM) needs one method 'public Tensor loss(Tensor x, @Shape(...) Tensor"
                            + " target)' that takes forward's inputs and the target and returns the mean loss");
            return;
        }
        MethodDeclaration method = lossMethods.get(0);
        Parameter target = method.getParameter(inputs.size());
        int[] targetShape = shapeOf(target, root);
        if (targetShape == null) {
            return;
        }
        graph.origin(origin(target));
        dev.kiln.ir.Node targets = graph.input(Loss.CUSTOM.labelName(), Shape.batched(targetShape), DType.F32);
        List<Object> arguments = new ArrayList<>(inputs);
        arguments.add(new TensorValue(targets));
        Object result = new Interpreter(this, root).call(method, arguments, method);
        if (result instanceof TensorValue value) {
            if (!value.node().shape().isScalar()) {
                error(DiagnosticIds.SHAPE, method, "loss returns shape " + value.node().shape() + "; return one number,"
                        + " for example mean(square(u.sub(target)))");
                return;
            }
            graph.output(dev.kiln.ir.Entries.LOSS, value.node());
        } else if (result != Poison.INSTANCE) {
            error(DiagnosticIds.MODEL_STRUCTURE, method, "loss must return the mean loss as a tensor");
        }
    }

    private int[] shapeOf(Parameter input, ModuleInstance root) {
        Optional<AnnotationExpr> annotation = input.getAnnotationByName("Shape");
        if (annotation.isEmpty()) {
            error(DiagnosticIds.MODEL_STRUCTURE, input, "the input '" + input.getNameAsString()
                    + "' of forward has no @Shape; declare its per-sample shape, e.g. '@Shape(13) Tensor "
                    + input.getNameAsString() + "'");
            return null;
        }
        Expression value = annotationValue(annotation.get(), "value");
        List<Expression> extents = value instanceof ArrayInitializerExpr array ? array.getValues() : List.of(value);
        int[] shape = new int[extents.size()];
        Interpreter constants = new Interpreter(this, root);
        for (int i = 0; i < shape.length; i++) {
            Long extent = constants.constantInt(extents.get(i));
            if (extent == null || extent <= 0) {
                error(DiagnosticIds.MODEL_STRUCTURE, extents.get(i), "@Shape extents must be positive compile-time"
                        + " constants, got '" + extents.get(i) + "'");
                return null;
            }
            shape[i] = Math.toIntExact(extent);
        }
        return shape;
    }

    private static Expression annotationValue(AnnotationExpr annotation, String member) {
        if (annotation instanceof SingleMemberAnnotationExpr single) {
            return member.equals("value") ? single.getMemberValue() : null;
        }
        if (annotation instanceof NormalAnnotationExpr normal) {
            for (MemberValuePair pair : normal.getPairs()) {
                if (pair.getNameAsString().equals(member)) {
                    return pair.getValue();
                }
            }
        }
        return null;
    }

    private Loss lossOf(ClassOrInterfaceDeclaration model) {
        Expression value = model.getAnnotationByName("Model").map(a -> annotationValue(a, "loss")).orElse(null);
        if (value == null) {
            return Loss.CROSS_ENTROPY;
        }
        String name = lastName(value);
        for (Loss loss : Loss.values()) {
            if (loss.name().equals(name)) {
                return loss;
            }
        }
        error(DiagnosticIds.MODEL_STRUCTURE, value, "unknown loss '" + value + "'; use one of "
                + choices("LossKind.", Loss.values()));
        return Loss.CROSS_ENTROPY;
    }

    /** Reads {@code @Model(reduction = ...)}; a custom loss method reduces its terms itself. */
    private Loss.Reduction reductionOf(ClassOrInterfaceDeclaration model, Loss loss) {
        Expression value = model.getAnnotationByName("Model").map(a -> annotationValue(a, "reduction")).orElse(null);
        if (value == null) {
            return Loss.Reduction.MEAN;
        }
        String name = lastName(value);
        for (Loss.Reduction reduction : Loss.Reduction.values()) {
            if (reduction.name().equals(name)) {
                if (loss == Loss.CUSTOM && reduction != Loss.Reduction.MEAN) {
                    error(DiagnosticIds.MODEL_STRUCTURE, value, "a custom loss method returns the loss it wants,"
                            + " so @Model(reduction = ...) does not apply to it; reduce the terms in the method,"
                            + " e.g. sum(...) instead of mean(...)");
                }
                return reduction;
            }
        }
        error(DiagnosticIds.MODEL_STRUCTURE, value, "unknown reduction '" + value + "'; use one of "
                + choices("LossReduction.", Loss.Reduction.values()));
        return Loss.Reduction.MEAN;
    }

    /** Returns the loss's name as the message of a shape error uses it, e.g. "cross-entropy". */
    private static String lossText(Loss loss) {
        return switch (loss) {
            case CROSS_ENTROPY -> "cross-entropy";
            case SOFT_CROSS_ENTROPY -> "cross-entropy over class probabilities";
            case NLL -> "NLL loss";
            default -> loss.name();
        };
    }

    private List<Optimizer> optimizersOf(ClassOrInterfaceDeclaration model) {
        Expression value = model.getAnnotationByName("Model").map(a -> annotationValue(a, "optimizers")).orElse(null);
        if (value == null) {
            return List.of(Optimizer.ADAM, Optimizer.SGD);
        }
        NodeList<Expression> items = value instanceof ArrayInitializerExpr array ? array.getValues() : new NodeList<>(value);
        List<Optimizer> optimizers = new ArrayList<>();
        for (Expression item : items) {
            String name = lastName(item);
            Optimizer optimizer = null;
            for (Optimizer candidate : Optimizer.values()) {
                if (candidate.name().equals(name)) {
                    optimizer = candidate;
                }
            }
            if (optimizer == null) {
                error(DiagnosticIds.MODEL_STRUCTURE, item, "unknown optimizer '" + item + "'; use one of "
                        + choices("OptimizerKind.", Optimizer.values()));
            } else if (optimizers.contains(optimizer)) {
                error(DiagnosticIds.MODEL_STRUCTURE, item, "optimizer '" + item + "' is listed twice; list each"
                        + " optimizer once");
            } else {
                optimizers.add(optimizer);
            }
        }
        return optimizers;
    }

    private static String choices(String prefix, Enum<?>[] values) {
        StringJoiner joined = new StringJoiner(", ");
        for (Enum<?> value : values) {
            joined.add(prefix + value.name());
        }
        return joined.toString();
    }

    private static String lastName(Expression expression) {
        String text = expression.toString();
        return text.substring(text.lastIndexOf('.') + 1);
    }

    // ---- shared with the instantiator and interpreter --------------------------------------

    GraphBuilder graph() {
        return graph;
    }

    /** Methods being inlined, innermost first, for detecting recursion. */
    java.util.Deque<MethodDeclaration> callStack() {
        return callStack;
    }

    /** Counts one unrolled loop iteration and returns the count so far for this model. */
    int countUnrolledIteration() {
        return ++unrolledIterations;
    }

    SourceResolver resolver() {
        return resolver;
    }

    /** Registers a layer's parameters in checkpoint order. */
    void registerLinear(LinearLayer layer, Node where) {
        if (!paramNames.add(layer.weightName())) {
            error(DiagnosticIds.FIELD, where, "two layers are both named '" + layer.path()
                    + "'; give each layer its own field");
            return;
        }
        params.add(new ModelSpec.ParamSpec(layer.weightName(), Shape.of(layer.out(), layer.in()), layer.in()));
        if (layer.bias()) {
            paramNames.add(layer.biasName());
            params.add(new ModelSpec.ParamSpec(layer.biasName(), Shape.of(layer.out()), layer.in()));
        }
    }

    /** Registers the parameters of the layer at field {@code path}; a name taken twice is an error. */
    void registerParams(List<ModelSpec.ParamSpec> specs, String path, Node where) {
        for (ModelSpec.ParamSpec spec : specs) {
            if (!paramNames.add(spec.name())) {
                error(DiagnosticIds.FIELD, where, "two layers are both named '" + path + "'; give each layer its own field");
                return;
            }
            params.add(spec);
        }
    }

    /** Returns the number of errors reported so far. */
    int errorCount() {
        return diagnostics.size();
    }

    void error(String id, Node where, String message) {
        int line = where.getBegin().map(p -> p.line).orElse(0);
        int column = where.getBegin().map(p -> p.column).orElse(0);
        diagnostics.add(new Diagnostic(id, message, line, column));
    }

    static String origin(Node where) {
        return where.getBegin().map(p -> "line " + p.line).orElse(null);
    }

    /** Returns the fields of a class that are declared {@code static final}. */
    static List<VariableDeclarator> staticConstants(ClassOrInterfaceDeclaration type) {
        List<VariableDeclarator> out = new ArrayList<>();
        for (FieldDeclaration field : type.getFields()) {
            if (field.isStatic() && field.isFinal()) {
                out.addAll(field.getVariables());
            }
        }
        return out;
    }

    static Optional<ConstructorDeclaration> constructor(ClassOrInterfaceDeclaration type, int arity) {
        return type.getConstructors().stream().filter(c -> c.getParameters().size() == arity).findFirst();
    }
}
