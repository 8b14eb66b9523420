package dev.kiln.nn;

import java.util.Arrays;

/**
 * A tensor of the model language. At build time Kiln reads {@code forward} symbolically and never
 * runs this class; at run time, in eager mode, it contains real values in double precision, so a
 * model's {@code forward} can be stepped through in a debugger.
 */
public final class Tensor {
    private final int[] shape;
    private final double[] data;

    private Tensor(int[] shape, double[] data) {
        long expected = 1;
        for (int d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative extent in shape " + Arrays.toString(shape));
            }
            expected *= d;
        }
        if (expected != data.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has " + expected
                    + " values, got " + data.length);
        }
        this.shape = shape;
        this.data = data;
    }

    /** Returns a tensor over a copy of row-major {@code values}. */
    public static Tensor of(double[] values, int... shape) {
        return new Tensor(shape.clone(), values.clone());
    }

    /** Returns a tensor over a copy of row-major float {@code values}. */
    public static Tensor of(float[] values, int... shape) {
        double[] data = new double[values.length];
        for (int i = 0; i < data.length; i++) {
            data[i] = values[i];
        }
        return new Tensor(shape.clone(), data);
    }

    static Tensor wrap(double[] values, int... shape) {
        return new Tensor(shape, values);
    }

    public int[] shape() {
        return shape.clone();
    }

    public int rank() {
        return shape.length;
    }

    /** Returns a copy of the values, row-major. */
    public double[] values() {
        return data.clone();
    }

    double[] data() {
        return data;
    }

    /**
     * Returns the value of a one-element tensor. Eager mode only: a compiled model cannot branch
     * on tensor values, so the build rejects conditions that use it.
     */
    public double item() {
        if (data.length != 1) {
            throw new IllegalStateException("item() needs a tensor of one element, got shape " + Arrays.toString(shape));
        }
        return data[0];
    }

    /** Returns {@code this + other} with NumPy broadcasting. */
    public Tensor add(Tensor other) {
        return Functional.add(this, other);
    }

    /** Returns {@code this - other} with NumPy broadcasting. */
    public Tensor sub(Tensor other) {
        return Functional.sub(this, other);
    }

    /** Returns {@code this * other}, elementwise with NumPy broadcasting. */
    public Tensor mul(Tensor other) {
        return Functional.mul(this, other);
    }

    /** Returns {@code this / other}, elementwise with NumPy broadcasting. */
    public Tensor div(Tensor other) {
        return Functional.div(this, other);
    }

    /** Returns {@code this + other} for a constant. */
    public Tensor add(double other) {
        return Functional.add(this, other);
    }

    /** Returns {@code this - other} for a constant. */
    public Tensor sub(double other) {
        return Functional.sub(this, other);
    }

    /** Returns {@code this * other} for a constant. */
    public Tensor mul(double other) {
        return Functional.mul(this, other);
    }

    /** Returns {@code this / other} for a constant. */
    public Tensor div(double other) {
        return Functional.div(this, other);
    }

    /** See {@link Functional#reshape}. */
    public Tensor reshape(int... shape) {
        return Functional.reshape(this, shape);
    }

    /** See {@link Functional#flatten}. */
    public Tensor flatten() {
        return Functional.flatten(this);
    }

    /** See {@link Functional#permute}. */
    public Tensor permute(int... axes) {
        return Functional.permute(this, axes);
    }

    /** See {@link Functional#transpose}. */
    public Tensor transpose(int first, int second) {
        return Functional.transpose(this, first, second);
    }

    /** See {@link Functional#matmul}. */
    public Tensor matmul(Tensor other) {
        return Functional.matmul(this, other);
    }

    /** Returns the sum over {@code axis}, dropping it. */
    public Tensor sum(int axis) {
        return Functional.sum(this, axis);
    }

    /** Returns the sum over {@code axis}, kept with extent 1 when {@code keepdim} is set. */
    public Tensor sum(int axis, boolean keepdim) {
        return Functional.sum(this, axis, keepdim);
    }

    /** Returns the mean over {@code axis}, dropping it. */
    public Tensor mean(int axis) {
        return Functional.mean(this, axis);
    }

    /** Returns the mean over {@code axis}, kept with extent 1 when {@code keepdim} is set. */
    public Tensor mean(int axis, boolean keepdim) {
        return Functional.mean(this, axis, keepdim);
    }

    @Override
    public String toString() {
        return "Tensor" + Arrays.toString(shape) + Arrays.toString(data);
    }
}
