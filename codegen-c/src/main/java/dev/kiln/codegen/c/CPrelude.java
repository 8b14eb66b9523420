package dev.kiln.codegen.c;

import dev.kiln.ir.Hyperparameters;

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

                /* Logistic function in the form that never overflows. */
                static inline float kiln_sigmoidf(float x) {
                    if (x >= 0) {
                        return 1.0f / (1.0f + expf(-x));
                    }
                    float e = expf(x);
                    return e / (1.0f + e);
                }

                static inline double kiln_sigmoid(double x) {
                    if (x >= 0) {
                        return 1.0 / (1.0 + exp(-x));
                    }
                    double e = exp(x);
                    return e / (1.0 + e);
                }

                static inline float kiln_reluf(float x) {
                    return x > 0 ? x : 0.0f;
                }

                static inline double kiln_relu(double x) {
                    return x > 0 ? x : 0.0;
                }

                static inline float kiln_rsqrtf(float x) {
                    return 1.0f / sqrtf(x);
                }

                static inline double kiln_rsqrt(double x) {
                    return 1.0 / sqrt(x);
                }

                /* -1, 0 or 1; a signed zero and NaN come back unchanged. */
                static inline float kiln_signf(float x) {
                    return x > 0 ? 1.0f : (x < 0 ? -1.0f : x);
                }

                static inline double kiln_sign(double x) {
                    return x > 0 ? 1.0 : (x < 0 ? -1.0 : x);
                }

                static inline float kiln_leaky_reluf(float x, float alpha) {
                    return x > 0 ? x : alpha * x;
                }

                static inline double kiln_leaky_relu(double x, double alpha) {
                    return x > 0 ? x : alpha * x;
                }

                static inline float kiln_eluf(float x, float alpha) {
                    return x > 0 ? x : alpha * expm1f(x);
                }

                static inline double kiln_elu(double x, double alpha) {
                    return x > 0 ? x : alpha * expm1(x);
                }

                /* Exact GELU as x erfc(-x/sqrt 2)/2, which keeps its precision in the negative tail. */
                static inline float kiln_geluf(float x) {
                    return 0.5f * x * erfcf(-x * 0.70710678118654752f);
                }

                static inline double kiln_gelu(double x) {
                    return 0.5 * x * erfc(-x * 0.70710678118654752);
                }

                /* GELU, tanh approximation; x^3 may overflow to inf, where tanh gives exactly +-1. */
                static inline float kiln_gelu_tanhf(float x) {
                    float u = 0.79788456080286536f * (x + 0.044715f * x * x * x);
                    return 0.5f * x * (1.0f + tanhf(u));
                }

                static inline double kiln_gelu_tanh(double x) {
                    double u = 0.79788456080286536 * (x + 0.044715 * x * x * x);
                    return 0.5 * x * (1.0 + tanh(u));
                }

                /* softplus as max(x, 0) + log1p(e^-|x|), which never overflows. */
                static inline float kiln_softplusf(float x) {
                    return fmaxf(x, 0.0f) + log1pf(expf(-fabsf(x)));
                }

                static inline double kiln_softplus(double x) {
                    return fmax(x, 0.0) + log1p(exp(-fabs(x)));
                }

                static inline float kiln_siluf(float x) {
                    return x * kiln_sigmoidf(x);
                }

                static inline double kiln_silu(double x) {
                    return x * kiln_sigmoid(x);
                }

                /* maximum and minimum propagate NaN, as PyTorch does, unlike fmax and fmin. */
                static inline float kiln_maximumf(float a, float b) {
                    return (a > b || isnan(a)) ? a : b;
                }

                static inline double kiln_maximum(double a, double b) {
                    return (a > b || isnan(a)) ? a : b;
                }

                static inline float kiln_minimumf(float a, float b) {
                    return (a < b || isnan(a)) ? a : b;
                }

                static inline double kiln_minimum(double a, double b) {
                    return (a < b || isnan(a)) ? a : b;
                }

                /* min(max(x, lo), hi): hi wins where lo > hi, and NaN in any operand propagates. */
                static inline float kiln_clampf(float x, float lo, float hi) {
                    return kiln_minimumf(kiln_maximumf(x, lo), hi);
                }

                static inline double kiln_clamp(double x, double lo, double hi) {
                    return kiln_minimum(kiln_maximum(x, lo), hi);
                }

                /*
                 * C[m,n] = op(A) op(B), row-major, where A is stored [m,k] or, transposed, [k,m],
                 * and B is stored [k,n] or, transposed, [n,k]. The loop orders keep the innermost
                 * loop on contiguous memory.
                 */
                static void kiln_matmul(int64_t m, int64_t n, int64_t k,
                                        const float *restrict a, int transpose_a,
                                        const float *restrict b, int transpose_b,
                                        float *restrict c) {
                    if (!transpose_b) {
                        memset(c, 0, (size_t) (m * n) * sizeof(float));
                        for (int64_t i = 0; i < m; i++) {
                            float *restrict row = c + i * n;
                            for (int64_t p = 0; p < k; p++) {
                                float av = transpose_a ? a[p * m + i] : a[i * k + p];
                                const float *restrict brow = b + p * n;
                                for (int64_t j = 0; j < n; j++) {
                                    row[j] += av * brow[j];
                                }
                            }
                        }
                        return;
                    }
                    for (int64_t i = 0; i < m; i++) {
                        for (int64_t j = 0; j < n; j++) {
                            const float *restrict brow = b + j * k;
                            float sum = 0.0f;
                            if (transpose_a) {
                                for (int64_t p = 0; p < k; p++) {
                                    sum += a[p * m + i] * brow[p];
                                }
                            } else {
                                const float *restrict arow = a + i * k;
                                for (int64_t p = 0; p < k; p++) {
                                    sum += arow[p] * brow[p];
                                }
                            }
                            c[i * n + j] = sum;
                        }
                    }
                }

                """;
    }
}
