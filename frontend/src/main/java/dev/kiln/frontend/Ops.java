package dev.kiln.frontend;

import com.github.javaparser.ast.expr.MethodCallExpr;
import dev.kiln.frontend.Values.Poison;
import dev.kiln.frontend.Values.TensorValue;
import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.Node;
import dev.kiln.ir.ShapeException;
import java.util.List;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * The ops of {@code dev.kiln.nn.Functional} as the frontend maps them to IR: one row per op
 * name, so adding an op to the model language is one line here and one in {@code Functional}.
 */
final class Ops {
    private Ops() {
    }

    private record Unary(String name, BiFunction<GraphBuilder, Node, Node> build) {
    }

    private static final List<Unary> UNARY = List.of(
            new Unary("tanh", GraphBuilder::tanh),
            new Unary("relu", GraphBuilder::relu),
            new Unary("sigmoid", GraphBuilder::sigmoid));

    private static final List<String> BINARY = List.of("add");

    /** Names of every op, for error messages. */
    static final List<String> NAMES = java.util.stream.Stream.concat(
            UNARY.stream().map(Unary::name), BINARY.stream()).toList();

    /** Applies op {@code name}, or returns {@code null} when no op has that name. */
    static Object apply(Interpreter interpreter, MethodCallExpr call, String name, List<Object> args) {
        for (Unary op : UNARY) {
            if (op.name().equals(name)) {
                if (args.size() != 1 || !(args.get(0) instanceof TensorValue x)) {
                    return interpreter.unknownMethod(call, name + " takes one tensor");
                }
                return build(interpreter, call, g -> op.build().apply(g, x.node()));
            }
        }
        if (BINARY.contains(name)) {
            if (args.size() != 2 || !(args.get(0) instanceof TensorValue a) || !(args.get(1) instanceof TensorValue b)) {
                return interpreter.unknownMethod(call, name + " takes two tensors");
            }
            return binary(interpreter, call, name, a, b);
        }
        return null;
    }

    static Object binary(Interpreter interpreter, MethodCallExpr call, String name, TensorValue a, TensorValue b) {
        return build(interpreter, call, g -> g.add(a.node(), b.node()));
    }

    private static Object build(Interpreter interpreter, MethodCallExpr call, Function<GraphBuilder, Node> build) {
        try {
            return new TensorValue(build.apply(interpreter.graph()));
        } catch (ShapeException e) {
            interpreter.shapeError(call, e);
            return Poison.INSTANCE;
        }
    }
}
