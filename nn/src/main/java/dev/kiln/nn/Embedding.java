package dev.kiln.nn;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * A lookup table of {@code numEmbeddings} vectors of width {@code embeddingDim}, as PyTorch's
 * {@code nn.Embedding}: the weight is [num, dim] and starts standard normal N(0, 1).
 *
 * <p>The input holds row indices as floats, since model inputs are float32: [B] gives [B, dim]
 * and [B, L] gives [B, L, dim]. In a compiled model an index that is not an integer in
 * [0, num) gives a row of NaN; {@link #apply} in eager mode throws instead. In a model class
 * the layer is a final field, and the compiler turns it into the parameter {@code <field>.weight}.
 */
public final class Embedding implements Layer {
    private static final SplittableRandom EAGER_SEEDS = new SplittableRandom(0x456d6265L);

    private final int numEmbeddings;
    private final int embeddingDim;
    private final double[] weight;

    public Embedding(int numEmbeddings, int embeddingDim) {
        if (numEmbeddings <= 0 || embeddingDim <= 0) {
            throw new IllegalArgumentException("Embedding needs positive sizes, got numEmbeddings=" + numEmbeddings
                    + ", embeddingDim=" + embeddingDim);
        }
        this.numEmbeddings = numEmbeddings;
        this.embeddingDim = embeddingDim;
        SplittableRandom random;
        synchronized (EAGER_SEEDS) {
            random = EAGER_SEEDS.split();
        }
        this.weight = new double[Math.multiplyExact(numEmbeddings, embeddingDim)];
        for (int i = 0; i < weight.length; i++) {
            weight[i] = random.nextGaussian();
        }
    }

    public int numEmbeddings() {
        return numEmbeddings;
    }

    public int embeddingDim() {
        return embeddingDim;
    }

    /** Returns the weight, [num, dim], for eager mode. */
    public Tensor weight() {
        return Tensor.of(weight, numEmbeddings, embeddingDim);
    }

    /** Sets the weight, row-major [num, dim], for eager mode. */
    public void setWeight(double[] values) {
        if (values.length != weight.length) {
            throw new IllegalArgumentException("weight of " + describe() + " has " + weight.length + " values, got "
                    + values.length);
        }
        System.arraycopy(values, 0, weight, 0, weight.length);
    }

    /**
     * Looks up the rows at {@code indices}, [B] or [B, L], giving [B, dim] or [B, L, dim].
     *
     * @throws IllegalArgumentException if an index is not an integer in [0, num), naming it
     */
    @Override
    public Tensor apply(Tensor indices) {
        int[] shape = indices.shape();
        if (shape.length < 1 || shape.length > 2) {
            throw new IllegalArgumentException(describe() + " expects indices of shape [B] or [B, L], got "
                    + Arrays.toString(shape));
        }
        double[] values = indices.data();
        for (int i = 0; i < values.length; i++) {
            double v = values[i];
            if (!(v >= 0 && v < numEmbeddings && v == Math.rint(v))) {
                throw new IllegalArgumentException("index " + v + " at position " + i + " of the input of " + describe()
                        + " is not an integer in [0, " + numEmbeddings + ")");
            }
        }
        return Functional.eval((b, in) -> b.embedding(in.get(0), in.get(1)), weight(), indices);
    }

    private String describe() {
        return "Embedding(" + numEmbeddings + ", " + embeddingDim + ")";
    }
}
