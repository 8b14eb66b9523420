package dev.kiln.runtime;

import static org.junit.jupiter.api.Assertions.fail;

import dev.kiln.codegen.c.CCompiler;
import dev.kiln.codegen.c.ModelCompiler;
import dev.kiln.ir.DType;
import dev.kiln.ir.Entry;
import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.Hyperparameters;
import dev.kiln.ir.Node;
import dev.kiln.ir.oracle.OracleConventions;
import dev.kiln.ir.oracle.OracleConventions.Convention;
import dev.kiln.ir.oracle.OracleConventions.Output;
import dev.kiln.ir.oracle.OracleFixture;
import dev.kiln.ir.oracle.OracleGraph;
import dev.kiln.runtime.testing.NativeBuild;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every op of the IR compiled to C and run in float32, with its VJP and Hessian-vector product,
 * against the PyTorch float64 fixtures that {@code OracleTest} checks the reference evaluator
 * with. Each case of each fixture is one entry of a single library, compiled once for the class
 * (and found in the test library cache on later runs).
 *
 * <p>An entry reads one float block holding every float input of its case at fixed offsets, one
 * int block with class indices, and writes one float block with the value, VJPs and
 * Hessian-vector products. The fixture's inputs are float32 values, so the C code computes at
 * exactly the fixture's points and only its float arithmetic differs from the reference.
 */
class NativeOracleTest {
    /**
     * Tolerance of float32 against the float64 reference. A float result of a well-conditioned
     * op is within a few ulps, 2^-24 = 6e-8 each, of the exact value; 1e-5 leaves room for the
     * chain of several float operations in a second derivative and for the condition of the op
     * at the special points (sin and cos of 1e3 scale the input's rounding by the argument).
     */
    private static final double RELATIVE = 1e-5;
    /**
     * Absolute floor for elementwise results, relative to the unit scale of the cotangent and
     * directions. It covers results that round to 0 in float: 1 - sigmoid(x) for large x, and
     * exp(-100), which is below float's smallest normal number.
     */
    private static final double ABSOLUTE = 1e-6;
    private static final String LIBRARY = "kiln_test_oracle";

    private static final Map<String, Compiled> ENTRIES = new LinkedHashMap<>();
    private static NativeModelLibrary library;

    /** One case compiled as an entry, with its argument block layout. */
    private record Compiled(String entry, OracleFixture fixture, OracleFixture.Variant variant, OracleFixture.Case c,
                            OracleGraph graph, Map<String, Long> offsets, long inputFloats, long indexInts,
                            long outputFloats) {
    }

    static Stream<String> ops() {
        return OracleFixture.index().stream();
    }

    @BeforeAll
    static void compileEveryCase() {
        List<Entry> entries = new ArrayList<>();
        for (String op : OracleFixture.index()) {
            OracleFixture fixture = OracleFixture.load(op);
            for (OracleFixture.Variant variant : fixture.variants()) {
                for (OracleFixture.Case c : variant.cases()) {
                    String name = "case_" + ENTRIES.size();
                    Compiled compiled = entry(name, fixture, variant, c, entries);
                    ENTRIES.put(op + "/" + ENTRIES.size(), compiled);
                }
            }
        }
        ModelCompiler.Result result = ModelCompiler.compileEntries(entries, LIBRARY, true, false);
        CCompiler compiler = CCompiler.builder().cacheDirectory(NativeBuild.CACHE.toAbsolutePath()).build();
        Path file = compiler.compile(result.cSource(), LIBRARY);
        library = NativeModelLibrary.loadFile(LIBRARY, file);
    }

    /**
     * Builds the entry of one case. Argument 0 contains the float inputs, argument 1 the class
     * indices and argument 2 the outputs, each tensor at an offset in elements.
     */
    private static Compiled entry(String name, OracleFixture fixture, OracleFixture.Variant variant,
                                  OracleFixture.Case c, List<Entry> entries) {
        GraphBuilder b = new GraphBuilder(name);
        OracleGraph graph = OracleGraph.build(b, "", fixture, variant, c);
        Map<String, Entry.Binding> bindings = new LinkedHashMap<>();
        Map<String, Long> offsets = new LinkedHashMap<>();
        long floats = 0;
        long ints = 0;
        for (Map.Entry<String, Node> input : graph.inputNodes().entrySet()) {
            long size = graph.inputs().get(input.getKey()).values().length;
            boolean index = input.getValue().dtype() == DType.I32;
            long offset = index ? ints : floats;
            bindings.put("input:" + input.getKey(), new Entry.Binding(index ? 1 : 0, offset));
            offsets.put(input.getKey(), offset);
            if (index) {
                ints += size;
            } else {
                floats += size;
            }
        }
        long outputs = 0;
        for (Map.Entry<String, OracleFixture.Tensor> output : graph.outputs().entrySet()) {
            bindings.put("output:" + output.getKey(), new Entry.Binding(2, outputs));
            offsets.put(output.getKey(), outputs);
            outputs += output.getValue().values().length;
        }
        List<Entry.Arg> args = List.of(new Entry.Arg("inputs", DType.F32, false),
                new Entry.Arg("labels", DType.I32, false), new Entry.Arg("outputs", DType.F32, true));
        entries.add(new Entry(name, b.build(), args, bindings));
        return new Compiled(name, fixture, variant, c, graph, offsets, floats, ints, outputs);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("ops")
    void compiledMatchesPyTorch(String op) throws Throwable {
        List<String> failures = new ArrayList<>();
        int checked = 0;
        for (Map.Entry<String, Compiled> entry : ENTRIES.entrySet()) {
            if (entry.getKey().startsWith(op + "/")) {
                checked += run(entry.getValue(), failures);
            }
        }
        if (checked == 0) {
            fail(op + ": no compiled case");
        }
        if (!failures.isEmpty()) {
            fail(failures.size() + " of " + checked + " float32 values differ from PyTorch:\n"
                    + String.join("\n", failures.subList(0, Math.min(40, failures.size()))));
        }
    }

    /** Calls the entry of one case and compares each output; returns the number of values checked. */
    private static int run(Compiled compiled, List<String> failures) throws Throwable {
        MethodHandle entry = library.entry(compiled.entry(), false);
        MethodHandle workspaceSize = library.workspaceSize(compiled.entry());
        long batch = compiled.c().batch();
        int checked = 0;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment inputs = arena.allocate(ValueLayout.JAVA_FLOAT, Math.max(1, compiled.inputFloats()));
            MemorySegment labels = arena.allocate(ValueLayout.JAVA_INT, Math.max(1, compiled.indexInts()));
            MemorySegment outputs = arena.allocate(ValueLayout.JAVA_FLOAT, Math.max(1, compiled.outputFloats()));
            for (Map.Entry<String, OracleFixture.Tensor> input : compiled.graph().inputs().entrySet()) {
                long offset = compiled.offsets().get(input.getKey());
                boolean index = compiled.graph().inputNodes().get(input.getKey()).dtype() == DType.I32;
                double[] values = input.getValue().values();
                for (int i = 0; i < values.length; i++) {
                    if (index) {
                        labels.setAtIndex(ValueLayout.JAVA_INT, offset + i, (int) values[i]);
                    } else {
                        inputs.setAtIndex(ValueLayout.JAVA_FLOAT, offset + i, (float) values[i]);
                    }
                }
            }
            MemorySegment args = arena.allocate(ValueLayout.ADDRESS, 3);
            args.setAtIndex(ValueLayout.ADDRESS, 0, inputs);
            args.setAtIndex(ValueLayout.ADDRESS, 1, labels);
            args.setAtIndex(ValueLayout.ADDRESS, 2, outputs);
            MemorySegment call = arena.allocate(ValueLayout.JAVA_DOUBLE, Hyperparameters.NAMES.size());
            long bytes = (long) workspaceSize.invokeExact(batch);
            MemorySegment workspace = arena.allocate(Math.max(bytes, 64), 64);

            int status = (int) entry.invokeExact(batch, call, workspace, args);
            if (status != 0) {
                failures.add(compiled.fixture().op() + " " + compiled.c().label() + ": native call returned status "
                        + status);
                return 1;
            }

            for (Map.Entry<String, OracleFixture.Tensor> output : compiled.graph().outputs().entrySet()) {
                long offset = compiled.offsets().get(output.getKey());
                double[] expected = output.getValue().values();
                Output o = new Output(compiled.fixture().op(), compiled.variant(), compiled.c(), output.getKey());
                double scale = scale(compiled.fixture().family(), expected);
                for (int i = 0; i < expected.length; i++) {
                    float actual = outputs.getAtIndex(ValueLayout.JAVA_FLOAT, offset + i);
                    String problem = check(OracleConventions.at(o, i, expected.length), expected[i], actual, scale);
                    if (problem != null) {
                        failures.add(o + "[" + i + "]: native " + actual + ", " + problem);
                    }
                }
                checked += expected.length;
            }
        }
        return checked;
    }

    /**
     * Returns the absolute error floor of one output. An elementwise result depends on one point
     * only, and a layout op copies elements, so both get a fixed floor. A sum over several
     * elements (matmul, reductions, row ops, losses) loses bits to cancellation in proportion to
     * its largest terms, so its floor scales with the largest magnitude in the output.
     */
    private static double scale(String family, double[] expected) {
        if (family.equals("elementwise") || family.equals("layout")) {
            return ABSOLUTE / RELATIVE;
        }
        double max = 0;
        for (double e : expected) {
            if (Double.isFinite(e)) {
                max = Math.max(max, Math.abs(e));
            }
        }
        return Math.max(max, ABSOLUTE / RELATIVE);
    }

    /** Returns what is wrong with a native result, or null when it agrees. */
    private static String check(Convention convention, double expected, float actual, double scale) {
        if (convention != null) {
            if (convention.anyFinite()) {
                return Float.isFinite(actual) ? null : "documented a finite value (" + convention.reason() + ")";
            }
            expected = convention.value();
        }
        if (Double.isNaN(expected)) {
            return Float.isNaN(actual) ? null : "PyTorch NaN";
        }
        if (Math.abs(expected) > Float.MAX_VALUE) {
            // Beyond float's range the float result must be the infinity of the same sign, or NaN
            // where the result is a sum of terms that each overflow: the Hessian-vector product of
            // a / b in b is w (2 v_b a / b^3 - v_a / b^2), about 1e60 at a = b = 1e-30, and its
            // two terms overflow to infinities of opposite signs when v_a and v_b have one sign.
            return actual == (float) expected || Float.isNaN(actual) ? null
                    : "PyTorch " + expected + ", beyond float range";
        }
        double allowed = RELATIVE * (Math.abs(expected) + scale);
        return Math.abs(actual - expected) <= allowed ? null
                : (convention != null ? "documented " : "PyTorch ") + expected + ", allowed error " + allowed;
    }
}
