package dev.kiln.maven;

import java.io.File;
import org.apache.maven.plugins.annotations.LifecyclePhase;
import org.apache.maven.plugins.annotations.Mojo;
import org.apache.maven.plugins.annotations.Parameter;

/**
 * Compiles the C sources under {@code ${project.build.outputDirectory}/META-INF/kiln/src} into
 * shared libraries under {@code META-INF/kiln/<os>-<arch>/} of the same directory, so that they
 * are on the class path of the tests and inside the jar.
 */
@Mojo(name = "compile", defaultPhase = LifecyclePhase.PROCESS_CLASSES, threadSafe = true)
public class CompileMojo extends AbstractNativeMojo {

    /** Classes directory that contains the processor's output. */
    @Parameter(defaultValue = "${project.build.outputDirectory}", required = true, readonly = true)
    File classesDirectory;

    @Override
    protected File classesDirectory() {
        return classesDirectory;
    }
}
