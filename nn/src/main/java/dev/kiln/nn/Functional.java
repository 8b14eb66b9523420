package dev.kiln.nn;

import dev.kiln.ir.Broadcasting;
import dev.kiln.ir.Elementwise;
import dev.kiln.ir.Shape;

/**
 * The tensor ops of the model language, for static import into a model class. In eager mode they
 * compute with the same double-precision definitions that the compiler's reference evaluator
 * uses.
 */
public final class Functional {
    private Functional() {
    }

    public static Tensor tanh(Tensor x) {
        return unary(Elementwise.TANH, x);
    }

    public static Tensor relu(Tensor x) {
        return unary(Elementwise.RELU, x);
    }

    public static Tensor sigmoid(Tensor x) {
        return unary(Elementwise.SIGMOID, x);
    }

    /** Returns {@code a + b} with NumPy broadcasting. */
    public static Tensor add(Tensor a, Tensor b) {
        Shape out = Shape.broadcast(Shape.of(a.shape()), Shape.of(b.shape()));
        int[] outDims = out.dims();
        int[] mapA = Broadcasting.gatherMap(outDims, a.shape());
        int[] mapB = Broadcasting.gatherMap(outDims, b.shape());
        double[] result = new double[mapA.length];
        for (int i = 0; i < result.length; i++) {
            result[i] = a.data()[mapA[i]] + b.data()[mapB[i]];
        }
        return Tensor.wrap(result, outDims);
    }

    private static Tensor unary(Elementwise op, Tensor x) {
        double[] in = x.data();
        double[] out = new double[in.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = op.apply(in[i]);
        }
        return Tensor.wrap(out, x.shape());
    }
}
