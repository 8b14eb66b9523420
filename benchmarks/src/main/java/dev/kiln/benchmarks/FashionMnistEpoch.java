package dev.kiln.benchmarks;

import dev.kiln.data.Batch;
import dev.kiln.data.DataLoader;
import dev.kiln.data.Dataset;
import dev.kiln.data.Idx;
import dev.kiln.nn.Adam;
import dev.kiln.runtime.Evaluation;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Trains the 784-256-128-10 network on Fashion-MNIST with Adam and reports the seconds of each
 * epoch and the test accuracy at the end, as JSON. The initial parameters are written first, so
 * that the PyTorch script can start from the same weights.
 *
 * <p>Usage: {@code FashionMnistEpoch DATA_DIR INIT_WEIGHTS_OUT RESULT_JSON [EPOCHS]}, where
 * {@code DATA_DIR} contains the four IDX files of Debian's {@code dataset-fashion-mnist}
 * ({@code /usr/share/datasets/fashion-mnist}).
 */
public final class FashionMnistEpoch {
    /** Seed of the shuffling order. Each epoch gets its own order from the loader's epoch index. */
    static final long SHUFFLE_SEED = 1;
    static final int DEFAULT_EPOCHS = 2;
    private static final List<String> CLASSES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

    private FashionMnistEpoch() {
    }

    /** Runs the training and writes the result JSON. The class comment lists the arguments. */
    public static void main(String[] args) throws IOException {
        if (args.length < 3 || args.length > 4) {
            System.err.println("usage: FashionMnistEpoch DATA_DIR INIT_WEIGHTS_OUT RESULT_JSON [EPOCHS]");
            System.exit(2);
        }
        Path dataDir = Path.of(args[0]);
        int epochs = args.length == 4 ? parseEpochs(args[3]) : DEFAULT_EPOCHS;
        Dataset train = read(dataDir, "train");
        Dataset test = read(dataDir, "t10k");
        int batchSize = Workloads.FASHION_TRAIN_BATCH;

        List<Double> seconds = new ArrayList<>();
        List<Double> meanLosses = new ArrayList<>();
        Evaluation evaluation;
        try (CompiledFashionMlp model = new CompiledFashionMlp(Workloads.PARAMETER_SEED)) {
            model.save(Path.of(args[1]));
            Adam adam = new Adam(Workloads.ADAM_LR);
            // The last partial batch is dropped so that every step has exactly batchSize rows,
            // as in the PyTorch script.
            DataLoader loader = new DataLoader(train, batchSize, true, SHUFFLE_SEED, true);
            for (int epoch = 0; epoch < epochs; epoch++) {
                double lossSum = 0;
                int steps = 0;
                long start = System.nanoTime();
                for (Batch batch : loader.epoch(epoch)) {
                    lossSum += model.trainStep(batch.features(), batch.classes(), batch.size(), adam);
                    steps++;
                }
                seconds.add((System.nanoTime() - start) / 1e9);
                meanLosses.add(lossSum / steps);
                System.out.printf(Locale.ROOT, "epoch %d: %.2f s, mean training loss %.4f%n", epoch + 1,
                        seconds.getLast(), meanLosses.getLast());
            }
            evaluation = model.evaluate(test.features(), test.classes(), test.size(), 1000);
        }
        System.out.printf(Locale.ROOT, "test accuracy after %d epochs: %.4f%n", epochs, evaluation.accuracy());

        String json = String.format(Locale.ROOT,
                "{\"engine\": \"kiln\", \"threads\": 1, \"batch\": %d, \"epochs\": %d, \"steps_per_epoch\": %d,"
                        + " \"epoch_seconds\": %s, \"mean_losses\": %s, \"test_loss\": %.6f, \"test_accuracy\": %.6f}%n",
                batchSize, epochs, train.size() / batchSize, list(seconds), list(meanLosses), evaluation.meanLoss(),
                evaluation.accuracy());
        Files.writeString(Path.of(args[2]), json);
    }

    private static int parseEpochs(String text) {
        try {
            int epochs = Integer.parseInt(text);
            if (epochs > 0) {
                return epochs;
            }
        } catch (NumberFormatException e) {
            // falls through to the message below
        }
        throw new IllegalArgumentException("EPOCHS must be a positive integer, got '" + text + "'");
    }

    private static Dataset read(Path dir, String split) {
        Path images = dir.resolve(split + "-images-idx3-ubyte.gz");
        Path labels = dir.resolve(split + "-labels-idx1-ubyte.gz");
        if (!Files.isRegularFile(images) || !Files.isRegularFile(labels)) {
            throw new IllegalArgumentException("Fashion-MNIST files " + images + " and " + labels
                    + " not found; install Debian's dataset-fashion-mnist or pass the folder that holds them");
        }
        return Idx.readClassification(images, labels, CLASSES);
    }

    private static String list(List<Double> values) {
        return values.stream().map(v -> String.format(Locale.ROOT, "%.6f", v))
                .collect(Collectors.joining(", ", "[", "]"));
    }
}
