package dev.kiln.examples;

import dev.kiln.data.Csv;
import dev.kiln.data.DataLoader;
import dev.kiln.data.Batch;
import dev.kiln.data.Dataset;
import dev.kiln.data.EpochLoss;
import dev.kiln.data.Split;
import dev.kiln.data.StandardScaler;
import dev.kiln.nn.Adam;
import dev.kiln.runtime.Device;
import dev.kiln.runtime.Evaluation;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The main job: trains {@link WineNet} on the Wine data with a seeded, stratified 70/30 split,
 * standardized features, Adam and cross-entropy; prints progress and the test accuracy; saves the
 * model with its feature scaling and class names; and writes the test rows and their predicted
 * classes so another JVM can check that the saved model predicts the same.
 */
public final class WineJob {
    private WineJob() {
    }

    /** Settings of a training run. */
    public record Settings(Path data, Path outputDir, int epochs, int batchSize, double lr, long seed, Device device) {
    }

    /** Results and files of a run. */
    public record Outcome(double testAccuracy, double testLoss, Path model, Path testRows, Path predictions,
                          double microsPerStep) {
    }

    public static Outcome run(Settings settings, PrintStream log) throws IOException {
        Dataset all = Csv.readCountHeaderClassification(settings.data());
        // The folder is made before training, so a folder that cannot be made costs no training time.
        try {
            Files.createDirectories(settings.outputDir());
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot create the output folder " + settings.outputDir() + ": "
                    + FileErrors.reason(e) + "; pass --out with a folder you can write", e);
        }
        Split split = Split.trainTest(all, 0.3, settings.seed(), true);
        StandardScaler scaler = StandardScaler.fit(split.train());
        Dataset train = scaler.transform(split.train());
        Dataset test = scaler.transform(split.test());
        log.printf(Locale.ROOT, "Wine: %d samples, %d features, classes %s; train %d, test %d%n",
                all.size(), all.featureCount(), all.classNames(), train.size(), test.size());

        try (CompiledWineNet model = new CompiledWineNet(settings.seed(), settings.device())) {
            log.println("device: " + model.device());
            Adam adam = new Adam(settings.lr());
            long stepNanos = 0;
            long steps = 0;
            DataLoader loader = new DataLoader(train, settings.batchSize(), true, settings.seed(), false);
            EpochLoss epochLoss = new EpochLoss();
            for (int epoch = 0; epoch < settings.epochs(); epoch++) {
                epochLoss.reset();
                for (Batch batch : loader.epoch(epoch)) {
                    long start = System.nanoTime();
                    float loss = model.trainStep(features(batch), classes(batch), batch.size(), adam);
                    stepNanos += System.nanoTime() - start;
                    steps++;
                    epochLoss.add(loss, batch.size());
                }
                if (epoch % 10 == 9 || epoch == 0 || epoch == settings.epochs() - 1) {
                    Evaluation eval = model.evaluate(test.features(), test.classes(), test.size(), 64);
                    log.printf(Locale.ROOT, "epoch %3d/%d  train loss %.4f  test loss %.4f  test accuracy %.3f%n",
                            epoch + 1, settings.epochs(), epochLoss.mean(), eval.meanLoss(), eval.accuracy());
                } else {
                    log.printf(Locale.ROOT, "epoch %3d/%d  train loss %.4f%n", epoch + 1, settings.epochs(), epochLoss.mean());
                }
            }
            Evaluation result = model.evaluate(test.features(), test.classes(), test.size(), 64);
            log.printf(Locale.ROOT, "test accuracy %.4f (%d samples), test loss %.4f%n",
                    result.accuracy(), test.size(), result.meanLoss());
            double microsPerStep = stepNanos / 1e3 / steps;
            log.printf(Locale.ROOT, "%.1f us per training step (batch %d, mean over %d steps, including the first)%n",
                    microsPerStep, settings.batchSize(), steps);

            Files.createDirectories(settings.outputDir());
            Path modelFile = settings.outputDir().resolve("wine.safetensors");
            Map<String, String> metadata = new LinkedHashMap<>(scaler.toMetadata());
            metadata.put("classes", String.join(",", all.classNames()));
            model.save(modelFile, metadata);
            log.println("saved model to " + modelFile);

            Path testRows = settings.outputDir().resolve("wine-test.csv");
            writeRows(testRows, split.test());
            Path predictions = settings.outputDir().resolve("wine-test-predictions.txt");
            int[] predicted = new int[test.size()];
            model.predictClasses(test.features(), test.size(), predicted);
            List<String> lines = new ArrayList<>();
            for (int p : predicted) {
                lines.add(all.classNames().get(p));
            }
            Files.write(predictions, lines);
            log.println("wrote " + test.size() + " unscaled test rows to " + testRows + " and their predicted classes to "
                    + predictions);
            return new Outcome(result.accuracy(), result.meanLoss(), modelFile, testRows, predictions, microsPerStep);
        }
    }

    static float[] features(Batch batch) {
        return batch.size() * batch.featureCount() == batch.features().length
                ? batch.features()
                : java.util.Arrays.copyOf(batch.features(), batch.size() * batch.featureCount());
    }

    static int[] classes(Batch batch) {
        return batch.size() == batch.classes().length ? batch.classes() : java.util.Arrays.copyOf(batch.classes(), batch.size());
    }

    /** Writes raw feature rows, one per line, without labels. */
    private static void writeRows(Path file, Dataset data) throws IOException {
        List<String> lines = new ArrayList<>();
        for (int r = 0; r < data.size(); r++) {
            StringBuilder line = new StringBuilder();
            for (int c = 0; c < data.featureCount(); c++) {
                if (c > 0) {
                    line.append(',');
                }
                line.append(data.feature(r, c));
            }
            lines.add(line.toString());
        }
        Files.write(file, lines);
    }
}
