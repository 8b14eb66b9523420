package dev.kiln.runtime.checkpoint;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsRoundTripTest {

    @TempDir
    Path directory;

    /** Bit patterns that a lossy conversion would change: NaN payloads, -0, subnormals, infinities. */
    private static final int[] FLOAT_BITS = {
        0x7fc00000, // canonical quiet NaN
        0x7fc12345, // quiet NaN with payload
        0xffc00001, // negative quiet NaN with payload
        0x7f800001, // signalling NaN
        0x80000000, // -0.0
        0x00000000,
        0x00000001, // smallest subnormal
        0x807fffff, // largest negative subnormal
        0x7f800000, // +infinity
        0xff800000, // -infinity
        0x7f7fffff, // max float
        0x3f800000, // 1.0
    };

    private static final long[] DOUBLE_BITS = {
        0x7ff8000000000000L,
        0x7ff800000000abcdL,
        0x7ff0000000000001L,
        0x8000000000000000L,
        0x0000000000000001L,
        0x000fffffffffffffL,
        0x7ff0000000000000L,
        0xfff0000000000000L,
        Double.doubleToRawLongBits(Math.PI),
    };

    @Test
    void roundTripKeepsEveryBit() throws IOException {
        float[] floats = new float[FLOAT_BITS.length];
        for (int i = 0; i < floats.length; i++) {
            floats[i] = Float.intBitsToFloat(FLOAT_BITS[i]);
        }
        double[] doubles = new double[DOUBLE_BITS.length];
        for (int i = 0; i < doubles.length; i++) {
            doubles[i] = Double.longBitsToDouble(DOUBLE_BITS[i]);
        }
        long[] longs = {Long.MIN_VALUE, -1, 0, 1, Long.MAX_VALUE, 1L << 53 | 1};
        Path file = directory.resolve("bits.safetensors");

        Safetensors.write(file, List.of(
                NamedTensor.ofFloats("floats", new long[] {3, 4}, floats),
                NamedTensor.ofDoubles("doubles", new long[] {DOUBLE_BITS.length}, doubles),
                NamedTensor.ofLongs("longs", new long[] {2, 3}, longs)), Map.of());
        Checkpoint read = Safetensors.read(file);

        assertEquals(List.of("floats", "doubles", "longs"), read.names());
        NamedTensor readFloats = read.tensor("floats");
        assertEquals(DType.F32, readFloats.dtype());
        assertArrayEquals(new long[] {3, 4}, readFloats.shape());
        assertArrayEquals(FLOAT_BITS, rawBits(readFloats.toFloatArray()));
        assertArrayEquals(FLOAT_BITS, intsOf(readFloats.data()), "stored bytes");
        assertArrayEquals(DOUBLE_BITS, rawBits(read.tensor("doubles").toDoubleArray()));
        assertEquals(DType.I64, read.tensor("longs").dtype());
        assertArrayEquals(longs, read.tensor("longs").toLongArray());
        assertTrue(read.metadata().isEmpty());
    }

    @Test
    void metadataKeepsUnicodeAndQuotes() throws IOException {
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("format", "pt");
        metadata.put("quotes", "say \"hi\" and 'bye'");
        metadata.put("escapes", "back\\slash / tab\t newline\n cr\r bell\u0007 nul\u0000 ff\f bs\b");
        metadata.put("unicode", "Grüße, 日本語, emoji \uD83D\uDE00, U+2028 \u2028");
        metadata.put("clé \"quoted\"", "{\"json\": [1, 2]}");
        metadata.put("", "empty key");
        Path file = directory.resolve("metadata.safetensors");

        Safetensors.write(file, List.of(NamedTensor.ofFloats("w", new long[] {1}, 1f)), metadata);
        Checkpoint read = Safetensors.read(file);

        assertEquals(metadata, read.metadata());
        assertEquals(List.copyOf(metadata.keySet()), List.copyOf(read.metadata().keySet()));
    }

    @Test
    void tensorNamesKeepUnicodeAndQuotes() throws IOException {
        String name = "layer \"ä\"\\1.weight";
        Path file = directory.resolve("names.safetensors");

        Safetensors.write(file, List.of(NamedTensor.ofFloats(name, new long[] {2}, 1f, 2f)), Map.of());

        assertArrayEquals(new float[] {1f, 2f}, Safetensors.read(file).tensor(name).toFloatArray());
    }

    @Test
    void headerIsPaddedToEightBytes() throws IOException {
        // Names of length 1 to 8 move the unpadded header length through every remainder mod 8.
        for (int nameLength = 1; nameLength <= 8; nameLength++) {
            String name = "n".repeat(nameLength);
            Path file = directory.resolve("padded" + nameLength + ".safetensors");
            Safetensors.write(file, List.of(NamedTensor.ofDoubles(name, new long[] {1}, 2.5)), Map.of());

            byte[] bytes = Files.readAllBytes(file);
            long headerLength = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
            String header = new String(bytes, 8, (int) headerLength, StandardCharsets.UTF_8);

            assertEquals(0, headerLength % 8, "header length for name " + name);
            assertEquals(header.stripTrailing() + " ".repeat(header.length() - header.stripTrailing().length()),
                    header, "padding is spaces only");
            assertTrue(header.stripTrailing().endsWith("}"), header);
            assertEquals(8 + headerLength + 8, bytes.length, "data follows the padded header directly");
            assertEquals(2.5, Safetensors.read(file).tensor(name).toDoubleArray()[0]);
        }
    }

    @Test
    void headerTextMatchesSafetensorsLayout() throws IOException {
        Path file = directory.resolve("layout.safetensors");
        Map<String, String> metadata = new LinkedHashMap<>();
        metadata.put("format", "pt");

        Safetensors.write(file, List.of(
                NamedTensor.ofFloats("fc.weight", new long[] {2, 1}, 1f, 2f),
                NamedTensor.ofLongs("steps", new long[] {}, 7L)), metadata);

        byte[] bytes = Files.readAllBytes(file);
        long headerLength = ByteBuffer.wrap(bytes, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        String header = new String(bytes, 8, (int) headerLength, StandardCharsets.UTF_8).stripTrailing();
        assertEquals("{\"__metadata__\":{\"format\":\"pt\"},"
                + "\"fc.weight\":{\"dtype\":\"F32\",\"shape\":[2,1],\"data_offsets\":[0,8]},"
                + "\"steps\":{\"dtype\":\"I64\",\"shape\":[],\"data_offsets\":[8,16]}}", header);
        ByteBuffer data = ByteBuffer.wrap(bytes, 8 + (int) headerLength, 16).slice().order(ByteOrder.LITTLE_ENDIAN);
        assertEquals(1f, data.getFloat(0));
        assertEquals(2f, data.getFloat(4));
        assertEquals(7L, data.getLong(8));
    }

    @Test
    void scalarAndEmptyTensorsRoundTrip() throws IOException {
        Path file = directory.resolve("shapes.safetensors");

        Safetensors.write(file, List.of(
                NamedTensor.ofFloats("scalar", new long[] {}, 4f),
                NamedTensor.ofFloats("empty", new long[] {0, 3}),
                NamedTensor.ofInts("ints", new long[] {2}, -5, Integer.MAX_VALUE)), Map.of());
        Checkpoint read = Safetensors.read(file);

        assertArrayEquals(new long[] {}, read.tensor("scalar").shape());
        assertArrayEquals(new float[] {4f}, read.tensor("scalar").toFloatArray());
        assertArrayEquals(new long[] {0, 3}, read.tensor("empty").shape());
        assertEquals(0, read.tensor("empty").toFloatArray().length);
        assertArrayEquals(new long[] {-5, Integer.MAX_VALUE}, read.tensor("ints").toLongArray());
    }

    @Test
    void writeReplacesExistingFile() throws IOException {
        Path file = directory.resolve("model.safetensors");
        Safetensors.write(file, List.of(NamedTensor.ofFloats("w", new long[] {1}, 1f)), Map.of());

        Safetensors.write(file, List.of(NamedTensor.ofFloats("w", new long[] {2}, 3f, 4f)), Map.of("v", "2"));

        Checkpoint read = Safetensors.read(file);
        assertArrayEquals(new float[] {3f, 4f}, read.tensor("w").toFloatArray());
        assertEquals(Map.of("v", "2"), read.metadata());
        assertEquals(List.of(file), listDirectory());
    }

    @Test
    void failedWriteDeletesTemporaryFile() throws IOException {
        // A non-empty directory at the target path makes the final rename fail.
        Path target = directory.resolve("model.safetensors");
        Files.createDirectory(target);
        Files.writeString(target.resolve("keep.txt"), "keep");

        assertThrows(IOException.class, () -> Safetensors.write(target,
                List.of(NamedTensor.ofFloats("w", new long[] {1}, 1f)), Map.of()));

        assertEquals(List.of(target), listDirectory());
        assertEquals("keep", Files.readString(target.resolve("keep.txt")));
    }

    @Test
    void writeRejectsDuplicateNamesBeforeTouchingDisk() {
        Path file = directory.resolve("duplicate.safetensors");

        IllegalArgumentException error = assertThrows(IllegalArgumentException.class, () -> Safetensors.write(file,
                List.of(NamedTensor.ofFloats("w", new long[] {1}, 1f), NamedTensor.ofFloats("w", new long[] {1}, 2f)),
                Map.of()));

        assertTrue(error.getMessage().contains("duplicate tensor name 'w'"), error.getMessage());
        assertEquals(List.of(), listDirectory());
    }

    @Test
    void writeRejectsReservedNameAndUnpairedSurrogate() {
        Path file = directory.resolve("bad.safetensors");
        List<NamedTensor> reserved = List.of(NamedTensor.ofFloats("__metadata__", new long[] {1}, 1f));
        List<NamedTensor> plain = List.of(NamedTensor.ofFloats("w", new long[] {1}, 1f));

        assertThrows(IllegalArgumentException.class, () -> Safetensors.write(file, reserved, Map.of()));
        IllegalArgumentException surrogate = assertThrows(IllegalArgumentException.class,
                () -> Safetensors.write(file, plain, Map.of("note", "half \uD83D pair")));

        assertTrue(surrogate.getMessage().contains("unpaired UTF-16 surrogate"), surrogate.getMessage());
        assertEquals(List.of(), listDirectory());
    }

    @Test
    void factoriesRejectWrongElementCount() {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> NamedTensor.ofFloats("w", new long[] {2, 3}, 1f, 2f));

        assertTrue(error.getMessage().contains("needs 6 elements, but 2 were given"), error.getMessage());
    }

    private List<Path> listDirectory() {
        try (Stream<Path> entries = Files.list(directory)) {
            return entries.sorted().toList();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private static int[] rawBits(float[] values) {
        int[] bits = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            bits[i] = Float.floatToRawIntBits(values[i]);
        }
        return bits;
    }

    private static long[] rawBits(double[] values) {
        return Arrays.stream(values).mapToLong(Double::doubleToRawLongBits).toArray();
    }

    private static int[] intsOf(ByteBuffer littleEndian) {
        int[] values = new int[littleEndian.remaining() / 4];
        for (int i = 0; i < values.length; i++) {
            values[i] = littleEndian.getInt(i * 4);
        }
        return values;
    }
}
