package dev.kiln.codegen.c;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Compiles the C prelude with the default flags and checks {@code kiln_matmul} and each of its
 * instruction-set variants against a double-precision reference, for every transpose combination.
 */
class MatmulKernelTest {

    /** Sizes around the register tiles (8 to 32 columns, 6 or 12 rows) and the 256-step k block. */
    private static final int[] SIZES = {1, 2, 3, 7, 8, 15, 16, 17, 31, 33, 64, 65, 100, 257};

    /** Names of the variant numbers that the test wrapper accepts. Variant 0 is the dispatching kiln_matmul. */
    private static final String[] VARIANTS = {"dispatch", "generic", "avx2", "avx512"};

    /** Allowed error relative to sum over p of |a[i,p]| |b[p,j]|, the scale of rounding in a dot product. */
    private static final double TOLERANCE = 1e-5;

    private static final String WRAPPER = """

            /* Test entry points: variant 0 is kiln_matmul, 1 to 3 call one packed kernel directly. */
            KILN_EXPORT int kiln_test_has_variant(int variant) {
                switch (variant) {
                case 0:
                    return 1;
            #if defined(KILN_GEMM_PACKED)
                case 1:
                    return 1;
            #endif
            #if defined(KILN_GEMM_X86)
                case 2:
                    __builtin_cpu_init();
                    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
                case 3:
                    __builtin_cpu_init();
                    return __builtin_cpu_supports("avx512f");
            #endif
                default:
                    return 0;
                }
            }

            KILN_EXPORT void kiln_test_matmul(int variant, int64_t m, int64_t n, int64_t k,
                                              const float *a, int transpose_a,
                                              const float *b, int transpose_b, float *c) {
                switch (variant) {
            #if defined(KILN_GEMM_PACKED)
                case 1:
                    kiln_gemm_generic(m, n, k, a, transpose_a ? m : k, transpose_a, b, transpose_b ? k : n, transpose_b, c, n);
                    return;
            #endif
            #if defined(KILN_GEMM_X86)
                case 2:
                    kiln_gemm_avx2(m, n, k, a, transpose_a ? m : k, transpose_a, b, transpose_b ? k : n, transpose_b, c, n);
                    return;
                case 3:
                    kiln_gemm_avx512(m, n, k, a, transpose_a ? m : k, transpose_a, b, transpose_b ? k : n, transpose_b, c, n);
                    return;
            #endif
                default:
                    kiln_matmul(m, n, k, a, transpose_a, b, transpose_b, c);
                }
            }
            """;

    @TempDir
    static Path cache;

    private static Arena arena;
    private static MethodHandle matmul;
    private static final List<Integer> available = new ArrayList<>();

    @BeforeAll
    static void compile() throws Throwable {
        CCompiler compiler = CCompiler.builder().cacheDirectory(cache).build();
        Path library = compiler.compile(CPrelude.text() + WRAPPER, "kiln_matmul_test");
        arena = Arena.ofShared();
        SymbolLookup lookup = SymbolLookup.libraryLookup(library, arena);
        Linker linker = Linker.nativeLinker();
        MethodHandle hasVariant = linker.downcallHandle(lookup.findOrThrow("kiln_test_has_variant"),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));
        matmul = linker.downcallHandle(lookup.findOrThrow("kiln_test_matmul"),
                FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                        ValueLayout.JAVA_LONG, ValueLayout.ADDRESS, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                        ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
        for (int variant = 0; variant < VARIANTS.length; variant++) {
            if ((int) hasVariant.invokeExact(variant) != 0) {
                available.add(variant);
            }
        }
    }

    @AfterAll
    static void unload() {
        arena.close();
    }

    @Test
    void allShapesAndTransposesMatchReference() throws Throwable {
        SplittableRandom random = new SplittableRandom(7);
        try (Arena call = Arena.ofConfined()) {
            for (int m : SIZES) {
                for (int n : SIZES) {
                    for (int k : SIZES) {
                        for (int transposes = 0; transposes < 4; transposes++) {
                            checkAllVariants(call, random, m, n, k, (transposes & 1) != 0, (transposes & 2) != 0);
                        }
                    }
                }
            }
        }
    }

    @Test
    void shapesAcrossSeveralBlocksMatchReference() throws Throwable {
        // n above the 512-column panel, m above the 96-row block and k above two 256-step blocks.
        int[][] shapes = {{33, 520, 300}, {200, 40, 530}, {97, 1030, 17}};
        SplittableRandom random = new SplittableRandom(11);
        try (Arena call = Arena.ofConfined()) {
            for (int[] shape : shapes) {
                for (int transposes = 0; transposes < 4; transposes++) {
                    checkAllVariants(call, random, shape[0], shape[1], shape[2],
                            (transposes & 1) != 0, (transposes & 2) != 0);
                }
            }
        }
    }

    @Test
    void zeroDepthWritesZeros() throws Throwable {
        try (Arena call = Arena.ofConfined()) {
            for (int transposes = 0; transposes < 4; transposes++) {
                MemorySegment c = filled(call, 5 * 40, Float.NaN);
                invoke(0, 5, 40, 0, call.allocate(4), (transposes & 1) != 0, call.allocate(4), (transposes & 2) != 0, c);
                for (float value : c.toArray(ValueLayout.JAVA_FLOAT)) {
                    assertEquals(0.0f, value, "k = 0 must give C = 0");
                }
            }
        }
    }

    @Test
    void emptyOutputWritesNothing() throws Throwable {
        try (Arena call = Arena.ofConfined()) {
            MemorySegment a = filled(call, 64, 1.0f);
            MemorySegment b = filled(call, 64, 1.0f);
            MemorySegment c = filled(call, 4, 42.0f);
            invoke(0, 0, 4, 16, a, false, b, false, c);
            invoke(0, 4, 0, 16, a, true, b, true, c);
            for (float value : c.toArray(ValueLayout.JAVA_FLOAT)) {
                assertEquals(42.0f, value, "m = 0 or n = 0 must leave the output buffer untouched");
            }
        }
    }

    @Test
    void specialValuesStayInTheirRowAndColumn() throws Throwable {
        int m = 40;
        int n = 50;
        int k = 30;
        SplittableRandom random = new SplittableRandom(3);
        try (Arena call = Arena.ofConfined()) {
            for (int variant : available) {
                float[] a = randomMatrix(random, m * k);
                float[] b = randomMatrix(random, k * n);
                a[5 * k + 3] = Float.NaN;
                b[4 * n + 7] = Float.POSITIVE_INFINITY;
                MemorySegment c = call.allocate(ValueLayout.JAVA_FLOAT, (long) m * n);
                invoke(variant, m, n, k, segment(call, a), false, segment(call, b), false, c);
                float[] result = c.toArray(ValueLayout.JAVA_FLOAT);
                for (int i = 0; i < m; i++) {
                    for (int j = 0; j < n; j++) {
                        float value = result[i * n + j];
                        String where = VARIANTS[variant] + " C[" + i + "," + j + "] = " + value;
                        if (i == 5) {
                            assertTrue(Float.isNaN(value), where + ": a NaN in row 5 of A must reach row 5 of C");
                        } else if (j == 7) {
                            assertTrue(Float.isInfinite(value), where + ": an infinity in column 7 of B must reach column 7 of C");
                        } else {
                            assertTrue(Float.isFinite(value), where + ": padding must not leak NaN or infinity");
                        }
                    }
                }
            }
        }
    }

    @Test
    void concurrentCallsGiveCorrectResults() throws Exception {
        int threads = 8;
        try (ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            List<Future<?>> results = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int seed = t;
                results.add(pool.submit(() -> {
                    SplittableRandom random = new SplittableRandom(seed);
                    try (Arena call = Arena.ofConfined()) {
                        for (int round = 0; round < 20; round++) {
                            int m = 20 + random.nextInt(150);
                            int n = 20 + random.nextInt(150);
                            int k = 20 + random.nextInt(300);
                            checkVariant(call, random, 0, m, n, k, random.nextBoolean(), random.nextBoolean());
                        }
                    } catch (Exception | Error e) {
                        throw e;
                    } catch (Throwable e) {
                        throw new IllegalStateException(e);
                    }
                    return null;
                }));
            }
            for (Future<?> result : results) {
                result.get();
            }
        }
    }

    private static void checkAllVariants(Arena call, SplittableRandom random, int m, int n, int k,
                                         boolean transposeA, boolean transposeB) throws Throwable {
        float[] a = randomMatrix(random, m * k);
        float[] b = randomMatrix(random, k * n);
        double[][] reference = reference(m, n, k, a, transposeA, b, transposeB);
        MemorySegment aSegment = segment(call, a);
        MemorySegment bSegment = segment(call, b);
        for (int variant : available) {
            MemorySegment c = filled(call, m * n, Float.NaN);
            invoke(variant, m, n, k, aSegment, transposeA, bSegment, transposeB, c);
            compare(variant, m, n, k, transposeA, transposeB, reference, c.toArray(ValueLayout.JAVA_FLOAT));
        }
    }

    private static void checkVariant(Arena call, SplittableRandom random, int variant, int m, int n, int k,
                                     boolean transposeA, boolean transposeB) throws Throwable {
        float[] a = randomMatrix(random, m * k);
        float[] b = randomMatrix(random, k * n);
        MemorySegment c = filled(call, m * n, Float.NaN);
        invoke(variant, m, n, k, segment(call, a), transposeA, segment(call, b), transposeB, c);
        compare(variant, m, n, k, transposeA, transposeB, reference(m, n, k, a, transposeA, b, transposeB),
                c.toArray(ValueLayout.JAVA_FLOAT));
    }

    /** Returns {C, S} in double precision, where S[i,j] = sum over p of |a[i,p]| |b[p,j]|. */
    private static double[][] reference(int m, int n, int k, float[] a, boolean transposeA,
                                        float[] b, boolean transposeB) {
        double[] c = new double[m * n];
        double[] scale = new double[m * n];
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double sum = 0;
                double magnitude = 0;
                for (int p = 0; p < k; p++) {
                    double product = (double) (transposeA ? a[p * m + i] : a[i * k + p])
                            * (transposeB ? b[j * k + p] : b[p * n + j]);
                    sum += product;
                    magnitude += Math.abs(product);
                }
                c[i * n + j] = sum;
                scale[i * n + j] = magnitude;
            }
        }
        return new double[][] {c, scale};
    }

    private static void compare(int variant, int m, int n, int k, boolean transposeA, boolean transposeB,
                                double[][] reference, float[] actual) {
        for (int index = 0; index < m * n; index++) {
            double error = Math.abs(actual[index] - reference[0][index]);
            if (!(error <= TOLERANCE * reference[1][index] + Float.MIN_NORMAL)) {
                fail(VARIANTS[variant] + " m=" + m + " n=" + n + " k=" + k + " transposeA=" + transposeA
                        + " transposeB=" + transposeB + ": C[" + index / n + "," + index % n + "] = "
                        + actual[index] + ", expected " + reference[0][index]);
            }
        }
    }

    private static void invoke(int variant, long m, long n, long k, MemorySegment a, boolean transposeA,
                               MemorySegment b, boolean transposeB, MemorySegment c) throws Throwable {
        matmul.invokeExact(variant, m, n, k, a, transposeA ? 1 : 0, b, transposeB ? 1 : 0, c);
    }

    private static float[] randomMatrix(SplittableRandom random, int size) {
        float[] values = new float[size];
        for (int i = 0; i < size; i++) {
            values[i] = (float) (random.nextDouble() * 2 - 1);
        }
        return values;
    }

    private static MemorySegment segment(Arena call, float[] values) {
        return call.allocateFrom(ValueLayout.JAVA_FLOAT, values.length == 0 ? new float[1] : values);
    }

    private static MemorySegment filled(Arena call, int size, float value) {
        MemorySegment segment = call.allocate(ValueLayout.JAVA_FLOAT, Math.max(size, 1));
        for (long i = 0; i < Math.max(size, 1); i++) {
            segment.setAtIndex(ValueLayout.JAVA_FLOAT, i, value);
        }
        return segment;
    }
}
