package dev.kiln.ir;

/** Element type of a tensor in native code. */
public enum DType {
    /** 32-bit IEEE float, the type of every computed tensor. */
    F32,
    /** 32-bit signed integer, used for class indices. */
    I32;

    public String text() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
