package dev.kiln.data;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.commons.csv.CSVException;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

/**
 * Reads numeric CSV files (UTF-8, parsed by Apache Commons CSV) into {@link Table}s and
 * {@link Dataset}s.
 *
 * <p>Every cell must be a decimal number such as {@code 12}, {@code -0.5} or {@code 1e-3}, or
 * a missing-value marker ({@link CsvFormatOptions#DEFAULT_MISSING_VALUES}), which reads as NaN.
 * Empty lines are skipped. Any other text raises a {@link DataFormatException} naming the
 * file, line, column and the text. Columns in messages are numbered from 1, and a record
 * whose quoted cell spans several lines is reported by its last line.
 */
public final class Csv {

    private Csv() {
    }

    /**
     * Reads a classification file whose first line is {@code samples,features,className...},
     * the layout of scikit-learn's bundled files such as {@code wine_data.csv}
     * ({@code 178,13,class_0,class_1,class_2}). Each following row contains the features and then
     * the class index in the last column. Features are named {@code feature_0},
     * {@code feature_1} and so on.
     *
     * @throws DataFormatException if the first line is malformed, a row has other than
     *     {@code features + 1} columns, the row count differs from the declared sample count,
     *     or a class index is missing, not an integer or out of range
     * @throws UncheckedIOException if the file cannot be read
     */
    public static Dataset readCountHeaderClassification(Path file) {
        Parsed parsed = parse(file, CsvFormatOptions.commaSeparated(false), HeaderKind.COUNTS);
        CountHeader header = parsed.countHeader();
        Table table = parsed.table();
        if (table.rowCount() != header.samples()) {
            throw new DataFormatException(file, 1, "the first line declares " + header.samples()
                    + " samples, but the file has " + table.rowCount() + " data rows; correct the count or the rows",
                    null);
        }
        int labelColumn = header.features();
        int[] classes = classIndices(table, labelColumn, header.classNames().size());
        return Dataset.ownClassification(table.valuesWithout(labelColumn),
                Dataset.numberedNames("feature_", 0, header.features()), classes, header.classNames());
    }

    /**
     * Reads a regression file with a header row; the named column is the target and every other
     * column is a feature.
     *
     * @throws DataFormatException if no column has that name, a cell is not a number or a
     *     target is missing
     * @throws UncheckedIOException if the file cannot be read
     */
    public static Dataset readRegression(Path file, String targetColumn) {
        Table table = readTable(file, CsvFormatOptions.commaSeparated(true));
        int target = table.columnIndex(targetColumn);
        float[] targets = table.column(target);
        for (int r = 0; r < targets.length; r++) {
            if (Float.isNaN(targets[r])) {
                throw new DataFormatException(file, table.lineNumber(r), "missing target in column " + (target + 1)
                        + " ('" + targetColumn + "'); every row needs a target value", null);
            }
        }
        List<String> featureNames = new ArrayList<>(table.columnNames());
        featureNames.remove(target);
        return Dataset.ownRegression(table.valuesWithout(target), featureNames, targets, List.of(targetColumn));
    }

    /**
     * Reads a classification file whose label column contains class indices {@code 0..k-1}, such as
     * scikit-learn's {@code digits.csv}. The class count {@code k} is the largest index plus one,
     * and the classes are named {@code "0"} to {@code "k-1"}.
     *
     * @param hasHeader whether the first line contains column names; without them, features are
     *     named {@code column_1}, {@code column_2} and so on by their position in the file
     * @param labelColumn 0-based index of the label column, or -1 for the last column
     * @throws DataFormatException if a cell is not a number or a label is missing, negative or
     *     not an integer
     * @throws UncheckedIOException if the file cannot be read
     */
    public static Dataset readClassification(Path file, boolean hasHeader, int labelColumn) {
        Table table = readTable(file, CsvFormatOptions.commaSeparated(hasHeader));
        int label = labelColumn == -1 ? table.columnCount() - 1 : labelColumn;
        if (label < 0 || label >= table.columnCount()) {
            throw new IllegalArgumentException("label column " + labelColumn + " is outside the " + table.columnCount()
                    + " columns of " + file + "; give a 0-based index or -1 for the last column");
        }
        int[] classes = classIndices(table, label, Integer.MAX_VALUE);
        int classCount = Arrays.stream(classes).max().orElse(-1) + 1;
        List<String> featureNames = new ArrayList<>(table.columnNames());
        featureNames.remove(label);
        return Dataset.ownClassification(table.valuesWithout(label), featureNames, classes,
                Dataset.numberedNames("", 0, classCount));
    }

    /**
     * Reads every cell of a numeric CSV file into a table.
     *
     * @throws DataFormatException if the file has no data rows, rows differ in length, a cell is
     *     not a number or the CSV syntax is invalid (for example an unclosed quote)
     * @throws UncheckedIOException if the file cannot be read
     */
    public static Table readTable(Path file, CsvFormatOptions options) {
        return parse(file, options, options.hasHeader() ? HeaderKind.NAMES : HeaderKind.NONE).table();
    }

    private enum HeaderKind { NONE, NAMES, COUNTS }

    private record CountHeader(int samples, int features, List<String> classNames) {
    }

    private record Parsed(Table table, CountHeader countHeader) {
    }

    private static Parsed parse(Path file, CsvFormatOptions options, HeaderKind headerKind) {
        CSVFormat format = CSVFormat.DEFAULT.builder()
                .setDelimiter(options.delimiter())
                .setIgnoreSurroundingSpaces(true)
                .setIgnoreEmptyLines(true)
                .get();
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8);
                CSVParser parser = format.parse(reader)) {
            return parseRecords(file, options, headerKind, parser);
        } catch (CharacterCodingException e) {
            throw new DataFormatException(file, -1, "the file is not valid UTF-8 text", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e, e);
        }
    }

    private static Parsed parseRecords(Path file, CsvFormatOptions options, HeaderKind headerKind, CSVParser parser) {
        Iterator<CSVRecord> records = parser.iterator();
        List<String> columnNames = null;
        CountHeader countHeader = null;
        if (headerKind != HeaderKind.NONE) {
            CSVRecord first = nextRecord(file, parser, records);
            if (first == null) {
                throw new DataFormatException(file, "the file is empty; expected a header line and data rows");
            }
            List<String> cells = first.toList();
            cells.set(0, stripByteOrderMark(cells.get(0)));
            if (headerKind == HeaderKind.NAMES) {
                columnNames = checkColumnNames(file, cells);
            } else {
                countHeader = parseCountHeader(file, cells);
            }
        }

        FloatBuffer values = new FloatBuffer();
        long[] lines = new long[64];
        int rows = 0;
        for (CSVRecord record = nextRecord(file, parser, records); record != null;
                record = nextRecord(file, parser, records)) {
            // The parser's line count after a record is the line on which that record ends.
            long line = parser.getCurrentLineNumber();
            int expectedColumns = columnNames != null ? columnNames.size()
                    : countHeader != null ? countHeader.features() + 1 : record.size();
            if (record.size() != expectedColumns) {
                throw new DataFormatException(file, line, "expected " + expectedColumns + " columns"
                        + expectation(headerKind, countHeader) + " but found " + record.size(), null);
            }
            if (columnNames == null) {
                columnNames = Dataset.numberedNames("column_", 1, record.size());
            }
            for (int c = 0; c < record.size(); c++) {
                values.add(parseCell(file, line, c, headerKind == HeaderKind.NAMES ? columnNames.get(c) : null,
                        record.get(c), options));
            }
            if (rows == lines.length) {
                lines = Arrays.copyOf(lines, rows * 2);
            }
            lines[rows++] = line;
        }
        if (rows == 0) {
            throw new DataFormatException(file, "the file has no data rows");
        }
        return new Parsed(new Table(file, columnNames, values.toArray(), Arrays.copyOf(lines, rows)), countHeader);
    }

    private static String expectation(HeaderKind headerKind, CountHeader countHeader) {
        return switch (headerKind) {
            case NONE -> " like the first row";
            case NAMES -> " like the header";
            case COUNTS -> " (" + countHeader.features() + " features declared on line 1, then the class index)";
        };
    }

    /** Returns the next record, or {@code null} at the end, turning CSV syntax errors into {@link DataFormatException}. */
    private static CSVRecord nextRecord(Path file, CSVParser parser, Iterator<CSVRecord> records) {
        try {
            return records.hasNext() ? records.next() : null;
        } catch (UncheckedIOException e) {
            if (e.getCause() instanceof CSVException syntax) {
                throw new DataFormatException(file, parser.getCurrentLineNumber(),
                        "invalid CSV syntax: " + syntax.getMessage(), e);
            }
            if (e.getCause() instanceof CharacterCodingException coding) {
                throw new DataFormatException(file, parser.getCurrentLineNumber(), "the file is not valid UTF-8 text",
                        coding);
            }
            throw new UncheckedIOException("cannot read " + file + ": " + e.getCause(), e.getCause());
        }
    }

    private static List<String> checkColumnNames(Path file, List<String> names) {
        Map<String, Integer> seen = new HashMap<>();
        for (int c = 0; c < names.size(); c++) {
            Integer previous = seen.putIfAbsent(names.get(c), c);
            if (previous != null) {
                throw new DataFormatException(file, 1, "columns " + (previous + 1) + " and " + (c + 1)
                        + " are both named '" + names.get(c) + "'; give each column a distinct name", null);
            }
        }
        return names;
    }

    private static CountHeader parseCountHeader(Path file, List<String> cells) {
        String layout = "expected 'samples,features,className...' such as '178,13,class_0,class_1,class_2'";
        if (cells.size() < 3) {
            throw new DataFormatException(file, 1, "the first line has " + cells.size() + " fields; " + layout, null);
        }
        int samples = parseCount(file, cells.get(0), "sample count", layout);
        int features = parseCount(file, cells.get(1), "feature count", layout);
        return new CountHeader(samples, features, List.copyOf(cells.subList(2, cells.size())));
    }

    private static int parseCount(Path file, String text, String countName, String layout) {
        try {
            int count = Integer.parseInt(text);
            if (count >= 0) {
                return count;
            }
        } catch (NumberFormatException e) {
            // Reported below with the layout the line should have.
        }
        throw new DataFormatException(file, 1, "the " + countName + " '" + text + "' on the first line is not a"
                + " non-negative integer; " + layout, null);
    }

    private static float parseCell(Path file, long line, int column, String columnName, String text,
            CsvFormatOptions options) {
        String cell = text.strip();
        if (options.missingValues().contains(cell)) {
            return Float.NaN;
        }
        String where = "column " + (column + 1) + (columnName == null ? "" : " ('" + columnName + "')");
        if (!isDecimalNumber(cell)) {
            throw new DataFormatException(file, line, where + ": '" + text + "' is not a number; write a decimal number,"
                    + " or one of " + quoted(options) + " for a missing value", null);
        }
        float value = Float.parseFloat(cell);
        if (Float.isInfinite(value)) {
            throw new DataFormatException(file, line, where + ": '" + text + "' is outside the float range (about "
                    + Float.MAX_VALUE + ")", null);
        }
        return value;
    }

    /**
     * Returns whether text is {@code [+-]digits[.digits][(e|E)[+-]digits]} with at least one
     * mantissa digit. Float.parseFloat alone would also accept {@code 1f}, hex floats and
     * {@code Infinity}, which are not CSV numbers.
     */
    static boolean isDecimalNumber(String text) {
        int i = 0;
        int n = text.length();
        if (i < n && (text.charAt(i) == '+' || text.charAt(i) == '-')) {
            i++;
        }
        int mantissaDigits = 0;
        while (i < n && isDigit(text.charAt(i))) {
            i++;
            mantissaDigits++;
        }
        if (i < n && text.charAt(i) == '.') {
            i++;
            while (i < n && isDigit(text.charAt(i))) {
                i++;
                mantissaDigits++;
            }
        }
        if (mantissaDigits == 0) {
            return false;
        }
        if (i < n && (text.charAt(i) == 'e' || text.charAt(i) == 'E')) {
            i++;
            if (i < n && (text.charAt(i) == '+' || text.charAt(i) == '-')) {
                i++;
            }
            int exponentDigits = 0;
            while (i < n && isDigit(text.charAt(i))) {
                i++;
                exponentDigits++;
            }
            if (exponentDigits == 0) {
                return false;
            }
        }
        return i == n;
    }

    private static boolean isDigit(char c) {
        return c >= '0' && c <= '9';
    }

    private static String quoted(CsvFormatOptions options) {
        return options.missingValues().stream().sorted().map(s -> "'" + s + "'").toList().toString();
    }

    private static String stripByteOrderMark(String cell) {
        return cell.startsWith("\uFEFF") ? cell.substring(1) : cell;
    }

    /**
     * Converts a column of class indices, naming the line of the first bad one.
     *
     * @param classCount the number of classes, or {@code Integer.MAX_VALUE} for no upper bound
     */
    private static int[] classIndices(Table table, int column, int classCount) {
        int[] classes = new int[table.rowCount()];
        for (int r = 0; r < classes.length; r++) {
            float value = table.value(r, column);
            String where = "class index in column " + (column + 1);
            if (Float.isNaN(value)) {
                throw new DataFormatException(table.source(), table.lineNumber(r), "missing " + where
                        + "; every row needs a class", null);
            }
            if (value < 0 || value != Math.rint(value) || value >= Integer.MAX_VALUE) {
                throw new DataFormatException(table.source(), table.lineNumber(r), where + " is " + value
                        + ", which is not a non-negative integer", null);
            }
            if (value >= classCount) {
                throw new DataFormatException(table.source(), table.lineNumber(r), where + " is " + (int) value
                        + ", outside [0, " + classCount + ") for the " + classCount + " classes declared on line 1", null);
            }
            classes[r] = (int) value;
        }
        return classes;
    }

    /** A growable float array, so that large files are not boxed into a List of Float. */
    private static final class FloatBuffer {
        private float[] data = new float[1024];
        private int size;

        void add(float value) {
            if (size == data.length) {
                data = Arrays.copyOf(data, size * 2);
            }
            data[size++] = value;
        }

        float[] toArray() {
            return Arrays.copyOf(data, size);
        }
    }
}
