package dev.kiln.runtime;

import dev.kiln.ir.Hyperparameters;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Native memory for one call at a time: the entry workspace, staging buffers for inputs, labels
 * and outputs copied from Java arrays, the pointer array of the entry's arguments and the
 * {@code kiln_call} struct. It grows to the largest batch seen and is reused, never allocated per
 * call.
 */
final class Workspace implements AutoCloseable {
    static final int MAX_ARGS = 8;

    private Arena arena;
    long capacity = -1;
    MemorySegment workspace;
    MemorySegment inputs;
    MemorySegment labels;
    MemorySegment outputs;
    final MemorySegment loss;
    final MemorySegment args;
    final MemorySegment call;
    final double[] callValues = new double[Hyperparameters.NAMES.size()];
    private final Arena fixedArena = Arena.ofShared();

    Workspace() {
        loss = fixedArena.allocate(ValueLayout.JAVA_FLOAT);
        args = fixedArena.allocate(ValueLayout.ADDRESS, MAX_ARGS);
        call = fixedArena.allocate(ValueLayout.JAVA_DOUBLE, Hyperparameters.NAMES.size());
    }

    /** Grows every buffer to hold a batch of {@code batch} rows, keeping nothing from before. */
    void ensure(long batch, long workspaceBytes, long inputWidth, long labelWidth, long outputWidth) {
        if (batch <= capacity && workspace.byteSize() >= workspaceBytes) {
            return;
        }
        long rows = Math.max(batch, Math.max(capacity, 1));
        if (arena != null) {
            arena.close();
        }
        arena = Arena.ofShared();
        workspace = arena.allocate(Math.max(workspaceBytes, 64), 64);
        inputs = arena.allocate(rows * inputWidth * Float.BYTES, 64);
        labels = arena.allocate(rows * labelWidth * Float.BYTES, 64);
        outputs = arena.allocate(rows * outputWidth * Float.BYTES, 64);
        capacity = rows;
    }

    /** Writes the hyperparameter values into the native {@code kiln_call} struct. */
    void flushCall() {
        MemorySegment.copy(callValues, 0, call, ValueLayout.JAVA_DOUBLE, 0, callValues.length);
    }

    /** Host segments and byte counts of the arguments, for backends that copy them to a device. */
    final MemorySegment[] argSegments = new MemorySegment[MAX_ARGS];
    final long[] argBytes = new long[MAX_ARGS];

    /** Sets argument {@code index} of the next call to {@code bytes} bytes at {@code pointer}. */
    void arg(int index, MemorySegment pointer, long bytes) {
        args.setAtIndex(ValueLayout.ADDRESS, index, pointer);
        argSegments[index] = pointer;
        argBytes[index] = bytes;
    }

    @Override
    public void close() {
        if (arena != null) {
            arena.close();
            arena = null;
        }
        fixedArena.close();
    }
}
