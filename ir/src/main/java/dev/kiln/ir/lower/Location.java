package dev.kiln.ir.lower;

import dev.kiln.ir.DType;

/** Where a value of a lowered entry lives while the entry runs. */
public sealed interface Location {

    /** A tensor in a pointer argument of the entry, {@code offset} elements from its start. */
    record Argument(int arg, long offset, DType dtype) implements Location {
    }

    /**
     * A tensor in the workspace. A batched buffer starts {@code offset * B} floats into the
     * workspace; a fixed one starts {@code offset} floats after the batched region, whose size is
     * {@link Schedule#workspacePerRow()} times B.
     */
    record Workspace(boolean batched, long offset, long size) implements Location {
    }

    /** A scalar computed once per call, in double precision. */
    record Scalar(int id) implements Location {
    }

    /** A scalar constant. */
    record Constant(double value) implements Location {
    }

    /** A hyperparameter of the call, by its index in {@code kiln_call}. */
    record Hyperparameter(int index) implements Location {
    }

    /** The batch size B of the call. */
    record BatchSize() implements Location {
    }

    /** A value that exists only inside one fused loop and is never written to memory. */
    record Register(int id) implements Location {
    }
}
