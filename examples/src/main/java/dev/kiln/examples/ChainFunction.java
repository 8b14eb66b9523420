package dev.kiln.examples;

import static dev.kiln.nn.Functional.cos;
import static dev.kiln.nn.Functional.exp;
import static dev.kiln.nn.Functional.sin;
import static dev.kiln.nn.Functional.square;

import dev.kiln.nn.Differentiable;
import dev.kiln.nn.Shape;
import dev.kiln.nn.Tensor;

/**
 * A scalar function compiled with its first, second and third derivatives, what
 * {@code grad(grad(grad(f)))} gives in JAX. The build generates {@code CompiledChainFunctionF}.
 */
public final class ChainFunction {
    private ChainFunction() {
    }

    /** f(x) = exp(c) + sin(c) where a = x^2, b = cos(a) and c = a * b. */
    @Differentiable(order = 3)
    public static Tensor f(@Shape(1) Tensor x) {
        Tensor a = square(x);
        Tensor b = cos(a);
        Tensor c = a.mul(b);
        Tensor d = exp(c);
        Tensor e = sin(c);
        return d.add(e);
    }
}
