package dev.kiln.codegen.c;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.ir.Platform;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runs the system C compiler for real and loads the result through the FFM API. */
class CCompilerTest {

    @TempDir
    Path work;

    @TempDir
    Path cache;

    private CCompiler compiler() {
        return CCompiler.builder().command(CCompiler.defaultCommand()).cacheDirectory(cache).build();
    }

    private Path resource(String name) throws IOException {
        Path file = work.resolve(name);
        try (InputStream in = CCompilerTest.class.getResourceAsStream(name)) {
            Files.copy(in, file);
        }
        return file;
    }

    /** Writes an executable shell script that replaces the compiler. */
    private Path script(String name, String body) throws IOException {
        Path file = work.resolve(name);
        Files.writeString(file, "#!/bin/sh\n" + body + "\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
        return file;
    }

    /** A compiler that prints the real compiler's version but fails if asked to compile. */
    private Path versionOnlyCompiler() throws IOException {
        return script("version-only-cc", """
                if [ "$1" = "--version" ]; then exec %s --version; fi
                echo "this compiler must not run: $*" >&2
                exit 1""".formatted(CCompiler.defaultCommand()));
    }

    private static double callHypot(Path library) throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            SymbolLookup lookup = SymbolLookup.libraryLookup(library, arena);
            MethodHandle hypot = Linker.nativeLinker().downcallHandle(
                    lookup.findOrThrow("kiln_test_hypot"),
                    FunctionDescriptor.of(ValueLayout.JAVA_DOUBLE, ValueLayout.JAVA_DOUBLE, ValueLayout.JAVA_DOUBLE));
            return (double) hypot.invokeExact(3.0, 4.0);
        }
    }

    private static int callAdd(Path library, int a, int b) throws Throwable {
        try (Arena arena = Arena.ofConfined()) {
            SymbolLookup lookup = SymbolLookup.libraryLookup(library, arena);
            MethodHandle add = Linker.nativeLinker().downcallHandle(
                    lookup.findOrThrow("kiln_test_add"),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
            return (int) add.invokeExact(a, b);
        }
    }

    @Test
    void compiledLibraryLoadsAndRuns() throws Throwable {
        Path source = resource("hypot.c");
        Path library = work.resolve("out/linux/libhypot.so");

        Path result = compiler().compile(source, library);

        assertEquals(library, result);
        assertTrue(Files.isRegularFile(library), "library not written: " + library);
        assertEquals(5.0, callHypot(library), 1e-12);
        assertEquals(-7, callAdd(library, 5, -12));
    }

    @Test
    void secondCompileIsCacheHit() throws Throwable {
        Path source = resource("hypot.c");
        Path first = work.resolve("first/libhypot.so");
        Path second = work.resolve("second/libhypot.so");

        CCompiler.Compilation built = compiler().compileLibrary(source, first);
        CCompiler.Compilation reused = compiler().compileLibrary(source, second);

        assertFalse(built.fromCache());
        assertTrue(reused.fromCache());
        assertArrayEquals(Files.readAllBytes(first), Files.readAllBytes(second));
        assertEquals(5.0, callHypot(second), 1e-12);
    }

    @Test
    void cacheHitDoesNotRunCompiler() throws Throwable {
        Path source = resource("hypot.c");
        compiler().compile(source, work.resolve("warm/libhypot.so"));
        CCompiler failsIfRun = CCompiler.builder()
                .command(versionOnlyCompiler().toString())
                .cacheDirectory(cache)
                .build();

        Path library = failsIfRun.compile(source, work.resolve("hit/libhypot.so"));

        assertEquals(5.0, callHypot(library), 1e-12);
    }

    @Test
    void changedFlagsMissCache() throws Throwable {
        Path source = resource("hypot.c");
        compiler().compile(source, work.resolve("o2/libhypot.so"));
        CCompiler unoptimized = CCompiler.builder()
                .command(CCompiler.defaultCommand())
                .flags(List.of("-O0", "-std=c11", "-fPIC", "-shared"))
                .cacheDirectory(cache)
                .build();

        CCompiler.Compilation result = unoptimized.compileLibrary(source, work.resolve("o0/libhypot.so"));

        assertFalse(result.fromCache());
        assertEquals(5.0, callHypot(result.library()), 1e-12);
    }

    @Test
    void changedSourceMissesCache() throws Throwable {
        Path source = resource("hypot.c");
        compiler().compile(source, work.resolve("before/libhypot.so"));
        Files.writeString(source, Files.readString(source).replace("return a + b;", "return a + b + 1;"));

        CCompiler.Compilation result = compiler().compileLibrary(source, work.resolve("after/libhypot.so"));

        assertFalse(result.fromCache());
        assertEquals(8, callAdd(result.library(), 3, 4));
    }

    @Test
    void concurrentCompilesShareCache() throws Throwable {
        Path source = resource("hypot.c");
        CCompiler compiler = compiler();
        List<Path> outputs = List.of(work.resolve("a/libhypot.so"), work.resolve("b/libhypot.so"),
                work.resolve("c/libhypot.so"), work.resolve("d/libhypot.so"));

        try (ExecutorService pool = Executors.newFixedThreadPool(outputs.size())) {
            List<Future<Path>> results = outputs.stream()
                    .map(output -> pool.submit(() -> compiler.compile(source, output)))
                    .toList();
            for (Future<Path> result : results) {
                assertEquals(5.0, callHypot(result.get()), 1e-12);
            }
        }
        try (Stream<Path> leftovers = Files.walk(cache)) {
            assertEquals(List.of(), leftovers.filter(p -> p.getFileName().toString().startsWith(".tmp-")).toList(),
                    "temporary files left in the cache");
        }
    }

    @Test
    void sourceTextCompilesIntoCache() throws Throwable {
        String text = Files.readString(resource("hypot.c"));

        Path library = compiler().compile(text, "kiln_test_hypot_lib");

        assertTrue(library.startsWith(cache), "library outside the cache: " + library);
        assertEquals(Platform.current().libraryFileName("kiln_test_hypot_lib"), library.getFileName().toString());
        assertTrue(Files.isRegularFile(library.resolveSibling("kiln_test_hypot_lib.c")));
        assertEquals(5.0, callHypot(library), 1e-12);

        CCompiler failsIfRun = CCompiler.builder()
                .command(versionOnlyCompiler().toString())
                .cacheDirectory(cache)
                .build();
        assertEquals(library, failsIfRun.compile(text, "kiln_test_hypot_lib"));
    }

    @Test
    void sourceTextRejectsInvalidLibraryName() {
        IllegalArgumentException error = assertThrows(IllegalArgumentException.class,
                () -> compiler().compile("int x;", "../escape"));

        assertTrue(error.getMessage().contains("../escape"), error.getMessage());
    }

    @Test
    void syntaxErrorShowsCommandAndCompilerError() throws IOException {
        Path source = resource("broken.c");
        Path library = work.resolve("libbroken.so");

        NativeBuildException error = assertThrows(NativeBuildException.class,
                () -> compiler().compile(source, library));

        String message = error.getMessage();
        assertTrue(message.contains(CCompiler.defaultCommand() + " " + String.join(" ", CCompiler.DEFAULT_FLAGS) + " -o "), message);
        assertTrue(message.contains(source.toString()), message);
        assertTrue(message.contains("broken.c:3:"), message);
        assertTrue(message.contains("error:"), message);
        assertTrue(error.compilerOutput().contains("broken.c:3:"), error.compilerOutput());
        assertEquals(CCompiler.defaultCommand(), error.commandLine().getFirst());
        assertFalse(Files.exists(library), "a failed compile must not leave a library");
    }

    @Test
    void missingCompilerNamesCommand() throws IOException {
        Path source = resource("hypot.c");
        String missing = work.resolve("no-such-dir/kiln-no-such-cc").toString();
        CCompiler absent = CCompiler.builder().command(missing).cacheDirectory(cache).build();

        NativeBuildException error = assertThrows(NativeBuildException.class,
                () -> absent.compile(source, work.resolve("libhypot.so")));

        String message = error.getMessage();
        assertTrue(message.contains("'" + missing + "'"), message);
        assertTrue(message.contains("gcc or clang"), message);
        assertTrue(message.contains("CC environment variable"), message);
    }

    @Test
    void largeCompilerOutputDoesNotBlock() throws IOException {
        // 100,000 lines is far more than a pipe buffer holds, so an unread pipe would block.
        Path noisy = script("noisy-cc", """
                if [ "$1" = "--version" ]; then echo "noisy-cc 1.0"; exit 0; fi
                yes "noisy.c:1:1: error: line of compiler output" | head -n 100000 >&2
                exit 1""");
        CCompiler compiler = CCompiler.builder().command(noisy.toString()).cacheDirectory(cache).build();

        NativeBuildException error = assertThrows(NativeBuildException.class,
                () -> compiler.compile(resource("hypot.c"), work.resolve("libhypot.so")));

        assertTrue(error.getMessage().contains("exit code 1"), error.getMessage());
        assertTrue(error.getMessage().contains("(99980 more lines)"), error.getMessage());
        assertEquals(100_000, error.compilerOutput().lines().count());
    }

    @Test
    void hangingCompilerTimesOut() throws IOException {
        Path hanging = script("hanging-cc", """
                if [ "$1" = "--version" ]; then echo "hanging-cc 1.0"; exit 0; fi
                exec sleep 600""");
        CCompiler compiler = CCompiler.builder()
                .command(hanging.toString())
                .cacheDirectory(cache)
                .timeout(Duration.ofMillis(500))
                .build();

        NativeBuildException error = assertThrows(NativeBuildException.class,
                () -> compiler.compile(resource("hypot.c"), work.resolve("libhypot.so")));

        assertTrue(error.getMessage().contains("timed out after 500 ms"), error.getMessage());
        assertTrue(error.getMessage().contains(hanging.toString()), error.getMessage());
    }

    @Test
    void emptyCommandRejected() {
        assertThrows(IllegalArgumentException.class, () -> CCompiler.builder().command("  ").build());
    }
}
