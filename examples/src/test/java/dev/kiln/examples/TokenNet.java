package dev.kiln.examples;

import static dev.kiln.nn.Functional.flatten;

import dev.kiln.nn.Dropout;
import dev.kiln.nn.Embedding;
import dev.kiln.nn.LayerNorm;
import dev.kiln.nn.Linear;
import dev.kiln.nn.Model;
import dev.kiln.nn.Shape;
import dev.kiln.nn.Tensor;

/**
 * A token classifier with an embedding, layer normalization and dropout, compiled from test
 * sources: six token ids per sample, each a vector of 8, normalized, dropped out in training,
 * flattened and mapped to 3 classes.
 */
@Model
public class TokenNet {
    final Embedding emb = new Embedding(20, 8);
    final LayerNorm norm = new LayerNorm(8);
    final Dropout drop = new Dropout(0.2);
    final Linear fc = new Linear(48, 3);

    public Tensor forward(@Shape(6) Tensor tokens) {
        Tensor h = drop.apply(norm.apply(emb.apply(tokens)));
        return fc.apply(flatten(h));
    }
}
