package dev.kiln.runtime;

/** Thrown when a model's native library is missing, cannot be loaded, or does not match its class. */
public class NativeLibraryException extends RuntimeException {
    public NativeLibraryException(String message) {
        super(message);
    }

    public NativeLibraryException(String message, Throwable cause) {
        super(message, cause);
    }
}
