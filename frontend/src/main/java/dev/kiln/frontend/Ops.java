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

    /** Ops that take int or boolean attributes after their tensors: layout ops and reductions over an axis. */
    static final List<String> STRUCTURAL = List.of("sum", "mean", "amax", "amin", "logsumexp", "reshape", "flatten",
            "permute", "transpose", "slice", "narrow", "cat", "matmul");

    /** Names of every op, for error messages. */
    static final List<String> NAMES = java.util.stream.Stream.concat(ROWS.keySet().stream(), STRUCTURAL.stream())
            .distinct().toList();

    /** mean(x) = sum(x) / number of elements, where the batch axis counts B rows. */
    private static Node mean(GraphBuilder g, Node[] x) {
        Node sum = g.sum(x[0]);
        Node perRow = g.constant(x[0].shape().staticElements());
        return x[0].shape().isBatched() ? g.div(g.div(sum, g.batchSize()), perRow) : g.div(sum, perRow);
    }

    /** Applies op {@code name}, or returns {@code null} when no op has that name. */
    static Object apply(Interpreter interpreter, MethodCallExpr call, String name, List<Object> args) {
        if (STRUCTURAL.contains(name) && !((name.equals("sum") || name.equals("mean")) && args.size() == 1)) {
            return structural(interpreter, call, name, args);
        }
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

    /**
     * Layout ops and reductions over an axis. Axes count the batch axis as axis 0, as in PyTorch
     * where a batch of samples is axis 0; negative axes count from the end.
     */
    private static Object structural(Interpreter interpreter, MethodCallExpr call, String name, List<Object> args) {
        GraphBuilder g = interpreter.graph();
        List<Node> tensors = new ArrayList<>();
        List<Long> ints = new ArrayList<>();
        List<Boolean> flags = new ArrayList<>();
        for (Object arg : args) {
            boolean attributesStarted = !ints.isEmpty() || !flags.isEmpty();
            if (arg instanceof TensorValue t && (!attributesStarted || name.equals("cat") && flags.isEmpty())) {
                tensors.add(t.node());
            } else if (arg instanceof IntValue i && flags.isEmpty()) {
                ints.add(i.value());
            } else if (arg instanceof Values.BoolValue bool && flags.isEmpty()) {
                flags.add(bool.value());
            } else {
                return interpreter.unknownMethod(call, usage(name));
            }
        }
        Boolean flag = flags.isEmpty() ? null : flags.get(0);
        if (name.equals("cat")) {
            // cat(axis, a, b, ...): the axis comes first, since Java varargs come last.
            if (!(args.get(0) instanceof IntValue) || args.size() < 2 || flag != null
                    || ints.size() != 1 || tensors.size() != args.size() - 1) {
                return interpreter.unknownMethod(call, usage(name));
            }
        } else if (tensors.isEmpty()) {
            return interpreter.unknownMethod(call, usage(name));
        }
        int arguments = ints.size();
        boolean noFlag = flag == null;
        boolean fits = switch (name) {
            case "sum", "mean", "amax", "amin", "logsumexp" -> tensors.size() == 1 && arguments == 1;
            case "reshape" -> tensors.size() == 1 && arguments > 0 && noFlag;
            case "flatten" -> tensors.size() == 1 && arguments == 0 && noFlag;
            case "permute" -> tensors.size() == 1 && arguments == tensors.get(0).shape().rank() && noFlag;
            case "transpose" -> tensors.size() == 1 && arguments == 2 && noFlag;
            case "slice" -> tensors.size() == 1 && (arguments == 3 || arguments == 4) && noFlag;
            case "narrow" -> tensors.size() == 1 && arguments == 3 && noFlag;
            case "matmul" -> tensors.size() == 2 && arguments == 0 && noFlag;
            default -> true;
        };
        if (!fits) {
            return interpreter.unknownMethod(call, usage(name));
        }
        Node x = tensors.get(0);
        int rank = x.shape().rank();
        boolean keepdim = flag != null && flag;
        return build(interpreter, call, () -> switch (name) {
            case "sum", "mean", "amax", "amin", "logsumexp" -> {
                GraphBuilder.Reduction kind = switch (name) {
                    case "sum" -> GraphBuilder.Reduction.SUM;
                    case "mean" -> GraphBuilder.Reduction.MEAN;
                    case "amax" -> GraphBuilder.Reduction.MAX;
                    case "amin" -> GraphBuilder.Reduction.MIN;
                    default -> GraphBuilder.Reduction.LOGSUMEXP;
                };
                yield g.reduce(kind, x, new int[] {Math.toIntExact(ints.get(0))}, keepdim);
            }
            case "reshape" -> {
                yield g.reshape(x, reshapeTarget(x.shape(), ints));
            }
            case "flatten" -> {
                if (rank < 1) {
                    throw new dev.kiln.ir.ShapeException("flatten needs at least one axis, got a scalar");
                }
                int[] dims = {x.shape().dim(0), Math.toIntExact(x.shape().dropFirst().staticElements())};
                yield g.reshape(x, dev.kiln.ir.Shape.of(dims));
            }
            case "permute" -> {
                int[] axes = new int[rank];
                for (int i = 0; i < rank; i++) {
                    axes[i] = axis(ints.get(i), rank);
                }
                yield g.permute(x, axes);
            }
            case "transpose" -> {
                yield g.transpose(x, axis(ints.get(0), rank), axis(ints.get(1), rank));
            }
            case "slice", "narrow" -> {
                int axis = axis(ints.get(0), rank);
                int start = Math.toIntExact(ints.get(1));
                int stop = name.equals("narrow") ? start + Math.toIntExact(ints.get(2)) : Math.toIntExact(ints.get(2));
                int step = ints.size() == 4 ? Math.toIntExact(ints.get(3)) : 1;
                yield g.apply(new dev.kiln.ir.Layout.Slice(axis, start, stop, step), x);
            }
            case "cat" -> g.apply(new dev.kiln.ir.Layout.Concat(axis(ints.get(0), rank)), tensors.toArray(Node[]::new));
            case "matmul" -> {
                yield g.matmul(x, tensors.get(1), false, false);
            }
            default -> throw new IllegalStateException(name);
        });
    }

    private static String usage(String name) {
        return switch (name) {
            case "sum", "mean", "amax", "amin", "logsumexp" -> name + " over an axis is written " + name
                    + "(x, axis) or " + name + "(x, axis, keepdim) with a constant int axis and boolean keepdim";
            case "reshape" -> "reshape is written reshape(x, -1, d1, d2, ...) with -1 for the batch axis";
            case "flatten" -> "flatten is written flatten(x); it joins every axis after the batch axis";
            case "permute" -> "permute is written permute(x, 0, a1, a2, ...) with one constant per axis";
            case "transpose" -> "transpose is written transpose(x, axis1, axis2)";
            case "slice" -> "slice is written slice(x, axis, start, stop) or slice(x, axis, start, stop, step)";
            case "narrow" -> "narrow is written narrow(x, axis, start, length)";
            case "cat" -> "cat is written cat(axis, a, b, ...) with a constant axis and tensors";
            case "matmul" -> "matmul is written matmul(a, b) with two tensors";
            default -> name;
        };
    }

    private static int axis(long axis, int rank) {
        long resolved = axis < 0 ? axis + rank : axis;
        if (resolved < 0 || resolved >= rank) {
            throw new dev.kiln.ir.ShapeException("axis " + axis + " is out of range for rank " + rank
                    + "; use 0.." + (rank - 1) + " or -" + rank + "..-1 (axis 0 is the batch axis)");
        }
        return (int) resolved;
    }

    /** Resolves reshape extents: -1 at axis 0 keeps the batch axis of a batched tensor. */
    private static dev.kiln.ir.Shape reshapeTarget(dev.kiln.ir.Shape from, List<Long> extents) {
        int[] dims = new int[extents.size()];
        int inferred = -1;
        long known = 1;
        for (int i = 0; i < dims.length; i++) {
            long e = extents.get(i);
            if (e == -1 && inferred < 0) {
                inferred = i;
            } else if (e < 0) {
                throw new dev.kiln.ir.ShapeException("reshape extents must be at least 0 and at most one may be -1, got "
                        + extents);
            } else {
                dims[i] = Math.toIntExact(e);
                known *= e;
            }
        }
        if (from.isBatched()) {
            if (inferred != 0) {
                throw new dev.kiln.ir.ShapeException("reshape of " + from + " must keep the batch axis first: write -1 as"
                        + " the first extent, as in reshape(x, -1, " + from.dropFirst().staticElements() + ")");
            }
            dims[0] = dev.kiln.ir.Shape.BATCH;
            return dev.kiln.ir.Shape.of(dims);
        }
        if (inferred >= 0) {
            long total = from.staticElements();
            if (known == 0 || total % known != 0) {
                throw new dev.kiln.ir.ShapeException("cannot reshape " + from + " to " + extents + ": " + total
                        + " elements do not divide by " + known);
            }
            dims[inferred] = Math.toIntExact(total / known);
        }
        return dev.kiln.ir.Shape.of(dims);
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
