package dev.kiln.benchmarks;

import static dev.kiln.nn.Functional.tanh;

import dev.kiln.nn.Linear;
import dev.kiln.nn.Model;
import dev.kiln.nn.Shape;
import dev.kiln.nn.Tensor;

/**
 * The reference network: Linear(13, 20), one Linear(20, 20) applied nine times (tied weights) and
 * Linear(20, 3), with tanh after the first layer and after each application of the tied layer.
 */
@Model
public class ReferenceMlp {
    static final int DEPTH = 9;

    final Linear fc1 = new Linear(13, 20);
    final Linear fc2 = new Linear(20, 20);
    final Linear fc3 = new Linear(20, 3);

    public Tensor forward(@Shape(13) Tensor x) {
        x = tanh(fc1.apply(x));
        for (int i = 0; i < DEPTH; i++) {
            x = tanh(fc2.apply(x));
        }
        return fc3.apply(x);
    }
}
