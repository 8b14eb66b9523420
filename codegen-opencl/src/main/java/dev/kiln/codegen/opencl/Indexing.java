package dev.kiln.codegen.opencl;

import dev.kiln.ir.Broadcasting;
import dev.kiln.ir.Shape;
import java.util.ArrayList;
import java.util.List;

/**
 * Index arithmetic of one-work-item-per-element kernels: the flat index {@code i} is split into
 * per-axis indices {@code i0, i1, ...} only when an operand is broadcast.
 */
final class Indexing {
    private Indexing() {
    }

    /** Returns declarations of the per-axis indices of flat index {@code i} over {@code shape}. */
    static List<String> declare(Shape shape) {
        List<String> lines = new ArrayList<>();
        long stride = 1;
        long[] strides = new long[shape.rank()];
        for (int axis = shape.rank() - 1; axis >= 0; axis--) {
            strides[axis] = stride;
            if (axis > 0) {
                stride *= shape.dim(axis);
            }
        }
        for (int axis = 0; axis < shape.rank(); axis++) {
            String quotient = strides[axis] == 1 ? "i" : "(i / " + strides[axis] + ")";
            lines.add("const long i" + axis + " = " + (axis == 0 ? quotient : quotient + " % " + shape.dim(axis)) + ";");
        }
        return lines;
    }

    /** Returns the flat index into an operand that broadcasts to {@code shape}. */
    static String index(Shape shape, Shape operand) {
        if (operand.equals(shape)) {
            return "i";
        }
        long[] strides = Broadcasting.strides(shape.dims(), operand.dims());
        List<String> terms = new ArrayList<>();
        for (int axis = 0; axis < strides.length; axis++) {
            if (strides[axis] == 1) {
                terms.add("i" + axis);
            } else if (strides[axis] != 0) {
                terms.add("i" + axis + " * " + strides[axis]);
            }
        }
        return terms.isEmpty() ? "0" : String.join(" + ", terms);
    }

    /**
     * Returns the body of a kernel that writes target element {@code i} as the sum of the source
     * elements that broadcast from it: loops over the reduced axes of the source.
     */
    static List<String> sumOverReduced(Shape source, Shape target, String in, String out) {
        return overReduced(source, target, in, out, "float sum = 0.0f;", "sum += %s;", "sum");
    }

    /**
     * Returns the body of a kernel that folds, into target element {@code i}, the source elements
     * that broadcast from it: {@code init} declares the accumulator, {@code step} folds one source
     * element (its {@code %s}), and {@code result} is written.
     */
    static List<String> overReduced(Shape source, Shape target, String in, String out, String init, String step,
            String result) {
        List<String> lines = new ArrayList<>(declare(target));
        int offset = source.rank() - target.rank();
        long[] sourceStrides = new long[source.rank()];
        long stride = 1;
        for (int axis = source.rank() - 1; axis >= 0; axis--) {
            sourceStrides[axis] = stride;
            if (axis > 0) {
                stride *= source.dim(axis);
            }
        }
        List<String> terms = new ArrayList<>();
        List<String> loops = new ArrayList<>();
        for (int axis = 0; axis < source.rank(); axis++) {
            int targetAxis = axis - offset;
            boolean reduced = targetAxis < 0 || target.dim(targetAxis) == 1 && source.dim(axis) != 1;
            String variable = reduced ? "r" + axis : "i" + targetAxis;
            if (reduced) {
                String extent = source.dim(axis) == Shape.BATCH ? "batch" : Integer.toString(source.dim(axis));
                loops.add("for (long r" + axis + " = 0; r" + axis + " < " + extent + "; r" + axis + "++)");
            }
            terms.add(variable + " * " + sourceStrides[axis]);
        }
        lines.add(init);
        StringBuilder nest = new StringBuilder();
        for (String loop : loops) {
            nest.append(loop).append(' ');
        }
        lines.add(nest + step.formatted(in + "[" + String.join(" + ", terms) + "]"));
        lines.add(out + "[i] = " + result + ";");
        return lines;
    }
}
