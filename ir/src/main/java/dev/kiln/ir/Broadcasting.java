package dev.kiln.ir;

/** Index arithmetic of NumPy broadcasting, shared by the reference evaluator and the lowering. */
public final class Broadcasting {
    private Broadcasting() {
    }

    /**
     * Returns, for each axis of {@code outDims}, the stride of the operand along that axis: 0 where
     * the operand is broadcast (missing or extent 1), its row-major stride otherwise.
     */
    public static long[] strides(int[] outDims, int[] operandDims) {
        long[] strides = new long[outDims.length];
        long stride = 1;
        for (int i = outDims.length - 1; i >= 0; i--) {
            int operandAxis = i - (outDims.length - operandDims.length);
            if (operandAxis < 0) {
                strides[i] = 0;
                continue;
            }
            int extent = operandDims[operandAxis];
            strides[i] = (extent == 1 && outDims[i] != 1) ? 0 : stride;
            stride *= extent;
        }
        return strides;
    }

    /** Maps every flat index of the output to the flat index of the operand. */
    public static int[] gatherMap(int[] outDims, int[] operandDims) {
        long[] strides = strides(outDims, operandDims);
        int total = 1;
        for (int d : outDims) {
            total *= d;
        }
        int[] map = new int[total];
        int[] counter = new int[outDims.length];
        long offset = 0;
        for (int flat = 0; flat < total; flat++) {
            map[flat] = (int) offset;
            for (int axis = outDims.length - 1; axis >= 0; axis--) {
                counter[axis]++;
                offset += strides[axis];
                if (counter[axis] < outDims[axis]) {
                    break;
                }
                offset -= strides[axis] * counter[axis];
                counter[axis] = 0;
            }
        }
        return map;
    }

    public static int product(int[] dims) {
        int n = 1;
        for (int d : dims) {
            n *= d;
        }
        return n;
    }
}
