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
