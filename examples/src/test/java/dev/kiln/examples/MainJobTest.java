package dev.kiln.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.runtime.Device;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The README's main job and the regression example, end to end. */
class MainJobTest {

    @Test
    void wineReachesNinetyPercentAndReloadsInNewJvm(@TempDir Path dir) throws Exception {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        WineJob.Outcome outcome = WineJob.run(new WineJob.Settings(Path.of("data/wine_data.csv"), dir, 150, 16, 5e-3, 42, Device.cpu()),
                new PrintStream(log, true, StandardCharsets.UTF_8));
        assertTrue(outcome.testAccuracy() >= 0.90, "test accuracy " + outcome.testAccuracy() + "\n" + log);
        assertTrue(log.toString(StandardCharsets.UTF_8).contains("epoch 150/150"), "progress is printed per epoch");

        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "classify", "--model", outcome.model().toString(),
                "--rows", outcome.testRows().toString(), "--expect", outcome.predictions().toString()));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "classify did not finish");
        assertEquals(0, process.exitValue(), output);
        assertTrue(output.contains("all 53 predictions of the loaded model equal those of the trained model"), output);
    }

    @Test
    void wineOnOpenClMatchesCpuAccuracy(@TempDir Path dir) throws Exception {
        Device device;
        try {
            device = Device.openCl();
        } catch (dev.kiln.runtime.opencl.OpenClUnavailableException e) {
            org.junit.jupiter.api.Assumptions.assumeFalse(System.getenv("KILN_REQUIRE_OPENCL") == null,
                    "OpenCL is unavailable, so the OpenCL run is skipped: " + e.getMessage());
            throw e;
        }
        try (device) {
            PrintStream quiet = new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
            WineJob.Outcome cpu = WineJob.run(new WineJob.Settings(Path.of("data/wine_data.csv"), dir.resolve("cpu"),
                    150, 16, 5e-3, 42, Device.cpu()), quiet);
            WineJob.Outcome openCl = WineJob.run(new WineJob.Settings(Path.of("data/wine_data.csv"), dir.resolve("opencl"),
                    150, 16, 5e-3, 42, device), quiet);
            assertTrue(openCl.testAccuracy() >= 0.90, "OpenCL test accuracy " + openCl.testAccuracy());
            assertEquals(cpu.testAccuracy(), openCl.testAccuracy(), 1.0 / 53 + 1e-9,
                    "OpenCL and CPU accuracy differ by more than one test sample");
            List<String> reloaded = ClassifyJob.run(openCl.model(), openCl.testRows(), device);
            assertEquals(Files.readAllLines(openCl.predictions()), reloaded);
        }
    }

    @Test
    void diabetesBeatsPredictingTheMean() throws IOException {
        DiabetesJob.Outcome outcome = DiabetesJob.run(Path.of("data/diabetes.csv"), 40, 42, Device.cpu(),
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        assertTrue(outcome.testMse() < 0.75 * outcome.baselineMse(),
                "test MSE " + outcome.testMse() + " vs mean baseline " + outcome.baselineMse());
    }

    /** Runs the examples' command line in a new JVM and returns its exit status and output. */
    private static Result runMain(String... arguments) throws Exception {
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                Main.class.getName()));
        command.addAll(List.of(arguments));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(process.waitFor(60, TimeUnit.SECONDS), "command did not finish: " + command);
        return new Result(process.exitValue(), output);
    }

    private record Result(int status, String output) {
    }

    @Test
    void unknownOptionRejected() throws Exception {
        Result result = runMain("train-wine", "--epoch", "3");
        assertEquals(1, result.status(), result.output());
        assertTrue(result.output().startsWith("error: unknown option '--epoch' for train-wine; its options are --data,"),
                result.output());
    }

    @Test
    void optionWithoutValueRejected() throws Exception {
        Result result = runMain("train-diabetes", "--epochs");
        assertEquals(1, result.status(), result.output());
        assertTrue(result.output().startsWith("error: option --epochs needs a value"), result.output());
    }

    @Test
    void missingModelFileReportedWithoutStackTrace(@TempDir Path dir) throws Exception {
        Path missing = dir.resolve("nope.safetensors");
        Result result = runMain("classify", "--model", missing.toString(), "--rows", "data/wine_data.csv");
        assertEquals(1, result.status(), result.output());
        assertEquals("error: file not found: " + missing + "\n", result.output());
    }

    @Test
    void missingDataFileReportedWithoutStackTrace(@TempDir Path dir) throws Exception {
        Path missing = dir.resolve("missing.csv");
        Result result = runMain("train-wine", "--data", missing.toString());
        assertEquals(1, result.status(), result.output());
        assertEquals("error: file not found: " + missing + "\n", result.output());
    }

    @Test
    void malformedDataReportedInOneLine() throws Exception {
        // The diabetes file has a header of column names where the wine reader expects counts.
        Result result = runMain("train-wine", "--data", "data/diabetes.csv");
        assertEquals(1, result.status(), result.output());
        assertTrue(result.output().startsWith("error: data/diabetes.csv, line 1: "), result.output());
        assertEquals(1, result.output().lines().count(), result.output());
    }

    @Test
    void zeroEpochsRejected() throws Exception {
        Result result = runMain("train-wine", "--epochs", "0");
        assertEquals(1, result.status(), result.output());
        assertEquals("error: option --epochs needs a positive integer, got 0\n", result.output());
    }

    @Test
    void unusableOutputFolderFailsBeforeTraining(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("a-file");
        Files.writeString(file, "not a folder\n");
        Path out = file.resolve("wine");
        Result result = runMain("train-wine", "--data", "data/wine_data.csv", "--out", out.toString());
        assertEquals(1, result.status(), result.output());
        assertTrue(result.output().startsWith("error: cannot create the output folder " + out + ": "), result.output());
        assertFalse(result.output().contains("Exception"), result.output());
        assertEquals(1, result.output().lines().count(), result.output());
    }

    @Test
    void missingExpectedPredictionsReportedBeforeClassifying(@TempDir Path dir) throws Exception {
        WineJob.Outcome outcome = WineJob.run(new WineJob.Settings(Path.of("data/wine_data.csv"), dir, 1, 16, 1e-2, 1, Device.cpu()),
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        Path missing = dir.resolve("nothere.txt");
        Result result = runMain("classify", "--model", outcome.model().toString(), "--rows",
                outcome.testRows().toString(), "--expect", missing.toString());
        assertEquals(1, result.status(), result.output());
        assertEquals("error: file not found: " + missing + "\n", result.output());
    }

    @Test
    void classifyRejectsRowsOfWrongWidth(@TempDir Path dir) throws Exception {
        WineJob.Outcome outcome = WineJob.run(new WineJob.Settings(Path.of("data/wine_data.csv"), dir, 1, 16, 1e-2, 1, Device.cpu()),
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
        Path rows = dir.resolve("short.csv");
        Files.writeString(rows, "1,2,3\n");
        IllegalArgumentException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> ClassifyJob.run(outcome.model(), rows, Device.cpu()));
        assertTrue(e.getMessage().contains("3 columns"), e.getMessage());
        assertTrue(e.getMessage().contains("13 features"), e.getMessage());
    }
}
