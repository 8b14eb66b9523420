package dev.kiln.examples;

import static dev.kiln.nn.Functional.cat;
import static dev.kiln.nn.Functional.logSoftmax;
import static dev.kiln.nn.Functional.mean;
import static dev.kiln.nn.Functional.slice;
import static dev.kiln.nn.Functional.square;
import static dev.kiln.nn.Functional.sum;
import static dev.kiln.nn.Functional.tanh;

import dev.kiln.nn.LayerNorm;
import dev.kiln.nn.Linear;
import dev.kiln.nn.LossKind;
import dev.kiln.nn.Model;
import dev.kiln.nn.OptimizerKind;
import dev.kiln.nn.ReLU;
import dev.kiln.nn.Sequential;
import dev.kiln.nn.Shape;
import dev.kiln.nn.Tensor;

/**
 * Two inputs, two outputs and a loss over both: each input runs through the same tower (a nested
 * model of nested blocks, two levels deep) and the same shared layer; a Sequential head with layer
 * normalization scores three classes from both, and a linear layer regresses one number from their difference.
 */
@Model(loss = LossKind.CUSTOM, optimizers = OptimizerKind.ADAM)
public class TwoTowerNet {
    final Tower tower = new Tower(6);
    final Linear shared = new Linear(8, 8);
    final Sequential classifier = new Sequential(new Linear(16, 8), new LayerNorm(8), new ReLU(), new Linear(8, 3));
    final Linear regressor = new Linear(8, 1);

    public Tensor[] forward(@Shape(6) Tensor left, @Shape(6) Tensor right) {
        Tensor a = tanh(shared.apply(tower.forward(left)));
        Tensor b = tanh(shared.apply(tower.forward(right)));
        Tensor logits = classifier.apply(cat(1, a, b));
        Tensor distance = regressor.apply(a.sub(b));
        return new Tensor[] {logits, distance};
    }

    /** target = [one-hot class (3), regression target (1)]: cross-entropy plus squared error. */
    public Tensor loss(Tensor left, Tensor right, @Shape(4) Tensor target) {
        Tensor[] outputs = forward(left, right);
        Tensor classes = slice(target, 1, 0, 3);
        Tensor value = slice(target, 1, 3, 4);
        Tensor crossEntropy = mean(sum(classes.mul(logSoftmax(outputs[0])), 1)).mul(-1.0);
        return crossEntropy.add(mean(square(outputs[1].sub(value))));
    }
}
