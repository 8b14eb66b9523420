package dev.kiln.data;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * A rectangular block of numbers read from a CSV file, before any column is chosen as the
 * label: every cell is a float, and missing cells are NaN.
 *
 * <p>Each row remembers the line of the file it came from, so later checks (a missing label,
 * an out-of-range class index) can name that line.
 */
public final class Table {

    private final Path source;
    private final List<String> columnNames;
    private final int rowCount;
    private final float[] values;
    private final long[] lineNumbers;

    /**
     * Creates a table. The arrays are owned by the table from then on.
     *
     * @param source the file the table was read from
     * @param columnNames one name per column
     * @param values the cells in row-major order, {@code rowCount * columnNames.size()} of them
     * @param lineNumbers for each row, the 1-based line of the file on which its record ends
     */
    Table(Path source, List<String> columnNames, float[] values, long[] lineNumbers) {
        this.source = Objects.requireNonNull(source, "source");
        this.columnNames = List.copyOf(columnNames);
        this.rowCount = lineNumbers.length;
        if (values.length != (long) rowCount * this.columnNames.size()) {
            throw new IllegalArgumentException("table of " + rowCount + " rows and " + this.columnNames.size()
                    + " columns needs " + (long) rowCount * this.columnNames.size() + " values, got " + values.length);
        }
        this.values = values;
        this.lineNumbers = lineNumbers;
    }

    /** Returns the file the table was read from. */
    public Path source() {
        return source;
    }

    /**
     * Returns the column names: the header when the file has one, otherwise {@code column_1},
     * {@code column_2} and so on, numbered from 1 like the columns in error messages.
     */
    public List<String> columnNames() {
        return columnNames;
    }

    /** Returns the number of data rows. */
    public int rowCount() {
        return rowCount;
    }

    /** Returns the number of columns. */
    public int columnCount() {
        return columnNames.size();
    }

    /** Returns the cell at a 0-based row and column, NaN where the file had a missing value. */
    public float value(int row, int column) {
        Objects.checkIndex(row, rowCount);
        Objects.checkIndex(column, columnCount());
        return values[row * columnCount() + column];
    }

    /** Returns the 1-based line of the file on which the record of a 0-based row ends. */
    public long lineNumber(int row) {
        return lineNumbers[Objects.checkIndex(row, rowCount)];
    }

    /** Returns a copy of one column's values. */
    public float[] column(int column) {
        Objects.checkIndex(column, columnCount());
        float[] out = new float[rowCount];
        for (int r = 0; r < rowCount; r++) {
            out[r] = values[r * columnCount() + column];
        }
        return out;
    }

    /**
     * Returns the 0-based index of the column with the given name.
     *
     * @throws DataFormatException if no column has that name; the message lists the names
     */
    public int columnIndex(String name) {
        int index = columnNames.indexOf(name);
        if (index < 0) {
            throw new DataFormatException(source, "no column named '" + name + "'; the columns are " + columnNames);
        }
        return index;
    }

    /**
     * Returns the cells of all columns except {@code excluded}, in row-major order.
     *
     * @param excluded 0-based column indices to leave out, for example the label column
     */
    float[] valuesWithout(int... excluded) {
        boolean[] skip = new boolean[columnCount()];
        for (int column : excluded) {
            skip[Objects.checkIndex(column, columnCount())] = true;
        }
        int keptColumns = columnCount() - (int) Arrays.stream(excluded).distinct().count();
        float[] out = new float[rowCount * keptColumns];
        int i = 0;
        for (int r = 0; r < rowCount; r++) {
            for (int c = 0; c < columnCount(); c++) {
                if (!skip[c]) {
                    out[i++] = values[r * columnCount() + c];
                }
            }
        }
        return out;
    }
}
