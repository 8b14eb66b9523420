package dev.kiln.runtime;

import java.lang.foreign.MemorySegment;

/**
 * Runs the entries of a compiled model on one backend. The model's host memory (parameters,
 * gradients, optimizer state) is the source of truth between calls only after
 * {@link #beforeHostRead}; a backend that keeps copies on a device uploads blocks reported by
 * {@link #hostChanged} before its next call.
 */
interface Executor extends AutoCloseable {

    /** Returns the bytes of host workspace an entry needs for a batch. */
    long workspaceBytes(String entry, long batch);

    /**
     * Runs an entry with the arguments and hyperparameters staged in {@code ws}; written
     * arguments that are not resident blocks are in host memory when this returns.
     */
    void invoke(String entry, long batch, Workspace ws);

    /** Notes that the host copy of a parameter, gradient or state block was overwritten. */
    void hostChanged(MemorySegment block);

    /** Brings the host copy of a block up to date before the host reads it. */
    void beforeHostRead(MemorySegment block);

    /** Returns a short description of the backend and device, for logs. */
    String describe();

    @Override
    void close();
}
