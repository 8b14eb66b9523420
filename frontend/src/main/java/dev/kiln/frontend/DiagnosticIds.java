package dev.kiln.frontend;

/** The stable ids of Kiln's build errors; the README lists each with an example. */
final class DiagnosticIds {
    private DiagnosticIds() {
    }

    /** The model class lacks a usable {@code forward} method, or its signature is not supported. */
    static final String MODEL_STRUCTURE = "KILN001";
    /** A field or constructor that Kiln cannot evaluate at build time. */
    static final String FIELD = "KILN002";
    /** An {@code if} whose condition depends on tensor values. */
    static final String DATA_DEPENDENT_IF = "KILN003";
    /** A {@code while} or {@code do} loop. */
    static final String WHILE_LOOP = "KILN004";
    /** A {@code for} loop whose bounds are not compile-time constants, or of an unsupported form. */
    static final String LOOP_BOUND = "KILN005";
    /** A call of a method that is not an op, a layer or a helper of the model. */
    static final String UNKNOWN_METHOD = "KILN006";
    /** Operands whose shapes do not fit the op or layer. */
    static final String SHAPE = "KILN007";
    /** A statement or expression outside the supported subset of Java. */
    static final String UNSUPPORTED = "KILN008";
    /** A helper method that calls itself. */
    static final String RECURSION = "KILN009";
    /** The model's source code cannot be read. */
    static final String SOURCE = "KILN010";
}
