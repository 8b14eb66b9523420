package dev.kiln.data;

import java.util.Objects;
import java.util.Set;

/**
 * Options for reading a numeric CSV file with {@link Csv#readTable(java.nio.file.Path, CsvFormatOptions)}.
 *
 * @param delimiter the field separator, usually {@code ','}
 * @param hasHeader whether the first record contains the column names
 * @param missingValues cell texts, compared after trimming surrounding spaces, that mean a
 *     missing value and read as NaN
 */
public record CsvFormatOptions(char delimiter, boolean hasHeader, Set<String> missingValues) {

    /** The cell texts read as missing by default: the empty cell, {@code NA}, {@code NaN} and {@code ?}. */
    public static final Set<String> DEFAULT_MISSING_VALUES = Set.of("", "NA", "NaN", "?");

    /** Validates the options and copies the set of missing-value markers. */
    public CsvFormatOptions {
        Objects.requireNonNull(missingValues, "missingValues");
        if (delimiter == '"' || delimiter == '\r' || delimiter == '\n') {
            throw new IllegalArgumentException(
                    "invalid CSV delimiter " + printable(delimiter) + ": use a character other than a quote or a line break");
        }
        missingValues = Set.copyOf(missingValues);
    }

    /** Returns comma-separated options with the {@linkplain #DEFAULT_MISSING_VALUES default missing values}. */
    public static CsvFormatOptions commaSeparated(boolean hasHeader) {
        return new CsvFormatOptions(',', hasHeader, DEFAULT_MISSING_VALUES);
    }

    private static String printable(char c) {
        return switch (c) {
            case '\r' -> "'\\r'";
            case '\n' -> "'\\n'";
            default -> "'" + c + "'";
        };
    }
}
