package dev.kiln.runtime.checkpoint;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Signals a checkpoint file that is not valid safetensors, or that does not fit what Kiln
 * can load. It is an {@link IOException} because a damaged or foreign file is an input
 * failure that callers already handle next to unreadable files. The message names the
 * file and, where one is involved, the tensor.
 */
public final class CheckpointException extends IOException {

    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final String tensorName;

    CheckpointException(Path file, String tensorName, String message) {
        super(describe(file, tensorName, message));
        this.file = file;
        this.tensorName = tensorName;
    }

    CheckpointException(Path file, String message) {
        this(file, null, message);
    }

    /** Returns the file that failed to read, or empty where none was involved. */
    public Optional<Path> file() {
        return Optional.ofNullable(file);
    }

    /** Returns the name of the tensor at fault, or empty where the fault is not in one tensor. */
    public Optional<String> tensorName() {
        return Optional.ofNullable(tensorName);
    }

    private static String describe(Path file, String tensorName, String message) {
        StringBuilder text = new StringBuilder("invalid safetensors file");
        if (file != null) {
            text.append(' ').append(file);
        }
        if (tensorName != null) {
            text.append(", tensor '").append(tensorName).append('\'');
        }
        return text.append(": ").append(message).toString();
    }
}
