package dev.kiln.maven;

import java.io.File;
import org.apache.maven.plugins.annotations.LifecyclePhase;
import org.apache.maven.plugins.annotations.Mojo;
import org.apache.maven.plugins.annotations.Parameter;

/**
 * Compiles the C sources under {@code ${project.build.testOutputDirectory}/META-INF/kiln/src},
 * written for model classes among the test sources, into shared libraries under
 * {@code META-INF/kiln/<os>-<arch>/} of the same directory.
 */
@Mojo(name = "test-compile", defaultPhase = LifecyclePhase.PROCESS_TEST_CLASSES, threadSafe = true)
public class TestCompileMojo extends AbstractNativeMojo {

    /** Test classes directory that contains the processor's output. */
    @Parameter(defaultValue = "${project.build.testOutputDirectory}", required = true, readonly = true)
    File testClassesDirectory;

    @Override
    protected File classesDirectory() {
        return testClassesDirectory;
    }
}
