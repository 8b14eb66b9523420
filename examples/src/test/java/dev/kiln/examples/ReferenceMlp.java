package dev.kiln.examples;

import static dev.kiln.nn.Functional.tanh;

import dev.kiln.nn.Linear;
import dev.kiln.nn.Model;
import dev.kiln.nn.Shape;
import dev.kiln.nn.Tensor;

/**
 * The reference network of the PyTorch fixtures, compiled from test sources so that the test
 * build runs the processor and the plugin's test-compile goal.
 */
@Model
public class ReferenceMlp {
    final Linear fc1 = new Linear(13, 20);
    final Linear fc2 = new Linear(20, 20);
    final Linear fc3 = new Linear(20, 3);

    public Tensor forward(@Shape(13) Tensor x) {
        x = tanh(fc1.apply(x));
        for (int i = 0; i < 9; i++) {
            x = tanh(fc2.apply(x));
        }
        return fc3.apply(x);
    }
}
