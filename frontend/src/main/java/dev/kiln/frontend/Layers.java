package dev.kiln.frontend;

import com.github.javaparser.ast.Node;
import com.github.javaparser.ast.expr.MethodCallExpr;
import com.github.javaparser.ast.expr.ObjectCreationExpr;
import dev.kiln.frontend.Values.DoubleValue;
import dev.kiln.frontend.Values.IntValue;
import dev.kiln.frontend.Values.Poison;
import dev.kiln.frontend.Values.TensorValue;
import dev.kiln.ir.Dropout;
import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.ModelSpec.ParamSpec;
import dev.kiln.ir.ParamInit;
import dev.kiln.ir.Shape;
import java.util.List;

/**
 * The layers {@code LayerNorm}, {@code Embedding} and {@code Dropout} of a model class: their
 * creation from compile-time constants, their parameters with PyTorch's state-dict names and
 * initializations, and their application in {@code forward}.
 */
final class Layers {
    private Layers() {
    }

    /** A layer created by {@code new ...(...)} before it is bound to a field. */
    sealed interface NewLayer {
    }

    record NewLayerNorm(int normalizedShape, double eps) implements NewLayer {
    }

    record NewEmbedding(int numEmbeddings, int embeddingDim) implements NewLayer {
    }

    record NewDropout(double p) implements NewLayer {
    }

    /** A layer held by a field; {@code path} is the field's dotted name, the prefix of its parameters. */
    sealed interface Layer {
        String path();

        String describe();
    }

    /** Parameters {@code <path>.weight} (ones) and {@code <path>.bias} (zeros), both [n]. */
    record LayerNormLayer(String path, int normalizedShape, double eps) implements Layer {
        public String describe() {
            return "LayerNorm(" + normalizedShape + ", " + eps + ")";
        }
    }

    /** Parameter {@code <path>.weight}, [num, dim], standard normal. */
    record EmbeddingLayer(String path, int numEmbeddings, int embeddingDim) implements Layer {
        public String describe() {
            return "Embedding(" + numEmbeddings + ", " + embeddingDim + ")";
        }
    }

    /** No parameters. */
    record DropoutLayer(String path, double p) implements Layer {
        public String describe() {
            return "Dropout(" + p + ")";
        }
    }

    // ---- creation --------------------------------------------------------------------------

    /**
     * Evaluates {@code new LayerNorm(...)}, {@code new Embedding(...)} or {@code new Dropout(...)}.
     * Returns {@code null} for any other type, and {@link Poison} after reporting bad arguments.
     */
    static Object create(ModelTranslator translator, ObjectCreationExpr creation, String type, List<Object> args) {
        return switch (type) {
            case "LayerNorm" -> createLayerNorm(translator, creation, args);
            case "Embedding" -> createEmbedding(translator, creation, args);
            case "Dropout" -> createDropout(translator, creation, args);
            default -> null;
        };
    }

    private static Object createLayerNorm(ModelTranslator translator, ObjectCreationExpr creation, List<Object> args) {
        Double eps = args.size() == 2 ? number(args.get(1)) : Double.valueOf(dev.kiln.nn.LayerNorm.DEFAULT_EPS);
        if ((args.size() != 1 && args.size() != 2) || !(args.get(0) instanceof IntValue n) || eps == null) {
            return invalid(translator, creation, "needs compile-time constant arguments:"
                    + " new LayerNorm(normalizedShape) or new LayerNorm(normalizedShape, eps)");
        }
        if (n.value() <= 0) {
            return invalid(translator, creation, "needs a positive normalized shape, got " + n.value());
        }
        if (!(eps >= 0) || eps.isInfinite()) {
            return invalid(translator, creation, "needs a finite eps >= 0, got " + eps);
        }
        return new NewLayerNorm(Math.toIntExact(n.value()), eps);
    }

    private static Object createEmbedding(ModelTranslator translator, ObjectCreationExpr creation, List<Object> args) {
        if (args.size() != 2 || !(args.get(0) instanceof IntValue num) || !(args.get(1) instanceof IntValue dim)) {
            return invalid(translator, creation, "needs compile-time constant arguments:"
                    + " new Embedding(numEmbeddings, embeddingDim)");
        }
        if (num.value() <= 0 || dim.value() <= 0) {
            return invalid(translator, creation, "needs positive sizes, got numEmbeddings=" + num.value()
                    + " and embeddingDim=" + dim.value());
        }
        return new NewEmbedding(Math.toIntExact(num.value()), Math.toIntExact(dim.value()));
    }

    private static Object createDropout(ModelTranslator translator, ObjectCreationExpr creation, List<Object> args) {
        Double p = args.isEmpty() ? Double.valueOf(0.5) : args.size() == 1 ? number(args.get(0)) : null;
        if (p == null) {
            return invalid(translator, creation, "needs a compile-time constant probability: new Dropout(p)");
        }
        if (!(p >= 0 && p <= 1)) {
            return invalid(translator, creation, "has dropout probability " + p
                    + ", outside [0, 1]; pass the probability of zeroing an element, such as new Dropout(0.1)");
        }
        return new NewDropout(p);
    }

    private static Double number(Object value) {
        return switch (value) {
            case IntValue i -> (double) i.value();
            case DoubleValue d -> d.value();
            default -> null;
        };
    }

    private static Object invalid(ModelTranslator translator, ObjectCreationExpr creation, String why) {
        translator.error(DiagnosticIds.FIELD, creation, "'" + creation + "' " + why);
        return Poison.INSTANCE;
    }

    // ---- fields ----------------------------------------------------------------------------

    /** Binds a new layer to the field {@code path} and registers its parameters. */
    static Layer register(ModelTranslator translator, String path, NewLayer layer, Node where) {
        return switch (layer) {
            case NewLayerNorm norm -> {
                Shape shape = Shape.of(norm.normalizedShape());
                translator.registerParams(List.of(
                        new ParamSpec(path + ".weight", shape, norm.normalizedShape(), ParamInit.ONES),
                        new ParamSpec(path + ".bias", shape, norm.normalizedShape(), ParamInit.ZEROS)), path, where);
                yield new LayerNormLayer(path, norm.normalizedShape(), norm.eps());
            }
            case NewEmbedding embedding -> {
                Shape shape = Shape.of(embedding.numEmbeddings(), embedding.embeddingDim());
                translator.registerParams(List.of(
                        new ParamSpec(path + ".weight", shape, embedding.embeddingDim(), ParamInit.NORMAL)), path, where);
                yield new EmbeddingLayer(path, embedding.numEmbeddings(), embedding.embeddingDim());
            }
            case NewDropout dropout -> new DropoutLayer(path, dropout.p());
        };
    }

    // ---- application -----------------------------------------------------------------------

    /** Evaluates {@code layer.apply(x)} (or {@code layer.forward(x)}) into the forward graph. */
    static Object apply(Interpreter interpreter, ModelTranslator translator, MethodCallExpr call, Layer layer,
                        String method, List<Object> args) {
        if (!(method.equals("apply") || method.equals("forward")) || args.size() != 1
                || !(args.get(0) instanceof TensorValue input)) {
            return interpreter.unknownMethod(call, "a " + layer.getClass().getSimpleName().replace("Layer", "")
                    + " layer is used as 'layer.apply(x)' with one tensor");
        }
        GraphBuilder g = interpreter.graph();
        Shape shape = input.node().shape();
        return switch (layer) {
            case LayerNormLayer norm -> {
                if (shape.rank() < 2 || shape.last() != norm.normalizedShape()) {
                    yield shapeError(translator, call, norm, shape, "[B, ..., " + norm.normalizedShape() + "]");
                }
                Shape paramShape = Shape.of(norm.normalizedShape());
                yield new TensorValue(g.layerNorm(input.node(), g.param(norm.path() + ".weight", paramShape),
                        g.param(norm.path() + ".bias", paramShape), norm.eps()));
            }
            case EmbeddingLayer embedding -> {
                if (shape.rank() < 1 || shape.rank() > 2 || !shape.isBatched()) {
                    yield shapeError(translator, call, embedding, shape, "[B] or [B, L] of integer indices");
                }
                Shape table = Shape.of(embedding.numEmbeddings(), embedding.embeddingDim());
                yield new TensorValue(g.embedding(g.param(embedding.path() + ".weight", table), input.node()));
            }
            case DropoutLayer dropout -> new TensorValue(g.dropout(input.node(), dropout.p(), nextStream(g)));
        };
    }

    /** Returns a mask stream that no dropout of the graph uses yet, so each application draws its own mask. */
    private static int nextStream(GraphBuilder g) {
        int next = 0;
        for (dev.kiln.ir.Node node : g.nodes()) {
            if (node.op() instanceof Dropout dropout) {
                next = Math.max(next, dropout.stream() + 1);
            }
        }
        return next;
    }

    private static Object shapeError(ModelTranslator translator, MethodCallExpr call, Layer layer, Shape actual,
                                     String expected) {
        translator.error(DiagnosticIds.SHAPE, call, "layer '" + layer.path() + "' is " + layer.describe()
                + " and takes inputs of shape " + expected + ", but '" + call.getArgument(0) + "' has shape " + actual);
        return Poison.INSTANCE;
    }
}
