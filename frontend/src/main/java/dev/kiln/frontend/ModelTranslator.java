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
        if (forward.getParameters().size() != 1) {
            error(DiagnosticIds.MODEL_STRUCTURE, forward, "forward takes " + forward.getParameters().size()
                    + " parameters; a compiled model takes exactly one input, 'forward(@Shape(...) Tensor x)'");
            return Optional.empty();
        }
        Parameter input = forward.getParameter(0);
        if (!input.getTypeAsString().equals("Tensor")) {
            error(DiagnosticIds.MODEL_STRUCTURE, input, "the parameter of forward has type " + input.getTypeAsString()
                    + "; declare it as '@Shape(...) Tensor " + input.getNameAsString() + "'");
            return Optional.empty();
        }
        int[] sampleShape = shapeOf(input, root);
        if (sampleShape == null) {
            return Optional.empty();
        }
        graph.origin(origin(input));
        dev.kiln.ir.Node x = graph.input(input.getNameAsString(), Shape.batched(sampleShape), DType.F32);
        Object result = new Interpreter(this, root).call(forward, List.of(new TensorValue(x)), forward);
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
        if (loss == Loss.CROSS_ENTROPY && tensor.node().shape().rank() != 2) {
            error(DiagnosticIds.SHAPE, forward, "cross-entropy needs forward to return class scores of shape [B, classes], got "
                    + tensor.node().shape());
            return Optional.empty();
        }
        graph.output("output", tensor.node());
        if (!diagnostics.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(new ModelSpec(model.getNameAsString(), graph.build(), params, loss, optimizersOf(model)));
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
        return switch (name) {
            case "CROSS_ENTROPY" -> Loss.CROSS_ENTROPY;
            case "MSE" -> Loss.MSE;
            default -> {
                error(DiagnosticIds.MODEL_STRUCTURE, value, "unknown loss '" + value + "'; use LossKind.CROSS_ENTROPY or LossKind.MSE");
                yield Loss.CROSS_ENTROPY;
            }
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
            switch (lastName(item)) {
                case "ADAM" -> optimizers.add(Optimizer.ADAM);
                case "SGD" -> optimizers.add(Optimizer.SGD);
                default -> error(DiagnosticIds.MODEL_STRUCTURE, item, "unknown optimizer '" + item
                        + "'; use OptimizerKind.ADAM or OptimizerKind.SGD");
            }
        }
        return optimizers;
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
