package dev.kiln.examples;

import static dev.kiln.nn.Functional.tanh;

import dev.kiln.nn.Linear;
import dev.kiln.nn.Model;
import dev.kiln.nn.Shape;
import dev.kiln.nn.Tensor;

/**
 * The classic deep tanh network for the Wine data: 13 features, a 20-wide hidden layer, one
 * 20-20 layer applied nine times (its weights are tied), and 3 class scores.
 */
@Model
public class WineNet {
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
