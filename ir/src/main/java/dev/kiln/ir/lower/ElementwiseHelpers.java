package dev.kiln.ir.lower;

/**
 * C definitions of the helper functions that elementwise ops lower to, such as
 * {@code kiln_sigmoidf}. The float versions are written in the common subset of C11 and OpenCL C
 * 1.2, with C99 math names (log1pf, fabsf) that the OpenCL prelude maps to OpenCL's built-ins, and
 * {@code kiln_expf} and {@code kiln_tanhf}, which each backend defines, so both compile the very
 * same formulas.
 */
public final class ElementwiseHelpers {
    private ElementwiseHelpers() {
    }

    /** Returns the float helpers, used by tensor loops in C and by every OpenCL kernel. */
    public static String floatDefinitions() {
        return """
                /* Logistic function in the form that never overflows. */
                static inline float kiln_sigmoidf(float x) {
                    if (x >= 0) {
                        return 1.0f / (1.0f + kiln_expf(-x));
                    }
                    float e = kiln_expf(x);
                    return e / (1.0f + e);
                }

                static inline float kiln_reluf(float x) {
                    return x > 0 ? x : 0.0f;
                }

                static inline float kiln_rsqrtf(float x) {
                    return 1.0f / sqrtf(x);
                }

                /* -1, 0 or 1; a signed zero and NaN come back unchanged. */
                static inline float kiln_signf(float x) {
                    return x > 0 ? 1.0f : (x < 0 ? -1.0f : x);
                }

                static inline float kiln_leaky_reluf(float x, float alpha) {
                    return x > 0 ? x : alpha * x;
                }

                static inline float kiln_eluf(float x, float alpha) {
                    return x > 0 ? x : alpha * expm1f(x);
                }

                /* Exact GELU as x erfc(-x/sqrt 2)/2, which keeps its precision in the negative tail. */
                static inline float kiln_geluf(float x) {
                    return 0.5f * x * erfcf(-x * 0.70710678118654752f);
                }

                /* GELU, tanh approximation; x^3 may overflow to inf, where tanh gives exactly +-1. */
                static inline float kiln_gelu_tanhf(float x) {
                    float u = 0.79788456080286536f * (x + 0.044715f * x * x * x);
                    return 0.5f * x * (1.0f + kiln_tanhf(u));
                }

                /* softplus as max(x, 0) + log1p(e^-|x|), which never overflows. */
                static inline float kiln_softplusf(float x) {
                    return fmaxf(x, 0.0f) + log1pf(kiln_expf(-fabsf(x)));
                }

                static inline float kiln_siluf(float x) {
                    return x * kiln_sigmoidf(x);
                }

                /* maximum and minimum propagate NaN, as PyTorch does, unlike fmax and fmin. */
                static inline float kiln_maximumf(float a, float b) {
                    return (a > b || isnan(a)) ? a : b;
                }

                static inline float kiln_minimumf(float a, float b) {
                    return (a < b || isnan(a)) ? a : b;
                }

                /* min(max(x, lo), hi): hi wins where lo > hi, and NaN in any operand propagates. */
                static inline float kiln_clampf(float x, float lo, float hi) {
                    return kiln_minimumf(kiln_maximumf(x, lo), hi);
                }

                """;
    }

    /** Returns the double helpers, used by scalars that the C backend computes in double. */
    public static String doubleDefinitions() {
        return """
                static inline double kiln_sigmoid(double x) {
                    if (x >= 0) {
                        return 1.0 / (1.0 + exp(-x));
                    }
                    double e = exp(x);
                    return e / (1.0 + e);
                }

                static inline double kiln_relu(double x) {
                    return x > 0 ? x : 0.0;
                }

                static inline double kiln_rsqrt(double x) {
                    return 1.0 / sqrt(x);
                }

                static inline double kiln_sign(double x) {
                    return x > 0 ? 1.0 : (x < 0 ? -1.0 : x);
                }

                static inline double kiln_leaky_relu(double x, double alpha) {
                    return x > 0 ? x : alpha * x;
                }

                static inline double kiln_elu(double x, double alpha) {
                    return x > 0 ? x : alpha * expm1(x);
                }

                static inline double kiln_gelu(double x) {
                    return 0.5 * x * erfc(-x * 0.70710678118654752);
                }

                static inline double kiln_gelu_tanh(double x) {
                    double u = 0.79788456080286536 * (x + 0.044715 * x * x * x);
                    return 0.5 * x * (1.0 + tanh(u));
                }

                static inline double kiln_softplus(double x) {
                    return fmax(x, 0.0) + log1p(exp(-fabs(x)));
                }

                static inline double kiln_silu(double x) {
                    return x * kiln_sigmoid(x);
                }

                static inline double kiln_maximum(double a, double b) {
                    return (a > b || isnan(a)) ? a : b;
                }

                static inline double kiln_minimum(double a, double b) {
                    return (a < b || isnan(a)) ? a : b;
                }

                static inline double kiln_clamp(double x, double lo, double hi) {
                    return kiln_minimum(kiln_maximum(x, lo), hi);
                }

                """;
    }
}
