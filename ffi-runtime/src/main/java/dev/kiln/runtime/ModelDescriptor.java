package dev.kiln.runtime;

import dev.kiln.ir.ParamInit;
import dev.kiln.nn.LossKind;
import dev.kiln.nn.LossReduction;
import dev.kiln.nn.OptimizerKind;
import java.util.Arrays;
import java.util.List;

/**
 * Description of a compiled model for the runtime. The generated class passes it to
 * {@link CompiledModel}.
 *
 * @param modelName the model class's qualified name
 * @param libraryName the native library's name, also the prefix of its C symbols
 * @param signature text that the library's {@code _signature()} must return
 * @param params parameters in the order of the parameter block and of checkpoints
 * @param inputShape per-sample shape of the input, without the batch axis
 * @param outputShape per-sample shape of the output, without the batch axis
 * @param loss the loss compiled into the training entries
 * @param optimizers the optimizers compiled into the library
 * @param targetShape per-sample shape of the float targets; empty for class indices
 * @param reduction how the standard loss combines its terms
 */
public record ModelDescriptor(String modelName, String libraryName, String signature, List<Param> params,
                              int[] inputShape, int[] outputShape, LossKind loss, List<OptimizerKind> optimizers,
                              int[] targetShape, LossReduction reduction) {

    /** Describes a model whose loss is the mean of its terms. */
    public ModelDescriptor(String modelName, String libraryName, String signature, List<Param> params,
                           int[] inputShape, int[] outputShape, LossKind loss, List<OptimizerKind> optimizers,
                           int[] targetShape) {
        this(modelName, libraryName, signature, params, inputShape, outputShape, loss, optimizers, targetShape,
                LossReduction.MEAN);
    }

    /** Describes a model with a standard loss, whose targets have the output's shape. */
    public ModelDescriptor(String modelName, String libraryName, String signature, List<Param> params,
                           int[] inputShape, int[] outputShape, LossKind loss, List<OptimizerKind> optimizers) {
        this(modelName, libraryName, signature, params, inputShape, outputShape, loss, optimizers,
                loss.takesClassIndices() ? new int[0] : outputShape);
    }

    public ModelDescriptor {
        java.util.Objects.requireNonNull(reduction, "reduction");
        targetShape = targetShape.clone();
        params = List.copyOf(params);
        optimizers = List.copyOf(optimizers);
        inputShape = inputShape.clone();
        outputShape = outputShape.clone();
    }

    /**
     * A parameter tensor and how {@link CompiledModel#initialize(long)} fills it.
     *
     * @param fanIn the input width that bounds {@link ParamInit#UNIFORM_FAN_IN}
     * @param init the initialization, PyTorch's default for the owning layer
     */
    public record Param(String name, int[] shape, int fanIn, ParamInit init) {
        public Param {
            shape = shape.clone();
            if (init == null) {
                throw new IllegalArgumentException("parameter '" + name + "' needs an initialization");
            }
        }

        /** A parameter initialized uniform in [-1/sqrt(fanIn), 1/sqrt(fanIn)], as PyTorch's {@code Linear}. */
        public Param(String name, int[] shape, int fanIn) {
            this(name, shape, fanIn, ParamInit.UNIFORM_FAN_IN);
        }

        public long elements() {
            long n = 1;
            for (int d : shape) {
                n *= d;
            }
            return n;
        }

        public String shapeText() {
            return Arrays.toString(shape);
        }
    }

    public long inputWidth() {
        return product(inputShape);
    }

    /** Returns the number of target floats per sample, or 1 class index for class losses. */
    public long targetWidth() {
        return product(targetShape);
    }

    public long outputWidth() {
        return product(outputShape);
    }

    /** Returns the number of parameter elements. */
    public long parameterCount() {
        long n = 0;
        for (Param p : params) {
            n += p.elements();
        }
        return n;
    }

    /**
     * Returns the number of state elements of an optimizer: per parameter one tensor for SGD, two
     * for Adam and AdamW, three for RMSprop.
     */
    public long stateCount(OptimizerKind kind) {
        return parameterCount() * kind.stateTensorsPerParameter();
    }

    private static long product(int[] dims) {
        long n = 1;
        for (int d : dims) {
            n *= d;
        }
        return n;
    }
}
