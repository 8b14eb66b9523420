package dev.kiln.runtime.checkpoint;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * Element type of a tensor, named as in the safetensors header. Every type is stored little
 * endian; {@link #byteSize()} is the size of one element.
 */
public enum DType {
    /** One byte per element, 0 for false and 1 for true. */
    BOOL(1),
    U8(1),
    I8(1),
    /** 8-bit float with 5 exponent and 2 mantissa bits: the top byte of an IEEE half. */
    F8_E5M2(1),
    /** 8-bit float with 4 exponent and 3 mantissa bits, bias 7, no infinities (OCP "E4M3FN"). */
    F8_E4M3(1),
    I16(2),
    U16(2),
    /** IEEE 754 half precision. */
    F16(2),
    /** bfloat16: the upper 16 bits of an IEEE single. */
    BF16(2),
    I32(4),
    U32(4),
    F32(4),
    I64(8),
    U64(8),
    F64(8);

    private final int byteSize;

    DType(int byteSize) {
        this.byteSize = byteSize;
    }

    /** Returns the number of bytes of one element. */
    public int byteSize() {
        return byteSize;
    }

    /** Returns whether the elements are floating-point numbers. */
    public boolean isFloatingPoint() {
        return switch (this) {
            case F8_E5M2, F8_E4M3, F16, BF16, F32, F64 -> true;
            default -> false;
        };
    }

    /**
     * Returns the dtype with the given safetensors name, such as {@code "F32"}.
     *
     * @throws IllegalArgumentException if the name is not a supported dtype; the message lists
     *     the supported names
     */
    public static DType fromName(String name) {
        for (DType dtype : values()) {
            if (dtype.name().equals(name)) {
                return dtype;
            }
        }
        throw new IllegalArgumentException("unknown dtype \"" + name + "\"; supported dtypes are "
                + Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", ")));
    }
}
