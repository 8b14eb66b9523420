package dev.kiln.ir.oracle;

import dev.kiln.ir.Autodiff;
import dev.kiln.ir.DType;
import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.Node;
import dev.kiln.ir.Shape;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The graph of one oracle case, built as the fixture's numbers were computed: the op's value,
 * the VJP {@code d/dx sum(w * op)} for each differentiable operand, and the Hessian-vector
 * product {@code d/dx sum_i sum(v_i * grad_i)}, the second derivative taken by differentiating
 * the first with {@link Autodiff} again.
 *
 * <p>Inputs are named after the operands, {@code cotangent} and {@code direction.<operand>};
 * outputs are {@code value}, {@code grad.<operand>} and {@code hvp.<operand>}. A case marked value only
 * has the value alone.
 *
 * @param inputNodes every input node, by input name
 * @param inputs the fixture values of each input, by input name
 * @param outputNodes every output node, by output name
 * @param outputs the PyTorch values of each output, by output name
 */
public record OracleGraph(Map<String, Node> inputNodes, Map<String, OracleFixture.Tensor> inputs,
                          Map<String, Node> outputNodes, Map<String, OracleFixture.Tensor> outputs) {

    /** Builds the case's graph into {@code b} and declares its outputs, each name prefixed by {@code prefix}. */
    public static OracleGraph build(GraphBuilder b, String prefix, OracleFixture fixture,
                                    OracleFixture.Variant variant, OracleFixture.Case c) {
        Map<String, Node> inputNodes = new LinkedHashMap<>();
        Map<String, OracleFixture.Tensor> inputs = new LinkedHashMap<>();
        List<Node> operands = new ArrayList<>();
        List<Node> differentiable = new ArrayList<>();
        List<String> differentiableNames = new ArrayList<>();
        // A loss averages over the batch axis, which Kiln's losses read as the batch size, so axis 0
        // of a loss's operands is the batch axis and the case runs at a batch of that extent.
        boolean loss = fixture.family().equals("loss");
        List<Boolean> batchedOperands = new ArrayList<>();
        for (OracleFixture.Operand operand : c.operands()) {
            DType dtype = operand.isIndex() ? DType.I32 : DType.F32;
            boolean batched = loss || operand.batched();
            Node node = input(b, prefix + operand.name(), operand.tensor(), dtype, batched, inputNodes, inputs);
            operands.add(node);
            if (operand.differentiable()) {
                differentiable.add(node);
                differentiableNames.add(operand.name());
                batchedOperands.add(batched);
            }
        }
        Node value = OracleOps.builder(fixture.op()).build(b, variant, operands);

        Map<String, Node> outputNodes = new LinkedHashMap<>();
        Map<String, OracleFixture.Tensor> outputs = new LinkedHashMap<>();
        outputNodes.put(prefix + "value", value);
        outputs.put(prefix + "value", c.value());
        if (!differentiable.isEmpty() && c.hasDerivatives()) {
            // The cotangent has the value's shape, so it has a batch axis where the value keeps one.
            Node w = input(b, prefix + "cotangent", c.cotangent(), DType.F32, value.shape().isBatched(), inputNodes,
                    inputs);
            List<Node> grads = Autodiff.grad(b, b.sum(b.mul(w, value)), differentiable);
            Node total = null;
            for (int i = 0; i < grads.size(); i++) {
                String name = differentiableNames.get(i);
                Node v = input(b, prefix + "direction." + name, c.directions().get(name), DType.F32,
                        batchedOperands.get(i), inputNodes, inputs);
                Node term = b.sum(b.mul(v, grads.get(i)));
                total = total == null ? term : b.add(total, term);
            }
            List<Node> hvps = Autodiff.grad(b, total, differentiable);
            for (int i = 0; i < grads.size(); i++) {
                String name = differentiableNames.get(i);
                outputNodes.put(prefix + "grad." + name, grads.get(i));
                outputs.put(prefix + "grad." + name, c.grads().get(name));
                outputNodes.put(prefix + "hvp." + name, hvps.get(i));
                outputs.put(prefix + "hvp." + name, c.hvps().get(name));
            }
        }
        outputNodes.forEach(b::output);
        return new OracleGraph(inputNodes, inputs, outputNodes, outputs);
    }

    private static Node input(GraphBuilder b, String name, OracleFixture.Tensor tensor, DType dtype, boolean batched,
                              Map<String, Node> nodes, Map<String, OracleFixture.Tensor> values) {
        if (tensor == null) {
            throw new IllegalArgumentException("fixture lacks the tensor for input '" + name + "'");
        }
        int[] extents = tensor.shape().clone();
        if (batched && extents.length > 0) {
            extents[0] = Shape.BATCH;
        }
        Node node = b.input(name, Shape.of(extents), dtype);
        nodes.put(name, node);
        values.put(name, tensor);
        return node;
    }
}
