package dev.kiln.maven;

import dev.kiln.codegen.c.CCompiler;
import dev.kiln.codegen.c.NativeBuildException;
import dev.kiln.ir.Platform;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.maven.plugin.logging.Log;

/**
 * Compiles every C source that the annotation processor wrote under
 * {@code <classes>/META-INF/kiln/src/<libraryName>.c} into
 * {@code <classes>/META-INF/kiln/<platform id>/<library file name>}, the resource path at which
 * the runtime looks for the library.
 */
public final class NativeLibraryBuilder {

    /** Folder, relative to a classes directory, that contains the processor's C sources. */
    public static final String SOURCE_FOLDER = "META-INF/kiln/src";

    private static final Pattern C_IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private final CCompiler compiler;
    private final Platform platform;
    private final Log log;

    /**
     * Creates a builder.
     *
     * @param compiler the driver that runs the C compiler
     * @param platform the platform whose folder and file names the libraries get; the compiler
     *     must build for it
     * @param log receives one info line per library and the compiler's warnings
     */
    public NativeLibraryBuilder(CCompiler compiler, Platform platform, Log log) {
        this.compiler = compiler;
        this.platform = platform;
        this.log = log;
    }

    /**
     * Compiles the C sources of one classes directory. A directory without sources is not an
     * error, and only a debug line reports it.
     *
     * @param classesDirectory the classes directory, such as {@code target/classes}
     * @return one compilation per source, in file name order
     * @throws NativeBuildException if a source fails to compile or a file cannot be written
     * @throws IllegalArgumentException if a source file name is not a C identifier plus {@code .c}
     */
    public List<CCompiler.Compilation> buildAll(Path classesDirectory) {
        List<Path> sources = findSources(classesDirectory.resolve(SOURCE_FOLDER));
        if (sources.isEmpty()) {
            log.debug("No C sources in " + classesDirectory.resolve(SOURCE_FOLDER) + "; nothing to compile");
            return List.of();
        }

        List<CCompiler.Compilation> compilations = new ArrayList<>();
        for (Path source : sources) {
            compilations.add(build(classesDirectory, source));
        }
        return compilations;
    }

    /** Returns where the library compiled from {@code source} goes inside the classes directory. */
    public Path libraryPath(Path classesDirectory, Path source) {
        return classesDirectory.resolve(platform.libraryResource(libraryName(source)));
    }

    private CCompiler.Compilation build(Path classesDirectory, Path source) {
        Path library = libraryPath(classesDirectory, source);
        CCompiler.Compilation compilation = compiler.compileLibrary(source, library);

        String libraryText = classesDirectory.relativize(library).toString();
        String sourceText = classesDirectory.relativize(source).toString();
        if (compilation.fromCache()) {
            log.info("Copied cached native library " + libraryText + " for " + sourceText);
        } else {
            log.info("Compiled native library " + libraryText + " from " + sourceText);
        }
        if (!compilation.compilerOutput().isBlank()) {
            log.warn("C compiler output for " + sourceText + ":\n" + compilation.compilerOutput().stripTrailing());
        }
        return compilation;
    }

    private static String libraryName(Path source) {
        String fileName = source.getFileName().toString();
        String name = fileName.substring(0, fileName.length() - ".c".length());
        if (!C_IDENTIFIER.matcher(name).matches()) {
            throw new IllegalArgumentException("Invalid C source file name " + source + ": the library name is the"
                    + " file name without .c and must be a C identifier (letters, digits and '_', not starting"
                    + " with a digit). Rename the file.");
        }
        return name;
    }

    private static List<Path> findSources(Path sourceFolder) {
        if (!Files.isDirectory(sourceFolder)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(sourceFolder)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".c"))
                    .filter(Files::isRegularFile)
                    .sorted()
                    .toList();
        } catch (IOException e) {
            throw new NativeBuildException("Could not list C sources in " + sourceFolder + ": " + e, e);
        }
    }
}
