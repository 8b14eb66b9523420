package dev.kiln.examples;

import static dev.kiln.nn.Functional.tanh;

import dev.kiln.nn.Linear;
import dev.kiln.nn.Tensor;

/** tanh of a linear layer, nested two levels deep inside {@link TwoTowerNet}. */
public class Block {
    final Linear fc;

    public Block(int in, int out) {
        fc = new Linear(in, out);
    }

    public Tensor forward(Tensor x) {
        return tanh(fc.apply(x));
    }
}
