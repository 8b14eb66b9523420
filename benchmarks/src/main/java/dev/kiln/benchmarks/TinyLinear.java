package dev.kiln.benchmarks;

import dev.kiln.nn.Linear;
import dev.kiln.nn.Model;
import dev.kiln.nn.Shape;
import dev.kiln.nn.Tensor;

/**
 * The smallest model Kiln can declare, one Linear(1, 1) trained with mean squared error: its
 * prediction time is almost all the cost of crossing from Java into native code.
 */
@Model(loss = dev.kiln.nn.LossKind.MSE)
public class TinyLinear {
    final Linear fc = new Linear(1, 1);

    public Tensor forward(@Shape(1) Tensor x) {
        return fc.apply(x);
    }
}
