package dev.kiln.codegen.opencl;

/**
 * One kernel launch of an entry, as the host replays it. Sizes are affine in the batch size B:
 * {@code perRow * B + fixed}.
 *
 * @param kernel the {@code __kernel} function's name
 * @param kind how the host sizes the launch
 * @param perRow extent per batch row: elements, or the rows m of a matmul
 * @param fixed extent independent of B
 * @param columnsPerRow for a matmul, the columns n per batch row
 * @param columnsFixed for a matmul, the columns n independent of B
 */
public record Launch(String kernel, Kind kind, long perRow, long fixed, long columnsPerRow, long columnsFixed) {

    /** How the host chooses global and local sizes. */
    public enum Kind {
        /** One work-item per element, 1-D, local size {@code KILN_LOCAL}. */
        ELEMENTS,
        /** A tiled matmul, 2-D: columns by rows, local size {@code KILN_TILE} x {@code KILN_TILE}. */
        MATMUL,
        /** First stage of a sum to a scalar: {@code KILN_GROUPS} groups of {@code KILN_LOCAL} items. */
        REDUCE,
        /** A single work-item. */
        SINGLE
    }

    static Launch elements(String kernel, long perRow, long fixed) {
        return new Launch(kernel, Kind.ELEMENTS, perRow, fixed, 0, 0);
    }

    static Launch single(String kernel) {
        return new Launch(kernel, Kind.SINGLE, 0, 1, 0, 0);
    }

    /** Renders the launch as one line of the launch list. */
    String text() {
        return switch (kind) {
            case ELEMENTS -> kernel + " elements " + perRow + " " + fixed;
            case MATMUL -> kernel + " matmul " + perRow + " " + fixed + " " + columnsPerRow + " " + columnsFixed;
            case REDUCE -> kernel + " reduce " + perRow + " " + fixed;
            case SINGLE -> kernel + " single";
        };
    }
}
