package dev.kiln.ir;

import java.util.List;

/**
 * Ops without operands: values supplied from outside the computation. Their shapes are fixed
 * when the node is created.
 */
public sealed interface Leaf extends Op {

    @Override
    default Op.Kernel kernel() {
        return Op.Kernel.LEAF;
    }

    @Override
    default Shape shape(List<Node> inputs) {
        throw new IrException("the shape of leaf op '" + name() + "' is given when it is created");
    }

    @Override
    default List<Node> vjp(GraphBuilder b, Node node, Node cotangent) {
        return List.of();
    }

    /** A per-call input such as the features {@code x} or the class labels. */
    record Input(String label) implements Leaf {
        public String name() {
            return "input";
        }

        public String attributes() {
            return '"' + label + '"';
        }

        public double[] evaluate(Node node, List<double[]> inputs, EvalContext context) {
            throw new IrException("input '" + label + "' has no value bound");
        }
    }

    /** A trainable parameter, such as {@code fc1.weight}. */
    record Param(String label) implements Leaf {
        public String name() {
            return "param";
        }

        public String attributes() {
            return '"' + label + '"';
        }

        public double[] evaluate(Node node, List<double[]> inputs, EvalContext context) {
            throw new IrException("parameter '" + label + "' has no value bound");
        }
    }

    /** Optimizer state kept between training steps, such as Adam's first moment of a parameter. */
    record State(String label) implements Leaf {
        public String name() {
            return "state";
        }

        public String attributes() {
            return '"' + label + '"';
        }

        public double[] evaluate(Node node, List<double[]> inputs, EvalContext context) {
            throw new IrException("optimizer state '" + label + "' has no value bound");
        }
    }

    /** A scalar hyperparameter passed per call, such as the learning rate. */
    record Hyper(String label) implements Leaf {
        public String name() {
            return "hyper";
        }

        public String attributes() {
            return label;
        }

        public double[] evaluate(Node node, List<double[]> inputs, EvalContext context) {
            return new double[] {context.hyperparameter(label)};
        }
    }

    /** A scalar constant. */
    record Constant(double value) implements Leaf {
        public String name() {
            return "const";
        }

        public String attributes() {
            return Constant.format(value);
        }

        public double[] evaluate(Node node, List<double[]> inputs, EvalContext context) {
            return new double[] {value};
        }

        /** Formats integers without a fraction, except -0.0, which must not read as the constant 0. */
        static String format(double value) {
            boolean negativeZero = Double.doubleToRawLongBits(value) == Double.doubleToRawLongBits(-0.0);
            if (value == Math.rint(value) && Math.abs(value) < 1e15 && !negativeZero) {
                return Long.toString((long) value);
            }
            return Double.toString(value);
        }
    }

    /** The batch size B of the call, as a scalar. */
    record BatchSize() implements Leaf {
        public String name() {
            return "batch_size";
        }

        public double[] evaluate(Node node, List<double[]> inputs, EvalContext context) {
            return new double[] {context.batch()};
        }
    }
}
