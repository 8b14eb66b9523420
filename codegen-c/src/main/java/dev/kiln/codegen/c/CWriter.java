package dev.kiln.codegen.c;

/** Accumulates C text with indentation, so emitters state what to write, not how to format it. */
final class CWriter {
    private final StringBuilder text = new StringBuilder();
    private int depth;

    /** Writes one line at the current indentation. */
    CWriter line(String line) {
        text.append("    ".repeat(depth)).append(line).append('\n');
        return this;
    }

    CWriter blank() {
        text.append('\n');
        return this;
    }

    /** Writes {@code header {} and indents what follows. */
    CWriter open(String header) {
        line(header + " {");
        depth++;
        return this;
    }

    /** Closes the innermost block. */
    CWriter close() {
        depth--;
        return line("}");
    }

    CWriter raw(String block) {
        text.append(block);
        return this;
    }

    @Override
    public String toString() {
        return text.toString();
    }
}
