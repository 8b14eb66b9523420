package dev.kiln.nn;

import java.util.SplittableRandom;

/**
 * A fully connected layer, y = x W^T + b, as PyTorch's {@code nn.Linear}: the weight is stored
 * [out, in] and both weight and bias start uniform in [-1/sqrt(in), 1/sqrt(in)].
 *
 * <p>In a model class it is a final field; the compiler turns it into the parameters
 * {@code <field>.weight} and {@code <field>.bias}. Applying one field several times ties the
 * weights.
 */
public final class Linear implements Layer {
    private static final SplittableRandom EAGER_SEEDS = new SplittableRandom(0x4b696c6eL);

    private final int inFeatures;
    private final int outFeatures;
    private final boolean hasBias;
    private final double[] weight;
    private final double[] bias;

    public Linear(int inFeatures, int outFeatures) {
        this(inFeatures, outFeatures, true);
    }

    public Linear(int inFeatures, int outFeatures, boolean bias) {
        if (inFeatures <= 0 || outFeatures <= 0) {
            throw new IllegalArgumentException("Linear needs positive widths, got in=" + inFeatures
                    + ", out=" + outFeatures);
        }
        this.inFeatures = inFeatures;
        this.outFeatures = outFeatures;
        this.hasBias = bias;
        SplittableRandom random;
        synchronized (EAGER_SEEDS) {
            random = EAGER_SEEDS.split();
        }
        double bound = 1.0 / Math.sqrt(inFeatures);
        this.weight = new double[outFeatures * inFeatures];
        for (int i = 0; i < weight.length; i++) {
            weight[i] = random.nextDouble(-bound, bound);
        }
        this.bias = new double[bias ? outFeatures : 0];
        for (int i = 0; i < this.bias.length; i++) {
            this.bias[i] = random.nextDouble(-bound, bound);
        }
    }

    public int inFeatures() {
        return inFeatures;
    }

    public int outFeatures() {
        return outFeatures;
    }

    public boolean hasBias() {
        return hasBias;
    }

    /** Returns the weight, [out, in], for eager mode. */
    public Tensor weight() {
        return Tensor.of(weight, outFeatures, inFeatures);
    }

    /** Returns the bias, [out], for eager mode; empty for a layer without bias. */
    public Tensor bias() {
        return Tensor.of(bias, bias.length);
    }

    /** Sets the weight, row-major [out, in], for eager mode. */
    public void setWeight(double[] values) {
        if (values.length != weight.length) {
            throw new IllegalArgumentException("weight of Linear(" + inFeatures + ", " + outFeatures
                    + ") has " + weight.length + " values, got " + values.length);
        }
        System.arraycopy(values, 0, weight, 0, weight.length);
    }

    /** Sets the bias for eager mode. */
    public void setBias(double[] values) {
        if (values.length != bias.length) {
            throw new IllegalArgumentException("bias of Linear(" + inFeatures + ", " + outFeatures
                    + ") has " + bias.length + " values, got " + values.length);
        }
        System.arraycopy(values, 0, bias, 0, bias.length);
    }

    /** Applies the layer to a batch {@code x} of shape [B, in], or [B, L, in] at every position. */
    @Override
    public Tensor apply(Tensor x) {
        int[] shape = x.shape();
        if (shape.length < 2 || shape.length > 3 || shape[shape.length - 1] != inFeatures) {
            throw new IllegalArgumentException("Linear(" + inFeatures + ", " + outFeatures
                    + ") expects input [B, " + inFeatures + "] or [B, L, " + inFeatures + "], got "
                    + java.util.Arrays.toString(shape));
        }
        int rows = shape.length == 2 ? shape[0] : shape[0] * shape[1];
        double[] in = x.data();
        double[] out = new double[rows * outFeatures];
        for (int r = 0; r < rows; r++) {
            for (int o = 0; o < outFeatures; o++) {
                double sum = hasBias ? bias[o] : 0;
                for (int i = 0; i < inFeatures; i++) {
                    sum += in[r * inFeatures + i] * weight[o * inFeatures + i];
                }
                out[r * outFeatures + o] = sum;
            }
        }
        return shape.length == 2 ? Tensor.wrap(out, rows, outFeatures) : Tensor.wrap(out, shape[0], shape[1], outFeatures);
    }
}
