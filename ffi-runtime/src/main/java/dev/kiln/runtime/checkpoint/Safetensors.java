package dev.kiln.runtime.checkpoint;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Reads and writes checkpoints in the safetensors format.
 *
 * <p>Layout: an unsigned 64-bit little-endian header length {@code N}; {@code N} bytes of
 * UTF-8 JSON mapping each tensor name to {@code {"dtype", "shape", "data_offsets": [begin,
 * end]}} plus an optional {@code "__metadata__"} object of strings; then the data buffer,
 * in which each tensor occupies {@code [begin, end)} in row-major little-endian order.
 *
 * <p>The reader is strict: it rejects invalid JSON, unknown dtypes and fields, duplicate
 * names, byte ranges that do not match shape and dtype, ranges that overlap or leave gaps,
 * and files that end early or carry bytes after the last tensor. Every failure is a
 * {@link CheckpointException} naming the file and, where it applies, the tensor.
 */
public final class Safetensors {

    /** Upper bound on the header length, so a corrupt length cannot trigger a huge allocation. */
    static final long MAX_HEADER_BYTES = 100_000_000;

    private static final System.Logger LOG = System.getLogger(Safetensors.class.getName());

    private Safetensors() {
    }

    /**
     * Reads a whole safetensors file.
     *
     * @return the tensors, in the order of their data in the file, and the metadata
     * @throws CheckpointException if the file is not valid safetensors
     * @throws IOException if the file cannot be read
     */
    public static Checkpoint read(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            long fileSize = channel.size();
            if (fileSize < 8) {
                throw new CheckpointException(file, "the file is " + fileSize + " bytes long, but a "
                        + "safetensors file starts with an 8-byte header length");
            }
            long headerLength = readFully(file, channel, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            checkHeaderLength(file, headerLength, fileSize);

            byte[] headerBytes = readFully(file, channel, 8, (int) headerLength).array();
            SafetensorsHeader.Parsed header = SafetensorsHeader.parse(file, headerBytes);

            long dataStart = 8 + headerLength;
            long dataLength = fileSize - dataStart;
            checkDataLength(file, header.entries(), dataLength);

            List<NamedTensor> tensors = new ArrayList<>(header.entries().size());
            for (SafetensorsHeader.Entry entry : header.entries()) {
                tensors.add(readTensor(file, channel, dataStart, entry));
            }
            return new Checkpoint(tensors, header.metadata());
        }
    }

    /**
     * Writes tensors and metadata to {@code file} atomically, replacing any existing file.
     *
     * <p>The tensors keep their dtype (F32 for float data, I64 for long data, and so on) and
     * are stored in list order. The header is padded with spaces to a multiple of 8 bytes, so
     * the data buffer starts 8-byte aligned. The bytes go to a temporary file in the same
     * directory, which is forced to storage and then renamed over {@code file}, so a crash
     * leaves either the old file or the complete new one. On failure the temporary file is
     * deleted.
     *
     * @throws IllegalArgumentException if two tensors share a name, a tensor is named
     *     {@code __metadata__}, or a string contains an unpaired surrogate; nothing is written
     * @throws IOException if writing, forcing or renaming fails, including on file systems
     *     without atomic rename
     */
    public static void write(Path file, List<NamedTensor> tensors, Map<String, String> metadata)
            throws IOException {
        write(file, new Checkpoint(tensors, metadata));
    }

    /** Writes a checkpoint atomically; see {@link #write(Path, List, Map)}. */
    public static void write(Path file, Checkpoint checkpoint) throws IOException {
        byte[] header = SafetensorsHeader.encode(checkpoint);
        Path absolute = file.toAbsolutePath();
        Path directory = absolute.getParent();
        Path temporary = Files.createTempFile(directory, "." + absolute.getFileName() + ".", ".tmp");
        boolean moved = false;
        try {
            writeContents(temporary, header, checkpoint.tensors());
            Files.move(temporary, absolute, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            moved = true;
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("cannot write " + file + " atomically because the file system does not "
                    + "support atomic rename; write to a local directory instead", e);
        } finally {
            if (!moved) {
                Files.deleteIfExists(temporary);
            }
        }
        forceDirectory(directory);
    }

    private static void writeContents(Path temporary, byte[] header, List<NamedTensor> tensors)
            throws IOException {
        try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer length = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(header.length).flip();
            writeFully(channel, length);
            writeFully(channel, ByteBuffer.wrap(header));
            for (NamedTensor tensor : tensors) {
                writeFully(channel, tensor.data());
            }
            channel.force(true);
        }
    }

    /**
     * Forces the directory entry of the rename to storage, because on POSIX systems the rename
     * itself survives a crash only after that. Some platforms (Windows) cannot open a directory.
     * There the rename is complete but may not survive a crash, so the failure is only logged.
     */
    private static void forceDirectory(Path directory) {
        try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "could not force directory " + directory + " to storage", e);
        }
    }

    private static void checkHeaderLength(Path file, long headerLength, long fileSize) throws CheckpointException {
        long available = fileSize - 8;
        if (Long.compareUnsigned(headerLength, available) > 0) {
            throw new CheckpointException(file, "the header length is " + Long.toUnsignedString(headerLength)
                    + " bytes, but only " + available + " bytes follow the length field; the file is "
                    + "truncated or not a safetensors file");
        }
        if (headerLength > MAX_HEADER_BYTES) {
            throw new CheckpointException(file, "the header length is " + headerLength + " bytes, above the "
                    + "limit of " + MAX_HEADER_BYTES + " bytes");
        }
    }

    private static void checkDataLength(Path file, List<SafetensorsHeader.Entry> entries, long dataLength)
            throws CheckpointException {
        long covered = 0;
        for (SafetensorsHeader.Entry entry : entries) {
            if (entry.end() > dataLength) {
                long present = Math.max(0, dataLength - entry.begin());
                throw new CheckpointException(file, entry.name(), "the file ends before the tensor's data: "
                        + "expected " + entry.byteCount() + " bytes at data_offsets [" + entry.begin() + ", "
                        + entry.end() + "], but only " + present + " of them are present (the data buffer "
                        + "has " + dataLength + " bytes); the file is truncated");
            }
            covered = entry.end();
        }
        if (covered < dataLength) {
            throw new CheckpointException(file, "the data buffer has " + dataLength + " bytes, but the "
                    + "tensors cover only the first " + covered + "; " + (dataLength - covered)
                    + " trailing bytes belong to no tensor");
        }
    }

    private static NamedTensor readTensor(Path file, FileChannel channel, long dataStart,
            SafetensorsHeader.Entry entry) throws IOException {
        if (entry.byteCount() > Integer.MAX_VALUE) {
            throw new CheckpointException(file, entry.name(), "the tensor has " + entry.byteCount()
                    + " bytes, but one tensor can hold at most " + Integer.MAX_VALUE + " bytes");
        }
        byte[] data = readFully(file, channel, dataStart + entry.begin(), (int) entry.byteCount()).array();
        return new NamedTensor(entry.name(), entry.dtype(), entry.shape(), data);
    }

    private static ByteBuffer readFully(Path file, FileChannel channel, long position, int length)
            throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        while (buffer.hasRemaining()) {
            int read = channel.read(buffer, position + buffer.position());
            if (read < 0) {
                throw new EOFException(file + ": the file ended at byte " + (position + buffer.position())
                        + " while reading " + length + " bytes from byte " + position
                        + "; it was probably truncated while being read");
            }
        }
        return buffer.flip();
    }

    private static void writeFully(FileChannel channel, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            channel.write(buffer);
        }
    }
}
