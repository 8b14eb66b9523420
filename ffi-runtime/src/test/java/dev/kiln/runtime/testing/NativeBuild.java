package dev.kiln.runtime.testing;

import dev.kiln.codegen.c.CCompiler;
import dev.kiln.codegen.c.ModelCompiler;
import dev.kiln.codegen.opencl.OpenClEmitter;
import dev.kiln.codegen.opencl.OpenClProgram;
import dev.kiln.ir.Loss;
import dev.kiln.ir.ModelSpec;
import dev.kiln.ir.Optimizer;
import dev.kiln.nn.LossKind;
import dev.kiln.nn.OptimizerKind;
import dev.kiln.runtime.CompiledModel;
import dev.kiln.runtime.Device;
import dev.kiln.runtime.ModelDescriptor;
import dev.kiln.runtime.NativeModelLibrary;
import java.nio.file.Path;
import java.util.List;

/**
 * A model compiled to a native library for tests: the C source from {@link ModelCompiler}, built
 * by the system C compiler into {@code target/kiln-test-cache} (so a second run finds it there),
 * loaded with {@link NativeModelLibrary#loadFile}. Build one per model per test class, and create
 * as many model instances from it as the tests need.
 *
 * @param spec the model as graph IR
 * @param descriptor the runtime's view of the model, derived from {@code spec}
 * @param library the loaded native library
 * @param file the shared library file
 */
public record NativeBuild(ModelSpec spec, ModelDescriptor descriptor, NativeModelLibrary library, Path file) {

    /**
     * Library cache of the tests: the user's Kiln cache, keyed by the hash of source, flags and
     * compiler, so a fresh checkout reuses the libraries an earlier build compiled.
     */
    public static final Path CACHE = CCompiler.defaultCacheDirectory();

    private static final CCompiler COMPILER = CCompiler.builder().cacheDirectory(CACHE.toAbsolutePath()).build();

    /** Compiles {@code spec} with IR verification after every pass, builds and loads it. */
    public static NativeBuild of(ModelSpec spec) {
        String libraryName = "kiln_test_" + spec.name();
        ModelCompiler.Result result = ModelCompiler.compile(spec, libraryName, true, false);
        Path file = COMPILER.compile(result.cSource(), libraryName);
        ModelDescriptor descriptor = descriptor(spec, libraryName, result.signature());
        return new NativeBuild(spec, descriptor, NativeModelLibrary.loadFile(libraryName, file), file);
    }

    /** Returns the descriptor that a generated class would pass for {@code spec}. */
    public static ModelDescriptor descriptor(ModelSpec spec, String libraryName, String signature) {
        List<ModelDescriptor.Param> params = spec.params().stream()
                .map(p -> new ModelDescriptor.Param(p.name(), p.shape().dims(), p.fanIn(), p.init()))
                .toList();
        if (spec.inputs().size() != 1) {
            throw new IllegalArgumentException("the runtime takes models with one input, " + spec.name()
                    + " has " + spec.inputs().size());
        }
        int[] inputShape = spec.inputs().getFirst().shape().dropFirst().dims();
        int[] outputShape = spec.output().shape().dropFirst().dims();
        List<OptimizerKind> optimizers = spec.optimizers().stream().map(NativeBuild::optimizerKind).toList();
        return new ModelDescriptor(spec.name(), libraryName, signature, params, inputShape, outputShape,
                lossKind(spec.loss()), optimizers, spec.targetShape().dims(),
                dev.kiln.nn.LossReduction.valueOf(spec.reduction().name()));
    }

    static LossKind lossKind(Loss loss) {
        return switch (loss) {
            case CROSS_ENTROPY -> LossKind.CROSS_ENTROPY;
            case MSE -> LossKind.MSE;
            case L1 -> LossKind.L1;
            case HUBER -> LossKind.HUBER;
            case BCE_WITH_LOGITS -> LossKind.BCE_WITH_LOGITS;
            case SOFT_CROSS_ENTROPY -> LossKind.SOFT_CROSS_ENTROPY;
            case NLL -> LossKind.NLL;
            case CUSTOM -> LossKind.CUSTOM;
        };
    }

    static OptimizerKind optimizerKind(Optimizer optimizer) {
        return switch (optimizer) {
            case SGD -> OptimizerKind.SGD;
            case ADAM -> OptimizerKind.ADAM;
            case ADAMW -> OptimizerKind.ADAMW;
            case RMSPROP -> OptimizerKind.RMSPROP;
        };
    }

    /** Returns a new model instance with parameters initialized from {@code seed}. */
    public TestModel newModel(long seed) {
        return new TestModel(this, seed);
    }

    /**
     * Renders the same model as an OpenCL program: the schedules that the C library was rendered
     * from, passed to {@link OpenClEmitter} under the same library name.
     */
    public OpenClProgram openClProgram() {
        ModelCompiler.Result result = ModelCompiler.compile(spec, descriptor.libraryName(), true, false);
        return OpenClEmitter.emit(descriptor.libraryName(), result.schedules());
    }

    /**
     * Returns a new model instance on an OpenCL device with parameters initialized from
     * {@code seed}, the same values that {@link #newModel} gives for that seed. The work-group
     * size cap {@code kiln.opencl.maxWorkGroupSize} is read here, once.
     */
    public TestModel openClModel(Device.OpenCl device, long seed) {
        OpenClProgram program = openClProgram();
        return new TestModel(this, device, program.source(), program.launchList(), seed);
    }

    /** A {@link CompiledModel} over a test build, as a generated class would be. */
    public static final class TestModel extends CompiledModel {
        private final NativeBuild build;

        TestModel(NativeBuild build, long seed) {
            super(build.descriptor(), build.library(), seed);
            this.build = build;
        }

        TestModel(NativeBuild build, Device.OpenCl device, String programSource, String launchList, long seed) {
            super(build.descriptor(), device, programSource, launchList, seed);
            this.build = build;
        }

        /** Returns the model as graph IR. */
        public ModelSpec spec() {
            return build.spec();
        }
    }
}
