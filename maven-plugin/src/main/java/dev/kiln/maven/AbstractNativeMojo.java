package dev.kiln.maven;

import dev.kiln.codegen.c.CCompiler;
import dev.kiln.codegen.c.NativeBuildException;
import dev.kiln.ir.Platform;

import java.io.File;
import java.time.Duration;
import java.util.List;
import org.apache.maven.plugin.AbstractMojo;
import org.apache.maven.plugin.MojoFailureException;
import org.apache.maven.plugins.annotations.Parameter;

/** Parameters and steps shared by the {@code compile} and {@code test-compile} goals. */
public abstract class AbstractNativeMojo extends AbstractMojo {

    /**
     * C compiler command, such as {@code gcc}, {@code clang} or {@code ccache gcc}. Defaults to
     * the environment variable {@code CC} if set, else {@code cc}.
     */
    @Parameter(property = "kiln.cc")
    String cc;

    /**
     * Compile flags; a non-empty list replaces the default {@code -O3 -fno-trapping-math -fno-math-errno -std=c11
     * -ffp-contract=fast -fopenmp-simd -pthread -Wno-psabi -Werror=implicit-function-declaration -fPIC -shared} and must still produce a shared library.
     * {@code -lm -pthread} is always added after the source.
     */
    @Parameter(property = "kiln.cflags")
    List<String> cflags;

    /** Skips the goal. */
    @Parameter(property = "kiln.skip", defaultValue = "false")
    boolean skip;

    /**
     * Library cache shared by all builds of the user. Defaults to the environment variable
     * {@code KILN_CACHE_DIR} if set, else {@code ${user.home}/.cache/kiln/native}.
     */
    @Parameter(property = "kiln.cacheDirectory")
    File cacheDirectory;

    /** Time limit of one compiler run, in seconds. */
    @Parameter(property = "kiln.compilerTimeout", defaultValue = "600")
    int compilerTimeout = 600;

    /** Returns the classes directory whose {@code META-INF/kiln/src} this goal compiles. */
    protected abstract File classesDirectory();

    @Override
    public void execute() throws MojoFailureException {
        if (skip) {
            getLog().info("Skipping native library build (kiln.skip)");
            return;
        }
        try {
            new NativeLibraryBuilder(compiler(), Platform.current(), getLog())
                    .buildAll(classesDirectory().toPath());
        } catch (NativeBuildException | IllegalArgumentException e) {
            throw new MojoFailureException(e.getMessage(), e);
        }
    }

    /**
     * Returns the compiler configured by this goal's parameters.
     *
     * @throws IllegalArgumentException if a parameter is invalid
     */
    CCompiler compiler() {
        if (compilerTimeout <= 0) {
            throw new IllegalArgumentException("Invalid compilerTimeout " + compilerTimeout
                    + ": expected a positive number of seconds");
        }
        CCompiler.Builder builder = CCompiler.builder().timeout(Duration.ofSeconds(compilerTimeout));
        if (cc != null && !cc.isBlank()) {
            builder.command(cc);
        }
        if (cflags != null && !cflags.isEmpty()) {
            builder.flags(cflags);
        }
        if (cacheDirectory != null) {
            builder.cacheDirectory(cacheDirectory.toPath());
        }
        return builder.build();
    }
}
