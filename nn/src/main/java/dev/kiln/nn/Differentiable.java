package dev.kiln.nn;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Compiles a method {@code Tensor m(@Shape(...) Tensor x)} together with its derivatives up to
 * {@link #order()}, as JAX's {@code grad(grad(grad(f)))} does. The build generates
 * {@code Compiled<Class><Method>} with {@code derivative(k, x, batch)}: the k-th derivative of the
 * sum of the outputs with respect to the input, which for a function applied elementwise is
 * f^(k) at every element. The method may use the ops of {@link Functional} and other methods of
 * its class, but no layers.
 */
@Documented
@Retention(RetentionPolicy.CLASS)
@Target(ElementType.METHOD)
public @interface Differentiable {
    /** The highest derivative compiled, from 0 (the value only) to 8. */
    int order() default 1;
}
