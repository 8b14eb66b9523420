package dev.kiln.frontend;

import com.github.javaparser.ast.expr.MethodCallExpr;
import dev.kiln.frontend.Values.DoubleValue;
import dev.kiln.frontend.Values.IntValue;
import dev.kiln.frontend.Values.Poison;
import dev.kiln.frontend.Values.TensorValue;
import dev.kiln.ir.Autodiff;
import dev.kiln.ir.Elementwise;
import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.Node;
import dev.kiln.ir.ShapeException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The ops of {@code dev.kiln.nn.Functional} as the frontend maps them to IR: one row per op name,
 * so adding an op to the model language is one row here and one method in {@code Functional}.
 * Numbers given where a tensor is expected become scalar constants.
 */
final class Ops {
    private Ops() {
    }

    /** Builds an op's node from its operands, all tensors by then. */
    @FunctionalInterface
    private interface Build {
        Node apply(GraphBuilder g, Node[] operands);
    }

    /** One op: its name, operand count, and how many trailing operands are plain numbers. */
    private record Row(String name, int arity, int numberAttributes, Build build) {
    }

    private static final Map<String, Row> ROWS = new LinkedHashMap<>();

    private static void unary(String name, Elementwise op) {
        ROWS.put(name, new Row(name, 1, 0, (g, x) -> g.apply(op, x[0])));
    }

    private static void elementwise(String name, int arity, Elementwise op) {
        ROWS.put(name, new Row(name, arity, 0, (g, x) -> g.apply(op, x)));
    }

    static {
        unary("neg", Elementwise.NEG);
        unary("exp", Elementwise.EXP);
        unary("log", Elementwise.LOG);
        unary("log1p", Elementwise.LOG1P);
        unary("sqrt", Elementwise.SQRT);
        unary("rsqrt", Elementwise.RSQRT);
        unary("abs", Elementwise.ABS);
        unary("sign", Elementwise.SIGN);
        unary("sin", Elementwise.SIN);
        unary("cos", Elementwise.COS);
        unary("square", Elementwise.SQUARE);
        unary("reciprocal", Elementwise.RECIPROCAL);
        unary("erf", Elementwise.ERF);
        unary("tanh", Elementwise.TANH);
        unary("sigmoid", Elementwise.SIGMOID);
        unary("relu", Elementwise.RELU);
        unary("gelu", Elementwise.GELU);
        unary("geluTanh", Elementwise.GELU_TANH);
        unary("softplus", Elementwise.SOFTPLUS);
        unary("silu", Elementwise.SILU);
        elementwise("add", 2, Elementwise.ADD);
        elementwise("sub", 2, Elementwise.SUB);
        elementwise("mul", 2, Elementwise.MUL);
        elementwise("div", 2, Elementwise.DIV);
        elementwise("pow", 2, Elementwise.POW);
        elementwise("maximum", 2, Elementwise.MAXIMUM);
        elementwise("minimum", 2, Elementwise.MINIMUM);
        elementwise("gt", 2, Elementwise.GT);
        elementwise("ge", 2, Elementwise.GE);
        elementwise("lt", 2, Elementwise.LT);
        elementwise("le", 2, Elementwise.LE);
        elementwise("eq", 2, Elementwise.EQ);
        elementwise("ne", 2, Elementwise.NE);
        elementwise("clamp", 3, Elementwise.CLAMP);
        elementwise("where", 3, Elementwise.WHERE);
        ROWS.put("leakyRelu", new Row("leakyRelu", 1, 1, null));
        ROWS.put("elu", new Row("elu", 1, 1, null));
        ROWS.put("sum", new Row("sum", 1, 0, (g, x) -> g.sum(x[0])));
        ROWS.put("mean", new Row("mean", 1, 0, Ops::mean));
        ROWS.put("softmax", new Row("softmax", 1, 0, (g, x) -> g.softmax(x[0])));
        ROWS.put("logSoftmax", new Row("logSoftmax", 1, 0, (g, x) -> g.logSoftmax(x[0])));
        // d(sum of y)/dx: for a function applied per sample, each output's derivative by its own input.
        ROWS.put("grad", new Row("grad", 2, 0, (g, x) -> Autodiff.grad(g, g.sum(x[0]), List.of(x[1])).get(0)));
    }

    /** Names of every op, for error messages. */
    static final List<String> NAMES = List.copyOf(ROWS.keySet());

    /** mean(x) = sum(x) / number of elements, where the batch axis counts B rows. */
    private static Node mean(GraphBuilder g, Node[] x) {
        Node sum = g.sum(x[0]);
        Node perRow = g.constant(x[0].shape().staticElements());
        return x[0].shape().isBatched() ? g.div(g.div(sum, g.batchSize()), perRow) : g.div(sum, perRow);
    }

    /** Applies op {@code name}, or returns {@code null} when no op has that name. */
    static Object apply(Interpreter interpreter, MethodCallExpr call, String name, List<Object> args) {
        Row row = ROWS.get(name);
        if (row == null) {
            return null;
        }
        if (args.size() != row.arity() + row.numberAttributes()) {
            return interpreter.unknownMethod(call, name + " takes " + (row.arity() + row.numberAttributes())
                    + " arguments, got " + args.size());
        }
        GraphBuilder g = interpreter.graph();
        if (row.numberAttributes() > 0) {
            Double attribute = number(args.get(1));
            if (!(args.get(0) instanceof TensorValue x) || attribute == null) {
                return interpreter.unknownMethod(call, name + " takes a tensor and a number");
            }
            Elementwise op = name.equals("elu") ? Elementwise.elu(attribute) : Elementwise.leakyRelu(attribute);
            return build(interpreter, call, () -> g.apply(op, x.node()));
        }
        List<Node> operands = new ArrayList<>();
        boolean anyTensor = false;
        for (Object arg : args) {
            if (arg instanceof TensorValue tensor) {
                operands.add(tensor.node());
                anyTensor = true;
            } else if (number(arg) != null) {
                operands.add(g.constant(number(arg)));
            } else {
                return interpreter.unknownMethod(call, name + " takes tensors or numbers, not '" + arg + "'");
            }
        }
        if (!anyTensor) {
            return interpreter.unknownMethod(call, name + " needs at least one tensor operand");
        }
        return build(interpreter, call, () -> row.build().apply(g, operands.toArray(Node[]::new)));
    }

    /** Applies a binary op named like a Tensor method, {@code a.add(b)}, with a tensor or number {@code b}. */
    static Object method(Interpreter interpreter, MethodCallExpr call, String name, TensorValue a, Object b) {
        return apply(interpreter, call, name, List.of(a, b));
    }

    private static Double number(Object value) {
        return switch (value) {
            case IntValue i -> (double) i.value();
            case DoubleValue d -> d.value();
            default -> null;
        };
    }

    private static Object build(Interpreter interpreter, MethodCallExpr call, java.util.function.Supplier<Node> build) {
        try {
            return new TensorValue(build.get());
        } catch (ShapeException e) {
            interpreter.shapeError(call, e);
            return Poison.INSTANCE;
        }
    }
}
