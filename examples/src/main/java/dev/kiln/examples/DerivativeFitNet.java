package dev.kiln.examples;

import static dev.kiln.nn.Functional.cos;
import static dev.kiln.nn.Functional.grad;
import static dev.kiln.nn.Functional.mean;
import static dev.kiln.nn.Functional.square;
import static dev.kiln.nn.Functional.tanh;

import dev.kiln.nn.Linear;
import dev.kiln.nn.LossKind;
import dev.kiln.nn.Model;
import dev.kiln.nn.OptimizerKind;
import dev.kiln.nn.Shape;
import dev.kiln.nn.Tensor;

/**
 * Fits u(x) to samples of sin(x) while penalizing the error of du/dx against cos(x), the known
 * derivative. The training loss contains d(output)/d(input), so the compiled training step
 * differentiates a derivative: second derivatives in one native call.
 */
@Model(loss = LossKind.CUSTOM, optimizers = OptimizerKind.ADAM)
public class DerivativeFitNet {
    final Linear fc1 = new Linear(1, 32);
    final Linear fc2 = new Linear(32, 32);
    final Linear fc3 = new Linear(32, 1);

    public Tensor forward(@Shape(1) Tensor x) {
        return fc3.apply(tanh(fc2.apply(tanh(fc1.apply(x)))));
    }

    /** Mean squared error of u against the samples plus that of du/dx against cos(x). */
    public Tensor loss(Tensor x, @Shape(1) Tensor target) {
        Tensor u = forward(x);
        Tensor slope = grad(u, x);
        return mean(square(u.sub(target))).add(mean(square(slope.sub(cos(x)))));
    }
}
