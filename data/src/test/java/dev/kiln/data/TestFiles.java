package dev.kiln.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;

/** Paths of the test resources and small files written for one test. */
final class TestFiles {

    private TestFiles() {
    }

    static Path resource(String name) {
        URL url = TestFiles.class.getResource(name);
        if (url == null) {
            throw new IllegalStateException("test resource " + name + " is missing from src/test/resources/dev/kiln/data");
        }
        try {
            return Path.of(url.toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static Path write(Path directory, String name, String content) {
        try {
            return Files.writeString(directory.resolve(name), content);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Dataset wine() {
        return Csv.readCountHeaderClassification(resource("wine_data.csv"));
    }
}
