package dev.kiln.nn;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Declares the per-sample shape of a {@code forward} parameter. The batch axis is not part of it:
 * {@code @Shape(13) Tensor x} is a batch of rows of 13 features, shape [B, 13] inside
 * {@code forward}.
 */
@Documented
@Retention(RetentionPolicy.CLASS)
@Target(ElementType.PARAMETER)
public @interface Shape {
    int[] value();
}
