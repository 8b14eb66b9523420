package dev.kiln.ir;

import java.util.List;

/**
 * An operation of the IR. Each op defines, in one place, its shape rule, its reference evaluation
 * in double precision and its derivative rule (VJP). Its lowering to native code is given by its
 * {@link #kernel() kernel kind}, and for elementwise ops by a C expression.
 *
 * <p>Ops are values: two ops are equal when they have the same name and attributes, which is what
 * common-subexpression elimination relies on.
 */
public interface Op {

    /** Returns the op's name as it appears in IR text, e.g. {@code tanh}. */
    String name();

    /** Returns the attributes as they appear in IR text after the operands, or "". */
    default String attributes() {
        return "";
    }

    /** Returns the kind of kernel that lowers this op. */
    Kernel kernel();

    /**
     * Returns the shape of the result.
     *
     * @throws ShapeException if the operands do not fit the op
     */
    Shape shape(List<Node> inputs);

    /** Returns the element type of the result. */
    default DType dtype(List<Node> inputs) {
        return DType.F32;
    }

    /**
     * Evaluates the op in double precision.
     *
     * @param node the node being evaluated, for its shape and attributes
     * @param inputs the operand values, row-major with the batch axis resolved
     * @param context batch size and scalar hyperparameters of this evaluation
     */
    double[] evaluate(Node node, List<double[]> inputs, EvalContext context);

    /**
     * Returns the cotangent of each input given the cotangent of the output, as new nodes built
     * with {@code b}: the vector-Jacobian product. An entry is {@code null} where the input has no
     * derivative (an integer input, or a constant). The default rejects differentiation by name.
     *
     * @param node the primal output node
     * @param cotangent cotangent of {@code node}, same shape as {@code node}
     */
    default List<Node> vjp(GraphBuilder b, Node node, Node cotangent) {
        throw new IrException("op '" + name() + "' has no VJP rule, so it cannot be differentiated");
    }

    /** Returns the op with its attributes, as printed in IR text. */
    default String text() {
        String attributes = attributes();
        return attributes.isEmpty() ? name() : name() + " " + attributes;
    }

    /** Kernel kind that an op lowers to in native code. */
    enum Kernel {
        /** A value supplied by the caller, a parameter, a constant or a hyperparameter. */
        LEAF,
        /** One output element from the elements at the same broadcast index of each operand. */
        ELEMENTWISE,
        /** Matrix product. */
        MATMUL,
        /** Sum, maximum or minimum over broadcast axes. */
        REDUCE,
        /** An op over the last axis of each row: softmax, log_softmax, row sums. */
        ROW,
        /** Gather or scatter by integer indices. */
        INDEX,
        /** Moves elements without computing: permute, reshape, slice, concat. */
        LAYOUT,
        /** An elementwise op with a counter-based random mask over the element index: dropout. */
        RANDOM
    }
}
