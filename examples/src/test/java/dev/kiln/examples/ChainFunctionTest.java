package dev.kiln.examples;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** The compiled function and its first three derivatives against exact values and each other. */
class ChainFunctionTest {
    static final float[] POINTS = {0f, 0.25f, 0.5f, 1f, -1.3f, 1.7f, 2.2f, -0.01f};

    /**
     * Truncated Taylor series c[0] + c[1] t + c[2] t^2 + c[3] t^3 around a point: arithmetic on
     * them gives exact derivatives in double, f^(k) = k! c[k].
     */
    record Jet(double c0, double c1, double c2, double c3) {
        static Jet variable(double x) {
            return new Jet(x, 1, 0, 0);
        }

        Jet mul(Jet o) {
            return new Jet(c0 * o.c0, c0 * o.c1 + c1 * o.c0, c0 * o.c2 + c1 * o.c1 + c2 * o.c0,
                    c0 * o.c3 + c1 * o.c2 + c2 * o.c1 + c3 * o.c0);
        }

        Jet add(Jet o) {
            return new Jet(c0 + o.c0, c1 + o.c1, c2 + o.c2, c3 + o.c3);
        }

        /** Composes g (given by g and its first three derivatives at c0) with this series. */
        Jet compose(double g0, double g1, double g2, double g3) {
            return new Jet(g0, g1 * c1, g1 * c2 + g2 * c1 * c1 / 2,
                    g1 * c3 + g2 * c1 * c2 + g3 * c1 * c1 * c1 / 6);
        }

        Jet exp() {
            double e = Math.exp(c0);
            return compose(e, e, e, e);
        }

        Jet sin() {
            return compose(Math.sin(c0), Math.cos(c0), -Math.sin(c0), -Math.cos(c0));
        }

        Jet cos() {
            return compose(Math.cos(c0), -Math.sin(c0), -Math.cos(c0), Math.sin(c0));
        }

        double derivative(int k) {
            return switch (k) {
                case 0 -> c0;
                case 1 -> c1;
                case 2 -> 2 * c2;
                default -> 6 * c3;
            };
        }
    }

    static Jet f(double x) {
        Jet v = Jet.variable(x);
        Jet a = v.mul(v);
        Jet b = a.cos();
        Jet c = a.mul(b);
        return c.exp().add(c.sin());
    }

    @Test
    void everyOrderMatchesExactDerivatives() {
        try (CompiledChainFunctionF function = new CompiledChainFunctionF()) {
            for (int k = 0; k <= 3; k++) {
                float[] native_ = function.derivative(k, POINTS, POINTS.length);
                double max = 0;
                for (float x : POINTS) {
                    max = Math.max(max, Math.abs(f(x).derivative(k)));
                }
                for (int i = 0; i < POINTS.length; i++) {
                    double exact = f(POINTS[i]).derivative(k);
                    assertEquals(exact, native_[i], 1e-4 * (Math.abs(exact) + max), "order " + k + " at x = " + POINTS[i]);
                }
            }
        }
    }

    @Test
    void eachOrderMatchesDifferencesOfTheOrderBelow() {
        try (CompiledChainFunctionF function = new CompiledChainFunctionF()) {
            for (int k = 1; k <= 3; k++) {
                for (float x : POINTS) {
                    // Richardson extrapolation of two central differences cancels the h^2 error term.
                    double coarse = centralDifference(function, k - 1, x, 2e-2f);
                    double fine = centralDifference(function, k - 1, x, 1e-2f);
                    double difference = (4 * fine - coarse) / 3;
                    float derivative = function.derivative(k, new float[] {x}, 1)[0];
                    assertEquals(derivative, difference, 2e-3 * (1 + Math.abs(derivative)),
                            "order " + k + " at x = " + x);
                }
            }
        }
    }

    private static double centralDifference(CompiledChainFunctionF function, int order, float x, float h) {
        float up = function.derivative(order, new float[] {x + h}, 1)[0];
        float down = function.derivative(order, new float[] {x - h}, 1)[0];
        return (up - down) / (2.0 * h);
    }

    @Test
    void orderAboveCompiledIsRejected() {
        try (CompiledChainFunctionF function = new CompiledChainFunctionF()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> function.derivative(4, POINTS, POINTS.length));
            assertTrue(e.getMessage().contains("order 0 to 3"), e.getMessage());
        }
    }
}
