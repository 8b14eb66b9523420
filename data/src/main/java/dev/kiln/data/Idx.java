package dev.kiln.data;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import java.util.zip.ZipException;

/**
 * Reads and writes IDX files of unsigned bytes, the format of MNIST and Fashion-MNIST, plain or
 * gzip-compressed.
 *
 * <p>An IDX file is two zero bytes, a type byte ({@code 0x08} for unsigned bytes), a byte with
 * the number of dimensions, each dimension as a big-endian 32-bit integer, then the elements in
 * row-major order. Gzip input is recognized by its magic bytes {@code 1f 8b}, whatever the
 * file name.
 */
public final class Idx {

    private static final int UNSIGNED_BYTE = 0x08;
    private static final String LAYOUT = "an IDX file starts with 0x00 0x00, the type byte 0x08"
            + " (unsigned byte), the number of dimensions, then each dimension as a big-endian int";

    private Idx() {
    }

    /**
     * Reads an IDX file of unsigned bytes.
     *
     * @throws DataFormatException if the magic bytes or type are wrong, the data is truncated,
     *     bytes follow the data, or the gzip stream is corrupt
     * @throws UncheckedIOException if the file cannot be read
     */
    public static IdxArray read(Path file) {
        try (InputStream raw = new BufferedInputStream(Files.newInputStream(file));
                DataInputStream in = new DataInputStream(decompressIfGzip(raw))) {
            int[] shape = readHeader(file, in);
            int count = (int) IdxArray.elementCount(shape);
            byte[] data = in.readNBytes(count);
            if (data.length < count) {
                throw new DataFormatException(file, "the file is truncated: shape " + Arrays.toString(shape)
                        + " needs " + count + " data bytes after the header, but only " + data.length + " follow");
            }
            if (in.read() != -1) {
                throw new DataFormatException(file, "bytes follow the " + count + " data bytes of shape "
                        + Arrays.toString(shape) + "; the header's dimensions do not match the file");
            }
            return new IdxArray(shape, data);
        } catch (ZipException e) {
            throw new DataFormatException(file, -1, "the gzip data is corrupt: " + e.getMessage(), e);
        } catch (EOFException e) {
            throw new DataFormatException(file, -1, "the file is truncated: it ends before the data is complete"
                    + " (" + e.getMessage() + ")", e);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file + ": " + e, e);
        }
    }

    /**
     * Writes an IDX file of unsigned bytes, gzip-compressed when the file name ends in
     * {@code .gz}.
     *
     * @throws UncheckedIOException if the file cannot be written
     */
    public static void write(Path file, IdxArray array) {
        int[] shape = array.shape();
        if (shape.length > 255) {
            throw new IllegalArgumentException("an IDX file supports at most 255 dimensions, got " + shape.length);
        }
        try (OutputStream raw = new BufferedOutputStream(Files.newOutputStream(file));
                OutputStream maybeCompressed = file.toString().endsWith(".gz") ? new GZIPOutputStream(raw) : raw;
                DataOutputStream out = new DataOutputStream(maybeCompressed)) {
            out.write(new byte[] {0, 0, UNSIGNED_BYTE, (byte) shape.length});
            for (int dimension : shape) {
                out.writeInt(dimension);
            }
            out.write(array.data());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file + ": " + e, e);
        }
    }

    /**
     * Reads an image file of shape {@code [n, ...]} and a label file of shape {@code [n]} into a
     * classification dataset. Pixels are scaled to [0, 1] by dividing by 255 and named
     * {@code pixel_0}, {@code pixel_1} and so on.
     *
     * @param classNames the name of each class index; every label must be below its size
     * @throws DataFormatException if either file is invalid, the counts differ or a label is out of range
     */
    public static Dataset readClassification(Path images, Path labels, List<String> classNames) {
        IdxArray imageArray = read(images);
        IdxArray labelArray = read(labels);
        int[] imageShape = imageArray.shape();
        int[] labelShape = labelArray.shape();
        if (imageShape.length < 1 || labelShape.length != 1) {
            throw new DataFormatException(labels, "expected images of shape [n, ...] and labels of shape [n], got "
                    + Arrays.toString(imageShape) + " in " + images + " and " + Arrays.toString(labelShape));
        }
        if (imageShape[0] != labelShape[0]) {
            throw new DataFormatException(labels, "the file has " + labelShape[0] + " labels, but " + images + " has "
                    + imageShape[0] + " images");
        }
        int[] classes = labelArray.toInts();
        for (int i = 0; i < classes.length; i++) {
            if (classes[i] >= classNames.size()) {
                throw new DataFormatException(labels, "label " + i + " is " + classes[i] + ", outside [0, "
                        + classNames.size() + ") for the class names " + classNames);
            }
        }
        int pixels = imageShape[0] == 0 ? 0 : imageArray.size() / imageShape[0];
        return Dataset.ownClassification(imageArray.toFloats(255), Dataset.numberedNames("pixel_", 0, pixels),
                classes, classNames);
    }

    private static InputStream decompressIfGzip(InputStream in) throws IOException {
        in.mark(2);
        int first = in.read();
        int second = in.read();
        in.reset();
        return first == 0x1f && second == 0x8b ? new GZIPInputStream(in) : in;
    }

    private static int[] readHeader(Path file, DataInputStream in) throws IOException {
        byte[] magic = in.readNBytes(4);
        if (magic.length < 4) {
            throw new DataFormatException(file, "the file has " + magic.length + " bytes, fewer than the 4-byte"
                    + " IDX magic number; " + LAYOUT);
        }
        if (magic[0] != 0 || magic[1] != 0) {
            throw new DataFormatException(file, "bad magic number " + hex(magic) + "; " + LAYOUT);
        }
        if (magic[2] != UNSIGNED_BYTE) {
            throw new DataFormatException(file, "element type 0x" + String.format("%02x", magic[2])
                    + " is not supported; only unsigned bytes (0x08) are read");
        }
        int[] shape = new int[Byte.toUnsignedInt(magic[3])];
        for (int d = 0; d < shape.length; d++) {
            shape[d] = in.readInt();
            if (shape[d] < 0) {
                throw new DataFormatException(file, "dimension " + d + " is " + Integer.toUnsignedString(shape[d])
                        + ", too large for one Java array");
            }
        }
        try {
            IdxArray.elementCount(shape);
        } catch (IllegalArgumentException e) {
            throw new DataFormatException(file, -1, e.getMessage(), e);
        }
        return shape;
    }

    private static String hex(byte[] bytes) {
        StringBuilder text = new StringBuilder();
        for (byte b : bytes) {
            text.append(text.isEmpty() ? "" : " ").append(String.format("0x%02x", b));
        }
        return text.toString();
    }
}
