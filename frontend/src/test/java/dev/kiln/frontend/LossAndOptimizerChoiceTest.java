package dev.kiln.frontend;

import static com.google.testing.compile.CompilationSubject.assertThat;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.testing.compile.Compilation;
import com.google.testing.compile.Compiler;
import com.google.testing.compile.JavaFileObjects;
import dev.kiln.ir.Loss;
import dev.kiln.ir.ModelSpec;
import dev.kiln.ir.Optimizer;
import java.io.IOException;
import java.util.List;
import javax.tools.StandardLocation;
import org.junit.jupiter.api.Test;

/**
 * Runs {@link KilnProcessor} on models that name the losses and optimizers added after
 * cross-entropy, MSE, Adam and SGD, and checks what they generate and the errors around them.
 */
class LossAndOptimizerChoiceTest {
    private static final String IMPORTS = """
            package demo;

            import static dev.kiln.nn.Functional.tanh;

            import dev.kiln.nn.Linear;
            import dev.kiln.nn.LossKind;
            import dev.kiln.nn.Model;
            import dev.kiln.nn.OptimizerKind;
            import dev.kiln.nn.Shape;
            import dev.kiln.nn.Tensor;

            """;

    private static final String BINARY = IMPORTS + """
            @Model(loss = LossKind.BCE_WITH_LOGITS, optimizers = {OptimizerKind.ADAMW, OptimizerKind.RMSPROP})
            public class Binary {
                final Linear fc1 = new Linear(6, 8);
                final Linear fc2 = new Linear(8, 1);

                public Tensor forward(@Shape(6) Tensor x) {
                    return fc2.apply(tanh(fc1.apply(x)));
                }
            }
            """;

    @Test
    void bceWithAdamWAndRmsPropCompiles() throws IOException {
        Compilation compilation = Compiler.javac().withProcessors(new KilnProcessor())
                .withOptions("-Akiln.verifyIr=true")
                .compile(JavaFileObjects.forSourceString("demo.Binary", BINARY));

        assertThat(compilation).succeededWithoutWarnings();
        String java = compilation.generatedSourceFile("demo.CompiledBinary").orElseThrow()
                .getCharContent(true).toString();
        assertTrue(java.contains("LossKind.BCE_WITH_LOGITS"), java);
        assertTrue(java.contains("OptimizerKind.ADAMW, OptimizerKind.RMSPROP"), java);
        String c = compilation.generatedFile(StandardLocation.CLASS_OUTPUT, "META-INF/kiln/src/demo_Binary.c")
                .orElseThrow().getCharContent(true).toString();
        for (String entry : List.of("train_adamw", "update_adamw", "train_rmsprop", "update_rmsprop")) {
            assertTrue(c.contains("demo_Binary_" + entry + "("), "the C source defines " + entry);
        }
        assertTrue(c.contains("max_grad_norm"), "kiln_call has the clipping hyperparameter");
    }

    @Test
    void translatorReadsEveryLossAndOptimizer() {
        for (Loss loss : Loss.values()) {
            if (loss == Loss.CUSTOM) {
                // A custom loss needs a loss method; CustomLossTest covers it.
                continue;
            }
            String source = BINARY.replace("LossKind.BCE_WITH_LOGITS", "LossKind." + loss.name())
                    .replace("new Linear(8, 1)", "new Linear(8, 3)")
                    .replace("{OptimizerKind.ADAMW, OptimizerKind.RMSPROP}",
                            "{OptimizerKind.RMSPROP, OptimizerKind.SGD, OptimizerKind.ADAMW, OptimizerKind.ADAM}");

            ModelSpec model = GoldenIrTest.translate(source, "Binary");

            assertEquals(loss, model.loss());
            assertEquals(List.of(Optimizer.RMSPROP, Optimizer.SGD, Optimizer.ADAMW, Optimizer.ADAM), model.optimizers());
        }
    }

    @Test
    void sumReductionReachesTheGeneratedClass() throws IOException {
        String source = BINARY.replace("@Model(loss = LossKind.BCE_WITH_LOGITS,",
                "@Model(loss = LossKind.BCE_WITH_LOGITS, reduction = LossReduction.SUM,")
                .replace("import dev.kiln.nn.LossKind;", "import dev.kiln.nn.LossKind;\nimport dev.kiln.nn.LossReduction;");
        assertEquals(Loss.Reduction.SUM, GoldenIrTest.translate(source, "Binary").reduction());
        assertEquals(Loss.Reduction.MEAN, GoldenIrTest.translate(BINARY, "Binary").reduction());

        Compilation compilation = Compiler.javac().withProcessors(new KilnProcessor())
                .compile(JavaFileObjects.forSourceString("demo.Binary", source));
        assertThat(compilation).succeededWithoutWarnings();
        String java = compilation.generatedSourceFile("demo.CompiledBinary").orElseThrow()
                .getCharContent(true).toString();
        assertTrue(java.contains("LossReduction.SUM"), java);
    }

    @Test
    void reductionOfACustomLossIsAnError() {
        String source = IMPORTS.replace("import dev.kiln.nn.LossKind;",
                "import dev.kiln.nn.LossKind;\nimport dev.kiln.nn.LossReduction;\nimport static dev.kiln.nn.Functional.*;") + """
                @Model(loss = LossKind.CUSTOM, reduction = LossReduction.SUM)
                public class Fit {
                    final Linear fc = new Linear(1, 1);

                    public Tensor forward(@Shape(1) Tensor x) {
                        return fc.apply(x);
                    }

                    public Tensor loss(Tensor x, @Shape(1) Tensor target) {
                        return sum(square(forward(x).sub(target)));
                    }
                }
                """;

        ModelTranslator.Result result = GoldenIrTest.translateResult(source, "Fit");

        assertTrue(result.model().isEmpty(), "no model for a reduction on a custom loss");
        assertTrue(result.diagnostics().toString().contains("reduce the terms in the method"),
                result.diagnostics().toString());
    }

    @Test
    void optimizerListedTwiceIsAnError() {
        String source = BINARY.replace("{OptimizerKind.ADAMW, OptimizerKind.RMSPROP}",
                "{OptimizerKind.ADAMW, OptimizerKind.ADAMW}");

        ModelTranslator.Result result = GoldenIrTest.translateResult(source, "Binary");

        assertTrue(result.model().isEmpty(), "no model for a duplicate optimizer");
        assertTrue(result.diagnostics().toString().contains("listed twice"), result.diagnostics().toString());
    }

    @Test
    void classLossesNeedClassRows() {
        for (String loss : List.of("NLL", "SOFT_CROSS_ENTROPY")) {
            String source = IMPORTS + """
                    @Model(loss = LossKind.%s)
                    public class Grid {
                        public Tensor forward(@Shape({2, 3}) Tensor x) {
                            return tanh(x);
                        }
                    }
                    """.formatted(loss);

            ModelTranslator.Result result = GoldenIrTest.translateResult(source, "Grid");

            assertTrue(result.model().isEmpty(), loss + " on a [B, 2, 3] output");
            String diagnostics = result.diagnostics().toString();
            assertTrue(diagnostics.contains("KILN007"), diagnostics);
            assertTrue(diagnostics.contains("[B, classes]"), diagnostics);
        }
    }

    @Test
    void elementwiseLossesTakeAnyOutputShape() {
        String source = IMPORTS + """
                @Model(loss = LossKind.HUBER)
                public class Grid {
                    public Tensor forward(@Shape({2, 3}) Tensor x) {
                        return tanh(x);
                    }
                }
                """;

        ModelSpec model = GoldenIrTest.translate(source, "Grid");

        assertEquals(Loss.HUBER, model.loss());
        assertEquals(3, model.output().shape().rank());
    }
}
