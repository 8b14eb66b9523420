package dev.kiln.runtime.checkpoint;

import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** Parsing, validation and encoding of the JSON header of a safetensors file. */
final class SafetensorsHeader {

    /** The data buffer and every header this class writes start at a multiple of this. */
    static final int ALIGNMENT = 8;

    private static final Set<String> ENTRY_FIELDS = Set.of("dtype", "shape", "data_offsets");

    /** One tensor's header entry; {@code begin} and {@code end} are relative to the data buffer. */
    record Entry(String name, DType dtype, long[] shape, long begin, long end) {

        long byteCount() {
            return end - begin;
        }
    }

    /** The parsed header: entries sorted by their data offsets, and the metadata. */
    record Parsed(List<Entry> entries, Map<String, String> metadata) {
    }

    private SafetensorsHeader() {
    }

    /**
     * Parses and validates a header. Entries must tile the data buffer from offset 0 without
     * gaps or overlaps, and each entry's byte range must match its shape and dtype.
     * Whether the file is long enough for the data is checked by the reader.
     *
     * @param file the file, for messages only
     * @param bytes the header bytes, including any trailing padding
     */
    static Parsed parse(Path file, byte[] bytes) throws CheckpointException {
        Object root;
        try {
            root = Json.parse(bytes, 0, bytes.length);
        } catch (Json.SyntaxException e) {
            if (e.duplicateTopLevelKey() != null) {
                throw new CheckpointException(file, e.duplicateTopLevelKey(), "the header lists this name"
                        + " twice (the second time at byte " + e.offset() + " of the header); tensor names"
                        + " must be unique");
            }
            throw new CheckpointException(file, "invalid JSON in the header at byte " + e.offset()
                    + " of the header (file offset " + (8 + e.offset()) + "): " + e.getMessage());
        }
        if (!(root instanceof Map<?, ?> members)) {
            throw new CheckpointException(file, "the header must be a JSON object, but it is "
                    + describe(root));
        }

        Map<String, String> metadata = new LinkedHashMap<>();
        List<Entry> entries = new ArrayList<>();
        for (Map.Entry<?, ?> member : members.entrySet()) {
            String name = (String) member.getKey();
            if (name.equals(Checkpoint.METADATA_KEY)) {
                metadata = parseMetadata(file, member.getValue());
            } else {
                entries.add(parseEntry(file, name, member.getValue()));
            }
        }

        // Zero-length tensors sort before a tensor that starts at the same offset.
        entries.sort(Comparator.comparingLong(Entry::begin).thenComparingLong(Entry::end));
        checkContiguous(file, entries);
        return new Parsed(List.copyOf(entries), metadata);
    }

    /**
     * Encodes the header of {@code checkpoint}, with data offsets in tensor order, padded with
     * spaces to a multiple of {@link #ALIGNMENT} bytes so that the data buffer stays aligned.
     *
     * @throws IllegalArgumentException if a name or metadata string contains an unpaired surrogate
     */
    static byte[] encode(Checkpoint checkpoint) {
        StringBuilder json = new StringBuilder("{");
        if (!checkpoint.metadata().isEmpty()) {
            Json.appendQuoted(json, Checkpoint.METADATA_KEY);
            json.append(":{");
            String separator = "";
            for (Map.Entry<String, String> entry : checkpoint.metadata().entrySet()) {
                json.append(separator);
                Json.appendQuoted(json, requireWellFormed("metadata key", entry.getKey()));
                json.append(':');
                Json.appendQuoted(json, requireWellFormed("metadata value of '" + entry.getKey() + "'",
                        entry.getValue()));
                separator = ",";
            }
            json.append('}');
        }
        long offset = 0;
        for (NamedTensor tensor : checkpoint.tensors()) {
            if (json.length() > 1) {
                json.append(',');
            }
            Json.appendQuoted(json, requireWellFormed("tensor name", tensor.name()));
            json.append(":{\"dtype\":\"").append(tensor.dtype().name()).append("\",\"shape\":[");
            long[] shape = tensor.shape();
            for (int i = 0; i < shape.length; i++) {
                json.append(i == 0 ? "" : ",").append(shape[i]);
            }
            long end = offset + tensor.byteSize();
            json.append("],\"data_offsets\":[").append(offset).append(',').append(end).append("]}");
            offset = end;
        }
        json.append('}');

        byte[] text = json.toString().getBytes(StandardCharsets.UTF_8);
        int paddedLength = (text.length + ALIGNMENT - 1) / ALIGNMENT * ALIGNMENT;
        byte[] padded = Arrays.copyOf(text, paddedLength);
        Arrays.fill(padded, text.length, paddedLength, (byte) ' ');
        return padded;
    }

    private static Map<String, String> parseMetadata(Path file, Object value) throws CheckpointException {
        if (!(value instanceof Map<?, ?> members)) {
            throw new CheckpointException(file, "\"" + Checkpoint.METADATA_KEY
                    + "\" must be a JSON object of strings, but it is " + describe(value));
        }
        Map<String, String> metadata = new LinkedHashMap<>();
        for (Map.Entry<?, ?> member : members.entrySet()) {
            if (!(member.getValue() instanceof String text)) {
                throw new CheckpointException(file, "metadata entry \"" + member.getKey()
                        + "\" must be a string, but it is " + describe(member.getValue()));
            }
            metadata.put((String) member.getKey(), text);
        }
        return metadata;
    }

    private static Entry parseEntry(Path file, String name, Object value) throws CheckpointException {
        if (!(value instanceof Map<?, ?> fields)) {
            throw new CheckpointException(file, name, "the header entry must be a JSON object with "
                    + "dtype, shape and data_offsets, but it is " + describe(value));
        }
        for (Object field : fields.keySet()) {
            if (!ENTRY_FIELDS.contains(field)) {
                throw new CheckpointException(file, name, "unknown field \"" + field
                        + "\" in the header entry; expected only dtype, shape and data_offsets");
            }
        }
        DType dtype = parseDtype(file, name, require(file, name, fields, "dtype"));
        long[] shape = parseIntegers(file, name, "shape", require(file, name, fields, "shape"));
        long[] offsets = parseIntegers(file, name, "data_offsets", require(file, name, fields, "data_offsets"));
        if (offsets.length != 2) {
            throw new CheckpointException(file, name, "data_offsets must be [begin, end], but it has "
                    + offsets.length + " elements");
        }
        long begin = offsets[0];
        long end = offsets[1];
        if (begin > end) {
            throw new CheckpointException(file, name, "data_offsets " + Arrays.toString(offsets)
                    + " end before they begin");
        }

        long expectedBytes;
        try {
            expectedBytes = NamedTensor.byteSizeOf(name, dtype, shape);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(file, name, e.getMessage());
        }
        if (end - begin != expectedBytes) {
            throw new CheckpointException(file, name, "data_offsets " + Arrays.toString(offsets) + " span "
                    + (end - begin) + " bytes, but shape " + Arrays.toString(shape) + " of dtype " + dtype
                    + " needs " + expectedBytes + " bytes");
        }
        return new Entry(name, dtype, shape, begin, end);
    }

    private static Object require(Path file, String name, Map<?, ?> fields, String field)
            throws CheckpointException {
        if (!fields.containsKey(field)) {
            throw new CheckpointException(file, name, "the header entry has no \"" + field + "\" field");
        }
        return fields.get(field);
    }

    private static DType parseDtype(Path file, String name, Object value) throws CheckpointException {
        if (!(value instanceof String text)) {
            throw new CheckpointException(file, name, "dtype must be a string, but it is " + describe(value));
        }
        try {
            return DType.fromName(text);
        } catch (IllegalArgumentException e) {
            throw new CheckpointException(file, name, e.getMessage());
        }
    }

    private static long[] parseIntegers(Path file, String name, String field, Object value)
            throws CheckpointException {
        if (!(value instanceof List<?> elements)) {
            throw new CheckpointException(file, name, field + " must be an array of integers, but it is "
                    + describe(value));
        }
        long[] integers = new long[elements.size()];
        for (int i = 0; i < integers.length; i++) {
            Object element = elements.get(i);
            Long integer = element instanceof Json.JsonNumber number ? number.longValueExact() : null;
            if (integer == null || integer < 0) {
                throw new CheckpointException(file, name, field + " must contain non-negative integers below"
                        + " 2^63, but element " + i + " is " + describe(element));
            }
            integers[i] = integer;
        }
        return integers;
    }

    private static void checkContiguous(Path file, List<Entry> entries) throws CheckpointException {
        Entry previous = null;
        for (Entry entry : entries) {
            long expectedBegin = previous == null ? 0 : previous.end();
            if (entry.begin() < expectedBegin) {
                throw new CheckpointException(file, entry.name(), "data_offsets [" + entry.begin() + ", "
                        + entry.end() + "] overlap those of tensor '" + previous.name() + "' ["
                        + previous.begin() + ", " + previous.end() + "]");
            }
            if (entry.begin() > expectedBegin) {
                String before = previous == null
                        ? "the data buffer starts at 0"
                        : "tensor '" + previous.name() + "' ends at " + previous.end();
                throw new CheckpointException(file, entry.name(), "data_offsets are not contiguous: the tensor"
                        + " begins at " + entry.begin() + ", but " + before + ", so bytes [" + expectedBegin
                        + ", " + entry.begin() + ") belong to no tensor");
            }
            previous = entry;
        }
    }

    private static String requireWellFormed(String description, String text) {
        try {
            StandardCharsets.UTF_8.newEncoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .encode(CharBuffer.wrap(text));
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException(description + " \"" + text + "\" contains an unpaired UTF-16 surrogate,"
                    + " which UTF-8 cannot encode");
        }
        return text;
    }

    private static String describe(Object value) {
        return switch (value) {
            case null -> "null";
            case String text -> "the string \"" + text + "\"";
            case Json.JsonNumber number -> "the number " + number.text();
            case Boolean bool -> bool.toString();
            case List<?> list -> "an array of " + list.size() + " elements";
            case Map<?, ?> map -> "an object";
            default -> value.toString();
        };
    }
}
