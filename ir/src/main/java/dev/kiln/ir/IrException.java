package dev.kiln.ir;

/** An internal error of the compiler: an invalid graph or a missing rule. */
public class IrException extends RuntimeException {
    public IrException(String message) {
        super(message);
    }
}
