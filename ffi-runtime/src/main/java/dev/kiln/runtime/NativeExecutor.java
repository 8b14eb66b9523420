package dev.kiln.runtime;

import dev.kiln.nn.OptimizerKind;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.MethodHandle;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** Runs entries as one FFM downcall each into the model's C library, on host memory. */
final class NativeExecutor implements Executor {
    private final String modelName;
    private final NativeModelLibrary library;
    private final Map<String, MethodHandle> entries = new LinkedHashMap<>();
    /** Workspace bytes of each entry as {per batch row, fixed}: the sizes are affine in the batch size. */
    private final Map<String, long[]> workspaceSizes = new LinkedHashMap<>();

    /** Binds the given entries, each as a critical downcall when it is short and never calls back. */
    NativeExecutor(String modelName, NativeModelLibrary library, java.util.List<String> criticalEntries) {
        this.modelName = modelName;
        this.library = library;
        for (String entry : criticalEntries) {
            bind(library, entry, true);
        }
    }

    NativeExecutor(ModelDescriptor descriptor, NativeModelLibrary library) {
        this.modelName = descriptor.modelName();
        this.library = library;
        bind(library, "predict", true);
        bind(library, "evaluate", true);
        bind(library, "forward_backward", false);
        for (OptimizerKind kind : descriptor.optimizers()) {
            String id = kind.name().toLowerCase(Locale.ROOT);
            bind(library, "update_" + id, false);
            bind(library, "train_" + id, false);
        }
    }

    /** Returns the library whose entries this executor calls. */
    NativeModelLibrary library() {
        return library;
    }

    private void bind(NativeModelLibrary library, String entry, boolean critical) {
        entries.put(entry, library.entry(entry, critical));
        MethodHandle size = library.workspaceSize(entry);
        try {
            long fixed = (long) size.invokeExact(0L);
            long perRow = (long) size.invokeExact(1L) - fixed;
            workspaceSizes.put(entry, new long[] {perRow, fixed});
        } catch (Throwable e) {
            throw new NativeLibraryException("workspace size query of " + entry + " in library "
                    + library.name() + " failed", e);
        }
    }

    @Override
    public long workspaceBytes(String entry, long batch) {
        long[] size = workspaceSizes.get(entry);
        return size[0] * batch + size[1];
    }

    @Override
    public void invoke(String entry, long batch, Workspace ws) {
        ws.flushCall();
        int status;
        try {
            status = (int) entries.get(entry).invokeExact(batch, ws.call, ws.workspace, ws.args);
        } catch (Throwable e) {
            throw new IllegalStateException("native call " + entry + " of " + modelName + " failed", e);
        }
        if (status != 0) {
            throw new IllegalStateException("native call " + entry + " of " + modelName + " returned status " + status);
        }
    }

    @Override
    public void hostChanged(MemorySegment block) {
    }

    @Override
    public void beforeHostRead(MemorySegment block) {
    }

    @Override
    public String describe() {
        return "C library on the CPU";
    }

    @Override
    public void close() {
    }
}
