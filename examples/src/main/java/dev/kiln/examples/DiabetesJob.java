package dev.kiln.examples;

import dev.kiln.data.Batch;
import dev.kiln.data.Csv;
import dev.kiln.data.DataLoader;
import dev.kiln.data.Dataset;
import dev.kiln.data.EpochLoss;
import dev.kiln.data.Split;
import dev.kiln.data.StandardScaler;
import dev.kiln.nn.Adam;
import dev.kiln.runtime.Device;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

/**
 * The regression example: trains {@link DiabetesNet} with mean squared error on the diabetes data
 * and reports the test MSE next to the MSE of always predicting the training mean. Targets are
 * standardized for training and the reported errors are in the data's own units.
 */
public final class DiabetesJob {
    private DiabetesJob() {
    }

    /** Test errors of a run, in squared target units. */
    public record Outcome(double testMse, double baselineMse) {
    }

    public static Outcome run(Path data, int epochs, long seed, Device device, PrintStream log) throws IOException {
        Dataset all = Csv.readRegression(data, "target");
        Split split = Split.trainTest(all, 0.3, seed, false);
        StandardScaler scaler = StandardScaler.fit(split.train());
        Dataset train = scaler.transform(split.train());
        Dataset test = scaler.transform(split.test());
        double mean = mean(train.targets());
        double std = Math.sqrt(meanSquaredError(train.targets(), mean));
        float[] trainTargets = standardize(train.targets(), mean, std);
        Dataset scaledTrain = Dataset.regression(train.features(), train.featureNames(), trainTargets, train.targetNames());
        log.printf(Locale.ROOT, "diabetes: %d samples, %d features; train %d, test %d%n",
                all.size(), all.featureCount(), train.size(), test.size());

        try (CompiledDiabetesNet model = new CompiledDiabetesNet(seed, device)) {
            log.println("device: " + model.device());
            Adam adam = new Adam(1e-3);
            DataLoader loader = new DataLoader(scaledTrain, 32, true, seed, false);
            EpochLoss epochLoss = new EpochLoss();
            for (int epoch = 0; epoch < epochs; epoch++) {
                epochLoss.reset();
                for (Batch batch : loader.epoch(epoch)) {
                    float[] x = Arrays.copyOf(batch.features(), batch.size() * batch.featureCount());
                    float[] y = Arrays.copyOf(batch.targets(), batch.size());
                    epochLoss.add(model.trainStep(x, y, batch.size(), adam), batch.size());
                }
                if (epoch % 25 == 24 || epoch == 0 || epoch == epochs - 1) {
                    log.printf(Locale.ROOT, "epoch %3d/%d  train loss (standardized) %.4f%n", epoch + 1, epochs, epochLoss.mean());
                }
            }
            float[] predicted = model.predict(test.features(), test.size());
            double squared = 0;
            for (int i = 0; i < predicted.length; i++) {
                double error = predicted[i] * std + mean - test.targets()[i];
                squared += error * error;
            }
            double testMse = squared / test.size();
            double baseline = meanSquaredError(test.targets(), mean);
            log.printf(Locale.ROOT, "test MSE %.1f; predicting the training mean gives %.1f (%.2fx lower with the model)%n",
                    testMse, baseline, baseline / testMse);
            return new Outcome(testMse, baseline);
        }
    }

    private static double mean(float[] values) {
        double sum = 0;
        for (float v : values) {
            sum += v;
        }
        return sum / values.length;
    }

    private static double meanSquaredError(float[] values, double prediction) {
        double sum = 0;
        for (float v : values) {
            sum += (v - prediction) * (v - prediction);
        }
        return sum / values.length;
    }

    private static float[] standardize(float[] values, double mean, double std) {
        float[] out = new float[values.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) ((values[i] - mean) / std);
        }
        return out;
    }
}
