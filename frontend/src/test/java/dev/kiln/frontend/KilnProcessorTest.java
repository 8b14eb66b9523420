package dev.kiln.frontend;

import static com.google.testing.compile.CompilationSubject.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.testing.compile.Compilation;
import com.google.testing.compile.Compiler;
import com.google.testing.compile.JavaFileObjects;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import java.util.Locale;
import javax.tools.Diagnostic;
import javax.tools.JavaFileObject;
import javax.tools.StandardLocation;
import org.junit.jupiter.api.Test;

/**
 * Runs {@link KilnProcessor} inside javac on model sources and checks each build error's id,
 * message and line, and the files a clean model generates.
 */
class KilnProcessorTest {
    private static final String IMPORTS = """
            package demo;

            import static dev.kiln.nn.Functional.relu;
            import static dev.kiln.nn.Functional.tanh;

            import dev.kiln.nn.Linear;
            import dev.kiln.nn.Model;
            import dev.kiln.nn.Shape;
            import dev.kiln.nn.Tensor;

            """;

    @Test
    void dataDependentIfIsKiln003() {
        String source = IMPORTS + """
                @Model
                public class Branchy {
                    final Linear fc = new Linear(13, 3);

                    public Tensor forward(@Shape(13) Tensor x) {
                        if (x.item() > 0) {
                            x = tanh(x);
                        }
                        return fc.apply(x);
                    }
                }
                """;
        Compilation compilation = compile("demo.Branchy", source);
        assertError(compilation, source, "[KILN003]", "x.item() > 0", "if (x.item() > 0)");
        assertError(compilation, source, "[KILN003]", "depends on tensor values", "if (x.item() > 0)");
    }

    @Test
    void whileLoopIsKiln004() {
        String source = IMPORTS + """
                @Model
                public class Looping {
                    final Linear fc = new Linear(13, 3);

                    public Tensor forward(@Shape(13) Tensor x) {
                        int i = 0;
                        while (i < 3) {
                            x = tanh(x);
                            i++;
                        }
                        return fc.apply(x);
                    }
                }
                """;
        Compilation compilation = compile("demo.Looping", source);
        assertError(compilation, source, "[KILN004]", "while loops are unsupported", "while (i < 3)");
    }

    @Test
    void runtimeLoopBoundIsKiln005() {
        String source = IMPORTS + """
                @Model
                public class Bounded {
                    final Linear fc = new Linear(13, 3);

                    public Tensor forward(@Shape(13) Tensor x) {
                        for (int i = 0; i < x.item(); i++) {
                            x = tanh(x);
                        }
                        return fc.apply(x);
                    }
                }
                """;
        Compilation compilation = compile("demo.Bounded", source);
        assertError(compilation, source, "[KILN005]", "loop condition 'i < x.item()' is not a compile-time constant",
                "for (int i = 0; i < x.item(); i++)");
    }

    @Test
    void loopWithoutConditionIsKiln005() {
        String source = IMPORTS + """
                @Model
                public class Endless {
                    final Linear fc = new Linear(13, 3);

                    public Tensor forward(@Shape(13) Tensor x) {
                        for (int i = 0; ; i++) {
                            return fc.apply(x);
                        }
                    }
                }
                """;
        Compilation compilation = compile("demo.Endless", source);
        assertError(compilation, source, "[KILN005]", "for loop without a condition", "for (int i = 0; ; i++)");
    }

    @Test
    void unknownMethodIsKiln006() {
        String source = IMPORTS + """
                @Model
                public class Soft {
                    final Linear fc = new Linear(13, 3);

                    public Tensor forward(@Shape(13) Tensor x) {
                        return fc.apply(hardswish(x));
                    }

                    private static Tensor hardswish(Tensor x, int beta) {
                        return x;
                    }
                }
                """;
        Compilation compilation = compile("demo.Soft", source);
        assertError(compilation, source, "[KILN006]", "'hardswish' is neither a Kiln op nor a method of Soft",
                "return fc.apply(hardswish(x));");
        assertError(compilation, source, "[KILN006]", "Supported: [neg, exp, log",
                "return fc.apply(hardswish(x));");
    }

    @Test
    void wrongInputWidthIsKiln007() {
        String source = IMPORTS + """
                @Model
                public class Narrow {
                    final Linear fc3 = new Linear(20, 3);

                    public Tensor forward(@Shape(13) Tensor x) {
                        return fc3.apply(x);
                    }
                }
                """;
        Compilation compilation = compile("demo.Narrow", source);
        assertError(compilation, source, "[KILN007]", "layer 'fc3' is Linear(20, 3) and takes inputs of shape [B,20]",
                "return fc3.apply(x);");
        assertError(compilation, source, "[KILN007]", "'x' has shape [B,13]", "return fc3.apply(x);");
        assertError(compilation, source, "[KILN007]", "make the layer's input width 13", "return fc3.apply(x);");
    }

    @Test
    void layoutOpsReportMisuseOnTheirLine() {
        String source = IMPORTS.replace("import static dev.kiln.nn.Functional.relu;",
                "import static dev.kiln.nn.Functional.*;") + """
                @Model
                public class Layouts {
                    final Linear fc = new Linear(12, 3);

                    public Tensor forward(@Shape(12) Tensor x) {
                        Tensor a = reshape(x, 3, 4);
                        Tensor b = transpose(x, 0, 1);
                        Tensor c = sum(x, 2);
                        Tensor d = slice(x, 1, 0);
                        Tensor e = cat(1, x, reshape(x, -1, 3, 4));
                        return fc.apply(x);
                    }
                }
                """;
        Compilation compilation = compile("demo.Layouts", source);
        assertError(compilation, source, "[KILN007]", "must keep the batch axis first: write -1",
                "Tensor a = reshape(x, 3, 4);");
        assertError(compilation, source, "[KILN007]", "the batch axis must stay axis 0", "Tensor b = transpose(x, 0, 1);");
        assertError(compilation, source, "[KILN007]", "axis 2 is out of range for rank 2", "Tensor c = sum(x, 2);");
        assertError(compilation, source, "[KILN006]", "slice is written slice(x, axis, start, stop)",
                "Tensor d = slice(x, 1, 0);");
        assertError(compilation, source, "[KILN007]", "equal extents on every other axis",
                "Tensor e = cat(1, x, reshape(x, -1, 3, 4));");
    }

    @Test
    void missingShapeIsKiln001() {
        String source = IMPORTS + """
                @Model
                public class Unshaped {
                    final Linear fc = new Linear(13, 3);

                    public Tensor forward(Tensor x) {
                        return fc.apply(x);
                    }
                }
                """;
        Compilation compilation = compile("demo.Unshaped", source);
        assertError(compilation, source, "[KILN001]", "the input 'x' of forward has no @Shape",
                "public Tensor forward(Tensor x)");
    }

    @Test
    void twoErrorsAreBothReported() {
        String source = IMPORTS + """
                @Model
                public class Twice {
                    final Linear fc = new Linear(13, 3);

                    public Tensor forward(@Shape(13) Tensor x) {
                        int i = 0;
                        while (i < 2) {
                            i++;
                        }
                        Tensor h = hardswish(x);
                        return fc.apply(x);
                    }
                }
                """;
        Compilation compilation = compile("demo.Twice", source);
        assertError(compilation, source, "[KILN004]", "while loops are unsupported", "while (i < 2)");
        assertError(compilation, source, "[KILN006]", "hardswish", "Tensor h = hardswish(x);");
        assertEquals(2, kilnErrors(compilation).size(), () -> "errors: " + kilnErrors(compilation));
    }

    @Test
    void recursiveHelperIsKiln009() {
        String source = IMPORTS + """
                @Model
                public class Recursive {
                    final Linear fc = new Linear(13, 13);

                    public Tensor forward(@Shape(13) Tensor x) {
                        return deep(x, 3);
                    }

                    private Tensor deep(Tensor x, int depth) {
                        return deep(tanh(fc.apply(x)), depth - 1);
                    }
                }
                """;
        Compilation compilation = compile("demo.Recursive", source);
        assertError(compilation, source, "[KILN009]", "method deep calls itself",
                "return deep(tanh(fc.apply(x)), depth - 1);");
        assertEquals(1, kilnErrors(compilation).size(), () -> "errors: " + kilnErrors(compilation));
    }

    @Test
    void cleanModelGeneratesSources() throws IOException {
        String source = IMPORTS + """
                @Model
                public class Clean {
                    static final int DEPTH = 2;

                    final Linear fc1 = new Linear(13, 20);
                    final Linear fc2 = new Linear(20, 20);
                    final Linear fc3 = new Linear(20, 3);

                    public Tensor forward(@Shape(13) Tensor x) {
                        x = relu(fc1.apply(x));
                        for (int i = 0; i < DEPTH; i++) {
                            x = tanh(fc2.apply(x));
                        }
                        return fc3.apply(x);
                    }
                }
                """;
        Compilation compilation = generate("demo.Clean", source);

        assertThat(compilation).succeededWithoutWarnings();
        assertThat(compilation).generatedSourceFile("demo.CompiledClean");
        assertThat(compilation).generatedFile(StandardLocation.CLASS_OUTPUT, "META-INF/kiln/src/demo_Clean.c");
        String c = compilation.generatedFile(StandardLocation.CLASS_OUTPUT, "META-INF/kiln/src/demo_Clean.c")
                .orElseThrow().getCharContent(true).toString();
        assertFalse(c.isBlank(), "the C source is empty");
        String java = compilation.generatedSourceFile("demo.CompiledClean").orElseThrow().getCharContent(true).toString();
        assertTrue(java.contains("class CompiledClean"), java);
        assertTrue(java.contains("demo_Clean"), "the generated class names its native library: " + java);
    }

    @Test
    void zeroTripModelGeneratesSources() {
        String source = IMPORTS + """
                @Model
                public class Skipped {
                    final Linear fc = new Linear(5, 5);
                    final Linear out = new Linear(5, 2);

                    public Tensor forward(@Shape(5) Tensor x) {
                        for (int i = 0; i < 0; i++) {
                            x = tanh(fc.apply(x));
                        }
                        return out.apply(x);
                    }
                }
                """;
        Compilation compilation = generate("demo.Skipped", source, "-Akiln.verifyIr=true");

        assertThat(compilation).succeededWithoutWarnings();
        assertThat(compilation).generatedSourceFile("demo.CompiledSkipped");
        assertThat(compilation).generatedFile(StandardLocation.CLASS_OUTPUT, "META-INF/kiln/src/demo_Skipped.c");
    }

    @Test
    void dumpIrWritesStages() throws IOException {
        String source = IMPORTS + """
                @Model
                public class Dumped {
                    final Linear fc = new Linear(4, 2);

                    public Tensor forward(@Shape(4) Tensor x) {
                        return fc.apply(relu(x));
                    }
                }
                """;
        Compilation compilation = generate("demo.Dumped", source, "-Akiln.dumpIr=true", "-Akiln.verifyIr=true");

        assertThat(compilation).succeeded();
        String dump = compilation.generatedFile(StandardLocation.CLASS_OUTPUT, "META-INF/kiln/ir/demo_Dumped.txt")
                .orElseThrow().getCharContent(true).toString();
        assertTrue(dump.startsWith("// forward graph of demo.Dumped\ngraph forward {\n"), dump);
        assertTrue(dump.contains("param \"fc.weight\""), dump);
        for (String stage : List.of("input", "fold", "simplify", "cse", "dce")) {
            assertTrue(dump.contains("// after predict." + stage + "\ngraph predict {\n"),
                    () -> "no stage " + stage + " in:\n" + dump);
        }
    }

    // ---- helpers ---------------------------------------------------------------------------

    /** Compiles a model that should build cleanly; the runtime is a test dependency of this module. */
    private static Compilation generate(String name, String source, String... options) {
        return Compiler.javac().withProcessors(new KilnProcessor()).withOptions((Object[]) options)
                .compile(JavaFileObjects.forSourceString(name, source));
    }

    private static Compilation compile(String name, String source) {
        Compilation compilation = Compiler.javac().withProcessors(new KilnProcessor())
                .compile(JavaFileObjects.forSourceString(name, source));
        assertThat(compilation).failed();
        for (Diagnostic<? extends JavaFileObject> diagnostic : compilation.diagnostics()) {
            String message = diagnostic.getMessage(Locale.ROOT);
            assertFalse(message.contains("at dev.kiln"), () -> "stack trace in: " + message);
            assertFalse(message.contains("Exception"), () -> "exception in: " + message);
            assertFalse(message.contains("[KILN000]"), () -> "internal error: " + message);
        }
        return compilation;
    }

    /** Asserts an error with {@code id} and {@code fragment} on the line of {@code source} holding {@code marker}. */
    private static void assertError(Compilation compilation, String source, String id, String fragment, String marker) {
        long line = lineOf(source, marker);
        JavaFileObject file = compilation.sourceFiles().get(0);
        assertThat(compilation).hadErrorContaining(id).inFile(file).onLine(line);
        assertThat(compilation).hadErrorContaining(fragment).inFile(file).onLine(line);
        boolean together = compilation.errors().stream()
                .anyMatch(d -> d.getLineNumber() == line && d.getMessage(Locale.ROOT).contains(id)
                        && d.getMessage(Locale.ROOT).contains(fragment));
        assertTrue(together, () -> "no error " + id + " containing '" + fragment + "' on line " + line + ": "
                + compilation.errors());
    }

    private static long lineOf(String source, String marker) {
        String[] lines = source.split("\n", -1);
        long found = -1;
        for (int i = 0; i < lines.length; i++) {
            if (lines[i].contains(marker)) {
                assertEquals(-1, found, "marker '" + marker + "' occurs twice in the test source");
                found = i + 1;
            }
        }
        assertTrue(found > 0, "marker '" + marker + "' is not in the test source");
        return found;
    }

    private static List<String> kilnErrors(Compilation compilation) {
        return compilation.errors().stream().map(d -> d.getMessage(Locale.ROOT)).filter(m -> m.contains("[KILN")).toList();
    }
}
