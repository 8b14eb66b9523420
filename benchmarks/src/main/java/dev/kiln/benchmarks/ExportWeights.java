package dev.kiln.benchmarks;

import dev.kiln.nn.Adam;
import dev.kiln.runtime.CompiledModel;
import dev.kiln.runtime.checkpoint.NamedTensor;
import dev.kiln.runtime.checkpoint.Safetensors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Writes what the PyTorch peer needs to run the same workloads: the initial parameters of each
 * benchmark model as safetensors files, and {@code kiln_check.safetensors} with the benchmark
 * inputs, Kiln's outputs on them and Kiln's losses over a few Adam steps, which the peer must
 * reproduce before its timings count.
 *
 * <p>Usage: {@code java --enable-native-access=ALL-UNNAMED -cp ... dev.kiln.benchmarks.ExportWeights DIR}
 */
public final class ExportWeights {
    /** Adam steps whose losses the peer compares with Kiln's. */
    static final int CHECK_STEPS = 5;

    private ExportWeights() {
    }

    /** Writes the weight and check files into the folder given as the only argument. */
    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            System.err.println("usage: ExportWeights OUTPUT_DIR   (writes the benchmark models' weights and check data)");
            System.exit(2);
        }
        Path dir = Path.of(args[0]);
        Files.createDirectories(dir);
        List<NamedTensor> check = new ArrayList<>();

        try (CompiledReferenceMlp model = new CompiledReferenceMlp(Workloads.PARAMETER_SEED)) {
            model.save(dir.resolve("reference_mlp.safetensors"));
            addPredictCheck(check, "reference", model, Workloads.PREDICT_BATCH);
        }
        try (CompiledReferenceMlp model = new CompiledReferenceMlp(Workloads.PARAMETER_SEED)) {
            addTrainCheck(check, "reference", model, Workloads.REFERENCE_TRAIN_BATCH);
        }
        try (CompiledFashionMlp model = new CompiledFashionMlp(Workloads.PARAMETER_SEED)) {
            model.save(dir.resolve("fashion_mlp.safetensors"));
            addPredictCheck(check, "fashion", model, Workloads.FASHION_TRAIN_BATCH);
            addTrainCheck(check, "fashion", model, Workloads.FASHION_TRAIN_BATCH);
        }
        try (CompiledTinyLinear model = new CompiledTinyLinear(Workloads.PARAMETER_SEED)) {
            model.save(dir.resolve("tiny_linear.safetensors"));
            addPredictCheck(check, "tiny", model, 1);
        }

        Safetensors.write(dir.resolve("kiln_check.safetensors"), check,
                Map.of("parameter_seed", Long.toString(Workloads.PARAMETER_SEED),
                        "adam_lr", Double.toString(Workloads.ADAM_LR),
                        "adam_steps", Integer.toString(CHECK_STEPS)));
        System.out.println("wrote weights and check data to " + dir.toAbsolutePath());
    }

    private static void addPredictCheck(List<NamedTensor> check, String prefix, CompiledModel model, int batch) {
        int inWidth = Math.toIntExact(model.descriptor().inputWidth());
        int outWidth = Math.toIntExact(model.descriptor().outputWidth());
        float[] samples = Workloads.gaussian(batch * inWidth, Workloads.DATA_SEED);
        check.add(NamedTensor.ofFloats(prefix + ".predict_x", new long[] {batch, inWidth}, samples));
        check.add(NamedTensor.ofFloats(prefix + ".predict_y", new long[] {batch, outWidth},
                model.predict(samples, batch)));
    }

    /** Records the batch and the loss of each of {@link #CHECK_STEPS} Adam steps from the initial weights. */
    private static void addTrainCheck(List<NamedTensor> check, String prefix, CompiledModel model, int batch) {
        int inWidth = Math.toIntExact(model.descriptor().inputWidth());
        int classes = Math.toIntExact(model.descriptor().outputWidth());
        float[] samples = Workloads.gaussian(batch * inWidth, Workloads.DATA_SEED);
        int[] labels = Workloads.labels(batch, classes, Workloads.DATA_SEED + 1);
        Adam adam = new Adam(Workloads.ADAM_LR);
        float[] losses = new float[CHECK_STEPS];
        for (int step = 0; step < CHECK_STEPS; step++) {
            losses[step] = model.trainStep(samples, labels, batch, adam);
        }
        check.add(NamedTensor.ofFloats(prefix + ".train_x", new long[] {batch, inWidth}, samples));
        check.add(NamedTensor.ofInts(prefix + ".train_labels", new long[] {batch}, labels));
        check.add(NamedTensor.ofFloats(prefix + ".train_losses", new long[] {CHECK_STEPS}, losses));
    }
}
