package dev.kiln.codegen.c;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.ir.Matmul;
import dev.kiln.ir.Shape;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Compiles the specialized small matmuls with the default flags (entry clones for the CPU at
 * hand), with the clones switched off (the generic kernel on x86-64 without AVX) and, where the CPU
 * has it, without clones for x86-64-v3, and checks them against a double-precision reference for
 * run-time extents around the register blocks and tails.
 */
class SmallMatmulTest {

    /** Allowed error relative to sum over p of |a[i,p]| |b[p,j]|, the scale of rounding in a dot product. */
    private static final double TOLERANCE = 1e-5;

    /** Run-time extents: the batch rows of the rows form, the batch depth of the over-batch form. */
    private static final int[] DYNAMIC = {0, 1, 2, 3, 4, 5, 7, 8, 13, 50, 131};

    /** Static extents {n, k} of the rows form and {m, n} of the over-batch form. */
    private static final int[][] STATIC = {{1, 1}, {3, 20}, {20, 13}, {20, 20}, {13, 3}, {10, 128}, {16, 8}, {64, 33}, {9, 1}};

    @TempDir
    static Path cache;

    static Stream<List<String>> flagSets() {
        List<String> baseline = new ArrayList<>(CCompiler.DEFAULT_FLAGS);
        baseline.add("-DKILN_NO_CLONES");
        List<String> avx2 = new ArrayList<>(baseline);
        avx2.add("-march=x86-64-v3");
        return hasAvx2() ? Stream.of(CCompiler.DEFAULT_FLAGS, baseline, avx2) : Stream.of(CCompiler.DEFAULT_FLAGS, baseline);
    }

    /** Returns whether this CPU runs x86-64-v3 code, so that the build without clones can target it. */
    private static boolean hasAvx2() {
        try {
            String cpu = Files.readString(Path.of("/proc/cpuinfo"));
            return cpu.contains(" avx2") && cpu.contains(" fma") && cpu.contains(" bmi2") && cpu.contains(" movbe");
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    @ParameterizedTest
    @MethodSource("flagSets")
    void everyFormMatchesReference(List<String> flags) throws Throwable {
        List<Case> cases = new ArrayList<>();
        for (int[] extents : STATIC) {
            cases.add(new Case(new Matmul(false, false), extents[0], extents[1]));
            cases.add(new Case(new Matmul(false, true), extents[0], extents[1]));
            if (extents[1] <= SmallMatmul.MAX_COLUMNS) {
                cases.add(new Case(new Matmul(true, false), extents[0], extents[1]));
            }
        }
        StringBuilder source = new StringBuilder(CPrelude.text());
        CWriter out = new CWriter();
        for (int i = 0; i < cases.size(); i++) {
            SmallMatmul small = cases.get(i).small();
            small.render(out);
            out.open("KILN_EXPORT KILN_CLONES void kiln_test_" + i
                    + "(int64_t dynamic, const float *a, const float *b, float *c)");
            out.line(small.call("dynamic", "a", "b", "c"));
            out.close();
        }
        source.append(out);
        CCompiler compiler = CCompiler.builder().cacheDirectory(cache).flags(flags).build();
        Path library = compiler.compile(source.toString(), "kiln_small_matmul_test_" + flags.size());

        SplittableRandom random = new SplittableRandom(5);
        try (Arena arena = Arena.ofConfined()) {
            SymbolLookup lookup = SymbolLookup.libraryLookup(library, arena);
            for (int i = 0; i < cases.size(); i++) {
                MethodHandle handle = Linker.nativeLinker().downcallHandle(lookup.findOrThrow("kiln_test_" + i),
                        FunctionDescriptor.ofVoid(ValueLayout.JAVA_LONG, ValueLayout.ADDRESS, ValueLayout.ADDRESS,
                                ValueLayout.ADDRESS));
                for (int dynamic : DYNAMIC) {
                    cases.get(i).check(arena, random, handle, dynamic);
                }
            }
        }
    }

    @Test
    void largeOrBatchedExtentsKeepGenericKernel() {
        assertFalse(SmallMatmul.of(new Matmul(false, true), Shape.of(Shape.BATCH, 784), Shape.of(256, 784)).isPresent(),
                "256 columns exceed the register tile");
        assertFalse(SmallMatmul.of(new Matmul(false, false), Shape.of(Shape.BATCH, 600), Shape.of(600, 10)).isPresent(),
                "a depth of 600 exceeds the rows form's limit");
        assertFalse(SmallMatmul.of(new Matmul(true, false), Shape.of(Shape.BATCH, 20), Shape.of(Shape.BATCH, 100)).isPresent(),
                "a weight gradient with 100 columns exceeds the register tile");
        assertFalse(SmallMatmul.of(new Matmul(false, true), Shape.of(20, 13), Shape.of(Shape.BATCH, 13)).isPresent(),
                "a batch of columns has no specialized form");
        assertTrue(SmallMatmul.of(new Matmul(false, true), Shape.of(Shape.BATCH, 13), Shape.of(20, 13)).isPresent(),
                "a 13-to-20 layer is specialized");
    }

    /** One specialized product: static extents {n, k} for the rows form, {m, n} for the over-batch form. */
    private record Case(Matmul op, int first, int second) {

        SmallMatmul small() {
            Shape a;
            Shape b;
            if (op.transposeA()) {
                a = Shape.of(Shape.BATCH, first);
                b = Shape.of(Shape.BATCH, second);
            } else {
                a = Shape.of(Shape.BATCH, second);
                b = op.transposeB() ? Shape.of(first, second) : Shape.of(second, first);
            }
            return SmallMatmul.of(op, a, b).orElseThrow(() -> new AssertionError("no specialized form for " + this));
        }

        void check(Arena arena, SplittableRandom random, MethodHandle handle, int dynamic) throws Throwable {
            int m = op.transposeA() ? first : dynamic;
            int n = op.transposeA() ? second : first;
            int k = op.transposeA() ? dynamic : second;
            float[] a = randomMatrix(random, m * k);
            float[] b = randomMatrix(random, k * n);
            MemorySegment c = arena.allocate(ValueLayout.JAVA_FLOAT, Math.max(1, (long) m * n));
            c.fill((byte) 0x7f);
            handle.invokeExact((long) dynamic, segment(arena, a), segment(arena, b), c);
            float[] result = c.toArray(ValueLayout.JAVA_FLOAT);
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double sum = 0;
                    double scale = 0;
                    for (int p = 0; p < k; p++) {
                        double x = op.transposeA() ? a[p * m + i] : a[i * k + p];
                        double y = op.transposeB() ? b[j * k + p] : b[p * n + j];
                        sum += x * y;
                        scale += Math.abs(x * y);
                    }
                    String where = this + " with run-time extent " + dynamic + ": C[" + i + "," + j + "]";
                    assertEquals(sum, result[i * n + j], TOLERANCE * Math.max(scale, 1e-30), where);
                }
            }
        }
    }

    private static float[] randomMatrix(SplittableRandom random, int size) {
        float[] values = new float[size];
        for (int i = 0; i < size; i++) {
            values[i] = (float) (random.nextDouble() * 2 - 1);
        }
        return values;
    }

    private static MemorySegment segment(Arena arena, float[] values) {
        MemorySegment segment = arena.allocate(ValueLayout.JAVA_FLOAT, Math.max(1, values.length));
        MemorySegment.copy(values, 0, segment, ValueLayout.JAVA_FLOAT, 0, values.length);
        return segment;
    }
}
