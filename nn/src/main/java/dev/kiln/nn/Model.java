package dev.kiln.nn;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a model class for compilation. The Kiln annotation processor reads the class's
 * {@code forward} method, differentiates it and generates {@code Compiled<Name>}, a class that
 * trains and predicts through a native library built from the model.
 *
 * <p>A class used only as a building block of other models (a field of a model) needs no
 * annotation.
 */
@Documented
@Retention(RetentionPolicy.CLASS)
@Target(ElementType.TYPE)
public @interface Model {
    /** The loss the compiled training step minimizes. */
    LossKind loss() default LossKind.CROSS_ENTROPY;

    /** The reduction of the standard loss's terms. A custom loss method reduces its terms itself. */
    LossReduction reduction() default LossReduction.MEAN;

    /** The optimizers compiled into the library. */
    OptimizerKind[] optimizers() default {OptimizerKind.ADAM, OptimizerKind.SGD};
}
