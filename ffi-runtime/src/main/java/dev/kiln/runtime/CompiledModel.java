package dev.kiln.runtime;

import dev.kiln.ir.Dropout;
import dev.kiln.ir.Hyperparameters;
import dev.kiln.ir.ParamInit;
import dev.kiln.nn.LossKind;
import dev.kiln.nn.LossReduction;
import dev.kiln.nn.OptimizerConfig;
import dev.kiln.nn.OptimizerKind;
import dev.kiln.runtime.checkpoint.Checkpoint;
import dev.kiln.runtime.checkpoint.NamedTensor;
import dev.kiln.runtime.checkpoint.Safetensors;
import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A model instance backed by its compiled native library: parameters and optimizer state live in
 * native memory owned by the instance, and each prediction or training step is one native call.
 * Generated {@code Compiled<Name>} classes extend this class.
 *
 * <p>Threads: prediction and evaluation methods may be called from many threads at once; each call
 * borrows its own workspace. Training, gradient, parameter and checkpoint methods are for one
 * thread at a time per instance, and must not overlap with predictions. {@link #close()} waits for
 * calls in flight to finish, after which every method throws {@link IllegalStateException}.
 *
 * <p>All input checks (widths, batch and label counts, class ranges) happen before the native call
 * and throw {@link IllegalArgumentException} naming the expected and actual values.
 */
public abstract class CompiledModel implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(CompiledModel.class.getName());

    private final ModelDescriptor descriptor;
    private final Map<String, ModelDescriptor.Param> paramsByName = new LinkedHashMap<>();
    private final Map<String, Long> paramOffsets = new LinkedHashMap<>();
    private final Arena arena = Arena.ofShared();
    private final MemorySegment params;
    private final MemorySegment grads;
    private final Map<OptimizerKind, MemorySegment> states = new EnumMap<>(OptimizerKind.class);
    private final Map<OptimizerKind, OptimizerConfig> stateOwners = new EnumMap<>(OptimizerKind.class);
    private final Executor executor;
    private final WorkspacePool pool;
    private final AtomicInteger inFlight = new AtomicInteger();
    private volatile boolean closed;
    private long dropoutSeed;
    private long trainingCalls;

    private static final int DROPOUT_SEED_INDEX = Hyperparameters.index(Hyperparameters.DROPOUT_SEED);
    private static final int DROPOUT_STEP_INDEX = Hyperparameters.index(Hyperparameters.DROPOUT_STEP);

    /**
     * Binds the model's library and initializes the parameters from {@code seed} as
     * {@link #initialize(long)} does: PyTorch's default of each layer, such as uniform in
     * [-1/sqrt(fan_in), 1/sqrt(fan_in)] for {@code Linear}.
     */
    protected CompiledModel(ModelDescriptor descriptor, NativeModelLibrary library, long seed) {
        this(descriptor, new NativeExecutor(descriptor, library), seed);
    }

    /**
     * Creates the model on {@code device}, loading its C library or OpenCL program from the class
     * path of {@code owner}, the generated class.
     */
    protected CompiledModel(ModelDescriptor descriptor, Device device, Class<?> owner, long seed) {
        this(descriptor, device.executor(descriptor, owner), seed);
    }

    /**
     * Creates the model on an OpenCL device from an OpenCL program and launch list given as text,
     * for tools and tests that compile models without the annotation processor.
     */
    protected CompiledModel(ModelDescriptor descriptor, Device.OpenCl device, String programSource,
                            String launchList, long seed) {
        this(descriptor, new OpenClExecutor(descriptor, programSource, launchList, descriptor.libraryName() + ".launches",
                device.context()), seed);
    }

    private CompiledModel(ModelDescriptor descriptor, Executor executor, long seed) {
        this.descriptor = descriptor;
        this.executor = executor;
        long offset = 0;
        for (ModelDescriptor.Param p : descriptor.params()) {
            paramsByName.put(p.name(), p);
            paramOffsets.put(p.name(), offset);
            offset += p.elements();
        }
        long count = Math.max(1, descriptor.parameterCount());
        params = arena.allocate(count * Float.BYTES, 64);
        grads = arena.allocate(count * Float.BYTES, 64);
        pool = new WorkspacePool(Math.max(2, Runtime.getRuntime().availableProcessors() * 2));
        initialize(seed);
    }

    /** Entry names per optimizer, built once so a training step concatenates no strings. */
    private static final Map<OptimizerKind, String> TRAIN_ENTRIES = entryNames("train_");
    private static final Map<OptimizerKind, String> UPDATE_ENTRIES = entryNames("update_");

    private static Map<OptimizerKind, String> entryNames(String prefix) {
        Map<OptimizerKind, String> names = new EnumMap<>(OptimizerKind.class);
        for (OptimizerKind kind : OptimizerKind.values()) {
            names.put(kind, prefix + kind.name().toLowerCase(java.util.Locale.ROOT));
        }
        return names;
    }

    /**
     * Returns the time spent in kernels and in host-device copies since the last reset, on an
     * OpenCL device, so users can see when transfers are the bottleneck.
     *
     * @throws IllegalStateException on the CPU backend, which has no device copies
     */
    public DeviceProfile deviceProfile() {
        if (!(executor instanceof OpenClExecutor openCl)) {
            throw new IllegalStateException("model " + descriptor.modelName() + " runs on the CPU; device profiles"
                    + " exist only on OpenCL devices");
        }
        return openCl.profile();
    }

    /** Resets the device profile of an OpenCL model. */
    public void resetDeviceProfile() {
        if (executor instanceof OpenClExecutor openCl) {
            openCl.resetProfile();
        }
    }

    /**
     * Sets the number of CPU threads that large kernels of this model's C library split their
     * rows over, from the next call on. The setting belongs to the library, so it applies to
     * every instance of the model class. Results are bit-identical for every thread count. The
     * default is the environment variable {@code KILN_NUM_THREADS} when the library loads, else
     * the number of online CPUs capped at 8; counts above 64 are capped.
     *
     * @throws IllegalArgumentException if {@code threads} is below 1
     * @throws IllegalStateException if the model runs on an OpenCL device
     */
    public void setThreads(int threads) {
        if (!(executor instanceof NativeExecutor nativeExecutor)) {
            throw new IllegalStateException("model " + descriptor.modelName() + " runs on an OpenCL device;"
                    + " the thread count applies to the C library on the CPU");
        }
        nativeExecutor.library().setThreads(threads);
    }

    /**
     * Returns the number of CPU threads that this model's C library uses: 1 on an OpenCL device
     * and for a library built without a thread pool.
     */
    public int threads() {
        return executor instanceof NativeExecutor nativeExecutor ? nativeExecutor.library().threads() : 1;
    }

    /** Returns the backend and device this model runs on. */
    public String device() {
        return executor.describe();
    }

    /** Returns the model's descriptor: its parameters, shapes, loss and optimizers. */
    public ModelDescriptor descriptor() {
        return descriptor;
    }

    /**
     * Re-initializes every parameter from {@code seed} by its {@link ParamInit}, drops all
     * optimizer state and restarts the dropout masks. Random values come from one
     * {@link SplittableRandom} over the parameters in order; zeros and ones draw none.
     *
     * <p>Dropout: the k-th training call after this one ({@link #trainStep} or
     * {@link #forwardBackward}, k from 1) draws its masks with the hyperparameters
     * {@link Dropout#hyperparameters(long, long) Dropout.hyperparameters(seed, k)}, so the seed
     * fixes the whole sequence of masks.
     */
    public void initialize(long seed) {
        enter();
        try {
            SplittableRandom random = new SplittableRandom(seed);
            for (ModelDescriptor.Param p : descriptor.params()) {
                long base = paramOffsets.get(p.name());
                for (long i = 0; i < p.elements(); i++) {
                    params.setAtIndex(ValueLayout.JAVA_FLOAT, base + i, (float) initialValue(p, random));
                }
            }
            executor.hostChanged(params);
            stateOwners.clear();
            dropoutSeed = seed;
            trainingCalls = 0;
        } finally {
            exit();
        }
    }

    private static double initialValue(ModelDescriptor.Param p, SplittableRandom random) {
        return switch (p.init()) {
            case UNIFORM_FAN_IN -> {
                double bound = 1.0 / Math.sqrt(p.fanIn());
                yield random.nextDouble(-bound, bound);
            }
            case ZEROS -> 0.0;
            case ONES -> 1.0;
            case NORMAL -> random.nextGaussian();
        };
    }

    /** Counts one training call and writes its dropout hyperparameters into the call values. */
    private void beginTrainingCall(double[] callValues) {
        trainingCalls++;
        double[] dropout = Dropout.hyperparameters(dropoutSeed, trainingCalls);
        callValues[DROPOUT_SEED_INDEX] = dropout[0];
        callValues[DROPOUT_STEP_INDEX] = dropout[1];
    }

    // ---- prediction ------------------------------------------------------------------------

    /** Returns the outputs for one sample. */
    public float[] predict(float[] sample) {
        float[] out = new float[Math.toIntExact(descriptor.outputWidth())];
        predict(sample, 1, out);
        return out;
    }

    /** Returns the outputs for a batch of {@code batch} samples, row-major. */
    public float[] predict(float[] samples, int batch) {
        float[] out = new float[Math.toIntExact(batch * descriptor.outputWidth())];
        predict(samples, batch, out);
        return out;
    }

    /** Writes the outputs of a batch into {@code out}, row-major, without allocating. */
    public void predict(float[] samples, int batch, float[] out) {
        checkBatch(batch);
        checkLength("input", samples.length, batch * descriptor.inputWidth(), batch, descriptor.inputShape());
        checkLength("output buffer", out.length, batch * descriptor.outputWidth(), batch, descriptor.outputShape());
        enter();
        int slot = pool.acquire();
        try {
            Workspace ws = prepare(slot, "predict", batch);
            MemorySegment.copy(samples, 0, ws.inputs, ValueLayout.JAVA_FLOAT, 0, (int) (batch * descriptor.inputWidth()));
            ws.arg(0, params, params.byteSize());
            ws.arg(1, ws.inputs, batch * inputBytes());
            ws.arg(2, ws.outputs, batch * outputBytes());
            invoke("predict", batch, ws);
            MemorySegment.copy(ws.outputs, ValueLayout.JAVA_FLOAT, 0, out, 0, (int) (batch * descriptor.outputWidth()));
        } finally {
            pool.release(slot);
            exit();
        }
    }

    /**
     * Writes the outputs of a batch from native {@code samples} into native {@code out} with no
     * copies. Both segments must be native (not heap) and hold at least a batch of floats.
     */
    public void predict(MemorySegment samples, long batch, MemorySegment out) {
        checkBatch(batch);
        checkSegment("input", samples, batch * descriptor.inputWidth());
        checkSegment("output", out, batch * descriptor.outputWidth());
        enter();
        int slot = pool.acquire();
        try {
            Workspace ws = prepare(slot, "predict", batch);
            ws.arg(0, params, params.byteSize());
            ws.arg(1, samples, batch * inputBytes());
            ws.arg(2, out, batch * outputBytes());
            invoke("predict", batch, ws);
        } finally {
            pool.release(slot);
            exit();
        }
    }

    /** Returns the most probable class of one sample (the index of the largest output). */
    public int predictClass(float[] sample) {
        requireClassScores("predictClass");
        return argmax(predict(sample), 0, (int) descriptor.outputWidth());
    }

    /** Writes the most probable class of each sample of a batch into {@code classes}. */
    public void predictClasses(float[] samples, int batch, int[] classes) {
        requireClassScores("predictClasses");
        if (classes.length < batch) {
            throw new IllegalArgumentException("class buffer has room for " + classes.length + " classes, but the batch has " + batch + " samples");
        }
        int width = (int) descriptor.outputWidth();
        float[] logits = predict(samples, batch);
        for (int r = 0; r < batch; r++) {
            classes[r] = argmax(logits, r * width, width);
        }
    }

    /** Returns the class probabilities of one sample: the softmax of its outputs. */
    public float[] predictProbabilities(float[] sample) {
        requireClassScores("predictProbabilities");
        float[] logits = predict(sample);
        float max = Float.NEGATIVE_INFINITY;
        for (float v : logits) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (float v : logits) {
            sum += Math.exp(v - max);
        }
        float[] p = new float[logits.length];
        for (int i = 0; i < p.length; i++) {
            p[i] = (float) (Math.exp(logits[i] - max) / sum);
        }
        return p;
    }

    private static int argmax(float[] values, int from, int width) {
        int best = 0;
        for (int i = 1; i < width; i++) {
            if (values[from + i] > values[from + best]) {
                best = i;
            }
        }
        return best;
    }

    // ---- evaluation ------------------------------------------------------------------------

    /**
     * Returns the mean loss and the accuracy over a classification dataset of {@code count}
     * samples, evaluated in batches of at most {@code batchSize}.
     */
    public Evaluation evaluate(float[] samples, int[] labels, int count, int batchSize) {
        requireClassification("evaluate with class labels");
        checkLabels(labels, count);
        return evaluate(samples, labels, null, count, batchSize);
    }

    /** Returns the mean loss over a regression dataset; accuracy is NaN. */
    public Evaluation evaluate(float[] samples, float[] targets, int count, int batchSize) {
        requireRegression("evaluate with targets");
        checkLength("targets", targets.length, count * descriptor.targetWidth(), count, descriptor.targetShape());
        checkTargetRange(targets);
        return evaluate(samples, null, targets, count, batchSize);
    }

    private Evaluation evaluate(float[] samples, int[] labels, float[] targets, int count, int batchSize) {
        if (count <= 0) {
            throw new IllegalArgumentException("cannot evaluate on " + count + " samples; pass at least one");
        }
        if (batchSize <= 0) {
            throw new IllegalArgumentException("batch size must be positive, got " + batchSize);
        }
        checkLength("input", samples.length, count * descriptor.inputWidth(), count, descriptor.inputShape());
        int inWidth = (int) descriptor.inputWidth();
        int outWidth = (int) descriptor.outputWidth();
        double lossSum = 0;
        long correct = 0;
        enter();
        int slot = pool.acquire();
        try {
            for (int start = 0; start < count; start += batchSize) {
                int batch = Math.min(batchSize, count - start);
                Workspace ws = prepare(slot, "evaluate", batch);
                MemorySegment.copy(samples, start * inWidth, ws.inputs, ValueLayout.JAVA_FLOAT, 0, batch * inWidth);
                stageLabels(ws, labels, targets, start, batch);
                ws.arg(0, params, params.byteSize());
                ws.arg(1, ws.inputs, batch * inputBytes());
                ws.arg(2, ws.labels, batch * labelBytes());
                ws.arg(3, ws.outputs, batch * outputBytes());
                ws.arg(4, ws.loss, Float.BYTES);
                invoke("evaluate", batch, ws);
                // A mean over the batch weighs by the batch; a sum is already the batch's total.
                double loss = ws.loss.get(ValueLayout.JAVA_FLOAT, 0);
                lossSum += descriptor.reduction() == LossReduction.SUM ? loss : loss * batch;
                if (labels != null) {
                    for (int r = 0; r < batch; r++) {
                        int best = 0;
                        float bestValue = ws.outputs.getAtIndex(ValueLayout.JAVA_FLOAT, (long) r * outWidth);
                        for (int c = 1; c < outWidth; c++) {
                            float v = ws.outputs.getAtIndex(ValueLayout.JAVA_FLOAT, (long) r * outWidth + c);
                            if (v > bestValue) {
                                bestValue = v;
                                best = c;
                            }
                        }
                        if (best == labels[start + r]) {
                            correct++;
                        }
                    }
                }
            }
        } finally {
            pool.release(slot);
            exit();
        }
        double accuracy = labels != null ? (double) correct / count : Double.NaN;
        return new Evaluation(lossSum / count, accuracy, count);
    }

    // ---- training --------------------------------------------------------------------------

    /**
     * Runs one training step on a batch of class-labelled samples: forward, loss, backward and the
     * optimizer update in one native call. Returns the mean loss of the batch before the update.
     */
    public float trainStep(float[] samples, int[] labels, int batch, OptimizerConfig optimizer) {
        requireClassification("trainStep with class labels");
        checkLabels(labels, batch);
        return trainStep(samples, labels, null, batch, optimizer);
    }

    /** Runs one training step on a batch of samples with regression targets. */
    public float trainStep(float[] samples, float[] targets, int batch, OptimizerConfig optimizer) {
        requireRegression("trainStep with targets");
        checkLength("targets", targets.length, batch * descriptor.targetWidth(), batch, descriptor.targetShape());
        checkTargetRange(targets);
        return trainStep(samples, null, targets, batch, optimizer);
    }

    private float trainStep(float[] samples, int[] labels, float[] targets, int batch, OptimizerConfig optimizer) {
        checkTrainingBatch(batch);
        checkLength("input", samples.length, batch * descriptor.inputWidth(), batch, descriptor.inputShape());
        OptimizerKind kind = requireOptimizer(optimizer);
        enter();
        int slot = pool.acquire();
        try {
            String entry = TRAIN_ENTRIES.get(kind);
            Workspace ws = prepare(slot, entry, batch);
            MemorySegment.copy(samples, 0, ws.inputs, ValueLayout.JAVA_FLOAT, 0, (int) (batch * descriptor.inputWidth()));
            stageLabels(ws, labels, targets, 0, batch);
            MemorySegment state = stateFor(optimizer);
            optimizer.beginStep(ws.callValues);
            beginTrainingCall(ws.callValues);
            ws.arg(0, params, params.byteSize());
            ws.arg(1, state, state.byteSize());
            ws.arg(2, ws.inputs, batch * inputBytes());
            ws.arg(3, ws.labels, batch * labelBytes());
            ws.arg(4, ws.loss, Float.BYTES);
            invoke(entry, batch, ws);
            return ws.loss.get(ValueLayout.JAVA_FLOAT, 0);
        } finally {
            pool.release(slot);
            exit();
        }
    }

    /**
     * Computes the mean loss of a batch and writes the gradient of every parameter, readable with
     * {@link #gradient(String)} and applied by {@link #applyGradients(OptimizerConfig)}.
     */
    public float forwardBackward(float[] samples, int[] labels, int batch) {
        requireClassification("forwardBackward with class labels");
        checkLabels(labels, batch);
        return forwardBackward(samples, labels, null, batch);
    }

    /** Computes the mean loss and the parameter gradients for a batch with regression targets. */
    public float forwardBackward(float[] samples, float[] targets, int batch) {
        requireRegression("forwardBackward with targets");
        checkLength("targets", targets.length, batch * descriptor.targetWidth(), batch, descriptor.targetShape());
        checkTargetRange(targets);
        return forwardBackward(samples, null, targets, batch);
    }

    private float forwardBackward(float[] samples, int[] labels, float[] targets, int batch) {
        checkTrainingBatch(batch);
        checkLength("input", samples.length, batch * descriptor.inputWidth(), batch, descriptor.inputShape());
        enter();
        int slot = pool.acquire();
        try {
            Workspace ws = prepare(slot, "forward_backward", batch);
            MemorySegment.copy(samples, 0, ws.inputs, ValueLayout.JAVA_FLOAT, 0, (int) (batch * descriptor.inputWidth()));
            stageLabels(ws, labels, targets, 0, batch);
            beginTrainingCall(ws.callValues);
            ws.arg(0, params, params.byteSize());
            ws.arg(1, ws.inputs, batch * inputBytes());
            ws.arg(2, ws.labels, batch * labelBytes());
            ws.arg(3, ws.loss, Float.BYTES);
            ws.arg(4, grads, grads.byteSize());
            invoke("forward_backward", batch, ws);
            return ws.loss.get(ValueLayout.JAVA_FLOAT, 0);
        } finally {
            pool.release(slot);
            exit();
        }
    }

    /** Applies one optimizer step using the gradients held by the model (see {@link #setGradient}). */
    public void applyGradients(OptimizerConfig optimizer) {
        OptimizerKind kind = requireOptimizer(optimizer);
        enter();
        int slot = pool.acquire();
        try {
            String entry = UPDATE_ENTRIES.get(kind);
            Workspace ws = prepare(slot, entry, 1);
            MemorySegment state = stateFor(optimizer);
            optimizer.beginStep(ws.callValues);
            ws.arg(0, params, params.byteSize());
            ws.arg(1, state, state.byteSize());
            ws.arg(2, grads, grads.byteSize());
            invoke(entry, 1, ws);
        } finally {
            pool.release(slot);
            exit();
        }
    }

    private MemorySegment stateFor(OptimizerConfig optimizer) {
        OptimizerKind kind = optimizer.kind();
        MemorySegment state = states.get(kind);
        if (state == null) {
            state = arena.allocate(Math.max(1, descriptor.stateCount(kind)) * Float.BYTES, 64);
            states.put(kind, state);
        }
        if (stateOwners.get(kind) != optimizer) {
            state.fill((byte) 0);
            executor.hostChanged(state);
            stateOwners.put(kind, optimizer);
            if (optimizer.steps() != 0) {
                LOG.log(System.Logger.Level.DEBUG, "optimizer with {0} steps starts fresh state on {1}",
                        optimizer.steps(), descriptor.modelName());
            }
        }
        return state;
    }

    // ---- parameters and gradients ----------------------------------------------------------

    /** Returns the names of the parameters in checkpoint order, e.g. {@code fc1.weight}. */
    public List<String> parameterNames() {
        return List.copyOf(paramsByName.keySet());
    }

    /** Returns a copy of a parameter's values, row-major. */
    public float[] parameter(String name) {
        return read(params, param(name));
    }

    /** Overwrites a parameter with row-major {@code values}. */
    public void setParameter(String name, float[] values) {
        write(params, param(name), values);
    }

    /** Returns the gradient of a parameter from the last {@link #forwardBackward} call. */
    public float[] gradient(String name) {
        return read(grads, param(name));
    }

    /** Overwrites the gradient of a parameter, for example after accumulating several batches. */
    public void setGradient(String name, float[] values) {
        write(grads, param(name), values);
    }

    private ModelDescriptor.Param param(String name) {
        ModelDescriptor.Param p = paramsByName.get(name);
        if (p == null) {
            throw new IllegalArgumentException("model " + descriptor.modelName() + " has no parameter '" + name
                    + "'; it has " + paramsByName.keySet());
        }
        return p;
    }

    private float[] read(MemorySegment block, ModelDescriptor.Param p) {
        enter();
        try {
            float[] out = new float[(int) p.elements()];
            executor.beforeHostRead(block);
            MemorySegment.copy(block, ValueLayout.JAVA_FLOAT, paramOffsets.get(p.name()) * Float.BYTES, out, 0, out.length);
            return out;
        } finally {
            exit();
        }
    }

    private void write(MemorySegment block, ModelDescriptor.Param p, float[] values) {
        if (values.length != p.elements()) {
            throw new IllegalArgumentException("parameter '" + p.name() + "' has shape " + p.shapeText() + " ("
                    + p.elements() + " values), got " + values.length + " values");
        }
        enter();
        try {
            executor.beforeHostRead(block);
            MemorySegment.copy(values, 0, block, ValueLayout.JAVA_FLOAT, paramOffsets.get(p.name()) * Float.BYTES, values.length);
            executor.hostChanged(block);
        } finally {
            exit();
        }
    }

    // ---- checkpoints -----------------------------------------------------------------------

    /**
     * Saves the parameters as a safetensors file with PyTorch's state-dict names, plus the model's
     * name and signature and the user's {@code metadata}. The write is atomic: a temporary file in
     * the same folder is renamed over the target.
     */
    public void save(Path file, Map<String, String> metadata) throws IOException {
        Map<String, String> all = new LinkedHashMap<>(metadata);
        all.put("kiln.model", descriptor.modelName());
        all.put("kiln.signature", descriptor.signature());
        List<NamedTensor> tensors = descriptor.params().stream()
                .map(p -> NamedTensor.ofFloats(p.name(), longs(p.shape()), parameter(p.name())))
                .toList();
        Safetensors.write(file, tensors, all);
    }

    /** Saves the parameters with no user metadata. */
    public void save(Path file) throws IOException {
        save(file, Map.of());
    }

    /**
     * Loads parameters from a safetensors file (one written by {@link #save} or by PyTorch) and
     * returns its metadata. The file must hold exactly this model's tensors with their shapes;
     * otherwise nothing is changed and the exception names the tensor and both shapes.
     */
    public Map<String, String> load(Path file) throws IOException {
        Checkpoint checkpoint = Safetensors.read(file);
        Map<String, float[]> values = new LinkedHashMap<>();
        for (ModelDescriptor.Param p : descriptor.params()) {
            NamedTensor tensor = checkpoint.find(p.name()).orElseThrow(() -> new IllegalArgumentException(
                    "checkpoint " + file + " has no tensor '" + p.name() + "' (shape " + p.shapeText()
                            + ") of model " + descriptor.modelName() + "; it has " + checkpoint.names()));
            if (!Arrays.equals(tensor.shape(), longs(p.shape()))) {
                throw new IllegalArgumentException("tensor '" + p.name() + "' in " + file + " has shape "
                        + Arrays.toString(tensor.shape()) + " but model " + descriptor.modelName() + " expects "
                        + p.shapeText());
            }
            if (!tensor.dtype().isFloatingPoint()) {
                throw new IllegalArgumentException("tensor '" + p.name() + "' in " + file + " has integer type "
                        + tensor.dtype() + "; parameters must be floating point");
            }
            values.put(p.name(), tensor.toFloatArray());
        }
        for (String name : checkpoint.names()) {
            if (!paramsByName.containsKey(name)) {
                throw new IllegalArgumentException("checkpoint " + file + " has tensor '" + name
                        + "' that model " + descriptor.modelName() + " does not have; the model's tensors are "
                        + paramsByName.keySet());
            }
        }
        values.forEach(this::setParameter);
        stateOwners.clear();
        return checkpoint.metadata();
    }

    private static long[] longs(int[] dims) {
        long[] out = new long[dims.length];
        for (int i = 0; i < dims.length; i++) {
            out[i] = dims[i];
        }
        return out;
    }

    // ---- calls -----------------------------------------------------------------------------

    private long inputBytes() {
        return descriptor.inputWidth() * Float.BYTES;
    }

    private long outputBytes() {
        return descriptor.outputWidth() * Float.BYTES;
    }

    private long labelBytes() {
        return labelWidth() * Float.BYTES;
    }

    /** Returns the label elements per sample: one class index, or one target per output element. */
    private long labelWidth() {
        return descriptor.loss().takesClassIndices() ? 1 : descriptor.targetWidth();
    }

    private Workspace prepare(int slot, String entry, long batch) {
        Workspace ws = pool.get(slot);
        long bytes = executor.workspaceBytes(entry, Math.max(batch, ws.capacity));
        ws.ensure(batch, bytes, descriptor.inputWidth(), labelWidth(), descriptor.outputWidth());
        Arrays.fill(ws.callValues, 0);
        return ws;
    }

    private void invoke(String entry, long batch, Workspace ws) {
        executor.invoke(entry, batch, ws);
    }

    private void stageLabels(Workspace ws, int[] labels, float[] targets, int start, int batch) {
        if (labels != null) {
            MemorySegment.copy(labels, start, ws.labels, ValueLayout.JAVA_INT, 0, batch);
        } else {
            int width = (int) descriptor.targetWidth();
            MemorySegment.copy(targets, start * width, ws.labels, ValueLayout.JAVA_FLOAT, 0, batch * width);
        }
    }

    // ---- checks ----------------------------------------------------------------------------

    private void enter() {
        inFlight.incrementAndGet();
        if (closed) {
            inFlight.decrementAndGet();
            throw new IllegalStateException("model " + descriptor.modelName() + " is closed");
        }
    }

    private void exit() {
        inFlight.decrementAndGet();
    }

    private void checkBatch(long batch) {
        if (batch < 0) {
            throw new IllegalArgumentException("batch size must be >= 0, got " + batch);
        }
    }

    private void checkTrainingBatch(long batch) {
        if (batch <= 0) {
            throw new IllegalArgumentException("a training batch needs at least one sample, got batch size " + batch);
        }
    }

    private static void checkLength(String what, long actual, long expected, long batch, int[] sampleShape) {
        if (actual != expected) {
            throw new IllegalArgumentException(what + " for a batch of " + batch + " samples of shape "
                    + Arrays.toString(sampleShape) + " needs " + expected + " floats, got " + actual);
        }
    }

    private static void checkSegment(String what, MemorySegment segment, long floats) {
        if (!segment.isNative()) {
            throw new IllegalArgumentException(what + " segment must be native memory (from an Arena), got a heap segment");
        }
        if (segment.byteSize() < floats * Float.BYTES) {
            throw new IllegalArgumentException(what + " segment has " + segment.byteSize() + " bytes, needs "
                    + floats * Float.BYTES + " bytes (" + floats + " floats)");
        }
    }

    private void checkLabels(int[] labels, int batch) {
        if (labels.length != batch) {
            throw new IllegalArgumentException("batch has " + batch + " samples but " + labels.length + " labels");
        }
        int classes = (int) descriptor.outputWidth();
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= classes) {
                throw new IllegalArgumentException("label " + labels[i] + " of sample " + i + " is out of range: "
                        + descriptor.modelName() + " has " + classes + " classes, 0.." + (classes - 1));
            }
        }
    }

    private OptimizerKind requireOptimizer(OptimizerConfig optimizer) {
        if (!descriptor.optimizers().contains(optimizer.kind())) {
            throw new IllegalArgumentException(descriptor.modelName() + " was compiled without " + optimizer.kind()
                    + "; add it to @Model(optimizers = ...) (compiled: " + descriptor.optimizers() + ")");
        }
        return optimizer.kind();
    }

    private void requireClassification(String what) {
        if (!descriptor.loss().takesClassIndices()) {
            throw new IllegalArgumentException(what + " needs a model whose loss takes class indices; "
                    + descriptor.modelName() + " is compiled with loss " + descriptor.loss() + " and takes float targets");
        }
    }

    private void requireClassScores(String what) {
        if (!descriptor.loss().scoresClasses()) {
            throw new IllegalArgumentException(what + " needs a model whose outputs are class scores; "
                    + descriptor.modelName() + " is compiled with loss " + descriptor.loss());
        }
    }

    /** Rejects targets outside [0, 1] where the loss reads them as probabilities. */
    private void checkTargetRange(float[] targets) {
        if (descriptor.loss() != LossKind.BCE_WITH_LOGITS) {
            return;
        }
        for (int i = 0; i < targets.length; i++) {
            if (!(targets[i] >= 0 && targets[i] <= 1)) {
                throw new IllegalArgumentException("target " + targets[i] + " at index " + i + " is outside [0, 1]: "
                        + descriptor.modelName() + " is compiled with BCE_WITH_LOGITS, whose targets are probabilities");
            }
        }
    }

    private void requireRegression(String what) {
        if (descriptor.loss().takesClassIndices()) {
            throw new IllegalArgumentException(what + " needs a model whose loss takes float targets; "
                    + descriptor.modelName() + " is compiled with loss " + descriptor.loss() + " and takes int class labels");
        }
    }

    /** Frees all native memory once calls in flight have finished. Closing twice does nothing. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        while (inFlight.get() > 0) {
            Thread.onSpinWait();
        }
        pool.close();
        executor.close();
        arena.close();
    }
}
