package dev.kiln.runtime.checkpoint;

import java.nio.ByteBuffer;

/** Decodes one element of each dtype from a little-endian buffer. */
final class ElementCodec {

    private ElementCodec() {
    }

    static float floatAt(ByteBuffer buffer, DType dtype, int index) {
        return switch (dtype) {
            case F32 -> buffer.getFloat(index * 4);
            case F64 -> (float) buffer.getDouble(index * 8);
            // Converting the long directly rounds once; going through double could round twice.
            case I64 -> (float) buffer.getLong(index * 8);
            case U64 -> unsignedToFloat(buffer.getLong(index * 8));
            default -> (float) doubleAt(buffer, dtype, index);
        };
    }

    static double doubleAt(ByteBuffer buffer, DType dtype, int index) {
        return switch (dtype) {
            case F8_E5M2 -> Float.float16ToFloat((short) (buffer.get(index) << 8));
            case F8_E4M3 -> e4m3ToFloat(buffer.get(index));
            case F16 -> Float.float16ToFloat(buffer.getShort(index * 2));
            case BF16 -> Float.intBitsToFloat((buffer.getShort(index * 2) & 0xffff) << 16);
            case F32 -> buffer.getFloat(index * 4);
            case F64 -> buffer.getDouble(index * 8);
            case U64 -> unsignedToDouble(buffer.getLong(index * 8));
            default -> longAt(buffer, dtype, index);
        };
    }

    static long longAt(ByteBuffer buffer, DType dtype, int index) {
        return switch (dtype) {
            case BOOL, U8 -> buffer.get(index) & 0xffL;
            case I8 -> buffer.get(index);
            case I16 -> buffer.getShort(index * 2);
            case U16 -> buffer.getShort(index * 2) & 0xffffL;
            case I32 -> buffer.getInt(index * 4);
            case U32 -> buffer.getInt(index * 4) & 0xffff_ffffL;
            case I64, U64 -> buffer.getLong(index * 8);
            default -> throw new IllegalArgumentException("dtype " + dtype + " is not an integer dtype");
        };
    }

    /**
     * Decodes E4M3FN: sign, 4 exponent bits with bias 7, 3 mantissa bits. Exponent 0 is
     * subnormal (m/8 * 2^-6); S.1111.111 is NaN, and there are no infinities.
     */
    static float e4m3ToFloat(byte value) {
        int bits = value & 0xff;
        float sign = (bits & 0x80) != 0 ? -1f : 1f;
        int exponent = (bits >>> 3) & 0xf;
        int mantissa = bits & 0x7;
        if (exponent == 0xf && mantissa == 0x7) {
            return Float.NaN;
        }
        if (exponent == 0) {
            return sign * Math.scalb(mantissa / 8f, -6);
        }
        return sign * Math.scalb(1f + mantissa / 8f, exponent - 7);
    }

    /** Rounds an unsigned 64-bit value to float; halving keeps the sticky bit so rounding stays correct. */
    private static float unsignedToFloat(long value) {
        if (value >= 0) {
            return value;
        }
        return ((value >>> 1) | (value & 1)) * 2f;
    }

    private static double unsignedToDouble(long value) {
        if (value >= 0) {
            return value;
        }
        return ((value >>> 1) | (value & 1)) * 2.0;
    }
}
