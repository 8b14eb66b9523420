package dev.kiln.runtime.testing;

import dev.kiln.ir.DType;
import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.Loss;
import dev.kiln.ir.ModelSpec;
import dev.kiln.ir.ModelSpec.ParamSpec;
import dev.kiln.ir.Node;
import dev.kiln.ir.Optimizer;
import dev.kiln.ir.ParamInit;
import dev.kiln.ir.Shape;
import java.util.ArrayList;
import java.util.List;

/**
 * Differently shaped test models, built as graph IR the way the frontend would build them from
 * a model class. Every model has one input {@code x} and compiles both optimizers unless stated.
 */
public final class TestModels {
    private TestModels() {
    }

    /** Activation applied after a single linear layer in {@link #singleLayer}. */
    public enum Activation {
        IDENTITY, TANH, SIGMOID
    }

    /**
     * The reference MLP: tanh(fc1 13->20), then one fc2 20->20 applied nine times with tanh (tied
     * weights), then fc3 20->3; cross-entropy.
     */
    public static ModelSpec referenceMlp() {
        Layers layers = new Layers("forward");
        Node x = layers.input(13);
        Node h = layers.b.tanh(layers.linear("fc1", x, 13, 20, true));
        for (int i = 0; i < 9; i++) {
            h = layers.b.tanh(layers.linear("fc2", h, 20, 20, true));
        }
        return layers.finish("ReferenceMlp", layers.linear("fc3", h, 20, 3, true), Loss.CROSS_ENTROPY);
    }

    /**
     * relu(fc1 96->160), tanh(fc2 160->72), fc3 72->10; cross-entropy. Its products at a batch of
     * a few hundred are large enough for the thread pool: fc1 and fc2 take the packed kernel,
     * fc3 a specialized rows kernel, and the weight gradients split both rows and columns.
     */
    public static ModelSpec wideMlp() {
        Layers layers = new Layers("forward");
        Node x = layers.input(96);
        Node h = layers.b.relu(layers.linear("fc1", x, 96, 160, true));
        h = layers.b.tanh(layers.linear("fc2", h, 160, 72, true));
        return layers.finish("WideMlp", layers.linear("fc3", h, 72, 10, true), Loss.CROSS_ENTROPY);
    }

    /**
     * tanh(fc1 12->20), tanh(fc2 20->10), relu(fc3 10->16), fc4 16->3 with cross-entropy: layers
     * that narrow and widen, so a layer's output may be planned over its input at another width.
     */
    public static ModelSpec narrowingMlp() {
        Layers layers = new Layers("forward");
        Node x = layers.input(12);
        Node h = layers.b.tanh(layers.linear("fc1", x, 12, 20, true));
        h = layers.b.tanh(layers.linear("fc2", h, 20, 10, true));
        h = layers.b.relu(layers.linear("fc3", h, 10, 16, true));
        return layers.finish("NarrowingMlp", layers.linear("fc4", h, 16, 3, true), Loss.CROSS_ENTROPY);
    }

    /**
     * A residual block: h1 = tanh(fc1 x), h2 = h1 + tanh(fc2 h1), out = fc3 h2 with 4 inputs and
     * 3 classes. The tensor h1 is read twice (fan-out), and fc3.weight is [3, 4].
     */
    public static ModelSpec residual() {
        Layers layers = new Layers("forward");
        Node x = layers.input(4);
        Node h1 = layers.b.tanh(layers.linear("fc1", x, 4, 4, true));
        Node h2 = layers.b.add(h1, layers.b.tanh(layers.linear("fc2", h1, 4, 4, true)));
        return layers.finish("Residual", layers.linear("fc3", h2, 4, 3, true), Loss.CROSS_ENTROPY);
    }

    /** relu(fc1 5->8), sigmoid(fc2 8->6), fc3 6->2; mean squared error on 2 outputs. */
    public static ModelSpec reluSigmoidRegression() {
        Layers layers = new Layers("forward");
        Node x = layers.input(5);
        Node h = layers.b.relu(layers.linear("fc1", x, 5, 8, true));
        h = layers.b.sigmoid(layers.linear("fc2", h, 8, 6, true));
        return layers.finish("ReluSigmoidRegression", layers.linear("fc3", h, 6, 2, true), Loss.MSE);
    }

    /** tanh(fc1 6->5) where fc1 has no bias, then fc2 5->3 with a bias; cross-entropy. */
    public static ModelSpec biasFree() {
        Layers layers = new Layers("forward");
        Node x = layers.input(6);
        Node h = layers.b.tanh(layers.linear("fc1", x, 6, 5, false));
        return layers.finish("BiasFree", layers.linear("fc2", h, 5, 3, true), Loss.CROSS_ENTROPY);
    }

    /**
     * A loop that runs zero times: fc1 13->3 is the whole forward pass, while fc2 3->3 is a
     * declared layer that the loop would have applied. Its parameters are in the model but not in
     * the forward graph, so their gradients are zero.
     */
    public static ModelSpec zeroTripLoop() {
        Layers layers = new Layers("forward");
        Node x = layers.input(13);
        Node out = layers.linear("fc1", x, 13, 3, true);
        layers.declare("fc2", 3, 3, true);
        return layers.finish("ZeroTripLoop", out, Loss.CROSS_ENTROPY);
    }

    /**
     * One linear layer {@code width -> width} followed by an activation, for special values: with
     * the weight set to the identity and the bias to zero, the output is activation(x).
     *
     * @param optimizers the optimizers to compile into the library
     */
    public static ModelSpec singleLayer(String name, int width, Activation activation, Loss loss,
                                        List<Optimizer> optimizers) {
        Layers layers = new Layers("forward");
        Node x = layers.input(width);
        Node y = layers.linear("fc", x, width, width, true);
        y = switch (activation) {
            case IDENTITY -> y;
            case TANH -> layers.b.tanh(y);
            case SIGMOID -> layers.b.sigmoid(y);
        };
        return new ModelSpec(name, finishGraph(layers, y), layers.params, loss, optimizers);
    }

    /**
     * Layout ops and batched matmul: x [B, 24] is reshaped to [B, 4, 6], a linear layer 6->5
     * runs on each of the 4 rows (a batched matmul with a shared weight), the result is
     * transposed to [B, 5, 4] and multiplied by its own transpose, the maximum over the last
     * axis is joined with every fourth input feature, and fc 11->3 gives the classes.
     */
    public static ModelSpec layoutMixer() {
        Layers layers = new Layers("forward");
        GraphBuilder b = layers.b;
        Node x = layers.input(24);
        Node rows = b.reshape(x, Shape.batched(4, 6));
        Node h = b.tanh(layers.linear("rows", rows, 6, 5, true));
        Node t = b.transpose(h, 1, 2);
        Node gram = b.matmul(t, t, false, true);
        Node max = b.reduce(GraphBuilder.Reduction.MAX, gram, new int[] {2}, false);
        Node features = b.concat(1, List.of(max, b.slice(x, 1, 0, 24, 4)));
        return layers.finish("LayoutMixer", layers.linear("fc", features, 11, 3, true), Loss.CROSS_ENTROPY);
    }

    /**
     * Reductions over chosen axes: x [B, 12] as [B, 3, 4] gives a sum over axis 1 kept as
     * [B, 1, 4], a mean over axis 2, a minimum over axis 1 and a logsumexp over axis 2, which are
     * flattened, joined and mapped by fc 14->2; mean squared error.
     */
    public static ModelSpec reductionMixer() {
        Layers layers = new Layers("forward");
        GraphBuilder b = layers.b;
        Node x = layers.input(12);
        Node r = b.reshape(b.tanh(layers.linear("in", x, 12, 12, true)), Shape.batched(3, 4));
        Node sum = b.reshape(b.reduce(GraphBuilder.Reduction.SUM, r, new int[] {1}, true), Shape.batched(4));
        Node mean = b.reduce(GraphBuilder.Reduction.MEAN, r, new int[] {2}, false);
        Node min = b.reduce(GraphBuilder.Reduction.MIN, r, new int[] {1}, false);
        Node lse = b.reduce(GraphBuilder.Reduction.LOGSUMEXP, r, new int[] {-1}, false);
        Node features = b.concat(1, List.of(sum, mean, min, lse));
        return layers.finish("ReductionMixer", layers.linear("fc", features, 14, 2, true), Loss.MSE);
    }

    /**
     * Layer normalization: fc 12->12, then x as [B, 3, 4] normalized over its last axis by
     * LayerNorm(4), then tanh, flattened and normalized again by LayerNorm(12) with eps 1e-3
     * before fc 12->3; cross-entropy. Both norms start at weight 1 and bias 0.
     */
    public static ModelSpec layerNormMixer() {
        Layers layers = new Layers("forward");
        GraphBuilder b = layers.b;
        Node x = layers.input(12);
        Node rows = b.reshape(layers.linear("in", x, 12, 12, true), Shape.batched(3, 4));
        Node h = b.reshape(b.tanh(layers.layerNorm("norm1", rows, 4, 1e-5)), Shape.batched(12));
        Node out = layers.linear("fc", layers.layerNorm("norm2", h, 12, 1e-3), 12, 3, true);
        return layers.finish("LayerNormMixer", out, Loss.CROSS_ENTROPY);
    }

    /**
     * Embedding lookup: x [B, 5] contains row indices of Embedding(200, 8), giving [B, 5, 8], then
     * tanh, flattened to [B, 40], and fc 40->3; cross-entropy. Inputs must be integers in [0, 200).
     */
    public static ModelSpec embeddingBag() {
        Layers layers = new Layers("forward");
        GraphBuilder b = layers.b;
        Node x = layers.input(5);
        Node table = layers.param(new ParamSpec("emb.weight", Shape.of(200, 8), 8, ParamInit.NORMAL));
        Node h = b.reshape(b.tanh(b.embedding(table, x)), Shape.batched(40));
        return layers.finish("EmbeddingBag", layers.linear("fc", h, 40, 3, true), Loss.CROSS_ENTROPY);
    }

    /**
     * Dropout whose mask shows in the gradients: out = dropout(x * w, p) with x [B, width] and
     * w [width]; mean squared error. For one sample with target 0, d loss / d w[j] is
     * 2 / width * m[j]^2 x[j]^2 w[j] with m[j] the mask value, 0 or 1/(1-p).
     */
    public static ModelSpec dropoutProbe(String name, int width, double p) {
        Layers layers = new Layers("forward");
        GraphBuilder b = layers.b;
        Node x = layers.input(width);
        Node w = layers.param(new ParamSpec("w", Shape.of(width), width));
        return layers.finish(name, b.dropout(b.mul(x, w), p, 0), Loss.MSE);
    }

    /**
     * Two dropout layers in an MLP: fc1 6->16, tanh, dropout 0.25, fc2 16->16, tanh, dropout 0.5,
     * fc3 16->3; cross-entropy. Each dropout draws its own mask stream.
     */
    public static ModelSpec dropoutMlp() {
        Layers layers = new Layers("forward");
        GraphBuilder b = layers.b;
        Node x = layers.input(6);
        Node h = b.dropout(b.tanh(layers.linear("fc1", x, 6, 16, true)), 0.25, 0);
        h = b.dropout(b.tanh(layers.linear("fc2", h, 16, 16, true)), 0.5, 1);
        return layers.finish("DropoutMlp", layers.linear("fc3", h, 16, 3, true), Loss.CROSS_ENTROPY);
    }

    /** Returns the models that every native-versus-reference check runs on. */
    public static List<ModelSpec> all() {
        return List.of(referenceMlp(), residual(), reluSigmoidRegression(), biasFree(), zeroTripLoop(),
                layoutMixer(), reductionMixer(), layerNormMixer());
    }

    private static dev.kiln.ir.Graph finishGraph(Layers layers, Node output) {
        layers.b.output("output", output);
        return layers.b.build();
    }

    /** Builds linear layers with PyTorch's state-dict names and records their parameters. */
    private static final class Layers {
        final GraphBuilder b;
        final List<ParamSpec> params = new ArrayList<>();

        Layers(String graphName) {
            b = new GraphBuilder(graphName);
        }

        Node input(int width) {
            return b.input("x", Shape.batched(width), DType.F32);
        }

        /** Applies layer {@code name}, declaring its parameters on first use so reuse ties them. */
        Node linear(String name, Node x, int in, int out, boolean bias) {
            declare(name, in, out, bias);
            Node weight = b.param(name + ".weight", Shape.of(out, in));
            Node product = b.matmul(x, weight, false, true);
            return bias ? b.add(product, b.param(name + ".bias", Shape.of(out))) : product;
        }

        /** Applies LayerNorm(width, eps) over the last axis with parameters {@code name.weight} and {@code name.bias}. */
        Node layerNorm(String name, Node x, int width, double eps) {
            Node weight = param(new ParamSpec(name + ".weight", Shape.of(width), width, ParamInit.ONES));
            Node bias = param(new ParamSpec(name + ".bias", Shape.of(width), width, ParamInit.ZEROS));
            return b.layerNorm(x, weight, bias, eps);
        }

        /** Declares a parameter on first use and returns its leaf. */
        Node param(ParamSpec spec) {
            if (params.stream().noneMatch(p -> p.name().equals(spec.name()))) {
                params.add(spec);
            }
            return b.param(spec.name(), spec.shape());
        }

        void declare(String name, int in, int out, boolean bias) {
            String weight = name + ".weight";
            if (params.stream().anyMatch(p -> p.name().equals(weight))) {
                return;
            }
            params.add(new ParamSpec(weight, Shape.of(out, in), in));
            if (bias) {
                params.add(new ParamSpec(name + ".bias", Shape.of(out), in));
            }
        }

        ModelSpec finish(String modelName, Node output, Loss loss) {
            return new ModelSpec(modelName, finishGraph(this, output), params, loss,
                    List.of(Optimizer.ADAM, Optimizer.SGD));
        }
    }
}
