package dev.kiln.runtime.opencl;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;

/**
 * Program binaries on disk, one file per SHA-256 of (platform, device, driver version, source,
 * options). A cache that cannot be read or written only costs a rebuild, so I/O errors are
 * logged and never thrown.
 */
final class ProgramCache {
    /** Environment variable naming Kiln's cache root; binaries go to its {@code opencl} folder. */
    static final String CACHE_VARIABLE = "KILN_CACHE_DIR";

    private static final System.Logger LOG = System.getLogger(ProgramCache.class.getName());

    private final Path directory;

    ProgramCache(Path directory) {
        this.directory = directory;
    }

    /** Returns {@code $KILN_CACHE_DIR/opencl}, or {@code ~/.cache/kiln/opencl} when the variable is unset. */
    static Path defaultDirectory() {
        String root = System.getenv(CACHE_VARIABLE);
        if (root != null && !root.isBlank()) {
            return Path.of(root, "opencl");
        }
        return Path.of(System.getProperty("user.home"), ".cache", "kiln", "opencl");
    }

    Path directory() {
        return directory;
    }

    static String key(OpenClDevice device, String source, String options) {
        MessageDigest sha256;
        try {
            sha256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java platform provides SHA-256", e);
        }
        // Each field is length-prefixed so that no two different tuples hash the same bytes.
        for (String field : new String[] {device.platform(), device.platformVersion(), device.name(),
                device.driverVersion(), device.version(), source, options}) {
            byte[] bytes = field.getBytes(StandardCharsets.UTF_8);
            sha256.update(Integer.toString(bytes.length).getBytes(StandardCharsets.US_ASCII));
            sha256.update((byte) ':');
            sha256.update(bytes);
        }
        return HexFormat.of().formatHex(sha256.digest());
    }

    Optional<byte[]> load(String key) {
        Path file = file(key);
        try {
            return Optional.of(Files.readAllBytes(file));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot read cached OpenCL binary " + file + "; rebuilding from source", e);
            return Optional.empty();
        }
    }

    /** Writes a binary through a temporary file and a rename, so that readers never see a partial file. */
    void store(String key, byte[] binary) {
        Path file = file(key);
        Path temporary = null;
        try {
            Files.createDirectories(directory);
            temporary = Files.createTempFile(directory, key, ".tmp");
            Files.write(temporary, binary);
            try {
                Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(temporary, file, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot write OpenCL binary cache file " + file, e);
            deleteQuietly(temporary);
        }
    }

    void delete(String key) {
        deleteQuietly(file(key));
    }

    private Path file(String key) {
        return directory.resolve(key + ".bin");
    }

    private static void deleteQuietly(Path file) {
        if (file == null) {
            return;
        }
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.WARNING, "cannot delete " + file, e);
        }
    }
}
