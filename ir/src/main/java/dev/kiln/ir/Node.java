package dev.kiln.ir;

import java.util.List;

/**
 * One value in a graph: an op applied to input nodes. Nodes are immutable and are created only
 * through a {@link GraphBuilder}, which checks the shape rule of the op.
 *
 * @param id position in the builder, unique within a graph
 * @param op the op, including its attributes
 * @param inputs operand nodes
 * @param shape shape of the value
 * @param dtype element type of the value
 * @param origin source position that produced this node, or {@code null}
 */
public record Node(int id, Op op, List<Node> inputs, Shape shape, DType dtype, String origin) {

    public Node {
        inputs = List.copyOf(inputs);
    }

    public Node input(int i) {
        return inputs.get(i);
    }

    /** Returns the SSA name of this node, {@code %id}. */
    public String ref() {
        return "%" + id;
    }

    @Override
    public boolean equals(Object o) {
        return this == o;
    }

    @Override
    public int hashCode() {
        return System.identityHashCode(this);
    }

    @Override
    public String toString() {
        return ref() + " = " + op.text() + " : " + dtype.text() + shape;
    }
}
