package dev.kiln.ir;

import java.util.Arrays;

/**
 * The shape of a tensor. Axis 0 may be the batch axis, written {@code B}, whose extent is given
 * at call time; every other extent is static. A shape of rank 0 is a scalar.
 */
public final class Shape {
    /** Extent that marks the batch axis. */
    public static final int BATCH = -1;

    public static final Shape SCALAR = new Shape(new int[0]);

    private final int[] dims;

    private Shape(int[] dims) {
        this.dims = dims;
    }

    /** Returns a shape; only axis 0 may be {@link #BATCH}, other extents must be at least 0. */
    public static Shape of(int... dims) {
        for (int i = 0; i < dims.length; i++) {
            if (dims[i] == BATCH && i == 0) {
                continue;
            }
            if (dims[i] < 0) {
                throw new IllegalArgumentException("invalid extent " + dims[i] + " at axis " + i
                        + " of shape " + Arrays.toString(dims) + ": only axis 0 may be the batch axis");
            }
        }
        return new Shape(dims.clone());
    }

    /** Returns {@code [B, sample...]}. */
    public static Shape batched(int... sample) {
        int[] dims = new int[sample.length + 1];
        dims[0] = BATCH;
        System.arraycopy(sample, 0, dims, 1, sample.length);
        return of(dims);
    }

    public int rank() {
        return dims.length;
    }

    public int dim(int axis) {
        return dims[axis];
    }

    public int[] dims() {
        return dims.clone();
    }

    public boolean isBatched() {
        return dims.length > 0 && dims[0] == BATCH;
    }

    public boolean isScalar() {
        return dims.length == 0;
    }

    /** Returns the extents with the batch axis replaced by {@code batch}. */
    public int[] concrete(long batch) {
        int[] out = dims.clone();
        if (isBatched()) {
            out[0] = Math.toIntExact(batch);
        }
        return out;
    }

    /** Returns the number of elements per batch row: the product of the static extents. */
    public long staticElements() {
        long n = 1;
        for (int d : dims) {
            if (d != BATCH) {
                n *= d;
            }
        }
        return n;
    }

    /** Returns the number of elements for a given batch size. */
    public long elements(long batch) {
        return isBatched() ? batch * staticElements() : staticElements();
    }

    /** Returns the shape without axis 0. */
    public Shape dropFirst() {
        return new Shape(Arrays.copyOfRange(dims, 1, dims.length));
    }

    /** Returns this shape with the last axis replaced by {@code extent}. */
    public Shape withLast(int extent) {
        int[] out = dims.clone();
        out[out.length - 1] = extent;
        return new Shape(out);
    }

    /** Returns the last extent. */
    public int last() {
        return dims[dims.length - 1];
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Shape s && Arrays.equals(dims, s.dims);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(dims);
    }

    /** Renders the shape as {@code [B,13]}. */
    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < dims.length; i++) {
            if (i > 0) {
                sb.append(',');
            }
            sb.append(dims[i] == BATCH ? "B" : Integer.toString(dims[i]));
        }
        return sb.append(']').toString();
    }

    /**
     * Returns the NumPy broadcast of two shapes: aligned from the right, an extent of 1 stretches,
     * the batch axis matches only itself or 1.
     *
     * @throws ShapeException if an axis has two different extents other than 1
     */
    public static Shape broadcast(Shape a, Shape b) {
        int rank = Math.max(a.rank(), b.rank());
        int[] out = new int[rank];
        for (int i = 0; i < rank; i++) {
            int da = axisFromRight(a, rank - 1 - i);
            int db = axisFromRight(b, rank - 1 - i);
            if (da == db || db == 1) {
                out[i] = da;
            } else if (da == 1) {
                out[i] = db;
            } else {
                throw new ShapeException("shapes " + a + " and " + b + " do not broadcast: axis "
                        + i + " has extents " + extentName(da) + " and " + extentName(db));
            }
        }
        if (rank > 0) {
            for (int i = 1; i < rank; i++) {
                if (out[i] == BATCH) {
                    throw new ShapeException("shapes " + a + " and " + b
                            + " put the batch axis at axis " + i + "; it must be axis 0");
                }
            }
        }
        return new Shape(out);
    }

    private static int axisFromRight(Shape s, int fromRight) {
        int axis = s.rank() - 1 - fromRight;
        return axis < 0 ? 1 : s.dims[axis];
    }

    static String extentName(int d) {
        return d == BATCH ? "B" : Integer.toString(d);
    }
}
