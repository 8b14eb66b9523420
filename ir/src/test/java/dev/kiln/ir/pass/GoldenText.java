package dev.kiln.ir.pass;

import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Compares IR text with expected text, line by line, and reports the lines that differ. Expected
 * texts of resource files can be rewritten from the actual ones with
 * {@code -Dkiln.updateGolden=true}, run from the module's folder; review the diff before keeping it.
 */
final class GoldenText {
    static final String UPDATE_PROPERTY = "kiln.updateGolden";
    private static final Path RESOURCES = Path.of("src", "test", "resources");

    private GoldenText() {
    }

    /** Fails with a line diff when {@code actual} differs from {@code expected}. */
    static void assertSameText(String expected, String actual, String description) {
        if (!expected.equals(actual)) {
            fail(description + " differs from the expected text (- expected, + actual):\n" + diff(expected, actual));
        }
    }

    /**
     * Fails with a line diff when {@code actual} differs from the text of the test resource
     * {@code name}, or rewrites that resource when the update property is set.
     */
    static void assertMatchesResource(String name, String actual, String description) {
        if (Boolean.getBoolean(UPDATE_PROPERTY)) {
            write(name, actual);
            return;
        }
        String expected = read(name);
        if (expected == null) {
            fail("missing golden file src/test/resources/" + name + " for " + description + "; run the test with -D"
                    + UPDATE_PROPERTY + "=true to write it from this output:\n" + actual);
        }
        assertSameText(expected, actual, description + " (golden file src/test/resources/" + name + ")");
    }

    /**
     * Returns a line diff from a longest common subsequence of lines: common lines with two spaces
     * in front, lines only in {@code expected} with {@code - }, lines only in {@code actual} with
     * {@code + }.
     */
    static String diff(String expected, String actual) {
        String[] want = expected.split("\n", -1);
        String[] got = actual.split("\n", -1);
        // common[i][j] is the length of the longest common subsequence of want[i..] and got[j..].
        int[][] common = new int[want.length + 1][got.length + 1];
        for (int i = want.length - 1; i >= 0; i--) {
            for (int j = got.length - 1; j >= 0; j--) {
                common[i][j] = want[i].equals(got[j])
                        ? common[i + 1][j + 1] + 1
                        : Math.max(common[i + 1][j], common[i][j + 1]);
            }
        }
        StringBuilder out = new StringBuilder();
        int i = 0;
        int j = 0;
        while (i < want.length || j < got.length) {
            if (i < want.length && j < got.length && want[i].equals(got[j])) {
                out.append("  ").append(want[i++]).append('\n');
                j++;
            } else if (i < want.length && (j == got.length || common[i + 1][j] >= common[i][j + 1])) {
                out.append("- ").append(want[i++]).append('\n');
            } else {
                out.append("+ ").append(got[j++]).append('\n');
            }
        }
        return out.toString();
    }

    private static String read(String name) {
        try (InputStream in = GoldenText.class.getClassLoader().getResourceAsStream(name)) {
            return in == null ? null : new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read golden file " + name, e);
        }
    }

    private static void write(String name, String text) {
        Path file = RESOURCES.resolve(name);
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, text, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write golden file " + file.toAbsolutePath(), e);
        }
    }
}
