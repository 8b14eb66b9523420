package dev.kiln.runtime.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import org.junit.jupiter.api.Test;

class NamedTensorConversionTest {

    @Test
    void halfPrecisionWidensExactly() {
        // 0x3c00 = 1, 0xc000 = -2, 0x0001 = 2^-24 (smallest subnormal), 0x7c00 = +inf, 0x7bff = 65504.
        NamedTensor tensor = tensorOfShorts(DType.F16, (short) 0x3c00, (short) 0xc000, (short) 0x0001,
                (short) 0x7c00, (short) 0x7bff);

        assertArrayEquals(new float[] {1f, -2f, 0x1p-24f, Float.POSITIVE_INFINITY, 65504f}, tensor.toFloatArray());
        assertTrue(Float.isNaN(tensorOfShorts(DType.F16, (short) 0x7e00).toFloatArray()[0]));
    }

    @Test
    void bfloat16IsUpperHalfOfFloat() {
        NamedTensor tensor = tensorOfShorts(DType.BF16, (short) 0x3f80, (short) 0xc0a0, (short) 0x0001,
                (short) 0xff80);

        assertArrayEquals(new float[] {1f, -5f, Float.intBitsToFloat(0x00010000), Float.NEGATIVE_INFINITY},
                tensor.toFloatArray());
        assertArrayEquals(new double[] {1, -5, Float.intBitsToFloat(0x00010000), Double.NEGATIVE_INFINITY},
                tensor.toDoubleArray());
    }

    @Test
    void eightBitFloatsDecode() {
        // E5M2 0x3c = 1; E4M3: 0x38 = 1, 0x7e = 448 (max), 0x01 = 2^-9, 0xb8 = -1, 0x7f = NaN.
        assertArrayEquals(new float[] {1f, -0x1p-16f}, NamedTensor.of("e5m2", DType.F8_E5M2, new long[] {2},
                new byte[] {0x3c, (byte) 0x81}).toFloatArray());
        float[] e4m3 = NamedTensor.of("e4m3", DType.F8_E4M3, new long[] {5},
                new byte[] {0x38, 0x7e, 0x01, (byte) 0xb8, 0x7f}).toFloatArray();

        assertEquals(1f, e4m3[0]);
        assertEquals(448f, e4m3[1]);
        assertEquals(0x1p-9f, e4m3[2]);
        assertEquals(-1f, e4m3[3]);
        assertTrue(Float.isNaN(e4m3[4]));
    }

    @Test
    void doubleNarrowsToNearestFloat() {
        NamedTensor tensor = NamedTensor.ofDoubles("d", new long[] {3}, 0.1, 1e300, -0.0);

        float[] values = tensor.toFloatArray();

        assertEquals(0.1f, values[0]);
        assertEquals(Float.POSITIVE_INFINITY, values[1]);
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(values[2]));
    }

    @Test
    void integersConvertToFloatAndLong() {
        NamedTensor longs = NamedTensor.ofLongs("l", new long[] {3}, -3, (1L << 24) + 1, Long.MAX_VALUE);
        NamedTensor ints = NamedTensor.ofInts("i", new long[] {2}, -7, Integer.MIN_VALUE);

        assertArrayEquals(new float[] {-3f, 16777216f, 9.223372e18f}, longs.toFloatArray());
        assertArrayEquals(new long[] {-7, Integer.MIN_VALUE}, ints.toLongArray());
        assertArrayEquals(new double[] {-7, Integer.MIN_VALUE}, ints.toDoubleArray());
    }

    @Test
    void unsignedIntegersAreNotSignExtended() {
        assertArrayEquals(new long[] {255, 1}, NamedTensor.of("u8", DType.U8, new long[] {2},
                new byte[] {(byte) 0xff, 1}).toLongArray());
        assertArrayEquals(new long[] {65535}, tensorOfShorts(DType.U16, (short) 0xffff).toLongArray());
        assertArrayEquals(new long[] {-1}, tensorOfShorts(DType.I16, (short) 0xffff).toLongArray());
        byte[] u32 = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(-1).array();
        assertArrayEquals(new long[] {4294967295L}, NamedTensor.of("u32", DType.U32, new long[] {1}, u32).toLongArray());
    }

    @Test
    void unsigned64AboveLongMax() {
        byte[] bytes = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(-1L).array();
        NamedTensor tensor = NamedTensor.of("u64", DType.U64, new long[] {1}, bytes);

        assertEquals(0x1p64f, tensor.toFloatArray()[0]);
        assertEquals(0x1p64, tensor.toDoubleArray()[0]);
        ArithmeticException error = assertThrows(ArithmeticException.class, tensor::toLongArray);
        assertTrue(error.getMessage().contains("18446744073709551615"), error.getMessage());
    }

    @Test
    void toLongArrayRejectsFloats() {
        NamedTensor tensor = NamedTensor.ofFloats("fc1.weight", new long[] {1}, 1f);

        IllegalStateException error = assertThrows(IllegalStateException.class, tensor::toLongArray);

        assertTrue(error.getMessage().contains("tensor 'fc1.weight' has floating-point dtype F32"), error.getMessage());
    }

    @Test
    void rawBytesMustMatchShape() {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> NamedTensor.of("w", DType.F16, new long[] {3}, new byte[5]));

        assertTrue(error.getMessage().contains("needs 6 bytes, but 5 bytes were given"), error.getMessage());
    }

    private static NamedTensor tensorOfShorts(DType dtype, short... values) {
        ByteBuffer bytes = ByteBuffer.allocate(values.length * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (short value : values) {
            bytes.putShort(value);
        }
        return NamedTensor.of("t", dtype, new long[] {values.length}, bytes.array());
    }
}
