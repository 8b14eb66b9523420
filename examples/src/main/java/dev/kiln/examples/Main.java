package dev.kiln.examples;

import dev.kiln.data.DataFormatException;
import dev.kiln.runtime.Device;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Command line of the examples.
 *
 * <pre>
 * train-wine [--data FILE] [--out DIR] [--epochs N] [--lr RATE] [--seed S]
 * classify --model FILE --rows FILE [--expect FILE]
 * train-diabetes [--data FILE] [--epochs N] [--seed S]
 * </pre>
 */
public final class Main {
    private Main() {
    }

    static final String USAGE = """
            usage:
              train-wine [--data FILE] [--out DIR] [--epochs N] [--lr RATE] [--seed S] [--device D]
                  train WineNet on the Wine CSV (default examples/data/wine_data.csv), save it to DIR/wine.safetensors
                  (default DIR: target/wine) with the test rows and their predictions
              classify --model FILE --rows FILE [--expect FILE] [--device D]
                  load a saved WineNet and print the class of each CSV row of raw features; with --expect, compare
                  with the class names in FILE (one per line) and fail if any differs
              train-diabetes [--data FILE] [--epochs N] [--seed S] [--device D]
                  train DiabetesNet with MSE on the diabetes CSV (default examples/data/diabetes.csv)
              derivatives [--x X1,X2,...]
                  print f(x) = exp(c) + sin(c), c = x^2 cos(x^2), and its first three derivatives, compiled
                  from ChainFunction.f
              fit-derivative [--steps N] [--seed S] [--device D]
                  fit u(x) to sin(x) with a loss that also penalizes du/dx against cos(x)
            --device D runs the model on cpu (the C library, default), opencl (the best OpenCL device),
              opencl:NAME (the OpenCL device whose name contains NAME) or best (OpenCL if present, else cpu)
            """;

    public static void main(String[] args) throws IOException {
        if (Runtime.version().feature() < 22) {
            System.err.println("Kiln needs Java 22 or newer (JDK 25 recommended); this is Java " + Runtime.version());
            System.exit(2);
        }
        if (args.length == 0) {
            System.err.print(USAGE);
            System.exit(2);
        }
        List<String> allowed = OPTIONS.get(args[0]);
        if (allowed == null) {
            System.err.println("unknown command '" + args[0] + "'");
            System.err.print(USAGE);
            System.exit(2);
        }
        try {
            Options options = Options.parse(args, allowed);
            switch (args[0]) {
                case "train-wine" -> {
                    try (Device device = options.device()) {
                        WineJob.Settings settings = new WineJob.Settings(
                                options.path("--data", "examples/data/wine_data.csv"),
                                options.path("--out", "target/wine"),
                                options.positive("--epochs", 150), 16, options.decimal("--lr", 5e-3),
                                options.integer("--seed", 42), device);
                        WineJob.run(settings, System.out);
                    }
                }
                case "classify" -> classify(options);
                case "derivatives" -> derivatives(options);
                case "fit-derivative" -> {
                    try (Device device = options.device()) {
                        DerivativeFitJob.run(options.positive("--steps", 3000), options.integer("--seed", 42), device,
                                System.out);
                    }
                }
                case "train-diabetes" -> {
                    try (Device device = options.device()) {
                        DiabetesJob.run(options.path("--data", "examples/data/diabetes.csv"),
                                options.positive("--epochs", 40), options.integer("--seed", 42), device, System.out);
                    }
                }
                default -> throw new IllegalStateException("no handler for command '" + args[0] + "'");
            }
        } catch (IllegalArgumentException | DataFormatException e) {
            System.err.println("error: " + e.getMessage());
            System.exit(1);
        } catch (UncheckedIOException e) {
            System.err.println("error: " + describe(e.getCause()));
            System.exit(1);
        } catch (IOException e) {
            System.err.println("error: " + describe(e));
            System.exit(1);
        }
    }

    /** Returns a one-line account of a failed file operation, without the exception's class name. */
    static String describe(IOException e) {
        return switch (e) {
            case NoSuchFileException missing -> "file not found: " + missing.getFile();
            case AccessDeniedException denied -> "permission denied: " + denied.getFile();
            case FileSystemException other -> "cannot use " + other.getFile() + ": " + FileErrors.reason(other);
            default -> FileErrors.reason(e);
        };
    }

    /** The options that each command accepts. */
    private static final Map<String, List<String>> OPTIONS = Map.of(
            "train-wine", List.of("--data", "--out", "--epochs", "--lr", "--seed", "--device"),
            "classify", List.of("--model", "--rows", "--expect", "--device"),
            "train-diabetes", List.of("--data", "--epochs", "--seed", "--device"),
            "derivatives", List.of("--x"),
            "fit-derivative", List.of("--steps", "--seed", "--device"));

    private static void classify(Options options) throws IOException {
        Path model = options.required("--model");
        Path rows = options.required("--rows");
        Path expect = options.path("--expect", null);
        for (Path file : expect == null ? List.of(model, rows) : List.of(model, rows, expect)) {
            if (!Files.isRegularFile(file)) {
                throw new NoSuchFileException(file.toString());
            }
        }
        List<String> predicted;
        try (Device device = options.device()) {
            predicted = ClassifyJob.run(model, rows, device);
        }
        for (int i = 0; i < predicted.size(); i++) {
            System.out.println((i + 1) + "\t" + predicted.get(i));
        }
        if (expect != null) {
            List<String> expected = Files.readAllLines(expect);
            long differences = 0;
            for (int i = 0; i < Math.max(expected.size(), predicted.size()); i++) {
                String a = i < expected.size() ? expected.get(i) : "<none>";
                String b = i < predicted.size() ? predicted.get(i) : "<none>";
                if (!a.equals(b)) {
                    differences++;
                    System.out.println("row " + (i + 1) + ": saved run predicted " + a + ", loaded model predicts " + b);
                }
            }
            if (differences > 0) {
                System.out.println(differences + " of " + expected.size() + " predictions differ");
                System.exit(1);
            }
            System.out.printf(Locale.ROOT, "all %d predictions of the loaded model equal those of the trained model%n",
                    predicted.size());
        }
    }

    private static void derivatives(Options options) {
        String text = options.value("--x");
        String[] parts = (text == null ? "0,0.5,1,1.5" : text).split(",");
        float[] x = new float[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                x[i] = Float.parseFloat(parts[i].trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--x needs comma-separated numbers, got '" + parts[i] + "'");
            }
        }
        try (CompiledChainFunctionF f = new CompiledChainFunctionF()) {
            float[][] orders = new float[f.order() + 1][];
            for (int k = 0; k <= f.order(); k++) {
                orders[k] = f.derivative(k, x, x.length);
            }
            System.out.printf(Locale.ROOT, "%10s %14s %14s %14s %14s%n", "x", "f", "f'", "f''", "f'''");
            for (int i = 0; i < x.length; i++) {
                System.out.printf(Locale.ROOT, "%10.4f %14.6f %14.6f %14.6f %14.6f%n",
                        x[i], orders[0][i], orders[1][i], orders[2][i], orders[3][i]);
            }
        }
    }

    /** Option values by name, from the {@code --name value} pairs after the command. */
    private record Options(Map<String, String> values) {
        /** Parses the pairs after {@code args[0]}, rejecting names that the command does not accept. */
        static Options parse(String[] args, List<String> allowed) {
            Map<String, String> values = new HashMap<>();
            for (int i = 1; i < args.length; i += 2) {
                String name = args[i];
                if (!allowed.contains(name)) {
                    throw new IllegalArgumentException("unknown option '" + name + "' for " + args[0]
                            + "; its options are " + String.join(", ", allowed));
                }
                if (i + 1 == args.length) {
                    throw new IllegalArgumentException("option " + name + " needs a value");
                }
                if (values.put(name, args[i + 1]) != null) {
                    throw new IllegalArgumentException("option " + name + " is given twice");
                }
            }
            return new Options(values);
        }

        String value(String name) {
            return values.get(name);
        }

        Path path(String name, String fallback) {
            String value = value(name);
            if (value != null) {
                return Path.of(value);
            }
            return fallback == null ? null : Path.of(fallback);
        }

        Path required(String name) {
            Path value = path(name, null);
            if (value == null) {
                throw new IllegalArgumentException("missing option " + name + "\n" + USAGE);
            }
            return value;
        }

        double decimal(String name, double fallback) {
            String value = value(name);
            try {
                return value == null ? fallback : Double.parseDouble(value);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("option " + name + " needs a number, got '" + value + "'");
            }
        }

        Device device() {
            String value = value("--device");
            return value == null ? Device.cpu() : Device.parse(value);
        }

        int positive(String name, int fallback) {
            int value = integer(name, fallback);
            if (value < 1) {
                throw new IllegalArgumentException("option " + name + " needs a positive integer, got " + value);
            }
            return value;
        }

        int integer(String name, int fallback) {
            String value = value(name);
            try {
                return value == null ? fallback : Integer.parseInt(value);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("option " + name + " needs an integer, got '" + value + "'");
            }
        }
    }
}
