package dev.kiln.maven;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.codegen.c.CCompiler;
import dev.kiln.ir.Platform;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.maven.plugin.MojoFailureException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs the goals against real classes directories and the system C compiler. */
class CompileMojoTest {

    private static final String ADD_SOURCE = """
            #include <stdint.h>
            #ifndef KILN_OFFSET
            #define KILN_OFFSET 0
            #endif
            int32_t kiln_plugin_add(int32_t a, int32_t b) { return a + b + KILN_OFFSET; }
            """;

    private static final String BROKEN_SOURCE = """
            #include <stdint.h>

            int32_t kiln_plugin_broken(void) { return 1 }
            """;

    @TempDir
    Path classes;

    @TempDir
    Path cache;

    private final RecordingLog log = new RecordingLog();

    private CompileMojo compileMojo() {
        CompileMojo mojo = new CompileMojo();
        mojo.classesDirectory = classes.toFile();
        mojo.cacheDirectory = cache.toFile();
        mojo.setLog(log);
        return mojo;
    }

    private Path writeSource(Path classesDirectory, String libraryName, String text) throws IOException {
        Path source = classesDirectory.resolve(NativeLibraryBuilder.SOURCE_FOLDER).resolve(libraryName + ".c");
        Files.createDirectories(source.getParent());
        Files.writeString(source, text);
        return source;
    }

    private static Path expectedLibrary(Path classesDirectory, String libraryName) {
        Platform platform = Platform.current();
        return classesDirectory.resolve("META-INF/kiln").resolve(platform.id())
                .resolve(platform.libraryFileName(libraryName));
    }

    private static int callAdd(Path library, int a, int b) throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            MethodHandle add = Linker.nativeLinker().downcallHandle(
                    SymbolLookup.libraryLookup(library, arena).findOrThrow("kiln_plugin_add"),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
            return (int) add.invokeExact(a, b);
        }
    }

    @Test
    void compileWritesLibraryAtPlatformPath() throws Throwable {
        writeSource(classes, "dev_kiln_test_AddNet", ADD_SOURCE);

        compileMojo().execute();

        Path library = expectedLibrary(classes, "dev_kiln_test_AddNet");
        assertTrue(Files.isRegularFile(library), "library not written: " + library);
        assertEquals(5, callAdd(library, 2, 3));
        List<String> info = log.at(RecordingLog.Level.INFO);
        assertEquals(1, info.size(), info.toString());
        assertTrue(info.getFirst().startsWith("Compiled native library META-INF/kiln/"), info.getFirst());
        assertTrue(info.getFirst().contains("libdev_kiln_test_AddNet"), info.getFirst());
    }

    @Test
    void compileLogsOneLinePerLibrary() throws Throwable {
        writeSource(classes, "first_net", ADD_SOURCE);
        writeSource(classes, "second_net", ADD_SOURCE.replace("kiln_plugin_add", "kiln_plugin_add2"));

        compileMojo().execute();

        assertTrue(Files.isRegularFile(expectedLibrary(classes, "first_net")));
        assertTrue(Files.isRegularFile(expectedLibrary(classes, "second_net")));
        assertEquals(2, log.at(RecordingLog.Level.INFO).size(), log.lines.toString());
    }

    @Test
    void secondBuildCopiesFromCache() throws Throwable {
        writeSource(classes, "cached_net", ADD_SOURCE);
        compileMojo().execute();
        Path library = expectedLibrary(classes, "cached_net");
        Files.delete(library);
        log.lines.clear();

        compileMojo().execute();

        assertTrue(Files.isRegularFile(library), "library not restored from the cache: " + library);
        assertEquals(9, callAdd(library, 4, 5));
        List<String> info = log.at(RecordingLog.Level.INFO);
        assertEquals(1, info.size(), info.toString());
        assertTrue(info.getFirst().startsWith("Copied cached native library META-INF/kiln/"), info.getFirst());
    }

    @Test
    void cflagsReplaceDefaultFlags() throws Throwable {
        writeSource(classes, "offset_net", ADD_SOURCE);
        CompileMojo mojo = compileMojo();
        mojo.cflags = List.of("-O1", "-std=c11", "-fPIC", "-shared", "-DKILN_OFFSET=100");

        mojo.execute();

        assertEquals(105, callAdd(expectedLibrary(classes, "offset_net"), 2, 3));
    }

    @Test
    void brokenSourceFailsWithCompilerError() throws IOException {
        Path source = writeSource(classes, "broken_net", BROKEN_SOURCE);

        MojoFailureException error = assertThrows(MojoFailureException.class, () -> compileMojo().execute());

        String message = error.getMessage();
        assertTrue(message.contains("C compiler failed"), message);
        assertTrue(message.contains(" " + String.join(" ", dev.kiln.codegen.c.CCompiler.DEFAULT_FLAGS) + " -o "), message);
        assertTrue(message.contains(source.toString()), message);
        assertTrue(message.contains("broken_net.c:3:"), message);
        assertTrue(message.contains("error:"), message);
        assertFalse(Files.exists(expectedLibrary(classes, "broken_net")));
    }

    @Test
    void missingCompilerFailsWithInstallHint() throws IOException {
        writeSource(classes, "any_net", ADD_SOURCE);
        CompileMojo mojo = compileMojo();
        mojo.cc = classes.resolve("kiln-no-such-cc").toString();

        MojoFailureException error = assertThrows(MojoFailureException.class, mojo::execute);

        assertTrue(error.getMessage().contains(mojo.cc), error.getMessage());
        assertTrue(error.getMessage().contains("gcc or clang"), error.getMessage());
    }

    @Test
    void invalidSourceNameFails() throws IOException {
        writeSource(classes, "not-an-identifier", ADD_SOURCE);

        MojoFailureException error = assertThrows(MojoFailureException.class, () -> compileMojo().execute());

        assertTrue(error.getMessage().contains("not-an-identifier.c"), error.getMessage());
        assertTrue(error.getMessage().contains("C identifier"), error.getMessage());
    }

    @Test
    void noSourcesLogsOnlyDebug() throws Exception {
        compileMojo().execute();

        assertEquals(List.of(), log.aboveDebug());
        assertEquals(1, log.at(RecordingLog.Level.DEBUG).size(), log.lines.toString());
        assertFalse(Files.exists(classes.resolve("META-INF")));
    }

    @Test
    void skipCompilesNothing() throws Exception {
        writeSource(classes, "skipped_net", ADD_SOURCE);
        CompileMojo mojo = compileMojo();
        mojo.skip = true;

        mojo.execute();

        assertFalse(Files.exists(expectedLibrary(classes, "skipped_net")));
    }

    @Test
    void testCompileUsesTestClassesDirectory(@TempDir Path testClasses) throws Throwable {
        writeSource(testClasses, "test_net", ADD_SOURCE);
        writeSource(classes, "main_net", ADD_SOURCE);
        TestCompileMojo mojo = new TestCompileMojo();
        mojo.testClassesDirectory = testClasses.toFile();
        mojo.cacheDirectory = cache.toFile();
        mojo.setLog(log);

        mojo.execute();

        assertEquals(7, callAdd(expectedLibrary(testClasses, "test_net"), 3, 4));
        assertFalse(Files.exists(expectedLibrary(classes, "main_net")));
    }

    @Test
    void compilerWarningsAreLogged() throws IOException {
        writeSource(classes, "warning_net", ADD_SOURCE + "#warning kiln test warning\n");

        assertDoesNotFail(compileMojo());

        List<String> warnings = log.at(RecordingLog.Level.WARN);
        assertEquals(1, warnings.size(), log.lines.toString());
        assertTrue(warnings.getFirst().contains("kiln test warning"), warnings.getFirst());
    }

    @Test
    void defaultsComeFromCompilerDriver() {
        CCompiler compiler = new CompileMojo().compiler();

        assertEquals(CCompiler.DEFAULT_FLAGS, compiler.flags());
        assertEquals(CCompiler.defaultCacheDirectory().toAbsolutePath(), compiler.cacheDirectory());
        assertEquals(List.of(CCompiler.defaultCommand().split("\\s+")), compiler.command());
    }

    private static void assertDoesNotFail(CompileMojo mojo) {
        try {
            mojo.execute();
        } catch (MojoFailureException e) {
            throw new AssertionError("goal failed: " + e.getMessage(), e);
        }
    }
}
