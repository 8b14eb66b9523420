package dev.kiln.examples;

import static dev.kiln.nn.Functional.amax;
import static dev.kiln.nn.Functional.cat;
import static dev.kiln.nn.Functional.logsumexp;
import static dev.kiln.nn.Functional.matmul;
import static dev.kiln.nn.Functional.reshape;
import static dev.kiln.nn.Functional.softmax;
import static dev.kiln.nn.Functional.tanh;
import static dev.kiln.nn.Functional.transpose;

import dev.kiln.nn.Linear;
import dev.kiln.nn.Model;
import dev.kiln.nn.Shape;
import dev.kiln.nn.Tensor;

/**
 * A small self-attention over a sequence: each sample of 24 features is read as 4 positions of
 * 6, embedded by a linear layer applied at every position, mixed by softmax attention, pooled
 * by a maximum over positions and joined with a logsumexp summary of the raw positions.
 */
@Model
public class SequenceNet {
    final Linear embed = new Linear(6, 8);
    final Linear head = new Linear(12, 3);

    public Tensor forward(@Shape(24) Tensor x) {
        Tensor positions = reshape(x, -1, 4, 6);
        Tensor h = tanh(embed.apply(positions));
        Tensor attention = softmax(matmul(h, transpose(h, 1, 2)).mul(0.5));
        Tensor mixed = matmul(attention, h);
        Tensor pooled = amax(mixed, 1);
        Tensor summary = logsumexp(positions, 2);
        return head.apply(cat(1, pooled, summary));
    }
}
