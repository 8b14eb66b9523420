package dev.kiln.ir.oracle;

import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.GraphBuilder.Reduction;
import dev.kiln.ir.Loss;
import dev.kiln.ir.Node;
import dev.kiln.ir.Shape;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiFunction;

/**
 * The Kiln side of the oracle table in {@code tools/oracle/op_reference.py}: for each op name,
 * how to build the op with {@link GraphBuilder} from a fixture variant's attributes and the
 * operand nodes. Adding an op to the oracle is one entry there and one entry here.
 */
public final class OracleOps {
    private OracleOps() {
    }

    /** Builds an op's output node from its attributes and operands. */
    @FunctionalInterface
    public interface Builder {
        Node build(GraphBuilder b, OracleFixture.Variant variant, List<Node> operands);
    }

    private static Builder unary(BiFunction<GraphBuilder, Node, Node> op) {
        return (b, variant, in) -> op.apply(b, in.getFirst());
    }

    private static Builder binary(Function3 op) {
        return (b, variant, in) -> op.apply(b, in.get(0), in.get(1));
    }

    @FunctionalInterface
    private interface Function3 {
        Node apply(GraphBuilder b, Node first, Node second);
    }

    private static Builder loss(Loss loss) {
        return (b, variant, in) -> loss.build(b, in.get(0), in.get(1));
    }

    private static Builder reduction(Reduction kind) {
        return (b, v, in) -> b.reduce(kind, in.getFirst(), v.extents("axes"), v.flag("keepdim"));
    }

    /**
     * Returns the fixture's target shape for {@code x}. PyTorch's shape has the case's batch size
     * at axis 0, where Kiln's shape of a batched operand has the batch axis.
     */
    private static Shape target(OracleFixture.Variant variant, Node x) {
        int[] extents = variant.extents("shape");
        if (x.shape().isBatched()) {
            extents[0] = Shape.BATCH;
        }
        return Shape.of(extents);
    }

    private static Builder matmul() {
        return (b, v, in) -> b.matmul(in.get(0), in.get(1), v.flag("transpose_a"), v.flag("transpose_b"));
    }

    private static final Map<String, Builder> TABLE = Map.ofEntries(
            Map.entry("neg", unary(GraphBuilder::neg)),
            Map.entry("exp", unary(GraphBuilder::exp)),
            Map.entry("log", unary(GraphBuilder::log)),
            Map.entry("log1p", unary(GraphBuilder::log1p)),
            Map.entry("sqrt", unary(GraphBuilder::sqrt)),
            Map.entry("rsqrt", unary(GraphBuilder::rsqrt)),
            Map.entry("abs", unary(GraphBuilder::abs)),
            Map.entry("sign", unary(GraphBuilder::sign)),
            Map.entry("sin", unary(GraphBuilder::sin)),
            Map.entry("cos", unary(GraphBuilder::cos)),
            Map.entry("square", unary(GraphBuilder::square)),
            Map.entry("reciprocal", unary(GraphBuilder::reciprocal)),
            Map.entry("erf", unary(GraphBuilder::erf)),
            Map.entry("tanh", unary(GraphBuilder::tanh)),
            Map.entry("sigmoid", unary(GraphBuilder::sigmoid)),
            Map.entry("relu", unary(GraphBuilder::relu)),
            Map.entry("leaky_relu", (b, v, in) -> b.leakyRelu(in.getFirst(), v.number("alpha"))),
            Map.entry("elu", (b, v, in) -> b.elu(in.getFirst(), v.number("alpha"))),
            Map.entry("gelu", unary(GraphBuilder::gelu)),
            Map.entry("gelu_tanh", unary(GraphBuilder::geluTanh)),
            Map.entry("softplus", unary(GraphBuilder::softplus)),
            Map.entry("silu", unary(GraphBuilder::silu)),
            Map.entry("step", unary(GraphBuilder::step)),
            Map.entry("add", binary(GraphBuilder::add)),
            Map.entry("sub", binary(GraphBuilder::sub)),
            Map.entry("mul", binary(GraphBuilder::mul)),
            Map.entry("div", binary(GraphBuilder::div)),
            Map.entry("pow", binary(GraphBuilder::pow)),
            Map.entry("pow_scalar", (b, v, in) -> b.pow(in.getFirst(), b.constant(v.number("exponent")))),
            Map.entry("maximum", binary(GraphBuilder::maximum)),
            Map.entry("minimum", binary(GraphBuilder::minimum)),
            Map.entry("eq", binary(GraphBuilder::eq)),
            Map.entry("ne", binary(GraphBuilder::ne)),
            Map.entry("gt", binary(GraphBuilder::gt)),
            Map.entry("ge", binary(GraphBuilder::ge)),
            Map.entry("lt", binary(GraphBuilder::lt)),
            Map.entry("le", binary(GraphBuilder::le)),
            Map.entry("clamp", (b, v, in) -> b.clamp(in.get(0), in.get(1), in.get(2))),
            Map.entry("clamp_scalar", (b, v, in) -> b.clamp(in.getFirst(), v.number("low"), v.number("high"))),
            Map.entry("where", (b, v, in) -> b.where(in.get(0), in.get(1), in.get(2))),
            Map.entry("matmul", matmul()),
            // Rank-3 operands, or one rank-3 and one shared rank-2 operand.
            Map.entry("batched_matmul", matmul()),
            Map.entry("sum", unary(GraphBuilder::sum)),
            // Kiln has no mean op: a mean is built as a sum divided by the element count, as the losses do.
            Map.entry("mean", unary((b, x) -> b.div(b.sum(x), b.constant(x.shape().staticElements())))),
            Map.entry("sum_to", (b, v, in) -> b.sumTo(in.getFirst(), Shape.of(v.extents("shape")))),
            Map.entry("broadcast_to", (b, v, in) -> b.broadcastTo(in.getFirst(), Shape.of(v.extents("shape")))),
            Map.entry("softmax", unary(GraphBuilder::softmax)),
            Map.entry("log_softmax", unary(GraphBuilder::logSoftmax)),
            Map.entry("row_sum", unary(GraphBuilder::rowSum)),
            Map.entry("mse", loss(Loss.MSE)),
            Map.entry("l1", loss(Loss.L1)),
            Map.entry("huber", loss(Loss.HUBER)),
            Map.entry("bce_with_logits", loss(Loss.BCE_WITH_LOGITS)),
            Map.entry("cross_entropy", loss(Loss.CROSS_ENTROPY)),
            Map.entry("soft_cross_entropy", loss(Loss.SOFT_CROSS_ENTROPY)),
            Map.entry("nll", loss(Loss.NLL)),
            Map.entry("stop_gradient", unary(GraphBuilder::stopGradient)),
            Map.entry("permute", (b, v, in) -> b.permute(in.getFirst(), v.extents("axes"))),
            Map.entry("transpose", (b, v, in) -> b.transpose(in.getFirst(), v.extents("dims")[0],
                    v.extents("dims")[1])),
            Map.entry("reshape", (b, v, in) -> b.reshape(in.getFirst(), target(v, in.getFirst()))),
            Map.entry("slice", (b, v, in) -> b.slice(in.getFirst(), v.integer("axis"), v.integer("start"),
                    v.integer("stop"), v.integer("step"))),
            Map.entry("concat", (b, v, in) -> b.concat(v.integer("axis"), in)),
            Map.entry("sum_dim", reduction(Reduction.SUM)),
            Map.entry("mean_dim", reduction(Reduction.MEAN)),
            Map.entry("amax", reduction(Reduction.MAX)),
            Map.entry("amin", reduction(Reduction.MIN)),
            Map.entry("logsumexp", reduction(Reduction.LOGSUMEXP)),
            Map.entry("max_to", (b, v, in) -> b.maxTo(in.getFirst(), target(v, in.getFirst()))),
            Map.entry("min_to", (b, v, in) -> b.minTo(in.getFirst(), target(v, in.getFirst()))));

    /** Returns the builder of {@code op}, failing with the op's name when the table lacks it. */
    public static Builder builder(String op) {
        Builder builder = TABLE.get(op);
        if (builder == null) {
            throw new IllegalArgumentException("the oracle has fixtures for op '" + op
                    + "' but OracleOps has no entry for it; add one that builds the op with GraphBuilder");
        }
        return builder;
    }

    /** Returns the names of every op in the table. */
    public static Set<String> names() {
        return TABLE.keySet();
    }
}
