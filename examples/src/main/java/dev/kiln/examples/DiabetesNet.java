package dev.kiln.examples;

import static dev.kiln.nn.Functional.tanh;

import dev.kiln.nn.Linear;
import dev.kiln.nn.LossKind;
import dev.kiln.nn.Model;
import dev.kiln.nn.Shape;
import dev.kiln.nn.Tensor;

/**
 * The same deep tanh network as {@link WineNet} for regression: 10 features of the diabetes data
 * in, one value (disease progression) out, trained with mean squared error.
 */
@Model(loss = LossKind.MSE)
public class DiabetesNet {
    final Linear fc1 = new Linear(10, 20);
    final Linear fc2 = new Linear(20, 20);
    final Linear fc3 = new Linear(20, 1);

    public Tensor forward(@Shape(10) Tensor x) {
        x = tanh(fc1.apply(x));
        for (int i = 0; i < 9; i++) {
            x = tanh(fc2.apply(x));
        }
        return fc3.apply(x);
    }
}
