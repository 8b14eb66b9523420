package dev.kiln.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class IdxTest {

    @TempDir
    Path directory;

    /** Three 2x2 images with pixel values above 127, which are negative as Java bytes. */
    private static IdxArray images() {
        byte[] pixels = new byte[12];
        for (int i = 0; i < pixels.length; i++) {
            pixels[i] = (byte) (i * 23);
        }
        return new IdxArray(new int[] {3, 2, 2}, pixels);
    }

    @Test
    void roundTripPlainAndGzip() {
        for (String name : List.of("images-idx3-ubyte", "images-idx3-ubyte.gz")) {
            Path file = directory.resolve(name);

            Idx.write(file, images());
            IdxArray read = Idx.read(file);

            assertEquals(images(), read, name);
            assertArrayEquals(new int[] {3, 2, 2}, read.shape(), name);
            assertEquals(253, read.unsigned(11), name);
        }
    }

    @Test
    void plainFileLayout() throws IOException {
        Path file = directory.resolve("labels-idx1-ubyte");

        Idx.write(file, new IdxArray(new int[] {2}, new byte[] {7, (byte) 200}));

        byte[] expected = {0, 0, 8, 1, 0, 0, 0, 2, 7, (byte) 200};
        assertArrayEquals(expected, Files.readAllBytes(file));
    }

    @Test
    void gzipDetectedByMagicBytes() throws IOException {
        Path file = directory.resolve("compressed-without-extension");
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(file))) {
            out.write(new byte[] {0, 0, 8, 1, 0, 0, 0, 3, 1, 2, 3});
        }

        assertArrayEquals(new int[] {1, 2, 3}, Idx.read(file).toInts());
    }

    @Test
    void truncatedDataReported() throws IOException {
        Path file = directory.resolve("truncated-idx3-ubyte");
        Idx.write(file, images());
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(bytes, bytes.length - 5));

        DataFormatException e = assertThrows(DataFormatException.class, () -> Idx.read(file));

        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        assertTrue(e.getMessage().contains("needs 12 data bytes"), e.getMessage());
        assertTrue(e.getMessage().contains("only 7 follow"), e.getMessage());
    }

    @Test
    void truncatedHeaderReported() throws IOException {
        Path file = directory.resolve("header-idx3-ubyte");
        Files.write(file, new byte[] {0, 0, 8, 3, 0, 0, 0, 3, 0, 0});

        DataFormatException e = assertThrows(DataFormatException.class, () -> Idx.read(file));

        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
    }

    @Test
    void truncatedGzipReported() throws IOException {
        Path file = directory.resolve("images.gz");
        Idx.write(file, new IdxArray(new int[] {1000}, new byte[1000]));
        byte[] bytes = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(bytes, bytes.length - 12));

        DataFormatException e = assertThrows(DataFormatException.class, () -> Idx.read(file));

        assertTrue(e.getMessage().contains(file.toString()), e.getMessage());
    }

    @Test
    void badMagicReported() throws IOException {
        Path file = directory.resolve("text.csv");
        Files.writeString(file, "1,2,3\n");

        DataFormatException e = assertThrows(DataFormatException.class, () -> Idx.read(file));

        assertTrue(e.getMessage().contains("bad magic number 0x31 0x2c 0x32 0x2c"), e.getMessage());
        assertTrue(e.getMessage().contains("0x08"), e.getMessage());
    }

    @Test
    void unsupportedTypeReported() throws IOException {
        Path file = directory.resolve("floats-idx1");
        Files.write(file, new byte[] {0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0});

        DataFormatException e = assertThrows(DataFormatException.class, () -> Idx.read(file));

        assertTrue(e.getMessage().contains("element type 0x0d is not supported"), e.getMessage());
    }

    @Test
    void trailingBytesReported() throws IOException {
        Path file = directory.resolve("long-idx1-ubyte");
        Files.write(file, new byte[] {0, 0, 8, 1, 0, 0, 0, 2, 1, 2, 3});

        DataFormatException e = assertThrows(DataFormatException.class, () -> Idx.read(file));

        assertTrue(e.getMessage().contains("bytes follow"), e.getMessage());
    }

    @Test
    void imagesAndLabelsDataset() {
        Path imageFile = directory.resolve("images-idx3-ubyte.gz");
        Path labelFile = directory.resolve("labels-idx1-ubyte.gz");
        Idx.write(imageFile, images());
        Idx.write(labelFile, new IdxArray(new int[] {3}, new byte[] {2, 0, 1}));

        Dataset data = Idx.readClassification(imageFile, labelFile, List.of("a", "b", "c"));

        assertEquals(3, data.size());
        assertEquals(4, data.featureCount());
        assertArrayEquals(new int[] {2, 0, 1}, data.classes());
        assertEquals(253f / 255, data.feature(2, 3));
        assertEquals("pixel_3", data.featureNames().get(3));
    }

    @Test
    void labelCountMismatchReported() {
        Path imageFile = directory.resolve("images-idx3-ubyte");
        Path labelFile = directory.resolve("labels-idx1-ubyte");
        Idx.write(imageFile, images());
        Idx.write(labelFile, new IdxArray(new int[] {2}, new byte[] {0, 1}));

        DataFormatException e = assertThrows(DataFormatException.class,
                () -> Idx.readClassification(imageFile, labelFile, List.of("a", "b")));

        assertTrue(e.getMessage().contains("2 labels"), e.getMessage());
        assertTrue(e.getMessage().contains("3 images"), e.getMessage());
    }

    @Test
    void shapeAndDataLengthMustAgree() {
        assertThrows(IllegalArgumentException.class, () -> new IdxArray(new int[] {2, 2}, new byte[3]));
    }
}
