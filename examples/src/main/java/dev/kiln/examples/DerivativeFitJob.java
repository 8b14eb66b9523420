package dev.kiln.examples;

import dev.kiln.nn.Adam;
import dev.kiln.nn.CosineAnnealingLr;
import dev.kiln.runtime.Device;
import java.io.PrintStream;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * Trains {@link DerivativeFitNet} on samples of sin(x) over [-pi, pi] with a loss that also
 * penalizes du/dx against cos(x), then reports the largest errors of u and of du/dx on a grid.
 * The derivative of the trained network is measured by central differences of its predictions.
 */
public final class DerivativeFitJob {
    private DerivativeFitJob() {
    }

    /** Largest errors on a grid of 201 points: of u against sin and of du/dx against cos. */
    public record Outcome(double firstLoss, double lastLoss, double maxValueError, double maxSlopeError) {
    }

    public static Outcome run(int steps, long seed, Device device, PrintStream log) {
        int batch = 64;
        SplittableRandom random = new SplittableRandom(seed);
        float[] x = new float[batch];
        float[] target = new float[batch];
        try (CompiledDerivativeFitNet model = new CompiledDerivativeFitNet(seed, device)) {
            log.println("device: " + model.device());
            Adam adam = new Adam(3e-3);
            // Annealing the rate to 0 lets the last steps settle instead of oscillating around the fit.
            CosineAnnealingLr schedule = new CosineAnnealingLr(adam, steps);
            double firstLoss = Double.NaN;
            double lastLoss = Double.NaN;
            for (int step = 0; step < steps; step++) {
                for (int i = 0; i < batch; i++) {
                    x[i] = (float) random.nextDouble(-Math.PI, Math.PI);
                    target[i] = (float) Math.sin(x[i]);
                }
                lastLoss = model.trainStep(x, target, batch, adam);
                schedule.step();
                if (step == 0) {
                    firstLoss = lastLoss;
                }
                int completed = step + 1;
                if (completed == 1 || completed % 500 == 0 || completed == steps) {
                    log.printf(Locale.ROOT, "step %5d  loss %.6f%n", completed, lastLoss);
                }
            }
            int points = 201;
            float h = 1e-2f;
            float[] grid = new float[points * 3];
            for (int i = 0; i < points; i++) {
                float xi = (float) (-Math.PI + 2 * Math.PI * i / (points - 1));
                grid[3 * i] = xi;
                grid[3 * i + 1] = xi + h;
                grid[3 * i + 2] = xi - h;
            }
            float[] u = model.predict(grid, grid.length);
            double maxValueError = 0;
            double maxSlopeError = 0;
            for (int i = 0; i < points; i++) {
                double xi = grid[3 * i];
                double slope = (u[3 * i + 1] - u[3 * i + 2]) / (2.0 * h);
                maxValueError = Math.max(maxValueError, Math.abs(u[3 * i] - Math.sin(xi)));
                maxSlopeError = Math.max(maxSlopeError, Math.abs(slope - Math.cos(xi)));
            }
            log.printf(Locale.ROOT, "max |u - sin| %.4f, max |du/dx - cos| %.4f on [-pi, pi]%n", maxValueError, maxSlopeError);
            return new Outcome(firstLoss, lastLoss, maxValueError, maxSlopeError);
        }
    }
}
