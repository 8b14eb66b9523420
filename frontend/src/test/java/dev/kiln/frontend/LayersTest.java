package dev.kiln.frontend;

import static com.google.testing.compile.CompilationSubject.assertThat;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.testing.compile.Compilation;
import com.google.testing.compile.Compiler;
import com.google.testing.compile.JavaFileObjects;
import java.io.IOException;
import java.util.Locale;
import javax.tools.JavaFileObject;
import javax.tools.StandardLocation;
import org.junit.jupiter.api.Test;

/**
 * LayerNorm, Embedding and Dropout in model classes: the parameters and initializations that the
 * generated class declares, and the build errors for bad arguments and bad inputs, each on its line.
 */
class LayersTest {
    private static final String IMPORTS = """
            package demo;

            import static dev.kiln.nn.Functional.flatten;

            import dev.kiln.nn.Dropout;
            import dev.kiln.nn.Embedding;
            import dev.kiln.nn.LayerNorm;
            import dev.kiln.nn.Linear;
            import dev.kiln.nn.Model;
            import dev.kiln.nn.Shape;
            import dev.kiln.nn.Tensor;

            """;

    @Test
    void generatedClassDeclaresParametersWithInitialization() throws IOException {
        String source = IMPORTS + """
                @Model
                public class Tokens {
                    final Embedding emb = new Embedding(30, 4);
                    final LayerNorm norm = new LayerNorm(4, 1e-6);
                    final Dropout drop = new Dropout(0.1);
                    final Linear fc = new Linear(12, 2);

                    public Tensor forward(@Shape(3) Tensor ids) {
                        Tensor h = drop.apply(norm.apply(emb.apply(ids)));
                        return fc.apply(drop.apply(flatten(h)));
                    }
                }
                """;
        Compilation compilation = Compiler.javac().withProcessors(new KilnProcessor())
                .compile(JavaFileObjects.forSourceString("demo.Tokens", source));
        assertThat(compilation).succeeded();

        String generated = compilation.generatedFile(StandardLocation.SOURCE_OUTPUT, "demo", "CompiledTokens.java")
                .orElseThrow().getCharContent(true).toString();
        assertTrue(generated.contains("new ModelDescriptor.Param(\"emb.weight\", new int[] {30, 4}, 4, "
                + "dev.kiln.ir.ParamInit.NORMAL)"), generated);
        assertTrue(generated.contains("new ModelDescriptor.Param(\"norm.weight\", new int[] {4}, 4, "
                + "dev.kiln.ir.ParamInit.ONES)"), generated);
        assertTrue(generated.contains("new ModelDescriptor.Param(\"norm.bias\", new int[] {4}, 4, "
                + "dev.kiln.ir.ParamInit.ZEROS)"), generated);
        assertTrue(generated.contains("new ModelDescriptor.Param(\"fc.weight\", new int[] {2, 12}, 12)"), generated);
        String c = cSource(compilation);
        // Two applications of one Dropout field draw separate mask streams.
        assertTrue(c.contains("kiln_dropped(dropout_seed"), "no dropout kernel in the C source");
        assertTrue(c.contains(", 0U, (uint32_t) i,"), "expected mask stream 0 in the C source");
        assertTrue(c.contains(", 1U, (uint32_t) i,"), "expected mask stream 1 in the C source");
    }

    @Test
    void dropoutProbabilityOutsideUnitIntervalIsKiln002() {
        String source = IMPORTS + """
                @Model
                public class Leaky {
                    final Dropout drop = new Dropout(1.5);
                    final Linear fc = new Linear(4, 2);

                    public Tensor forward(@Shape(4) Tensor x) {
                        return fc.apply(drop.apply(x));
                    }
                }
                """;
        Compilation compilation = compile("demo.Leaky", source);
        assertError(compilation, source, "[KILN002]", "dropout probability 1.5, outside [0, 1]", "new Dropout(1.5)");
    }

    @Test
    void nonConstantLayerArgumentsAreKiln002() {
        String source = IMPORTS + """
                @Model
                public class Sized {
                    final Embedding emb = new Embedding(10, 0);
                    final LayerNorm norm = new LayerNorm(4, true);
                    final Linear fc = new Linear(4, 2);

                    public Tensor forward(@Shape(4) Tensor x) {
                        return fc.apply(norm.apply(x));
                    }
                }
                """;
        Compilation compilation = compile("demo.Sized", source);
        assertError(compilation, source, "[KILN002]", "needs positive sizes", "new Embedding(10, 0)");
        assertError(compilation, source, "[KILN002]", "new LayerNorm(normalizedShape, eps)", "new LayerNorm(4, true)");
    }

    @Test
    void wrongLayerInputsAreKiln007() {
        String source = IMPORTS + """
                @Model
                public class Misfit {
                    final Embedding emb = new Embedding(10, 4);
                    final LayerNorm norm = new LayerNorm(5);
                    final Linear fc = new Linear(4, 2);

                    public Tensor forward(@Shape({2, 3}) Tensor x) {
                        Tensor e = emb.apply(x);
                        return norm.apply(x);
                    }
                }
                """;
        Compilation compilation = compile("demo.Misfit", source);
        assertError(compilation, source, "[KILN007]", "takes inputs of shape [B] or [B, L]", "emb.apply(x)");
        assertError(compilation, source, "[KILN007]", "takes inputs of shape [B, ..., 5]", "norm.apply(x)");
    }

    // ---- helpers ---------------------------------------------------------------------------

    private static String text(JavaFileObject file) {
        try {
            return file.getCharContent(true).toString();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static String cSource(Compilation compilation) {
        return compilation.generatedFiles().stream().filter(f -> f.getName().endsWith(".c")).findFirst()
                .map(LayersTest::text).orElseThrow(() -> new AssertionError("no C source among "
                        + compilation.generatedFiles()));
    }

    private static Compilation compile(String name, String source) {
        Compilation compilation = Compiler.javac().withProcessors(new KilnProcessor())
                .compile(JavaFileObjects.forSourceString(name, source));
        assertThat(compilation).failed();
        return compilation;
    }

    private static void assertError(Compilation compilation, String source, String id, String fragment, String marker) {
        long line = lineOf(source, marker);
        boolean found = compilation.errors().stream()
                .anyMatch(d -> d.getLineNumber() == line && d.getMessage(Locale.ROOT).contains(id)
                        && d.getMessage(Locale.ROOT).contains(fragment));
        assertTrue(found, () -> "no error " + id + " containing '" + fragment + "' on line " + line + ": "
                + compilation.errors());
    }

    private static long lineOf(String source, String marker) {
        String[] lines = source.split("\n", -1);
        for (int i = 0; i < lines.length; i++) {
            if (lines[i].contains(marker)) {
                return i + 1;
            }
        }
        throw new AssertionError("marker '" + marker + "' is not in the test source");
    }
}
