package dev.kiln.runtime;

/**
 * Packs several per-sample tensors side by side into one row per sample, and unpacks them: how a
 * model whose {@code forward} takes several inputs or returns several outputs exchanges them with
 * its one input row and one output row.
 */
public final class Packing {
    private Packing() {
    }

    /**
     * Returns one array of {@code rows} rows, each the concatenation of the rows of {@code parts}.
     *
     * @param widths the number of floats per sample of each part
     * @param parts the parts, each row-major with {@code rows * widths[k]} floats
     * @throws IllegalArgumentException if the part count or a part's length does not fit
     */
    public static float[] pack(int rows, int[] widths, float[]... parts) {
        if (rows < 0) {
            throw new IllegalArgumentException("rows must be at least 0, got " + rows);
        }
        if (parts.length != widths.length) {
            throw new IllegalArgumentException("expected " + widths.length + " arrays, one per part, got " + parts.length);
        }
        int total = 0;
        for (int k = 0; k < parts.length; k++) {
            long expected = (long) rows * widths[k];
            if (parts[k] == null || parts[k].length != expected) {
                throw new IllegalArgumentException("part " + k + " needs " + rows + " rows of " + widths[k] + " floats ("
                        + expected + "), got " + (parts[k] == null ? "null" : parts[k].length));
            }
            total += widths[k];
        }
        float[] packed = new float[Math.multiplyExact(rows, total)];
        for (int r = 0; r < rows; r++) {
            int at = r * total;
            for (int k = 0; k < parts.length; k++) {
                System.arraycopy(parts[k], r * widths[k], packed, at, widths[k]);
                at += widths[k];
            }
        }
        return packed;
    }

    /**
     * Returns part {@code index} of packed rows, row-major.
     *
     * @throws IllegalArgumentException if the index or the packed length does not fit
     */
    public static float[] unpack(int rows, int[] widths, int index, float[] packed) {
        if (index < 0 || index >= widths.length) {
            throw new IllegalArgumentException("part " + index + " does not exist; there are " + widths.length);
        }
        int total = 0;
        int offset = 0;
        for (int k = 0; k < widths.length; k++) {
            if (k == index) {
                offset = total;
            }
            total += widths[k];
        }
        if (rows < 0 || packed.length != (long) rows * total) {
            throw new IllegalArgumentException("packed rows need " + rows + " rows of " + total + " floats, got "
                    + packed.length);
        }
        float[] part = new float[rows * widths[index]];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(packed, r * total + offset, part, r * widths[index], widths[index]);
        }
        return part;
    }
}
