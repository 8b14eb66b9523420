package dev.kiln.examples;

import dev.kiln.nn.Tensor;

/** Two blocks in a row, a model class used as a field of {@link TwoTowerNet}. */
public class Tower {
    final Block first;
    final Block second;

    public Tower(int in) {
        first = new Block(in, 8);
        second = new Block(8, 8);
    }

    public Tensor forward(Tensor x) {
        return second.forward(first.forward(x));
    }
}
