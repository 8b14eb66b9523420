package dev.kiln.ir.lower;

import dev.kiln.ir.Node;
import dev.kiln.ir.Shape;
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
}
