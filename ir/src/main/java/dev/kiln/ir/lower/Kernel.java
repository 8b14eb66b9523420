package dev.kiln.ir.lower;

import dev.kiln.ir.Node;
import dev.kiln.ir.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/** One step of a lowered entry, in the order the backends run them. */
public sealed interface Kernel {

    /**
     * One loop over {@code shape} that computes a chain of elementwise nodes element by element.
     * Nodes in {@code stored} are written to their locations; the others stay in registers.
     */
    record Fused(Shape shape, List<Node> nodes, Set<Node> stored) implements Kernel {
    }

    /** A scalar computed once, in double precision. */
    record Scalar(Node node) implements Kernel {
    }

    /** A node with its own kernel: matmul, reduction, row op or index op. */
    record Single(Node node) implements Kernel {
    }

    /** Copies a value into a caller's buffer or a store target at the end of the entry. */
    record Copy(Node value, Location target) implements Kernel {
    }

    /**
     * Kernels that compute only the true branch of a scalar {@code where} on {@code condition}, so
     * skipping them where it is zero changes no result. A backend may also run them always.
     */
    record Guarded(Node condition, List<Kernel> body) implements Kernel {
        public Guarded {
            body = List.copyOf(body);
        }
    }

    /** Returns the kernels in the order they run, with the bodies of guarded kernels spliced in. */
    static List<Kernel> flatten(List<Kernel> kernels) {
        List<Kernel> flat = new ArrayList<>();
        for (Kernel kernel : kernels) {
            if (kernel instanceof Guarded guarded) {
                flat.addAll(flatten(guarded.body()));
            } else {
                flat.add(kernel);
            }
        }
        return flat;
    }
}
