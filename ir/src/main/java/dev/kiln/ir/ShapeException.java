package dev.kiln.ir;

/** Thrown when the operands of an op have shapes the op does not accept. */
public class ShapeException extends RuntimeException {
    public ShapeException(String message) {
        super(message);
    }
}
