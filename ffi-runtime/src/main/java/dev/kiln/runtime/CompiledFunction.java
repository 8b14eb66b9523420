package dev.kiln.runtime;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A differentiable function compiled with its derivatives: entry k of its library computes the
 * k-th derivative of the sum of the outputs with respect to the input. Generated
 * {@code Compiled<Class><Method>} classes extend this class. Calls may come from many threads at
 * once; each borrows its own workspace.
 */
public abstract class CompiledFunction implements AutoCloseable {
    private final Spec spec;
    private final NativeExecutor executor;
    private final WorkspacePool pool;
    private final AtomicInteger inFlight = new AtomicInteger();
    private volatile boolean closed;

    /**
     * Description of a compiled function for the runtime.
     *
     * @param name the method's qualified name, e.g. {@code pkg.Chain.f}
     * @param libraryName the native library's name
     * @param signature text that the library's {@code _signature()} must return
     * @param inputShape per-sample input shape
     * @param outputShape per-sample output shape
     * @param order the highest derivative compiled
     */
    public record Spec(String name, String libraryName, String signature, int[] inputShape, int[] outputShape,
                       int order) {
        long inputWidth() {
            return Arrays.stream(inputShape).asLongStream().reduce(1, (a, b) -> a * b);
        }

        long outputWidth() {
            return Arrays.stream(outputShape).asLongStream().reduce(1, (a, b) -> a * b);
        }

        ModelDescriptor asDescriptor() {
            return new ModelDescriptor(name, libraryName, signature, List.of(), inputShape, outputShape,
                    dev.kiln.nn.LossKind.MSE, List.of());
        }
    }

    /** Loads the function's library from the class path of {@code owner}, the generated class. */
    protected CompiledFunction(Spec spec, Class<?> owner) {
        this.spec = spec;
        List<String> entries = new ArrayList<>();
        for (int k = 0; k <= spec.order(); k++) {
            entries.add("derivative_" + k);
        }
        this.executor = new NativeExecutor(spec.name(),
                NativeModelLibrary.load(spec.asDescriptor(), owner), entries);
        this.pool = new WorkspacePool(Math.max(2, Runtime.getRuntime().availableProcessors() * 2));
    }

    /** Returns the function's values for a batch of {@code batch} samples. */
    public float[] value(float[] x, int batch) {
        return derivative(0, x, batch);
    }

    /** Returns the k-th derivative for a batch of {@code batch} samples, row-major. */
    public float[] derivative(int order, float[] x, int batch) {
        float[] out = new float[Math.toIntExact(batch * spec.outputWidth())];
        derivative(order, x, batch, out);
        return out;
    }

    /** Writes the k-th derivative for a batch into {@code out} without allocating. */
    public void derivative(int order, float[] x, int batch, float[] out) {
        if (order < 0 || order > spec.order()) {
            throw new IllegalArgumentException(spec.name() + " is compiled with derivatives of order 0 to "
                    + spec.order() + ", not " + order + "; raise @Differentiable(order = ...) to compile more");
        }
        if (batch < 0) {
            throw new IllegalArgumentException("batch size must be >= 0, got " + batch);
        }
        long inputs = batch * spec.inputWidth();
        long outputs = batch * spec.outputWidth();
        if (x.length != inputs) {
            throw new IllegalArgumentException("input for a batch of " + batch + " samples of shape "
                    + Arrays.toString(spec.inputShape()) + " needs " + inputs + " floats, got " + x.length);
        }
        if (out.length != outputs) {
            throw new IllegalArgumentException("output buffer for a batch of " + batch + " needs " + outputs
                    + " floats, got " + out.length);
        }
        inFlight.incrementAndGet();
        try {
            if (closed) {
                throw new IllegalStateException("function " + spec.name() + " is closed");
            }
            int slot = pool.acquire();
            try {
                Workspace ws = pool.get(slot);
                String entry = "derivative_" + order;
                ws.ensure(batch, executor.workspaceBytes(entry, Math.max(batch, ws.capacity)), spec.inputWidth(), 1,
                        spec.outputWidth());
                MemorySegment.copy(x, 0, ws.inputs, ValueLayout.JAVA_FLOAT, 0, (int) inputs);
                ws.arg(0, ws.inputs, inputs * Float.BYTES);
                ws.arg(1, ws.outputs, outputs * Float.BYTES);
                executor.invoke(entry, batch, ws);
                MemorySegment.copy(ws.outputs, ValueLayout.JAVA_FLOAT, 0, out, 0, (int) outputs);
            } finally {
                pool.release(slot);
            }
        } finally {
            inFlight.decrementAndGet();
        }
    }

    /** Returns the highest derivative compiled. */
    public int order() {
        return spec.order();
    }

    /** Frees native memory once calls in flight have finished. */
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
    }
}
