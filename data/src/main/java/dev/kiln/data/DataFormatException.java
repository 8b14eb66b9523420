package dev.kiln.data;

import java.nio.file.Path;

/**
 * Invalid content in a data file: a non-numeric cell, a missing label, a wrong column count,
 * a header that contradicts the rows, or a malformed or truncated IDX file.
 *
 * <p>The message names the file and, where there is one, the line and column, so the user can
 * open the file at that spot and fix it.
 */
public final class DataFormatException extends RuntimeException {

    private final Path file;
    private final long line;

    /**
     * Creates an exception about a whole file.
     *
     * @param file the file that was read
     * @param message what is wrong and what to do
     */
    public DataFormatException(Path file, String message) {
        this(file, -1, message, null);
    }

    /**
     * Creates an exception about one line of a file.
     *
     * @param file the file that was read
     * @param line the 1-based line number, or -1 when the error concerns the whole file
     * @param message what is wrong and what to do
     * @param cause the underlying exception, or {@code null}
     */
    public DataFormatException(Path file, long line, String message, Throwable cause) {
        super(file + (line > 0 ? ", line " + line : "") + ": " + message, cause);
        this.file = file;
        this.line = line;
    }

    /** Returns the file that contains the error. */
    public Path file() {
        return file;
    }

    /** Returns the 1-based line number of the error, or -1 when it concerns the whole file. */
    public long line() {
        return line;
    }
}
