package dev.kiln.runtime.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsValidationTest {

    @TempDir
    Path directory;

    @Test
    void truncatedFileNamesTensorAndByteCounts() throws IOException {
        Path file = directory.resolve("truncated.safetensors");
        Safetensors.write(file, List.of(
                NamedTensor.ofFloats("fc1.weight", new long[] {2, 2}, 1f, 2f, 3f, 4f),
                NamedTensor.ofFloats("fc1.bias", new long[] {3}, 5f, 6f, 7f)), Map.of());
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.truncate(channel.size() - 5);
        }

        CheckpointException error = assertThrows(CheckpointException.class, () -> Safetensors.read(file));

        assertEquals(Optional.of("fc1.bias"), error.tensorName());
        assertEquals(Optional.of(file), error.file());
        assertContains(error, file.toString());
        assertContains(error, "tensor 'fc1.bias'");
        assertContains(error, "expected 12 bytes at data_offsets [16, 28]");
        assertContains(error, "only 7 of them are present");
    }

    @Test
    void fileShorterThanLengthField() throws IOException {
        Path file = write("short.safetensors", new byte[] {1, 2, 3});

        assertContains(assertRejected(file), "the file is 3 bytes long");
    }

    @Test
    void headerLengthBeyondFile() throws IOException {
        Path file = write("long-header.safetensors", file(1000, "{}", new byte[0]));

        assertContains(assertRejected(file), "the header length is 1000 bytes, but only 2 bytes follow");
    }

    @Test
    void headerLengthAboveSignedRange() throws IOException {
        ByteBuffer bytes = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(-1L).put("{}      ".getBytes());

        CheckpointException error = assertRejected(write("huge.safetensors", bytes.array()));

        assertContains(error, "the header length is 18446744073709551615 bytes");
    }

    @Test
    void garbageHeaderReportsOffset() throws IOException {
        byte[] garbage = {(byte) 0x89, 'P', 'N', 'G', 0, 0, 0, 0};
        Path file = write("garbage.safetensors", file(garbage.length, garbage, new byte[0]));

        CheckpointException error = assertRejected(file);

        assertContains(error, "invalid JSON in the header at byte 0 of the header (file offset 8)");
        assertContains(error, "expected a JSON value but found '\\x89'");
    }

    @Test
    void invalidJsonReportsOffsetOfFault() throws IOException {
        CheckpointException error = assertRejected(header("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},}",
                new byte[4]));

        assertContains(error, "at byte 54 of the header (file offset 62): expected a string key but found '}'");
    }

    @Test
    void trailingCommaAndLeadingZero() throws IOException {
        assertContains(assertRejected(header("{\"a\":{\"dtype\":\"F32\",\"shape\":[1,],\"data_offsets\":[0,4]}}",
                new byte[4])), "expected a JSON value but found ']'");
        assertContains(assertRejected(header("{\"a\":{\"dtype\":\"F32\",\"shape\":[01],\"data_offsets\":[0,4]}}",
                new byte[4])), "expected ',' but found '1'");
    }

    @Test
    void headerMustBeObject() throws IOException {
        assertContains(assertRejected(header("[1, 2]", new byte[0])), "the header must be a JSON object");
    }

    @Test
    void unknownDtypeNamesTensor() throws IOException {
        CheckpointException error = assertRejected(header(
                "{\"w\":{\"dtype\":\"F128\",\"shape\":[1],\"data_offsets\":[0,16]}}", new byte[16]));

        assertEquals(Optional.of("w"), error.tensorName());
        assertContains(error, "unknown dtype \"F128\"; supported dtypes are BOOL, U8");
    }

    @Test
    void offsetsNotMatchingShape() throws IOException {
        CheckpointException error = assertRejected(header(
                "{\"w\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,20]}}", new byte[20]));

        assertContains(error, "tensor 'w': data_offsets [0, 20] span 20 bytes, but shape [2, 3] of dtype F32"
                + " needs 24 bytes");
    }

    @Test
    void offsetsEndingBeforeBeginning() throws IOException {
        assertContains(assertRejected(header("{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,4]}}",
                new byte[8])), "data_offsets [8, 4] end before they begin");
    }

    @Test
    void offsetsOutOfBounds() throws IOException {
        CheckpointException error = assertRejected(header(
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                        + "\"b\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[4,20]}}", new byte[8]));

        assertEquals(Optional.of("b"), error.tensorName());
        assertContains(error, "expected 16 bytes at data_offsets [4, 20], but only 4 of them are present");
    }

    @Test
    void overlappingOffsets() throws IOException {
        CheckpointException error = assertRejected(header(
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},"
                        + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", new byte[8]));

        assertContains(error, "tensor 'b': data_offsets [4, 8] overlap those of tensor 'a' [0, 8]");
    }

    @Test
    void gapBetweenOffsets() throws IOException {
        CheckpointException error = assertRejected(header(
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                        + "\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[8,12]}}", new byte[12]));

        assertContains(error, "tensor 'b': data_offsets are not contiguous");
        assertContains(error, "bytes [4, 8) belong to no tensor");
    }

    @Test
    void dataNotStartingAtZero() throws IOException {
        assertContains(assertRejected(header("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}",
                new byte[8])), "the data buffer starts at 0");
    }

    @Test
    void trailingBytesAfterLastTensor() throws IOException {
        assertContains(assertRejected(header("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}",
                new byte[6])), "2 trailing bytes belong to no tensor");
    }

    @Test
    void duplicateTensorName() throws IOException {
        CheckpointException error = assertRejected(header(
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},"
                        + "\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", new byte[8]));

        assertEquals(Optional.of("a"), error.tensorName());
        assertContains(error, "the header lists this name twice");
    }

    @Test
    void duplicateFieldInEntry() throws IOException {
        assertContains(assertRejected(header(
                "{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,4]}}", new byte[4])),
                "duplicate key \"dtype\"");
    }

    @Test
    void missingAndUnknownFields() throws IOException {
        assertContains(assertRejected(header("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", new byte[4])),
                "tensor 'a': the header entry has no \"shape\" field");
        assertContains(assertRejected(header(
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"stride\":[1]}}", new byte[4])),
                "unknown field \"stride\"");
    }

    @Test
    void negativeOrFractionalDimensions() throws IOException {
        assertContains(assertRejected(header("{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}",
                new byte[4])), "shape must contain non-negative integers below 2^63, but element 0 is the number -1");
        assertContains(assertRejected(header("{\"a\":{\"dtype\":\"F32\",\"shape\":[1.0],\"data_offsets\":[0,4]}}",
                new byte[4])), "element 0 is the number 1.0");
    }

    @Test
    void shapeOverflowIsRejected() throws IOException {
        assertContains(assertRejected(header(
                "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}",
                new byte[4])), "more elements than a long can count");
    }

    @Test
    void metadataValuesMustBeStrings() throws IOException {
        assertContains(assertRejected(header("{\"__metadata__\":{\"epochs\":3}}", new byte[0])),
                "metadata entry \"epochs\" must be a string, but it is the number 3");
    }

    @Test
    void paddedHeaderWithWhitespaceReads() throws IOException {
        String json = "\n{ \"__metadata__\" : { \"format\" : \"pt\" } ,\r\n\t\"w\" : { \"dtype\" : \"F32\","
                + " \"shape\" : [ 1 ] , \"data_offsets\" : [ 0 , 4 ] } }" + " ".repeat(13);
        byte[] data = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putFloat(-0.5f).array();

        Checkpoint read = Safetensors.read(header(json, data));

        assertEquals(Map.of("format", "pt"), read.metadata());
        assertEquals(-0.5f, read.tensor("w").toFloatArray()[0]);
    }

    @Test
    void escapesAreDecoded() throws IOException {
        String json = "{\"__metadata__\":{\"k\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\u00E9\\ud83d\\ude00\\u0000\","
                + "\"caf\u00e9\":\"raw \u65e5\"}}";

        Checkpoint read = Safetensors.read(header(json, new byte[0]));

        assertEquals("\"\\/\b\f\n\r\t\u00e9\u00e9\uD83D\uDE00\u0000", read.metadata().get("k"));
        assertEquals("raw \u65e5", read.metadata().get("caf\u00e9"));
    }

    @Test
    void invalidStringsAreRejected() throws IOException {
        assertContains(assertRejected(header("{\"__metadata__\":{\"k\":\"\\x\"}}", new byte[0])),
                "invalid escape sequence \\x");
        assertContains(assertRejected(header("{\"__metadata__\":{\"k\":\"\\ud83d\"}}", new byte[0])),
                "high surrogate \\uD83D is not followed by a \\u low surrogate");
        assertContains(assertRejected(header("{\"__metadata__\":{\"k\":\"\\ude00\"}}", new byte[0])),
                "lone low surrogate \\uDE00");
        assertContains(assertRejected(header("{\"__metadata__\":{\"k\":\"\\u12G4\"}}", new byte[0])),
                "\\u escape needs four hex digits");
        assertContains(assertRejected(header("{\"__metadata__\":{\"k\":\"tab\there\"}}", new byte[0])),
                "unescaped control character U+0009");
        assertContains(assertRejected(header("{\"__metadata__\":{\"k\":\"open}}", new byte[0])),
                "unterminated string");
    }

    @Test
    void invalidUtf8ReportsOffset() throws IOException {
        ByteArrayOutputStream json = new ByteArrayOutputStream();
        json.writeBytes("{\"__metadata__\":{\"k\":\"ab".getBytes(StandardCharsets.US_ASCII));
        json.write(0xc3); // lead byte of a two-byte sequence, followed by an ASCII byte
        json.writeBytes("(\"}}".getBytes(StandardCharsets.US_ASCII));

        CheckpointException error = assertRejected(header(json.toByteArray(), new byte[0]));

        assertContains(error, "at byte 24 of the header (file offset 32): invalid UTF-8 in a string");
    }

    @Test
    void deepNestingIsRejected() throws IOException {
        String json = "{\"__metadata__\":" + "[".repeat(100) + "]".repeat(100) + "}";

        assertContains(assertRejected(header(json, new byte[0])), "nested deeper than 64 levels");
    }

    private CheckpointException assertRejected(Path file) {
        return assertThrows(CheckpointException.class, () -> Safetensors.read(file));
    }

    private static void assertContains(Exception error, String expected) {
        assertTrue(error.getMessage().contains(expected),
                () -> "expected the message to contain <" + expected + "> but it was <" + error.getMessage() + ">");
    }

    private Path header(String json, byte[] data) throws IOException {
        return header(json.getBytes(StandardCharsets.UTF_8), data);
    }

    private Path header(byte[] json, byte[] data) throws IOException {
        return write("case.safetensors", file(json.length, json, data));
    }

    private Path write(String name, byte[] bytes) throws IOException {
        Path file = directory.resolve(name);
        Files.write(file, bytes);
        return file;
    }

    private static byte[] file(long headerLength, String json, byte[] data) {
        return file(headerLength, json.getBytes(StandardCharsets.UTF_8), data);
    }

    private static byte[] file(long headerLength, byte[] json, byte[] data) {
        ByteBuffer bytes = ByteBuffer.allocate(8 + json.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        return bytes.putLong(headerLength).put(json).put(data).array();
    }
}
