package dev.kiln.benchmarks;

import static dev.kiln.nn.Functional.relu;

import dev.kiln.nn.Linear;
import dev.kiln.nn.Model;
import dev.kiln.nn.Shape;
import dev.kiln.nn.Tensor;

/** A 784-256-128-10 ReLU network for 28x28 images in 10 classes (Fashion-MNIST). */
@Model
public class FashionMlp {
    final Linear fc1 = new Linear(784, 256);
    final Linear fc2 = new Linear(256, 128);
    final Linear fc3 = new Linear(128, 10);

    public Tensor forward(@Shape(784) Tensor x) {
        x = relu(fc1.apply(x));
        x = relu(fc2.apply(x));
        return fc3.apply(x);
    }
}
