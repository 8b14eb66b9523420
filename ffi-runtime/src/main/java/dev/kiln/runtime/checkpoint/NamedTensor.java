package dev.kiln.runtime.checkpoint;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;

/**
 * A named tensor of a checkpoint: dtype, shape and the raw little-endian element bytes in
 * row-major order. Instances are immutable; factories and accessors copy arrays.
 *
 * <p>One tensor has at most {@link Integer#MAX_VALUE} bytes, because its data lives in one
 * Java array.
 */
public final class NamedTensor {

    private final String name;
    private final DType dtype;
    private final long[] shape;
    private final byte[] data;

    /** Wraps {@code data} without copying, so callers pass an array that no other code references. */
    NamedTensor(String name, DType dtype, long[] shape, byte[] data) {
        this.name = requireName(name);
        this.dtype = Objects.requireNonNull(dtype, "dtype");
        this.shape = shape.clone();
        this.data = data;
        long expectedBytes = byteSizeOf(name, dtype, this.shape);
        if (expectedBytes != data.length) {
            throw new IllegalArgumentException("tensor '" + name + "' of dtype " + dtype + " and shape "
                    + Arrays.toString(shape) + " needs " + expectedBytes + " bytes, but " + data.length
                    + " bytes were given");
        }
    }

    /**
     * Creates a tensor from raw little-endian bytes in row-major order.
     *
     * @throws IllegalArgumentException if the name is empty, a dimension is negative, or the
     *     byte count is not the element count times {@code dtype.byteSize()}
     */
    public static NamedTensor of(String name, DType dtype, long[] shape, byte[] littleEndianData) {
        return new NamedTensor(name, dtype, shape, littleEndianData.clone());
    }

    /** Creates an F32 tensor; the element count must match the shape. */
    public static NamedTensor ofFloats(String name, long[] shape, float... values) {
        ByteBuffer buffer = allocate(name, shape, values.length, DType.F32);
        buffer.asFloatBuffer().put(values);
        return new NamedTensor(name, DType.F32, shape, buffer.array());
    }

    /** Creates an F64 tensor; the element count must match the shape. */
    public static NamedTensor ofDoubles(String name, long[] shape, double... values) {
        ByteBuffer buffer = allocate(name, shape, values.length, DType.F64);
        buffer.asDoubleBuffer().put(values);
        return new NamedTensor(name, DType.F64, shape, buffer.array());
    }

    /** Creates an I64 tensor; the element count must match the shape. */
    public static NamedTensor ofLongs(String name, long[] shape, long... values) {
        ByteBuffer buffer = allocate(name, shape, values.length, DType.I64);
        buffer.asLongBuffer().put(values);
        return new NamedTensor(name, DType.I64, shape, buffer.array());
    }

    /** Creates an I32 tensor; the element count must match the shape. */
    public static NamedTensor ofInts(String name, long[] shape, int... values) {
        ByteBuffer buffer = allocate(name, shape, values.length, DType.I32);
        buffer.asIntBuffer().put(values);
        return new NamedTensor(name, DType.I32, shape, buffer.array());
    }

    /** Returns the tensor's name, such as {@code fc1.weight}. */
    public String name() {
        return name;
    }

    /** Returns the element type. */
    public DType dtype() {
        return dtype;
    }

    /** Returns a copy of the shape; an empty array is a scalar. */
    public long[] shape() {
        return shape.clone();
    }

    /** Returns the number of elements, the product of the shape. */
    public long elementCount() {
        return data.length / dtype.byteSize();
    }

    /** Returns the number of data bytes. */
    public int byteSize() {
        return data.length;
    }

    /** Returns a read-only little-endian view of the data bytes. */
    public ByteBuffer data() {
        return ByteBuffer.wrap(data).asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /**
     * Returns the elements as floats. F32 is copied bit for bit; F16, BF16 and the 8-bit
     * floats widen exactly; F64 and integers wider than 24 bits round to nearest.
     */
    public float[] toFloatArray() {
        int count = Math.toIntExact(elementCount());
        float[] values = new float[count];
        ByteBuffer buffer = data();
        if (dtype == DType.F32) {
            buffer.asFloatBuffer().get(values);
            return values;
        }
        for (int i = 0; i < count; i++) {
            values[i] = ElementCodec.floatAt(buffer, dtype, i);
        }
        return values;
    }

    /**
     * Returns the elements as doubles. Every dtype but I64 and U64 converts exactly; those
     * round to nearest above 2^53 in magnitude.
     */
    public double[] toDoubleArray() {
        int count = Math.toIntExact(elementCount());
        double[] values = new double[count];
        ByteBuffer buffer = data();
        for (int i = 0; i < count; i++) {
            values[i] = ElementCodec.doubleAt(buffer, dtype, i);
        }
        return values;
    }

    /**
     * Returns the elements of an integer or BOOL tensor as longs.
     *
     * @throws IllegalStateException if the dtype is a floating-point type
     * @throws ArithmeticException if a U64 element is above {@link Long#MAX_VALUE}
     */
    public long[] toLongArray() {
        if (dtype.isFloatingPoint()) {
            throw new IllegalStateException("tensor '" + name + "' has floating-point dtype " + dtype
                    + "; toLongArray() needs an integer dtype, use toFloatArray() or toDoubleArray()");
        }
        int count = Math.toIntExact(elementCount());
        long[] values = new long[count];
        ByteBuffer buffer = data();
        for (int i = 0; i < count; i++) {
            values[i] = ElementCodec.longAt(buffer, dtype, i);
            if (dtype == DType.U64 && values[i] < 0) {
                throw new ArithmeticException("tensor '" + name + "' element " + i + " is "
                        + Long.toUnsignedString(values[i]) + ", above Long.MAX_VALUE");
            }
        }
        return values;
    }

    /** Returns the name, dtype and shape, such as {@code fc1.weight F32 [20, 13]}. */
    @Override
    public String toString() {
        return name + " " + dtype + " " + Arrays.toString(shape);
    }

    /** Returns the byte size of a tensor of this dtype and shape, checking dimensions and overflow. */
    static long byteSizeOf(String name, DType dtype, long[] shape) {
        long count = 1;
        for (long dimension : shape) {
            if (dimension < 0) {
                throw new IllegalArgumentException("tensor '" + name + "' has negative dimension "
                        + dimension + " in shape " + Arrays.toString(shape));
            }
            try {
                count = Math.multiplyExact(count, dimension);
            } catch (ArithmeticException overflow) {
                throw new IllegalArgumentException("tensor '" + name + "' with shape "
                        + Arrays.toString(shape) + " has more elements than a long can count", overflow);
            }
        }
        try {
            return Math.multiplyExact(count, dtype.byteSize());
        } catch (ArithmeticException overflow) {
            throw new IllegalArgumentException("tensor '" + name + "' with shape " + Arrays.toString(shape)
                    + " has more bytes than a long can count", overflow);
        }
    }

    private static ByteBuffer allocate(String name, long[] shape, int valueCount, DType dtype) {
        long expectedBytes = byteSizeOf(name, dtype, shape);
        long givenBytes = (long) valueCount * dtype.byteSize();
        if (expectedBytes != givenBytes) {
            throw new IllegalArgumentException("tensor '" + name + "' with shape " + Arrays.toString(shape)
                    + " needs " + expectedBytes / dtype.byteSize() + " elements, but " + valueCount
                    + " were given");
        }
        return ByteBuffer.allocate(Math.toIntExact(givenBytes)).order(ByteOrder.LITTLE_ENDIAN);
    }

    private static String requireName(String name) {
        Objects.requireNonNull(name, "name");
        if (name.isEmpty()) {
            throw new IllegalArgumentException("tensor name must not be empty");
        }
        return name;
    }
}
