package dev.kiln.nn;

import java.util.List;

/**
 * Layers applied one after the other, as PyTorch's {@code nn.Sequential}. In a model class it is
 * a final field; its parameters are named by position, {@code <field>.<index>.weight}, as in a
 * PyTorch state dict, so checkpoints carry over.
 *
 * <pre>
 * final Sequential body = new Sequential(new Linear(13, 20), new Tanh(), new Linear(20, 3));
 * </pre>
 */
public final class Sequential implements Layer {
    private final List<Layer> layers;

    public Sequential(Layer... layers) {
        for (int i = 0; i < layers.length; i++) {
            if (layers[i] == null) {
                throw new IllegalArgumentException("layer " + i + " of Sequential is null");
            }
        }
        this.layers = List.of(layers);
    }

    /** Returns layer {@code index}. */
    public Layer get(int index) {
        return layers.get(index);
    }

    public int size() {
        return layers.size();
    }

    @Override
    public Tensor apply(Tensor x) {
        for (Layer layer : layers) {
            x = layer.apply(x);
        }
        return x;
    }
}
