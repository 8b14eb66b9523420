package dev.kiln.ir;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Derivatives of derivatives: autodiff applied to its own output, in the reference evaluator. */
class HigherOrderTest {

    /** f(x) = exp(c) + sin(c), a = x^2, b = cos(a), c = a b, built as IR. */
    private static Node chain(GraphBuilder b, Node x) {
        Node a = b.square(x);
        Node c = b.mul(a, b.cos(a));
        return b.add(b.exp(c), b.sin(c));
    }

    /** Returns f^(k)(x) for k = 0..3 at each point, by differentiating the sum k times. */
    private static double[][] derivatives(double[] points) {
        GraphBuilder b = new GraphBuilder("chain");
        Node x = b.input("x", Shape.batched(), DType.F32);
        Node[] orders = new Node[4];
        orders[0] = chain(b, x);
        for (int k = 1; k < 4; k++) {
            orders[k] = Autodiff.grad(b, b.sum(orders[k - 1]), List.of(x)).get(0);
        }
        for (int k = 0; k < 4; k++) {
            b.output("d" + k, orders[k]);
        }
        Evaluator.Result result = new Evaluator().input("x", points).run(b.build(), points.length);
        double[][] out = new double[4][];
        for (int k = 0; k < 4; k++) {
            out[k] = result.output("d" + k);
        }
        return out;
    }

    @Test
    void eachOrderMatchesDifferencesOfTheOrderBelow() {
        double[] points = {-1.3, -0.2, 0.0, 0.4, 0.9, 1.6, 2.2};
        double h = 1e-5;
        double[][] at = derivatives(points);
        for (int k = 1; k < 4; k++) {
            double[] up = derivatives(shift(points, h))[k - 1];
            double[] down = derivatives(shift(points, -h))[k - 1];
            for (int i = 0; i < points.length; i++) {
                double difference = (up[i] - down[i]) / (2 * h);
                assertEquals(difference, at[k][i], 1e-5 * (1 + Math.abs(difference)), "order " + k + " at " + points[i]);
            }
        }
    }

    @Test
    void secondDerivativeOfSquareAtZeroIsTwo() {
        GraphBuilder b = new GraphBuilder("square");
        Node x = b.input("x", Shape.batched(), DType.F32);
        Node first = Autodiff.grad(b, b.sum(b.square(x)), List.of(x)).get(0);
        Node second = Autodiff.grad(b, b.sum(first), List.of(x)).get(0);
        Node third = Autodiff.grad(b, b.sum(second), List.of(x)).get(0);
        b.output("second", second);
        b.output("third", third);
        Evaluator.Result result = new Evaluator().input("x", new double[] {0, 3}).run(b.build(), 2);
        assertEquals(2.0, result.output("second")[0]);
        assertEquals(2.0, result.output("second")[1]);
        assertEquals(0.0, result.output("third")[0]);
        assertEquals(0.0, result.output("third")[1]);
    }

    /**
     * For F(x) = tanh(x W^T + b) W2^T: {@code <u, J v> = <J^T u, v>}, with J^T u from one VJP and
     * J v from differentiating w -> <J^T w, v> by w, a VJP of a VJP.
     */
    @Test
    void jvpAndVjpSatisfyTheInnerProductIdentity() {
        Random random = new Random(5);
        int batch = 3;
        GraphBuilder b = new GraphBuilder("identity");
        Node x = b.input("x", Shape.batched(4), DType.F32);
        Node w = b.input("w", Shape.batched(2), DType.F32);
        Node v = b.input("v", Shape.batched(4), DType.F32);
        Node hidden = b.tanh(b.linear(x, b.param("fc1.weight", Shape.of(5, 4)), b.param("fc1.bias", Shape.of(5))));
        Node y = b.matmul(hidden, b.param("fc2.weight", Shape.of(2, 5)), false, true);
        Node vjp = Autodiff.vjp(b, y, w, List.of(x)).get(0);
        Node jvp = Autodiff.grad(b, b.sum(b.mul(vjp, v)), List.of(w)).get(0);
        b.output("vjp", vjp);
        b.output("jvp", jvp);
        Evaluator evaluator = new Evaluator()
                .input("x", gaussian(random, batch * 4))
                .input("w", gaussian(random, batch * 2))
                .input("v", gaussian(random, batch * 4))
                .param("fc1.weight", gaussian(random, 20))
                .param("fc1.bias", gaussian(random, 5))
                .param("fc2.weight", gaussian(random, 10));
        Evaluator.Result result = evaluator.run(b.build(), batch);
        double left = dot(result.value(w), result.output("jvp"));
        double right = dot(result.output("vjp"), result.value(v));
        assertEquals(right, left, 1e-12 * (1 + Math.abs(right)));
    }

    private static double[] shift(double[] points, double h) {
        double[] out = points.clone();
        for (int i = 0; i < out.length; i++) {
            out[i] += h;
        }
        return out;
    }

    private static double[] gaussian(Random random, int n) {
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            out[i] = random.nextGaussian();
        }
        return out;
    }

    private static double dot(double[] a, double[] b) {
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            sum += a[i] * b[i];
        }
        return sum;
    }
}
