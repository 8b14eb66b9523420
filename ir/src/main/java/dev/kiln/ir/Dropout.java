package dev.kiln.ir;

import java.util.Arrays;
import java.util.List;

/**
 * Dropout as PyTorch's {@code nn.Dropout} in training mode: each element of {@code x} is zeroed
 * with probability p and the others are scaled by 1/(1-p). Operands: {@code x}, then the scalar
 * hyperparameters {@link Hyperparameters#DROPOUT_SEED} and {@link Hyperparameters#DROPOUT_STEP}.
 *
 * <p>The mask is a counter-based hash, computed the same way by the reference evaluator, the C
 * backend and the OpenCL backend, so native results can be checked exactly against the reference.
 * With {@code mix} the 32-bit mixer below and all arithmetic modulo 2^32:
 *
 * <pre>
 * h = mix(seed ^ 0x9e3779b9); h = mix(h ^ step); h = mix(h ^ stream); h = mix(h ^ index)
 * element dropped  iff  (h >>> 8) < threshold,  threshold = floor(p * 2^24)
 * mix(x): x ^= x >>> 16; x *= 0x7feb352d; x ^= x >>> 15; x *= 0x846ca68b; x ^= x >>> 16
 * </pre>
 *
 * where {@code index} is the row-major element index and {@code stream} distinguishes the
 * dropout applications of one model. Each element is dropped with probability threshold / 2^24,
 * which is p rounded down to a multiple of 2^-24: exactly 0 for p = 0 and 1 for p = 1.
 * NOTE: only the low 32 bits of the index enter the hash, so a tensor of more than 2^32 elements
 * repeats its mask.
 *
 * <p>The op is linear in {@code x}, and its VJP is the same op, with the same mask, applied to the
 * cotangent, so derivatives of every order see one mask. Evaluation entries do not contain it:
 * {@link Entries} replaces it by its input there.
 *
 * @param p the probability of zeroing an element, in [0, 1]
 * @param stream which dropout application of the model this is, from 0
 */
public record Dropout(double p, int stream) implements Op {

    /** Extent of the integer range that the top 24 bits of the hash are compared in. */
    private static final long RANGE = 1L << 24;

    public Dropout {
        if (!(p >= 0 && p <= 1)) {
            throw new IrException("dropout probability must be in [0, 1], got " + p);
        }
        if (stream < 0) {
            throw new IrException("dropout stream must be >= 0, got " + stream);
        }
    }

    @Override
    public String name() {
        return "dropout";
    }

    @Override
    public String attributes() {
        return "p=" + p + " stream=" + stream;
    }

    @Override
    public Kernel kernel() {
        return Kernel.RANDOM;
    }

    @Override
    public Shape shape(List<Node> inputs) {
        if (inputs.size() != 3) {
            throw new ShapeException("dropout takes x, the dropout seed and the dropout step, got "
                    + inputs.size() + " operands");
        }
        Shape x = inputs.get(0).shape();
        if (x.isScalar() || !inputs.get(1).shape().isScalar() || !inputs.get(2).shape().isScalar()) {
            throw new ShapeException("dropout takes a tensor and two scalars, got " + x + ", "
                    + inputs.get(1).shape() + " and " + inputs.get(2).shape());
        }
        return x;
    }

    @Override
    public double[] evaluate(Node node, List<double[]> inputs, EvalContext context) {
        double[] x = inputs.get(0);
        int seed = hyperparameterBits(inputs.get(1)[0], Hyperparameters.DROPOUT_SEED);
        int step = hyperparameterBits(inputs.get(2)[0], Hyperparameters.DROPOUT_STEP);
        return apply(x, seed, step);
    }

    /**
     * Applies the mask of dropout seed {@code seed} and step {@code step} to row-major {@code x}:
     * x * 0 where an element is dropped (so NaN and infinities stay NaN, as in PyTorch), x / (1-p)
     * elsewhere.
     */
    public double[] apply(double[] x, int seed, int step) {
        double scale = scale();
        int threshold = threshold();
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = x[i] * (dropped(seed, step, stream, i, threshold) ? 0.0 : scale);
        }
        return out;
    }

    /** Dropout is linear in x with the mask as its diagonal: the cotangent of x is dropout(g). */
    @Override
    public List<Node> vjp(GraphBuilder b, Node node, Node cotangent) {
        return Arrays.asList(b.apply(this, cotangent, node.input(1), node.input(2)), null, null);
    }

    /** Returns the factor of kept elements, 1/(1-p), or 0 for p = 1, where nothing is kept. */
    public double scale() {
        return p == 1 ? 0 : 1 / (1 - p);
    }

    /** Returns floor(p * 2^24): an element is dropped when the top 24 bits of its hash are below it. */
    public int threshold() {
        return (int) Math.floor(p * RANGE);
    }

    /** Returns the 32-bit hash of one element, as defined in the class comment. */
    public static int hash(int seed, int step, int stream, long index) {
        int h = mix(seed ^ 0x9e3779b9);
        h = mix(h ^ step);
        h = mix(h ^ stream);
        return mix(h ^ (int) index);
    }

    /** Returns whether element {@code index} is dropped for the given threshold. */
    public static boolean dropped(int seed, int step, int stream, long index, int threshold) {
        return (hash(seed, step, stream, index) >>> 8) < threshold;
    }

    /** Mixes the bits of {@code x}: xor-shift and multiply rounds, a bijection of 32-bit integers. */
    static int mix(int x) {
        x ^= x >>> 16;
        x *= 0x7feb352d;
        x ^= x >>> 15;
        x *= 0x846ca68b;
        x ^= x >>> 16;
        return x;
    }

    /**
     * Returns the values of {@link Hyperparameters#DROPOUT_SEED} and
     * {@link Hyperparameters#DROPOUT_STEP} for training step {@code step} (counted from 1) of a
     * model initialized from {@code modelSeed}. Both are integers below 2^24, so that a float, as
     * the OpenCL backend passes hyperparameters, represents them exactly. The step goes in as its low
     * 24 bits, and the higher bits are mixed into the seed, so masks do not repeat after 2^24 steps.
     */
    public static double[] hyperparameters(long modelSeed, long step) {
        long mixed = modelSeed * 0x9e3779b97f4a7c15L + (step >>> 24);
        mixed ^= mixed >>> 31;
        mixed *= 0xbf58476d1ce4e5b9L;
        mixed ^= mixed >>> 29;
        return new double[] {mixed & (RANGE - 1), step & (RANGE - 1)};
    }

    private static int hyperparameterBits(double value, String name) {
        if (!(value >= 0 && value < RANGE && value == Math.rint(value))) {
            throw new IllegalArgumentException("hyperparameter '" + name + "' must be an integer in [0, 2^24), got "
                    + value);
        }
        return (int) value;
    }

    /**
     * Returns C definitions of the mask, written in the common subset of C11 and OpenCL C 1.2
     * (where the prelude defines {@code uint32_t}), for both backends' preludes.
     */
    public static String cDefinitions() {
        return """
                /* The 32-bit mixer of dropout masks; see dev.kiln.ir.Dropout. */
                static inline uint32_t kiln_mix32(uint32_t x) {
                    x ^= x >> 16;
                    x *= 0x7feb352dU;
                    x ^= x >> 15;
                    x *= 0x846ca68bU;
                    x ^= x >> 16;
                    return x;
                }

                /* Whether dropout drops element index of a stream: the top 24 bits of its hash are below threshold. */
                static inline int kiln_dropped(uint32_t seed, uint32_t step, uint32_t stream, uint32_t index,
                                               uint32_t threshold) {
                    uint32_t h = kiln_mix32(seed ^ 0x9e3779b9U);
                    h = kiln_mix32(h ^ step);
                    h = kiln_mix32(h ^ stream);
                    h = kiln_mix32(h ^ index);
                    return (h >> 8) < threshold;
                }
                """;
    }
}
