package dev.kiln.codegen.c;

/** C spellings of numeric constants, including IEEE special values. */
final class CLiterals {
    private CLiterals() {
    }

    static String doubleLiteral(double value) {
        if (Double.isNaN(value)) {
            return "((double) NAN)";
        }
        if (Double.isInfinite(value)) {
            return value > 0 ? "((double) INFINITY)" : "(-(double) INFINITY)";
        }
        String text = Double.toString(value);
        return value < 0 || text.startsWith("-") ? "(" + text + ")" : text;
    }
}
