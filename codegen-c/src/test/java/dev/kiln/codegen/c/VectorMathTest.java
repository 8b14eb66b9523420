package dev.kiln.codegen.c;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The vectorizable float exp and tanh of the C prelude against double-precision exp and tanh,
 * across the whole float range: every 61st bit pattern, which covers every binade of both signs,
 * the overflow and underflow ranges, infinities and NaNs.
 */
class VectorMathTest {
    /** Largest errors in units in the last place that the prelude's comment states. */
    static final double EXP_MAX_ULP = 1.2;
    static final double TANH_MAX_ULP = 1.5;

    private static final String HARNESS = """

            #include <stdio.h>

            static double kiln_test_ulp_error(float got, double want) {
                if (isnan(want)) {
                    return isnan(got) ? 0 : 1e9;
                }
                if (isinf(want) || fabs(want) > 3.4028234663852886e38) {
                    return got == (float) want ? 0 : 1e9;
                }
                float rounded = (float) want;
                if (rounded == 0) {
                    return got == 0 ? 0 : fabs(got) / 1.401298464324817e-45;
                }
                double ulp = (double) nextafterf(fabsf(rounded), INFINITY) - fabs((double) rounded);
                return fabs((double) got - want) / ulp;
            }

            /* Returns the largest error in ulp of function 0 (exp) or 1 (tanh) over every stride-th float. */
            KILN_EXPORT double kiln_test_max_ulp(int function, int64_t stride) {
                double max = 0;
                for (uint64_t bits = 0; bits < 0x100000000ull; bits += (uint64_t) stride) {
                    uint32_t b = (uint32_t) bits;
                    float x;
                    memcpy(&x, &b, 4);
                    double error = function == 0
                            ? kiln_test_ulp_error(kiln_expf(x), exp((double) x))
                            : kiln_test_ulp_error(kiln_tanhf(x), tanh((double) x));
                    max = error > max ? error : max;
                }
                return max;
            }

            KILN_EXPORT float kiln_test_exp(float x) {
                return kiln_expf(x);
            }

            KILN_EXPORT float kiln_test_tanh(float x) {
                return kiln_tanhf(x);
            }
            """;

    private static Arena arena;
    private static MethodHandle maxUlp;
    private static MethodHandle exp;
    private static MethodHandle tanh;

    @BeforeAll
    static void compile() {
        CCompiler compiler = CCompiler.builder().cacheDirectory(CCompiler.defaultCacheDirectory()).build();
        Path library = compiler.compile(CPrelude.text() + HARNESS, "kiln_vector_math_test");
        arena = Arena.ofShared();
        SymbolLookup lookup = SymbolLookup.libraryLookup(library, arena);
        Linker linker = Linker.nativeLinker();
        maxUlp = linker.downcallHandle(lookup.findOrThrow("kiln_test_max_ulp"),
                FunctionDescriptor.of(ValueLayout.JAVA_DOUBLE, ValueLayout.JAVA_INT, ValueLayout.JAVA_LONG));
        FunctionDescriptor unary = FunctionDescriptor.of(ValueLayout.JAVA_FLOAT, ValueLayout.JAVA_FLOAT);
        exp = linker.downcallHandle(lookup.findOrThrow("kiln_test_exp"), unary);
        tanh = linker.downcallHandle(lookup.findOrThrow("kiln_test_tanh"), unary);
    }

    @AfterAll
    static void release() {
        arena.close();
    }

    @Test
    void expErrorStaysWithinStatedBound() throws Throwable {
        double error = (double) maxUlp.invokeExact(0, 61L);
        assertTrue(error <= EXP_MAX_ULP + 0.05, "exp max error " + error + " ulp");
    }

    @Test
    void tanhErrorStaysWithinStatedBound() throws Throwable {
        double error = (double) maxUlp.invokeExact(1, 61L);
        assertTrue(error <= TANH_MAX_ULP + 0.05, "tanh max error " + error + " ulp");
    }

    @Test
    void specialValuesFollowIeee() throws Throwable {
        assertEquals(Float.POSITIVE_INFINITY, (float) exp.invokeExact(89f));
        assertEquals(Float.POSITIVE_INFINITY, (float) exp.invokeExact(Float.POSITIVE_INFINITY));
        assertEquals(0f, (float) exp.invokeExact(-200f));
        assertEquals(0f, (float) exp.invokeExact(Float.NEGATIVE_INFINITY));
        assertEquals(1f, (float) exp.invokeExact(0f));
        assertTrue(Float.isNaN((float) exp.invokeExact(Float.NaN)));
        float subnormal = (float) exp.invokeExact(-100f);
        assertEquals((float) Math.exp(-100), subnormal, Math.ulp((float) Math.exp(-100)) * 2);
        assertEquals(1f, (float) tanh.invokeExact(100f));
        assertEquals(-1f, (float) tanh.invokeExact(-100f));
        assertEquals(1f, (float) tanh.invokeExact(Float.POSITIVE_INFINITY));
        assertEquals(-1f, (float) tanh.invokeExact(Float.NEGATIVE_INFINITY));
        assertEquals(0f, (float) tanh.invokeExact(0f));
        assertEquals(Float.floatToIntBits(-0f), Float.floatToIntBits((float) tanh.invokeExact(-0f)));
        assertTrue(Float.isNaN((float) tanh.invokeExact(Float.NaN)));
        assertEquals(1e-30f, (float) tanh.invokeExact(1e-30f));
    }
}
