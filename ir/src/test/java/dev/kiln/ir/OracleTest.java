package dev.kiln.ir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

import dev.kiln.ir.oracle.OracleConventions;
import dev.kiln.ir.oracle.OracleConventions.Convention;
import dev.kiln.ir.oracle.OracleConventions.Output;
import dev.kiln.ir.oracle.OracleFixture;
import dev.kiln.ir.oracle.OracleGraph;
import dev.kiln.ir.oracle.OracleOps;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every op of the IR against PyTorch 1.13 in float64: the value, the VJP of a random cotangent
 * and a Hessian-vector product, each built with {@link Autodiff} and run by the reference
 * {@link Evaluator}, at random and special points. The numbers come from
 * {@code tools/oracle/op_reference.py} and are committed under {@code oracle/}, so the test needs
 * no PyTorch.
 *
 * <p>At a few points Kiln documents a derivative that differs from PyTorch's. There the test
 * checks Kiln's documented value instead, computed from the fixture's operands, cotangent and
 * directions; {@link OracleConventions} lists them.
 */
class OracleTest {
    /** Tolerance of double against double: relative, plus an absolute floor for results near 0. */
    private static final double RELATIVE = 1e-9;
    private static final double ABSOLUTE = 1e-12;

    /**
     * PyTorch's softplus returns x, with derivatives 1 and 0, where x > 20 (its default threshold),
     * and its second derivative is 0 from x = 20 on. Kiln's softplus is exact, so the two differ
     * there by at most e^-20 = 2.1e-9 times |w v|.
     */
    private static final Map<String, Double> ABSOLUTE_BY_OP = Map.of("softplus", 1e-8);

    static Stream<String> ops() {
        return OracleFixture.index().stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("ops")
    void matchesPyTorch(String op) {
        OracleFixture fixture = OracleFixture.load(op);
        List<String> failures = new ArrayList<>();
        int checked = 0;
        for (OracleFixture.Variant variant : fixture.variants()) {
            for (OracleFixture.Case c : variant.cases()) {
                GraphBuilder b = new GraphBuilder(op);
                OracleGraph graph = OracleGraph.build(b, "", fixture, variant, c);
                Evaluator evaluator = new Evaluator();
                graph.inputs().forEach((name, tensor) -> evaluator.input(name, tensor.values()));
                Evaluator.Result result = evaluator.run(b.build(), c.batch());
                for (Map.Entry<String, OracleFixture.Tensor> output : graph.outputs().entrySet()) {
                    Output o = new Output(op, variant, c, output.getKey());
                    checked += compare(o, output.getValue().values(), result.output(output.getKey()), failures);
                }
            }
        }
        assertFalse(checked == 0, op + ": the fixture has no values");
        if (!failures.isEmpty()) {
            fail(failures.size() + " of " + checked + " values differ from PyTorch:\n"
                    + String.join("\n", failures.subList(0, Math.min(40, failures.size()))));
        }
    }

    /** The fixture index and the Java op table name the same ops, so no fixture goes unchecked. */
    @Test
    void everyFixtureHasAnOp() {
        assertEquals(new TreeSet<>(OracleFixture.index()), new TreeSet<>(OracleOps.names()));
    }

    private static int compare(Output o, double[] expected, double[] actual, List<String> failures) {
        if (expected.length != actual.length) {
            failures.add(o + ": " + actual.length + " values, PyTorch has " + expected.length);
            return 1;
        }
        double absolute = ABSOLUTE_BY_OP.getOrDefault(o.op(), ABSOLUTE);
        for (int i = 0; i < expected.length; i++) {
            Convention convention = OracleConventions.at(o, i, expected.length);
            if (convention != null) {
                boolean accepted = convention.anyFinite() ? Double.isFinite(actual[i])
                        : close(convention.value(), actual[i], ABSOLUTE);
                if (!accepted) {
                    failures.add(o + "[" + i + "] at " + point(o.c(), i) + ": Kiln " + actual[i] + ", documented "
                            + (convention.anyFinite() ? "a finite value" : convention.value()) + " ("
                            + convention.reason() + "), PyTorch " + expected[i]);
                }
            } else if (!close(expected[i], actual[i], absolute)) {
                failures.add(o + "[" + i + "] at " + point(o.c(), i) + ": Kiln " + actual[i] + ", PyTorch "
                        + expected[i]);
            }
        }
        return expected.length;
    }

    private static boolean close(double expected, double actual, double absolute) {
        if (Double.isNaN(expected) || Double.isInfinite(expected)) {
            return Double.compare(expected, actual) == 0 || (Double.isNaN(expected) && Double.isNaN(actual));
        }
        return Math.abs(actual - expected) <= RELATIVE * Math.abs(expected) + absolute;
    }

    /** Describes the operands at flat index {@code i} of the output, for elementwise ops of one shape. */
    private static String point(OracleFixture.Case c, int i) {
        StringBuilder out = new StringBuilder("(");
        for (OracleFixture.Operand operand : c.operands()) {
            double[] values = operand.tensor().values();
            // A broadcast operand has fewer values than the output, so its value at i is not shown.
            String value = values.length == 1 ? Double.toString(values[0])
                    : i < values.length ? Double.toString(values[i]) : "(broadcast)";
            out.append(out.length() > 1 ? ", " : "").append(operand.name()).append(" = ").append(value);
        }
        return out.append(")").toString();
    }
}
