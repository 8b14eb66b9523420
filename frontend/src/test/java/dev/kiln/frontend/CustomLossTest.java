package dev.kiln.frontend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.ir.Entries;
import dev.kiln.ir.Loss;
import dev.kiln.ir.ModelSpec;
import dev.kiln.ir.Shape;
import org.junit.jupiter.api.Test;

/** A model that trains with its own loss method, one that uses the derivative of its output. */
class CustomLossTest {
    static final String SOURCE = """
            package demo;

            import static dev.kiln.nn.Functional.cos;
            import static dev.kiln.nn.Functional.grad;
            import static dev.kiln.nn.Functional.mean;
            import static dev.kiln.nn.Functional.square;
            import static dev.kiln.nn.Functional.tanh;

            import dev.kiln.nn.Linear;
            import dev.kiln.nn.LossKind;
            import dev.kiln.nn.Model;
            import dev.kiln.nn.Shape;
            import dev.kiln.nn.Tensor;

            @Model(loss = LossKind.CUSTOM)
            public class Fit {
                final Linear fc1 = new Linear(1, 8);
                final Linear fc2 = new Linear(8, 1);

                public Tensor forward(@Shape(1) Tensor x) {
                    return fc2.apply(tanh(fc1.apply(x)));
                }

                public Tensor loss(Tensor x, @Shape(1) Tensor target) {
                    Tensor u = forward(x);
                    Tensor slope = grad(u, x);
                    return mean(square(u.sub(target))).add(mean(square(slope.sub(cos(x)))));
                }
            }
            """;

    @Test
    void lossMethodBecomesTheTrainingLoss() {
        ModelSpec model = GoldenIrTest.translate(SOURCE, "Fit");

        assertEquals(Loss.CUSTOM, model.loss());
        assertEquals(Shape.SCALAR, model.forward().output(Entries.LOSS).shape());
        assertEquals(Shape.of(1), model.targetShape());
        assertEquals(1, model.inputs().size(), "targets are not a model input");
    }

    @Test
    void lossMethodWithoutCustomIsAnError() {
        ModelTranslator.Result result = GoldenIrTest.translateResult(SOURCE.replace("LossKind.CUSTOM", "LossKind.MSE"), "Fit");

        assertTrue(result.model().isEmpty());
        assertTrue(result.diagnostics().get(0).message().contains("set @Model(loss = LossKind.CUSTOM)"),
                result.diagnostics().toString());
    }
}
