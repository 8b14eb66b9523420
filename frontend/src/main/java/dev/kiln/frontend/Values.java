package dev.kiln.frontend;

import com.github.javaparser.ast.body.ClassOrInterfaceDeclaration;
import dev.kiln.ir.Node;
import java.util.LinkedHashMap;
import java.util.Map;

/** The values that Kiln's symbolic evaluation of a model class works with. */
final class Values {
    private Values() {
    }

    /** A tensor: a node of the forward graph. */
    record TensorValue(Node node) {
    }

    /** Several tensors returned together, {@code new Tensor[] {a, b}}. */
    record TensorArray(java.util.List<Object> values) {
    }

    /** A compile-time integer. */
    record IntValue(long value) {
    }

    /** A compile-time floating-point number. */
    record DoubleValue(double value) {
    }

    /** A compile-time boolean. */
    record BoolValue(boolean value) {
    }

    /** A value whose evaluation already failed with a reported error; uses of it report nothing more. */
    enum Poison {
        INSTANCE
    }

    /** A {@code Linear} layer held by a field; its parameters are {@code <path>.weight} and {@code <path>.bias}. */
    record LinearLayer(String path, int in, int out, boolean bias) {
        String weightName() {
            return path + ".weight";
        }

        String biasName() {
            return path + ".bias";
        }

        String describe() {
            return "Linear(" + in + ", " + out + (bias ? "" : ", false") + ")";
        }
    }

    /** A parameter-free layer such as {@code new Tanh()}: the op it applies. */
    record ActivationLayer(String type, String op) {
    }

    /** A {@code Sequential} held by a field: its children, bound to the paths {@code <path>.<index>}. */
    record SequentialLayer(String path, java.util.List<Object> children) {
    }

    /** An instance of a model class: its declaration, the path of its fields, and their values. */
    static final class ModuleInstance {
        final ClassOrInterfaceDeclaration declaration;
        final String prefix;
        final Map<String, Object> fields = new LinkedHashMap<>();

        ModuleInstance(ClassOrInterfaceDeclaration declaration, String prefix) {
            this.declaration = declaration;
            this.prefix = prefix;
        }

        String name() {
            return declaration.getNameAsString();
        }
    }
}
