package dev.kiln.nn;

import java.util.Arrays;

/**
 * Layer normalization over the last axis, as PyTorch's {@code nn.LayerNorm(n)} with
 * {@code elementwise_affine=True}: y = (x - mean) / sqrt(var + eps) * weight + bias, where mean
 * and the biased variance var are taken over the last axis of each row. The weight starts at
 * ones and the bias at zeros; eps defaults to 1e-5.
 *
 * <p>In a model class it is a final field; the compiler turns it into the parameters
 * {@code <field>.weight} and {@code <field>.bias}, both of shape [n].
 */
public final class LayerNorm implements Layer {
    /** PyTorch's default eps. */
    public static final double DEFAULT_EPS = 1e-5;

    private final int normalizedShape;
    private final double eps;
    private final double[] weight;
    private final double[] bias;

    /** Normalizes over a last axis of extent {@code normalizedShape} with eps 1e-5. */
    public LayerNorm(int normalizedShape) {
        this(normalizedShape, DEFAULT_EPS);
    }

    /** Normalizes over a last axis of extent {@code normalizedShape}, adding {@code eps} to the variance. */
    public LayerNorm(int normalizedShape, double eps) {
        if (normalizedShape <= 0) {
            throw new IllegalArgumentException("LayerNorm needs a positive normalized shape, got " + normalizedShape);
        }
        if (!(eps >= 0) || Double.isInfinite(eps)) {
            throw new IllegalArgumentException("LayerNorm needs a finite eps >= 0, got " + eps);
        }
        this.normalizedShape = normalizedShape;
        this.eps = eps;
        this.weight = new double[normalizedShape];
        Arrays.fill(weight, 1.0);
        this.bias = new double[normalizedShape];
    }

    public int normalizedShape() {
        return normalizedShape;
    }

    public double eps() {
        return eps;
    }

    /** Returns the weight, [n], for eager mode. */
    public Tensor weight() {
        return Tensor.of(weight, normalizedShape);
    }

    /** Returns the bias, [n], for eager mode. */
    public Tensor bias() {
        return Tensor.of(bias, normalizedShape);
    }

    /** Sets the weight, [n], for eager mode. */
    public void setWeight(double[] values) {
        copy("weight", values, weight);
    }

    /** Sets the bias, [n], for eager mode. */
    public void setBias(double[] values) {
        copy("bias", values, bias);
    }

    private void copy(String what, double[] values, double[] target) {
        if (values.length != normalizedShape) {
            throw new IllegalArgumentException(what + " of " + describe() + " has " + normalizedShape + " values, got "
                    + values.length);
        }
        System.arraycopy(values, 0, target, 0, normalizedShape);
    }

    /** Normalizes {@code x}, whose last axis must have extent n, through the reference evaluator. */
    @Override
    public Tensor apply(Tensor x) {
        int[] shape = x.shape();
        if (shape.length == 0 || shape[shape.length - 1] != normalizedShape) {
            throw new IllegalArgumentException(describe() + " expects an input whose last axis is " + normalizedShape
                    + ", got shape " + Arrays.toString(shape));
        }
        return Functional.eval((b, in) -> b.layerNorm(in.get(0), in.get(1), in.get(2), eps), x, weight(), bias());
    }

    private String describe() {
        return "LayerNorm(" + normalizedShape + (eps == DEFAULT_EPS ? "" : ", " + eps) + ")";
    }
}
