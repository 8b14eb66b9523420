package dev.kiln.codegen.c;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.kiln.ir.DType;
import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.Loss;
import dev.kiln.ir.ModelSpec;
import dev.kiln.ir.Node;
import dev.kiln.ir.Optimizer;
import dev.kiln.ir.Shape;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Checks of a whole generated model library built with the default flags: the C compiler must print
 * nothing, because the Maven plugin shows its output as warnings in every model's build.
 */
class GeneratedSourceWarningsTest {

    @TempDir
    Path work;

    /**
     * Builds a 16-32-8 ReLU network trained with Adam and SGD. Every parameter size is a multiple
     * of 8, so each sum of the gradient norm has an empty leftover loop, which GCC 12 warned about.
     */
    private static ModelSpec network() {
        GraphBuilder b = new GraphBuilder("forward");
        Node x = b.input("x", Shape.batched(16), DType.F32);
        Node h = b.relu(b.linear(x, b.param("fc1.weight", Shape.of(32, 16)), b.param("fc1.bias", Shape.of(32))));
        b.output("output", b.linear(h, b.param("fc2.weight", Shape.of(8, 32)), b.param("fc2.bias", Shape.of(8))));
        return new ModelSpec("WarningFree", b.build(), List.of(
                new ModelSpec.ParamSpec("fc1.weight", Shape.of(32, 16), 16),
                new ModelSpec.ParamSpec("fc1.bias", Shape.of(32), 16),
                new ModelSpec.ParamSpec("fc2.weight", Shape.of(8, 32), 32),
                new ModelSpec.ParamSpec("fc2.bias", Shape.of(8), 32)),
                Loss.CROSS_ENTROPY, List.of(Optimizer.ADAM, Optimizer.SGD));
    }

    @Test
    void modelLibraryCompilesWithoutCompilerOutput() throws Exception {
        ModelCompiler.Result result = ModelCompiler.compile(network(), "kiln_warning_free", true, false);
        Path source = work.resolve("kiln_warning_free.c");
        Files.writeString(source, result.cSource());
        CCompiler compiler = CCompiler.builder().cacheDirectory(work.resolve("cache")).build();
        CCompiler.Compilation compilation = compiler.compileLibrary(source, work.resolve("libkiln_warning_free.so"));
        assertFalse(compilation.fromCache());
        assertEquals("", compilation.compilerOutput().strip(), "the C compiler printed output for a generated library");
    }
}
