package dev.kiln.codegen.c;

import dev.kiln.ir.Dropout;
import dev.kiln.ir.Hyperparameters;
import dev.kiln.ir.lower.ElementwiseHelpers;

/** The fixed part of every generated C file: includes, the call struct and helper kernels. */
final class CPrelude {
    private CPrelude() {
    }

    static String text() {
        StringBuilder fields = new StringBuilder();
        for (String name : Hyperparameters.NAMES) {
            fields.append("    double ").append(name).append(";\n");
        }
        return """
                /* clock_gettime and the thread functions of POSIX, which -std=c11 alone does not declare. */
                #if !defined(_WIN32) && !defined(_POSIX_C_SOURCE)
                #define _POSIX_C_SOURCE 200809L
                #endif
                #include <math.h>
                #include <stdint.h>
                #include <string.h>

                #if defined(_WIN32)
                #define KILN_EXPORT __declspec(dllexport)
                #else
                #define KILN_EXPORT __attribute__((visibility("default")))
                #endif

                /* Per-call hyperparameters; entries read it as an array of doubles in this order. */
                typedef struct kiln_call {
                """ + fields + """
                } kiln_call;


                /*
                 * Float exp and tanh written without branches or library calls, so that loops over
                 * them vectorize. Largest errors measured over every 61st float bit pattern against
                 * double-precision exp and tanh: exp 1.2 ulp, tanh 1.5 ulp. Special values are those of
                 * IEEE arithmetic: exp overflows to inf above 88.72 and gives subnormals and then 0
                 * below -87.3, tanh is exactly +-1 past |x| = 9.1, and NaN propagates.
                 */
                /* exp for float: x = n ln2 + r with |r| <= ln2/2, e^r by a degree-6 Taylor-like polynomial, 2^n
                   built in the exponent bits in two halves so that subnormal and overflowing results come out
                   right. Branch-free, so loops over it vectorize. */
                static inline float kiln_expf(float x) {
                    float clamped = x < -104.0f ? -104.0f : (x > 89.0f ? 89.0f : x);
                    /* Rounds to the nearest integer: adding 1.5 * 2^23 pushes the fraction bits out. */
                    float n = (clamped * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
                    float r = clamped - n * 0.693145751953125f;
                    r = r - n * 1.428606765330187045e-6f;
                    float p = 1.0f / 5040.0f;
                    p = p * r + 1.0f / 720.0f;
                    p = p * r + 1.0f / 120.0f;
                    p = p * r + 1.0f / 24.0f;
                    p = p * r + 1.0f / 6.0f;
                    p = p * r + 0.5f;
                    p = p * r + 1.0f;
                    p = p * r + 1.0f;
                    int32_t ni = (int32_t) n;
                    int32_t half = ni / 2;
                    int32_t bits1 = (half + 127) << 23;
                    int32_t bits2 = (ni - half + 127) << 23;
                    float s1, s2;
                    memcpy(&s1, &bits1, 4);
                    memcpy(&s2, &bits2, 4);
                    float y = p * s1 * s2;
                    return x != x ? x : y;
                }
                /*
                 * tanh for float: an odd polynomial near 0, elsewhere m / (m + 2) with m = e^{2|x|} - 1,
                 * exactly +-1 past 9.1. m comes from 2|x| = n ln2 + r as 2^n expm1(r) + (2^n - 1),
                 * both exact in the exponent bits for the n that occur, and expm1(r) by a degree-8
                 * polynomial: one scale and one division, where 1 - 2/(e^{2|x|} + 1) took two. At
                 * batch 1 each layer waits for its tanh, so the polynomial is evaluated in a short
                 * dependency chain.
                 */
                static inline float kiln_tanhf(float x) {
                    float a = x < 0 ? -x : x;
                    float y = 2.0f * (a > 9.1f ? 9.1f : a);
                    float n = (y * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
                    float r = y - n * 0.693145751953125f;
                    r = r - n * 1.428606765330187045e-6f;
                    /* Estrin's scheme: 4 dependent steps after r * r, where Horner's took 8. */
                    float r2 = r * r;
                    float r4 = r2 * r2;
                    float q0 = 1.0f / 6.0f * r + 0.5f;
                    float q1 = 1.0f / 120.0f * r + 1.0f / 24.0f;
                    float q2 = 1.0f / 5040.0f * r + 1.0f / 720.0f;
                    float s0 = q1 * r2 + q0;
                    float s1 = 1.0f / 40320.0f * r2 + q2;
                    float p = (s1 * r4 + s0) * r2 + r;
                    int32_t bits = ((int32_t) n + 127) << 23;
                    float scale;
                    memcpy(&scale, &bits, 4);
                    float m = scale * p + (scale - 1.0f);
                    float big = m / (m + 2.0f);
                    float x2 = x * x;
                    /* tanh x = x (1 - x^2/3 + 2x^4/15 - ...) for |x| < 0.35; the product keeps the sign of -0. */
                    float small = x * (1.0f + x2 * (-1.0f / 3.0f + x2 * (2.0f / 15.0f + x2 * (-17.0f / 315.0f + x2 * (62.0f / 2835.0f + x2 * (-1382.0f / 155925.0f))))));
                    float t = a > 9.1f ? 1.0f : big;
                    t = x < 0 ? -t : t;
                    t = a < 0.35f ? small : t;
                    return x != x ? x : t;
                }

                static inline double kiln_exp(double x) {
                    return exp(x);
                }

                static inline double kiln_tanh(double x) {
                    return tanh(x);
                }

                """ + ElementwiseHelpers.floatDefinitions() + "\n" + ElementwiseHelpers.doubleDefinitions() + "\n"
                + Dropout.cDefinitions() + "\n" + CThreadPool.text() + matmulText()
                + vectorText();
    }

    /**
     * Returns the 8-float vector type and operations that {@link SmallMatmul} kernels use, and the
     * attributes of entry functions. GCC vector extensions compile to whatever vector width the
     * enclosing function targets: two SSE registers per vector by default, one AVX register in the
     * x86-64-v3 and v4 clones of an entry.
     */
    static String vectorText() {
        return """
                #if defined(__GNUC__)
                #define KILN_INLINE __attribute__((always_inline))
                #else
                #define KILN_INLINE
                #endif

                /*
                 * Entry functions are compiled three times on x86-64 Linux with GCC: for x86-64-v4
                 * (AVX-512), x86-64-v3 (AVX2 and FMA) and the baseline, and the dynamic loader picks
                 * the best one for the CPU when it binds the symbol. Inlined helpers and elementwise
                 * loops then use the wide vectors too. With -ffp-contract=fast the v3 and v4 clones
                 * fuse a multiply and an add into one FMA, so they round alike and differ in the last
                 * bit from the baseline. Defining KILN_NO_CLONES when compiling keeps the baseline alone.
                 */
                #if defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 12 && defined(__x86_64__) && defined(__linux__) && !defined(KILN_NO_CLONES)
                #define KILN_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
                #define KILN_CLONES_ENABLED 1
                #else
                #define KILN_CLONES
                #endif

                /*
                 * Without clones, an x86-64 build below AVX runs the generic kernel instead of the
                 * specialized ones: their 12 accumulators of 8 floats need 24 of its 16 SSE registers,
                 * and the spills made a 20 x 20 layer at batch 1024 slower than the generic kernel.
                 * NOTE: the baseline clone, which only CPUs without AVX2 run, still spills.
                 */
                #if defined(__GNUC__) && (defined(KILN_CLONES_ENABLED) || defined(__AVX__) || !defined(__x86_64__))
                #define KILN_V8 1
                /* The vectors live in registers of inlined code only, so the ABI note on passing them does not apply. */
                #pragma GCC diagnostic ignored "-Wpsabi"
                typedef float kiln_v8sf __attribute__((vector_size(32)));

                typedef float kiln_v8_half __attribute__((vector_size(16)));

                /*
                 * GCC 12 builds some 8-lane constructors lane by lane, so a broadcast in a register-blocked
                 * matmul took 7 inserts. A 4-lane vector widened by a shuffle compiles to one vbroadcastss,
                 * and 4 floats and zeros to one 16-byte load.
                 */
                #if defined(__clang__) || __GNUC__ >= 12
                #define KILN_V8_WIDEN(lo, hi) __builtin_shufflevector(lo, hi, 0, 1, 2, 3, 4, 5, 6, 7)
                #define KILN_V8_SPLAT(lo) __builtin_shufflevector(lo, lo, 0, 0, 0, 0, 0, 0, 0, 0)
                #else
                #define KILN_V8_WIDEN(lo, hi) ((kiln_v8sf) {(lo)[0], (lo)[1], (lo)[2], (lo)[3], (hi)[0], (hi)[1], (hi)[2], (hi)[3]})
                #define KILN_V8_SPLAT(lo) ((kiln_v8sf) {(lo)[0], (lo)[0], (lo)[0], (lo)[0], (lo)[0], (lo)[0], (lo)[0], (lo)[0]})
                #endif

                static inline KILN_INLINE kiln_v8sf kiln_v8_set1(float x) {
                    kiln_v8_half lo = {x, 0.0f, 0.0f, 0.0f};
                    return KILN_V8_SPLAT(lo);
                }

                /* Loads count floats, 1 to 7, and zeros above them, without reading past p + count. */
                static inline KILN_INLINE kiln_v8sf kiln_v8_load_n(const float *p, int count) {
                    kiln_v8_half lo = {0.0f, 0.0f, 0.0f, 0.0f};
                    kiln_v8_half hi = {0.0f, 0.0f, 0.0f, 0.0f};
                    if (count >= 4) {
                        memcpy(&lo, p, sizeof lo);
                        for (int l = 4; l < count; l++) {
                            hi[l - 4] = p[l];
                        }
                    } else {
                        for (int l = 0; l < count; l++) {
                            lo[l] = p[l];
                        }
                    }
                    return KILN_V8_WIDEN(lo, hi);
                }

                static inline KILN_INLINE kiln_v8sf kiln_v8_load(const float *p) {
                    kiln_v8sf v;
                    memcpy(&v, p, sizeof v);
                    return v;
                }

                static inline KILN_INLINE void kiln_v8_store(float *p, kiln_v8sf v) {
                    memcpy(p, &v, sizeof v);
                }

                static inline KILN_INLINE void kiln_v8_store_n(float *p, kiln_v8sf v, int count) {
                    memcpy(p, &v, sizeof(float) * (size_t) count);
                }

                static inline KILN_INLINE float kiln_v8_sum(kiln_v8sf v) {
                    return ((v[0] + v[4]) + (v[2] + v[6])) + ((v[1] + v[5]) + (v[3] + v[7]));
                }

                typedef int32_t kiln_v8si __attribute__((vector_size(32)));
                #if defined(__clang__)
                #define KILN_V8_SHUFFLE(a, b, i0, i1, i2, i3, i4, i5, i6, i7) __builtin_shufflevector(a, b, i0, i1, i2, i3, i4, i5, i6, i7)
                #else
                #define KILN_V8_SHUFFLE(a, b, i0, i1, i2, i3, i4, i5, i6, i7) __builtin_shuffle(a, b, (kiln_v8si) {i0, i1, i2, i3, i4, i5, i6, i7})
                #endif

                /* Adds pairs of lanes: lanes 2l and 2l + 1 hold the sums of lanes 2l, 2l + 1 of x and of y. */
                static inline KILN_INLINE kiln_v8sf kiln_v8_pair_sums(kiln_v8sf x, kiln_v8sf y) {
                    return KILN_V8_SHUFFLE(x, y, 0, 8, 2, 10, 4, 12, 6, 14) + KILN_V8_SHUFFLE(x, y, 1, 9, 3, 11, 5, 13, 7, 15);
                }

                /*
                 * Returns the lane sums of eight vectors as one vector, lane j the sum of s_j. A tree of
                 * 7 adds and 14 shuffles replaces 56 operations lane by lane. It adds lane pairs first,
                 * then quadruples, then the two halves.
                 */
                static inline KILN_INLINE kiln_v8sf kiln_v8_sum8(kiln_v8sf s0, kiln_v8sf s1, kiln_v8sf s2, kiln_v8sf s3,
                                                              kiln_v8sf s4, kiln_v8sf s5, kiln_v8sf s6, kiln_v8sf s7) {
                    kiln_v8sf u0 = kiln_v8_pair_sums(s0, s1);
                    kiln_v8sf u1 = kiln_v8_pair_sums(s2, s3);
                    kiln_v8sf u2 = kiln_v8_pair_sums(s4, s5);
                    kiln_v8sf u3 = kiln_v8_pair_sums(s6, s7);
                    kiln_v8sf w0 = KILN_V8_SHUFFLE(u0, u1, 0, 1, 8, 9, 4, 5, 12, 13) + KILN_V8_SHUFFLE(u0, u1, 2, 3, 10, 11, 6, 7, 14, 15);
                    kiln_v8sf w1 = KILN_V8_SHUFFLE(u2, u3, 0, 1, 8, 9, 4, 5, 12, 13) + KILN_V8_SHUFFLE(u2, u3, 2, 3, 10, 11, 6, 7, 14, 15);
                    return KILN_V8_SHUFFLE(w0, w1, 0, 1, 2, 3, 8, 9, 10, 11) + KILN_V8_SHUFFLE(w0, w1, 4, 5, 6, 7, 12, 13, 14, 15);
                }
                #endif

                """;
    }

    /**
     * Register blocking and vector operations of one instruction-set variant of the matmul kernel.
     * The operations are C expression formats whose %s arguments are, in order: a pointer (load),
     * a pointer and a vector (store), a float (broadcast), a times b plus an accumulator (fma).
     */
    private record GemmIsa(String suffix, String attribute, String vector, int lanes, int rows, int vectorsPerRow,
                           String zero, String load, String store, String broadcast, String fma, String add) {

        int columns() {
            return lanes * vectorsPerRow;
        }
    }

    private static final GemmIsa AVX512 = new GemmIsa("avx512", "__attribute__((target(\"avx512f\")))", "__m512",
            16, 12, 2, "_mm512_setzero_ps()", "_mm512_loadu_ps(%s)", "_mm512_storeu_ps(%s, %s)",
            "_mm512_set1_ps(%s)", "_mm512_fmadd_ps(%s, %s, %s)", "_mm512_add_ps(%s, %s)");

    private static final GemmIsa AVX2 = new GemmIsa("avx2", "__attribute__((target(\"avx2,fma\")))", "__m256",
            8, 6, 2, "_mm256_setzero_ps()", "_mm256_loadu_ps(%s)", "_mm256_storeu_ps(%s, %s)",
            "_mm256_set1_ps(%s)", "_mm256_fmadd_ps(%s, %s, %s)", "_mm256_add_ps(%s, %s)");

    private static final GemmIsa GENERIC = new GemmIsa("generic", "", "kiln_v4sf",
            4, 6, 2, "kiln_v4sf_set1(0.0f)", "kiln_v4sf_load(%s)", "kiln_v4sf_store(%s, %s)",
            "kiln_v4sf_set1(%s)", "(%3$s + %1$s * %2$s)", "(%s + %s)");

    static String matmulText() {
        return ("""
                /*
                 * C[m,n] = op(A) op(B), row-major, where A is stored [m,k] or, transposed, [k,m],
                 * and B is stored [k,n] or, transposed, [n,k]. Calls with m < KILN_GEMM_MIN_ROWS,
                 * n < KILN_GEMM_MIN_COLUMNS or fewer than KILN_GEMM_MIN_WORK multiply-adds run
                 * kiln_matmul_simple. Larger ones
                 * pack op(A) and op(B) into panels and run a register-blocked kernel: AVX-512, or
                 * AVX2 with FMA, where the CPU has it (x86-64 with GCC or clang), else 128-bit GCC
                 * vectors. Other compilers always run the simple loops.
                 */

                /* Dot product in 16 independent partial sums from n = 32 on, which the compiler can vectorize without reassociating. */
                static inline float kiln_dotf(const float *restrict x, const float *restrict y, int64_t n) {
                    float sum = 0.0f;
                    int64_t p = 0;
                    if (n >= 32) {
                        float lanes[16] = {0};
                        for (; p + 16 <= n; p += 16) {
                            for (int l = 0; l < 16; l++) {
                                lanes[l] += x[p + l] * y[p + l];
                            }
                        }
                        for (int l = 0; l < 16; l++) {
                            sum += lanes[l];
                        }
                    }
                    for (; p < n; p++) {
                        sum += x[p] * y[p];
                    }
                    return sum;
                }

                /*
                 * y += alpha x in fixed 16-element steps, which GCC vectorizes at -O2 as well. Both
                 * loop bounds are computed first, because GCC 12 warned of undefined behavior in the
                 * empty leftover loop when n was a constant multiple of 16.
                 */
                static inline void kiln_axpyf(float alpha, const float *restrict x, float *restrict y, int64_t n) {
                    const int64_t whole = n - n % 16;
                    for (int64_t j = 0; j < whole; j += 16) {
                        for (int l = 0; l < 16; l++) {
                            y[j + l] += alpha * x[j + l];
                        }
                    }
                    for (int64_t j = whole; j < n; j++) {
                        y[j] += alpha * x[j];
                    }
                }

                /* Loops for shapes too small to repay packing. The innermost loop walks contiguous memory. */
                static void kiln_matmul_simple(int64_t m, int64_t n, int64_t k,
                                               const float *restrict a, int transpose_a,
                                               const float *restrict b, int transpose_b,
                                               float *restrict c) {
                    if (!transpose_b) {
                        memset(c, 0, (size_t) (m * n) * sizeof(float));
                        for (int64_t i = 0; i < m; i++) {
                            float *restrict row = c + i * n;
                            for (int64_t p = 0; p < k; p++) {
                                float av = transpose_a ? a[p * m + i] : a[i * k + p];
                                kiln_axpyf(av, b + p * n, row, n);
                            }
                        }
                        return;
                    }
                    for (int64_t i = 0; i < m; i++) {
                        for (int64_t j = 0; j < n; j++) {
                            const float *restrict brow = b + j * k;
                            if (transpose_a) {
                                float sum = 0.0f;
                                for (int64_t p = 0; p < k; p++) {
                                    sum += a[p * m + i] * brow[p];
                                }
                                c[i * n + j] = sum;
                            } else {
                                c[i * n + j] = kiln_dotf(a + i * k, brow, k);
                            }
                        }
                    }
                }

                #if defined(__GNUC__)
                #define KILN_GEMM_PACKED 1
                #if defined(__x86_64__)
                #include <immintrin.h>
                #define KILN_GEMM_X86 1
                #endif

                /*
                 * Below these sizes the simple loops were faster than packing in measurements on
                 * an AMD EPYC (Zen 4) with GCC 12 -O2, because packing B costs about as much as
                 * the multiply itself when op(A) has so few rows, and a kernel tile of 8 to 32
                 * columns mostly multiplies padding when op(B) has so few columns.
                 */
                #define KILN_GEMM_MIN_ROWS 4
                #define KILN_GEMM_MIN_COLUMNS 8
                #define KILN_GEMM_MIN_WORK 4096
                /*
                 * Block sizes: a KC x NC panel of op(B) and an MC x KC block of op(A) are packed per
                 * step. MC is a multiple of every kernel's row count, NC of every column count.
                 */
                #define KILN_GEMM_KC 256
                #define KILN_GEMM_MC 96
                #define KILN_GEMM_NC 512

                /*
                 * Packing buffers, one pair per thread, so concurrent calls never share them. They
                 * live in thread-local storage because they are too large for the stack of a thread
                 * that the JVM or an application created with a small stack.
                 * NOTE: every thread that runs a packed matmul keeps these 608 KiB until it exits.
                 */
                static _Thread_local float kiln_gemm_packed_a[KILN_GEMM_MC * KILN_GEMM_KC] __attribute__((aligned(64)));
                static _Thread_local float kiln_gemm_packed_b[KILN_GEMM_KC * KILN_GEMM_NC] __attribute__((aligned(64)));

                typedef float kiln_v4sf __attribute__((vector_size(16)));

                static inline kiln_v4sf kiln_v4sf_load(const float *p) {
                    kiln_v4sf v;
                    memcpy(&v, p, sizeof v);
                    return v;
                }

                static inline void kiln_v4sf_store(float *p, kiln_v4sf v) {
                    memcpy(p, &v, sizeof v);
                }

                static inline kiln_v4sf kiln_v4sf_set1(float x) {
                    return (kiln_v4sf) {x, x, x, x};
                }

                """ + gemmVariant(GENERIC) + """
                #if defined(KILN_GEMM_X86)
                /* Writes dst[q * stride + r] = src[r * ld + q] for r < 4 and q < 8: four rows of 8 floats, transposed. */
                __attribute__((target("avx2"))) static inline void kiln_transpose_4x8(const float *restrict src, int64_t ld,
                                                                                      float *restrict dst, int64_t stride) {
                    __m256 r0 = _mm256_loadu_ps(src);
                    __m256 r1 = _mm256_loadu_ps(src + ld);
                    __m256 r2 = _mm256_loadu_ps(src + 2 * ld);
                    __m256 r3 = _mm256_loadu_ps(src + 3 * ld);
                    __m256 t0 = _mm256_unpacklo_ps(r0, r1);
                    __m256 t1 = _mm256_unpackhi_ps(r0, r1);
                    __m256 t2 = _mm256_unpacklo_ps(r2, r3);
                    __m256 t3 = _mm256_unpackhi_ps(r2, r3);
                    __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44);
                    __m256 u1 = _mm256_shuffle_ps(t0, t2, 0xEE);
                    __m256 u2 = _mm256_shuffle_ps(t1, t3, 0x44);
                    __m256 u3 = _mm256_shuffle_ps(t1, t3, 0xEE);
                    _mm_storeu_ps(dst, _mm256_castps256_ps128(u0));
                    _mm_storeu_ps(dst + stride, _mm256_castps256_ps128(u1));
                    _mm_storeu_ps(dst + 2 * stride, _mm256_castps256_ps128(u2));
                    _mm_storeu_ps(dst + 3 * stride, _mm256_castps256_ps128(u3));
                    _mm_storeu_ps(dst + 4 * stride, _mm256_extractf128_ps(u0, 1));
                    _mm_storeu_ps(dst + 5 * stride, _mm256_extractf128_ps(u1, 1));
                    _mm_storeu_ps(dst + 6 * stride, _mm256_extractf128_ps(u2, 1));
                    _mm_storeu_ps(dst + 7 * stride, _mm256_extractf128_ps(u3, 1));
                }

                /*
                 * Writes dst[q * stride + r] = src[r * ld + q] for r < width (a multiple of 4) and
                 * q < count. Packing an A stored [m,k] or a B stored [n,k] is such a transpose. Done
                 * element by element, packing took about 14% of a 784-256-128-10 train step's CPU time.
                 */
                __attribute__((target("avx2"))) static inline void kiln_transpose_block(const float *restrict src, int64_t ld,
                                                                                        int64_t width, int64_t count,
                                                                                        float *restrict dst, int64_t stride) {
                    int64_t q = 0;
                    for (; q + 8 <= count; q += 8) {
                        for (int64_t r = 0; r < width; r += 4) {
                            kiln_transpose_4x8(src + r * ld + q, ld, dst + q * stride + r, stride);
                        }
                    }
                    for (; q < count; q++) {
                        for (int64_t r = 0; r < width; r++) {
                            dst[q * stride + r] = src[r * ld + q];
                        }
                    }
                }

                """ + gemmVariant(AVX2) + gemmVariant(AVX512) + """
                #endif
                #endif

                #if defined(KILN_GEMM_PACKED)
                typedef void (*kiln_gemm_fn)(int64_t m, int64_t n, int64_t k,
                                             const float *restrict a, int64_t lda, int transpose_a,
                                             const float *restrict b, int64_t ldb, int transpose_b,
                                             float *restrict c, int64_t ldc);

                /* One packed product whose output rows or columns run on several threads. */
                typedef struct kiln_gemm_job {
                    kiln_gemm_fn gemm;
                    int64_t m, n, k;
                    const float *a;
                    int transpose_a;
                    const float *b;
                    int transpose_b;
                    float *c;
                    int split_columns;
                } kiln_gemm_job;

                /* Runs rows or columns [begin, end) of C; every element is summed as in the whole product. */
                static void kiln_gemm_task(void *context, int64_t begin, int64_t end) {
                    const kiln_gemm_job *job = context;
                    int64_t lda = job->transpose_a ? job->m : job->k;
                    int64_t ldb = job->transpose_b ? job->k : job->n;
                    if (job->split_columns) {
                        const float *b = job->transpose_b ? job->b + begin * ldb : job->b + begin;
                        job->gemm(job->m, end - begin, job->k, job->a, lda, job->transpose_a, b, ldb, job->transpose_b,
                                  job->c + begin, job->n);
                    } else {
                        const float *a = job->transpose_a ? job->a + begin : job->a + begin * lda;
                        job->gemm(end - begin, job->n, job->k, a, lda, job->transpose_a, job->b, ldb, job->transpose_b,
                                  job->c + begin * job->n, job->n);
                    }
                }
                #endif

                static void kiln_matmul(int64_t m, int64_t n, int64_t k,
                                        const float *restrict a, int transpose_a,
                                        const float *restrict b, int transpose_b,
                                        float *restrict c) {
                    if (m <= 0 || n <= 0) {
                        return;
                    }
                    if (k <= 0) {
                        memset(c, 0, (size_t) (m * n) * sizeof(float));
                        return;
                    }
                #if defined(KILN_GEMM_PACKED)
                    if (m >= KILN_GEMM_MIN_ROWS && n >= KILN_GEMM_MIN_COLUMNS && m * n * k >= KILN_GEMM_MIN_WORK) {
                        kiln_gemm_job job = {kiln_gemm_generic, m, n, k, a, transpose_a, b, transpose_b, c, n >= m};
                        int64_t rows = $GENERIC_MR, columns = $GENERIC_NR;
                #if defined(KILN_GEMM_X86)
                        __builtin_cpu_init();
                        if (__builtin_cpu_supports("avx512f")) {
                            job.gemm = kiln_gemm_avx512;
                            rows = $AVX512_MR;
                            columns = $AVX512_NR;
                        } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
                            job.gemm = kiln_gemm_avx2;
                            rows = $AVX2_MR;
                            columns = $AVX2_NR;
                        }
                #endif
                        /*
                         * Each thread packs its share of the split operand and all of the other, so the
                         * larger of m and n is split. Ranges are whole kernel tiles.
                         */
                        if (job.split_columns ? kiln_parallel(n, columns, (double) m * n * k, kiln_gemm_task, &job)
                                              : kiln_parallel(m, rows, (double) m * n * k, kiln_gemm_task, &job)) {
                            return;
                        }
                        job.gemm(m, n, k, a, transpose_a ? m : k, transpose_a, b, transpose_b ? k : n, transpose_b, c, n);
                        return;
                    }
                #endif
                    kiln_matmul_simple(m, n, k, a, transpose_a, b, transpose_b, c);
                }

                """)
                .replace("$GENERIC_MR", Integer.toString(GENERIC.rows()))
                .replace("$GENERIC_NR", Integer.toString(GENERIC.columns()))
                .replace("$AVX2_MR", Integer.toString(AVX2.rows()))
                .replace("$AVX2_NR", Integer.toString(AVX2.columns()))
                .replace("$AVX512_MR", Integer.toString(AVX512.rows()))
                .replace("$AVX512_NR", Integer.toString(AVX512.columns()));
    }

    /** Renders the packing routines, the micro-kernel and the blocked driver of one variant. */
    private static String gemmVariant(GemmIsa isa) {
        String template = """
                /* Packs rows [i0, i0+mc) and columns [p0, p0+kc) of op(A) into $MR-row slivers, k-major, zero-padded. */
                $ATTR static void kiln_gemm_pack_a_$SFX(const float *restrict a, int transpose_a, int64_t lda,
                                                       int64_t i0, int64_t mc, int64_t p0, int64_t kc, float *restrict dst) {
                    for (int64_t s = 0; s < mc; s += $MR) {
                        int64_t rows = mc - s < $MR ? mc - s : $MR;
                        if (transpose_a && rows == $MR) {
                            for (int64_t p = 0; p < kc; p++) {
                                memcpy(dst + p * $MR, a + (p0 + p) * lda + i0 + s, sizeof(float) * $MR);
                            }
                        } else if (transpose_a) {
                            for (int64_t p = 0; p < kc; p++) {
                                const float *restrict src = a + (p0 + p) * lda + i0 + s;
                                for (int64_t r = 0; r < $MR; r++) {
                                    dst[p * $MR + r] = r < rows ? src[r] : 0.0f;
                                }
                            }
                $PACK_A_WHOLE
                        } else {
                            for (int64_t r = 0; r < $MR; r++) {
                                if (r < rows) {
                                    const float *restrict src = a + (i0 + s + r) * lda + p0;
                                    for (int64_t p = 0; p < kc; p++) {
                                        dst[p * $MR + r] = src[p];
                                    }
                                } else {
                                    for (int64_t p = 0; p < kc; p++) {
                                        dst[p * $MR + r] = 0.0f;
                                    }
                                }
                            }
                        }
                        dst += $MR * kc;
                    }
                }

                /* Packs rows [p0, p0+kc) and columns [j0, j0+nc) of op(B) into $NR-column slivers, k-major, zero-padded. */
                $ATTR static void kiln_gemm_pack_b_$SFX(const float *restrict b, int transpose_b, int64_t ldb,
                                                       int64_t p0, int64_t kc, int64_t j0, int64_t nc, float *restrict dst) {
                    for (int64_t s = 0; s < nc; s += $NR) {
                        int64_t cols = nc - s < $NR ? nc - s : $NR;
                        if (!transpose_b && cols == $NR) {
                            for (int64_t p = 0; p < kc; p++) {
                                memcpy(dst + p * $NR, b + (p0 + p) * ldb + j0 + s, sizeof(float) * $NR);
                            }
                        } else if (!transpose_b) {
                            for (int64_t p = 0; p < kc; p++) {
                                const float *restrict src = b + (p0 + p) * ldb + j0 + s;
                                for (int64_t j = 0; j < $NR; j++) {
                                    dst[p * $NR + j] = j < cols ? src[j] : 0.0f;
                                }
                            }
                $PACK_B_WHOLE
                        } else {
                            for (int64_t j = 0; j < $NR; j++) {
                                if (j < cols) {
                                    const float *restrict src = b + (j0 + s + j) * ldb + p0;
                                    for (int64_t p = 0; p < kc; p++) {
                                        dst[p * $NR + j] = src[p];
                                    }
                                } else {
                                    for (int64_t p = 0; p < kc; p++) {
                                        dst[p * $NR + j] = 0.0f;
                                    }
                                }
                            }
                        }
                        dst += $NR * kc;
                    }
                }

                /*
                 * Sets or, with accumulate, adds to the C tile [rows, cols] (at most $MR x $NR, row stride
                 * ldc) the product of a packed A sliver and a packed B sliver over kc steps. Its accumulators
                 * stay in vector registers.
                 */
                $ATTR static void kiln_gemm_kernel_$SFX(int64_t kc, const float *restrict ap, const float *restrict bp,
                                                       float *restrict c, int64_t ldc, int64_t rows, int64_t cols,
                                                       int accumulate) {
                $DECLARE
                    for (int64_t p = 0; p < kc; p++) {
                $STEP
                        ap += $MR;
                        bp += $NR;
                    }
                    if (rows == $MR && cols == $NR) {
                        if (accumulate) {
                $ADD_STORE
                        } else {
                $STORE
                        }
                        return;
                    }
                    float tile[$MR * $NR];
                $TILE_STORE
                    for (int64_t r = 0; r < rows; r++) {
                        for (int64_t j = 0; j < cols; j++) {
                            c[r * ldc + j] = accumulate ? c[r * ldc + j] + tile[r * $NR + j] : tile[r * $NR + j];
                        }
                    }
                }

                /* The blocked product; lda, ldb and ldc are the row strides of a, b and c as stored. */
                $ATTR static void kiln_gemm_$SFX(int64_t m, int64_t n, int64_t k,
                                                const float *restrict a, int64_t lda, int transpose_a,
                                                const float *restrict b, int64_t ldb, int transpose_b,
                                                float *restrict c, int64_t ldc) {
                    float *restrict packed_a = kiln_gemm_packed_a;
                    float *restrict packed_b = kiln_gemm_packed_b;
                    for (int64_t j0 = 0; j0 < n; j0 += KILN_GEMM_NC) {
                        int64_t nc = n - j0 < KILN_GEMM_NC ? n - j0 : KILN_GEMM_NC;
                        for (int64_t p0 = 0; p0 < k; p0 += KILN_GEMM_KC) {
                            int64_t kc = k - p0 < KILN_GEMM_KC ? k - p0 : KILN_GEMM_KC;
                            kiln_gemm_pack_b_$SFX(b, transpose_b, ldb, p0, kc, j0, nc, packed_b);
                            for (int64_t i0 = 0; i0 < m; i0 += KILN_GEMM_MC) {
                                int64_t mc = m - i0 < KILN_GEMM_MC ? m - i0 : KILN_GEMM_MC;
                                kiln_gemm_pack_a_$SFX(a, transpose_a, lda, i0, mc, p0, kc, packed_a);
                                for (int64_t jr = 0; jr < nc; jr += $NR) {
                                    int64_t cols = nc - jr < $NR ? nc - jr : $NR;
                                    for (int64_t ir = 0; ir < mc; ir += $MR) {
                                        int64_t rows = mc - ir < $MR ? mc - ir : $MR;
                                        kiln_gemm_kernel_$SFX(kc, packed_a + ir * kc, packed_b + jr * kc,
                                                              c + (i0 + ir) * ldc + j0 + jr, ldc, rows, cols, p0 > 0);
                                    }
                                }
                            }
                        }
                    }
                }

                """;
        return template
                .replace("$PACK_A_WHOLE\n", wholeSliverPack(isa, "a", "rows", "(i0 + s) * lda + p0", "lda", isa.rows()))
                .replace("$PACK_B_WHOLE\n", wholeSliverPack(isa, "b", "cols", "(j0 + s) * ldb + p0", "ldb", isa.columns()))
                .replace("$DECLARE\n", kernelLines(isa, KernelPart.DECLARE))
                .replace("$STEP\n", kernelLines(isa, KernelPart.STEP))
                .replace("$ADD_STORE\n", kernelLines(isa, KernelPart.ADD_STORE))
                .replace("$STORE\n", kernelLines(isa, KernelPart.STORE))
                .replace("$TILE_STORE\n", kernelLines(isa, KernelPart.TILE_STORE))
                .replace("$ATTR ", isa.attribute().isEmpty() ? "" : isa.attribute() + " ")
                .replace("$SFX", isa.suffix())
                .replace("$MR", Integer.toString(isa.rows()))
                .replace("$NR", Integer.toString(isa.columns()));
    }

    /**
     * Renders the branch that packs a whole sliver of an A stored [m,k] or a B stored [n,k] by 4 x 8
     * register transposes. Rows past the last multiple of 4 are copied one by one, and the generic
     * variant gets no such branch.
     */
    private static String wholeSliverPack(GemmIsa isa, String operand, String extent, String origin, String ld,
                                          int width) {
        if (isa == GENERIC) {
            return "";
        }
        int vectorWidth = width / 4 * 4;
        StringBuilder text = new StringBuilder();
        text.append("        } else if (").append(extent).append(" == ").append(width).append(") {\n");
        text.append("            kiln_transpose_block(").append(operand).append(" + ").append(origin).append(", ")
                .append(ld).append(", ").append(vectorWidth).append(", kc, dst, ").append(width).append(");\n");
        if (vectorWidth < width) {
            text.append("            for (int64_t r = ").append(vectorWidth).append("; r < ").append(width)
                    .append("; r++) {\n");
            text.append("                for (int64_t p = 0; p < kc; p++) {\n");
            text.append("                    dst[p * ").append(width).append(" + r] = ").append(operand).append("[")
                    .append(origin).append(" + r * ").append(ld).append(" + p];\n");
            text.append("                }\n");
            text.append("            }\n");
        }
        return text.toString();
    }

    /** Parts of the micro-kernel that {@link #kernelLines} unrolls over the accumulator registers. */
    private enum KernelPart {
        DECLARE, STEP, ADD_STORE, STORE, TILE_STORE
    }

    /** Renders one fully unrolled part of the micro-kernel, one line per accumulator register. */
    private static String kernelLines(GemmIsa isa, KernelPart part) {
        StringBuilder text = new StringBuilder();
        String indent = switch (part) {
            case DECLARE, TILE_STORE -> "    ";
            case STEP -> "        ";
            case ADD_STORE, STORE -> "            ";
        };
        if (part == KernelPart.STEP) {
            for (int v = 0; v < isa.vectorsPerRow(); v++) {
                text.append(indent).append(isa.vector()).append(" b").append(v).append(" = ")
                        .append(isa.load().formatted("bp + " + v * isa.lanes())).append(";\n");
            }
        }
        for (int r = 0; r < isa.rows(); r++) {
            if (part == KernelPart.STEP) {
                text.append(indent).append(isa.vector()).append(" a").append(r).append(" = ")
                        .append(isa.broadcast().formatted("ap[" + r + "]")).append(";\n");
            }
            for (int v = 0; v < isa.vectorsPerRow(); v++) {
                String acc = "c" + r + "_" + v;
                String offset = " + " + (v * isa.lanes());
                String line = switch (part) {
                    case DECLARE -> isa.vector() + " " + acc + " = " + isa.zero() + ";";
                    case STEP -> acc + " = " + isa.fma().formatted("a" + r, "b" + v, acc) + ";";
                    case ADD_STORE -> isa.store().formatted("c + " + r + " * ldc" + offset,
                            isa.add().formatted(isa.load().formatted("c + " + r + " * ldc" + offset), acc)) + ";";
                    case STORE -> isa.store().formatted("c + " + r + " * ldc" + offset, acc) + ";";
                    case TILE_STORE -> isa.store().formatted("tile + " + (r * isa.columns() + v * isa.lanes()), acc) + ";";
                };
                text.append(indent).append(line).append('\n');
            }
        }
        return text.toString();
    }
}
