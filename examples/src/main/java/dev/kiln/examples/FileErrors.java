package dev.kiln.examples;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;

/** Short reasons for failed file operations, for one-line error messages. */
final class FileErrors {

    private FileErrors() {
    }

    /** Returns why a file operation failed, in the file system's words where it gives them. */
    static String reason(IOException e) {
        return switch (e) {
            case AccessDeniedException denied -> "permission denied";
            case FileAlreadyExistsException exists -> exists.getFile() + " exists and is not a folder";
            case FileSystemException other when other.getReason() != null -> other.getReason();
            case NoSuchFileException missing -> "no such file or folder";
            default -> e.getMessage() != null ? e.getMessage() : "the file system gave no reason";
        };
    }
}
