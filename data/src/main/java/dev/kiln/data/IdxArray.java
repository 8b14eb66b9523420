package dev.kiln.data;

import java.util.Arrays;

/**
 * An n-dimensional array of unsigned bytes as stored in an IDX file, such as the images and
 * labels of MNIST and Fashion-MNIST.
 *
 * @param shape the dimensions, outermost first
 * @param data the elements in row-major order, read as unsigned (0..255); Java's {@code byte}
 *     is signed, so use {@link #unsigned(int)}, {@link #toInts()} or {@link #toFloats(float)} to read them
 */
public record IdxArray(int[] shape, byte[] data) {

    /**
     * Validates that the data length equals the product of the dimensions and copies both arrays.
     *
     * @throws IllegalArgumentException if a dimension is negative or the lengths disagree
     */
    public IdxArray {
        shape = shape.clone();
        data = data.clone();
        long count = elementCount(shape);
        if (count != data.length) {
            throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has " + count
                    + " elements, but data has " + data.length + " bytes");
        }
    }

    /** Returns the product of the dimensions, failing on a negative dimension. */
    static long elementCount(int[] shape) {
        long count = 1;
        for (int dimension : shape) {
            if (dimension < 0) {
                throw new IllegalArgumentException("dimension " + dimension + " in shape " + Arrays.toString(shape)
                        + " is negative");
            }
            count *= dimension;
            if (count > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("shape " + Arrays.toString(shape) + " has more than "
                        + Integer.MAX_VALUE + " elements, which do not fit in one Java array");
            }
        }
        return count;
    }

    /** Returns a copy of the dimensions. */
    @Override
    public int[] shape() {
        return shape.clone();
    }

    /** Returns a copy of the elements. */
    @Override
    public byte[] data() {
        return data.clone();
    }

    /** Returns the number of elements. */
    public int size() {
        return data.length;
    }

    /** Returns element {@code i} (row-major) as an unsigned value in 0..255. */
    public int unsigned(int i) {
        return Byte.toUnsignedInt(data[i]);
    }

    /**
     * Returns every element as {@code unsigned / divisor}, for example with divisor 255 for
     * pixels in [0, 1]. Dividing, rather than multiplying by {@code 1 / divisor}, gives the
     * correctly rounded float quotient.
     */
    public float[] toFloats(float divisor) {
        float[] out = new float[data.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = Byte.toUnsignedInt(data[i]) / divisor;
        }
        return out;
    }

    /** Returns every element as an unsigned int, for example class labels. */
    public int[] toInts() {
        int[] out = new int[data.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = Byte.toUnsignedInt(data[i]);
        }
        return out;
    }

    /** Compares shapes and elements, not array identities. */
    @Override
    public boolean equals(Object other) {
        return other instanceof IdxArray that && Arrays.equals(shape, that.shape) && Arrays.equals(data, that.data);
    }

    @Override
    public int hashCode() {
        return 31 * Arrays.hashCode(shape) + Arrays.hashCode(data);
    }

    /** Returns the shape and element count; the elements are left out. */
    @Override
    public String toString() {
        return "IdxArray[shape=" + Arrays.toString(shape) + ", " + data.length + " unsigned bytes]";
    }
}
