package dev.kiln.runtime.checkpoint;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Strict RFC 8259 JSON reader and string writer, enough for safetensors headers.
 *
 * <p>The reader works on UTF-8 bytes so that errors carry byte offsets. Objects become
 * insertion-ordered maps and reject duplicate keys, because a header with two entries of
 * one name is ambiguous. Numbers stay as their literal text ({@link JsonNumber}), so
 * offsets above 2^53 keep every digit. Lone UTF-16 surrogates in backslash-u escapes are
 * rejected because they cannot be written back as UTF-8.
 */
final class Json {

    /** Limit on nesting, so a hostile header cannot overflow the stack. */
    private static final int MAX_DEPTH = 64;

    private final byte[] bytes;
    private final int start;
    private final int end;
    private int position;

    private Json(byte[] bytes, int start, int end) {
        this.bytes = bytes;
        this.start = start;
        this.end = end;
        this.position = start;
    }

    /** A JSON number kept as its literal text. */
    record JsonNumber(String text) {

        /** Returns the value if the literal is an integer that fits a long, else null. */
        Long longValueExact() {
            if (text.indexOf('.') >= 0 || text.indexOf('e') >= 0 || text.indexOf('E') >= 0) {
                return null;
            }
            try {
                return Long.parseLong(text);
            } catch (NumberFormatException tooLarge) {
                return null;
            }
        }
    }

    /** Invalid JSON; {@link #offset()} counts bytes from the start of the parsed range. */
    static final class SyntaxException extends Exception {

        private static final long serialVersionUID = 1L;

        private final int offset;
        private final String duplicateTopLevelKey;

        SyntaxException(String message, int offset) {
            this(message, offset, null);
        }

        SyntaxException(String message, int offset, String duplicateTopLevelKey) {
            super(message);
            this.offset = offset;
            this.duplicateTopLevelKey = duplicateTopLevelKey;
        }

        int offset() {
            return offset;
        }

        /** Returns the key that the outermost object repeats, or null for any other error. */
        String duplicateTopLevelKey() {
            return duplicateTopLevelKey;
        }
    }

    /**
     * Parses {@code bytes[start, end)} as one JSON value followed only by whitespace.
     *
     * @return a {@code Map<String, Object>}, {@code List<Object>}, {@code String},
     *     {@link JsonNumber}, {@code Boolean} or null for JSON null
     */
    static Object parse(byte[] bytes, int start, int end) throws SyntaxException {
        Json parser = new Json(bytes, start, end);
        parser.skipWhitespace();
        Object value = parser.readValue(0);
        parser.skipWhitespace();
        if (parser.position < end) {
            throw parser.error("unexpected " + parser.describeCurrent() + " after the end of the JSON value");
        }
        return value;
    }

    /** Appends {@code value} as a JSON string literal, escaping quotes, backslashes and control characters. */
    static void appendQuoted(StringBuilder out, String value) {
        out.append('"');
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\b' -> out.append("\\b");
                case '\f' -> out.append("\\f");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }

    private Object readValue(int depth) throws SyntaxException {
        if (depth > MAX_DEPTH) {
            throw error("JSON nested deeper than " + MAX_DEPTH + " levels");
        }
        if (position >= end) {
            throw error("unexpected end of the header, expected a JSON value");
        }
        return switch (bytes[position]) {
            case '{' -> readObject(depth);
            case '[' -> readArray(depth);
            case '"' -> readString();
            case 't' -> readLiteral("true", Boolean.TRUE);
            case 'f' -> readLiteral("false", Boolean.FALSE);
            case 'n' -> readLiteral("null", null);
            default -> readNumber();
        };
    }

    private Map<String, Object> readObject(int depth) throws SyntaxException {
        position++;
        Map<String, Object> members = new LinkedHashMap<>();
        skipWhitespace();
        if (consume('}')) {
            return members;
        }
        while (true) {
            skipWhitespace();
            int keyOffset = position;
            if (position >= end || bytes[position] != '"') {
                throw error("expected a string key but found " + describeCurrent());
            }
            String key = readString();
            skipWhitespace();
            expect(':');
            skipWhitespace();
            Object value = readValue(depth + 1);
            if (members.containsKey(key)) {
                throw new SyntaxException("duplicate key \"" + key + "\"", keyOffset - start,
                        depth == 0 ? key : null);
            }
            members.put(key, value);
            skipWhitespace();
            if (consume('}')) {
                return members;
            }
            expect(',');
        }
    }

    private List<Object> readArray(int depth) throws SyntaxException {
        position++;
        List<Object> elements = new ArrayList<>();
        skipWhitespace();
        if (consume(']')) {
            return elements;
        }
        while (true) {
            skipWhitespace();
            elements.add(readValue(depth + 1));
            skipWhitespace();
            if (consume(']')) {
                return elements;
            }
            expect(',');
        }
    }

    private String readString() throws SyntaxException {
        int openingQuote = position;
        position++;
        StringBuilder text = new StringBuilder();
        while (true) {
            int runStart = position;
            while (position < end && bytes[position] != '"' && bytes[position] != '\\'
                    && (bytes[position] & 0xff) >= 0x20) {
                position++;
            }
            appendUtf8(text, runStart, position);
            if (position >= end) {
                throw new SyntaxException("unterminated string", openingQuote - start);
            }
            byte b = bytes[position];
            if (b == '"') {
                position++;
                return text.toString();
            }
            if (b != '\\') {
                throw error(String.format("unescaped control character U+%04X in a string", b & 0xff));
            }
            readEscape(text);
        }
    }

    private void readEscape(StringBuilder text) throws SyntaxException {
        int escapeStart = position;
        position++;
        if (position >= end) {
            throw new SyntaxException("unterminated escape sequence", escapeStart - start);
        }
        byte b = bytes[position++];
        switch (b) {
            case '"' -> text.append('"');
            case '\\' -> text.append('\\');
            case '/' -> text.append('/');
            case 'b' -> text.append('\b');
            case 'f' -> text.append('\f');
            case 'n' -> text.append('\n');
            case 'r' -> text.append('\r');
            case 't' -> text.append('\t');
            case 'u' -> readUnicodeEscape(text, escapeStart);
            default -> throw new SyntaxException(
                    "invalid escape sequence \\" + printable(b), escapeStart - start);
        }
    }

    /** Reads the four hex digits after a backslash-u, joining a surrogate pair written as two escapes. */
    private void readUnicodeEscape(StringBuilder text, int escapeStart) throws SyntaxException {
        char unit = readHex4(escapeStart);
        if (Character.isLowSurrogate(unit)) {
            throw new SyntaxException(String.format(
                    "lone low surrogate \\u%04X without a preceding high surrogate", (int) unit),
                    escapeStart - start);
        }
        if (Character.isHighSurrogate(unit)) {
            int lowStart = position;
            if (position + 1 >= end || bytes[position] != '\\' || bytes[position + 1] != 'u') {
                throw new SyntaxException(String.format(
                        "high surrogate \\u%04X is not followed by a \\u low surrogate", (int) unit),
                        escapeStart - start);
            }
            position += 2;
            char low = readHex4(lowStart);
            if (!Character.isLowSurrogate(low)) {
                throw new SyntaxException(String.format(
                        "high surrogate \\u%04X is followed by \\u%04X, which is not a low surrogate",
                        (int) unit, (int) low), lowStart - start);
            }
            text.append(unit).append(low);
            return;
        }
        text.append(unit);
    }

    private char readHex4(int escapeStart) throws SyntaxException {
        if (position + 4 > end) {
            throw new SyntaxException("\\u escape needs four hex digits", escapeStart - start);
        }
        int value = 0;
        for (int i = 0; i < 4; i++) {
            int digit = Character.digit(bytes[position + i], 16);
            if (digit < 0) {
                throw new SyntaxException("\\u escape needs four hex digits", escapeStart - start);
            }
            value = value * 16 + digit;
        }
        position += 4;
        return (char) value;
    }

    private void appendUtf8(StringBuilder text, int from, int to) throws SyntaxException {
        if (from == to) {
            return;
        }
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        ByteBuffer input = ByteBuffer.wrap(bytes, from, to - from);
        try {
            CharBuffer decoded = decoder.decode(input);
            text.append(decoded);
        } catch (CharacterCodingException malformed) {
            // The decoder stops at the first bad sequence, so input.position() marks it.
            throw new SyntaxException("invalid UTF-8 in a string", input.position() - start);
        }
    }

    private JsonNumber readNumber() throws SyntaxException {
        int numberStart = position;
        consume('-');
        if (consume('0')) {
            // JSON allows no digits after a leading zero, so "01" fails at the next check.
        } else if (!skipDigits()) {
            position = numberStart;
            throw error("expected a JSON value but found " + describeCurrent());
        }
        if (consume('.') && !skipDigits()) {
            throw error("expected a digit after the decimal point");
        }
        if (consume('e') || consume('E')) {
            if (!consume('+')) {
                consume('-');
            }
            if (!skipDigits()) {
                throw error("expected a digit in the exponent");
            }
        }
        return new JsonNumber(new String(bytes, numberStart, position - numberStart, StandardCharsets.US_ASCII));
    }

    private boolean skipDigits() {
        int digitsStart = position;
        while (position < end && bytes[position] >= '0' && bytes[position] <= '9') {
            position++;
        }
        return position > digitsStart;
    }

    private Object readLiteral(String literal, Object value) throws SyntaxException {
        for (int i = 0; i < literal.length(); i++) {
            if (position + i >= end || bytes[position + i] != literal.charAt(i)) {
                throw error("expected a JSON value but found " + describeCurrent());
            }
        }
        position += literal.length();
        return value;
    }

    private void skipWhitespace() {
        while (position < end) {
            byte b = bytes[position];
            if (b != ' ' && b != '\t' && b != '\n' && b != '\r') {
                return;
            }
            position++;
        }
    }

    private boolean consume(char expected) {
        if (position < end && bytes[position] == expected) {
            position++;
            return true;
        }
        return false;
    }

    private void expect(char expected) throws SyntaxException {
        if (!consume(expected)) {
            throw error("expected '" + expected + "' but found " + describeCurrent());
        }
    }

    private String describeCurrent() {
        return position >= end ? "the end of the header" : "'" + printable(bytes[position]) + "'";
    }

    private static String printable(byte b) {
        int unsigned = b & 0xff;
        return unsigned >= 0x20 && unsigned < 0x7f ? String.valueOf((char) unsigned) : String.format("\\x%02X", unsigned);
    }

    private SyntaxException error(String message) {
        return new SyntaxException(message, position - start);
    }
}
