package dev.kiln.frontend;

/**
 * A user error in a model class, reported by javac on the model's source line.
 *
 * @param id stable identifier, e.g. {@code KILN003}, listed in the README
 * @param message what is unsupported or wrong, and what to write instead
 * @param line 1-based source line, or 0 when the error concerns the whole class
 * @param column 1-based source column, or 0
 */
public record Diagnostic(String id, String message, int line, int column) {

    /** Returns the text javac prints: {@code [KILN003] message}. */
    public String text() {
        return "[" + id + "] " + message;
    }

    @Override
    public String toString() {
        return line + ":" + column + ": " + text();
    }
}
