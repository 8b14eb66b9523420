package dev.kiln.ir;

/**
 * How a parameter tensor starts, following PyTorch's default for the layer that owns it. The
 * runtime draws every random value from one seeded stream, parameter after parameter.
 */
public enum ParamInit {
    /** Uniform in [-1/sqrt(fanIn), 1/sqrt(fanIn)], as {@code nn.Linear}'s weight and bias. */
    UNIFORM_FAN_IN,
    /** All zeros, as {@code nn.LayerNorm}'s bias. Draws no random values. */
    ZEROS,
    /** All ones, as {@code nn.LayerNorm}'s weight. Draws no random values. */
    ONES,
    /** Standard normal N(0, 1), as {@code nn.Embedding}'s weight. */
    NORMAL
}
