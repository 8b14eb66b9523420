package dev.kiln.ir.oracle;

/**
 * The points where Kiln documents a derivative that differs from PyTorch's, and Kiln's value
 * there, computed from the fixture's operands, cotangent and directions. Tests against the
 * oracle check these points against Kiln's value instead of PyTorch's, so no point is dropped.
 */
public final class OracleConventions {
    private OracleConventions() {
    }

    /** One output of one case, and the operands, cotangent and directions it was computed from. */
    public record Output(String op, OracleFixture.Variant variant, OracleFixture.Case c, String name) {
        /** Returns operand, {@code cotangent} or {@code direction.<operand>} at flat index i, or its only value. */
        public double at(String tensor, int i) {
            OracleFixture.Tensor t = tensor.equals("cotangent") ? c.cotangent()
                    : tensor.startsWith("direction.") ? c.directions().get(tensor.substring("direction.".length()))
                    : c.operands().stream().filter(o -> o.name().equals(tensor)).findFirst().orElseThrow().tensor();
            return t.values().length == 1 ? t.values()[0] : t.values()[i];
        }

        /** Returns whether every operand has {@code elements} values, so index i names one point of each. */
        public boolean operandsMatch(int elements) {
            return c.operands().stream().allMatch(operand -> operand.tensor().values().length == elements);
        }

        public int elements(String operand) {
            return c.operands().stream().filter(o -> o.name().equals(operand)).findFirst().orElseThrow()
                    .tensor().values().length;
        }

        @Override
        public String toString() {
            return op + " " + variant.attributes() + " " + c.label() + " " + name;
        }
    }

    /** Kiln's documented value at a point where it differs from PyTorch's, with the reason. */
    public record Convention(String reason, double value, boolean anyFinite) {
    }

    /**
     * Returns Kiln's documented value where it differs from PyTorch's at element {@code i} of an
     * output of {@code elements} values, or null where Kiln and PyTorch agree. Every such point is
     * a special point, where each operand has the output's shape.
     */
    public static Convention at(Output o, int i, int elements) {
        if (!o.operandsMatch(elements)) {
            return null;
        }
        switch (o.op()) {
            case "clamp" -> {
                double x = o.at("x", i);
                double low = o.at("low", i);
                double high = o.at("high", i);
                if (o.name().equals("grad.low") && x < low && low == high) {
                    // Kiln passes the cotangent to lo where x < lo <= hi; PyTorch 1.13 requires
                    // lo < hi, so at lo == hi no operand gets it.
                    return new Convention("lo gets the cotangent where x < lo == hi", o.at("cotangent", i), false);
                }
            }
            case "elu" -> {
                if (o.name().equals("hvp.x") && o.at("x", i) == 0) {
                    // Kiln takes elu's derivative at 0 from the left, alpha e^x, for the first
                    // derivative and so for the second, alpha; PyTorch's second derivative is 0 there.
                    double alpha = o.variant().number("alpha");
                    return new Convention("elu''(0) = alpha", alpha * o.at("cotangent", i) * o.at("direction.x", i),
                            false);
                }
            }
            case "huber" -> {
                double difference = o.at("input", i) - o.at("target", i);
                if (o.name().startsWith("hvp.") && Math.abs(difference) == 1) {
                    // Kiln's Huber loss is quadratic on |d| <= 1, boundary included, so its second
                    // derivative is 1 there; PyTorch's is quadratic only on |d| < 1.
                    double sign = o.name().equals("hvp.input") ? 1 : -1;
                    double hvp = sign * o.at("cotangent", i) * (o.at("direction.input", i) - o.at("direction.target", i))
                            / o.elements("input");
                    return new Convention("huber''(d) = 1 at |d| = 1", hvp, false);
                }
            }
            case "pow" -> {
                if (o.name().startsWith("hvp.") && o.at("a", i) == 0 && o.at("b", i) >= 0) {
                    // PyTorch's second derivative of a^b at a = 0 multiplies 0 by log(0) and
                    // returns NaN; Kiln documents derivatives of 0^b that stay finite.
                    return new Convention("second derivatives of 0^b are finite", 0, true);
                }
            }
            default -> {
                return null;
            }
        }
        return null;
    }
}
