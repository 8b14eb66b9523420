package dev.kiln.examples;

import dev.kiln.data.CsvFormatOptions;
import dev.kiln.data.Csv;
import dev.kiln.data.StandardScaler;
import dev.kiln.data.Table;
import dev.kiln.runtime.Device;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * Loads a saved {@link WineNet} and classifies rows of a CSV file of raw (unscaled) features,
 * using the feature scaling and class names stored in the checkpoint's metadata.
 */
public final class ClassifyJob {
    private ClassifyJob() {
    }

    /** Returns the predicted class name of every row of {@code rows}. */
    public static List<String> run(Path modelFile, Path rows, Device device) throws IOException {
        try (CompiledWineNet model = CompiledWineNet.fromCheckpoint(modelFile, device)) {
            Map<String, String> metadata = model.load(modelFile);
            StandardScaler scaler = StandardScaler.fromMetadata(metadata);
            String classes = metadata.get("classes");
            if (classes == null) {
                throw new IllegalArgumentException(modelFile + " has no 'classes' metadata; save it with WineJob");
            }
            List<String> classNames = Arrays.asList(classes.split(","));
            Table table = Csv.readTable(rows, CsvFormatOptions.commaSeparated(false));
            if (table.columnCount() != CompiledWineNet.INPUT_WIDTH) {
                throw new IllegalArgumentException(rows + " has " + table.columnCount() + " columns; the model takes "
                        + CompiledWineNet.INPUT_WIDTH + " features per row");
            }
            List<String> out = new ArrayList<>();
            float[] row = new float[CompiledWineNet.INPUT_WIDTH];
            for (int r = 0; r < table.rowCount(); r++) {
                for (int c = 0; c < row.length; c++) {
                    row[c] = table.value(r, c);
                }
                scaler.transformInPlace(row);
                out.add(classNames.get(model.predictClass(row)));
            }
            return out;
        }
    }
}
