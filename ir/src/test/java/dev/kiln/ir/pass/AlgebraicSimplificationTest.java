package dev.kiln.ir.pass;

import static dev.kiln.ir.pass.GoldenText.assertSameText;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.kiln.ir.Autodiff;
import dev.kiln.ir.DType;
import dev.kiln.ir.Evaluator;
import dev.kiln.ir.Graph;
import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.GraphCopier;
import dev.kiln.ir.Leaf;
import dev.kiln.ir.Loss;
import dev.kiln.ir.Node;
import dev.kiln.ir.Reduce;
import dev.kiln.ir.Shape;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * Each rule of {@link AlgebraicSimplification} as golden IR text before and after, evaluated
 * before and after on IEEE special values with bit-identical results; and each identity that
 * would change bits, left alone.
 */
class AlgebraicSimplificationTest {
    /** Operand values: signed zeros, NaN, infinities, float and double subnormals, near-overflow. */
    private static final double[] SPECIAL = {0.0, -0.0, Double.NaN, Double.POSITIVE_INFINITY,
        Double.NEGATIVE_INFINITY, 1e-45, -1e-45, Float.MIN_VALUE, Double.MIN_VALUE, 3e38, -3e38,
        Double.MAX_VALUE, 1.0, -1.0, 0.1, 2.5, -7.0};

    private static final Pass SIMPLIFY = new AlgebraicSimplification();

    // ---- rules -----------------------------------------------------------------------------

    @Test
    void timesOneIsOperand() {
        assertRewrite(b -> b.mul(x(b), b.constant(1)), """
                graph rule {
                  %0 = input "x" : f32[B]
                  %1 = const 1 : f32[]
                  %2 = mul %0, %1 : f32[B]
                  output "out" = %2
                }
                """, """
                graph rule {
                  %0 = input "x" : f32[B]
                  %1 = const 1 : f32[]
                  output "out" = %0
                }
                """);
    }

    @Test
    void oneTimesIsOperand() {
        assertRewrite(b -> b.mul(b.constant(1), x(b)), """
                graph rule {
                  %0 = const 1 : f32[]
                  %1 = input "x" : f32[B]
                  %2 = mul %0, %1 : f32[B]
                  output "out" = %2
                }
                """, """
                graph rule {
                  %0 = const 1 : f32[]
                  %1 = input "x" : f32[B]
                  output "out" = %1
                }
                """);
    }

    @Test
    void timesTensorOfOnesIsOperand() {
        assertRewrite(b -> b.mul(x(b), b.broadcastTo(b.constant(1), Shape.batched())), """
                graph rule {
                  %0 = input "x" : f32[B]
                  %1 = const 1 : f32[]
                  %2 = broadcast_to [B] %1 : f32[B]
                  %3 = mul %0, %2 : f32[B]
                  output "out" = %3
                }
                """, """
                graph rule {
                  %0 = input "x" : f32[B]
                  %1 = const 1 : f32[]
                  %2 = broadcast_to [B] %1 : f32[B]
                  output "out" = %0
                }
                """);
    }

    @Test
    void overOneIsOperand() {
        assertRewrite(b -> b.div(x(b), b.constant(1)), """
                graph rule {
                  %0 = input "x" : f32[B]
                  %1 = const 1 : f32[]
                  %2 = div %0, %1 : f32[B]
                  output "out" = %2
                }
                """, """
                graph rule {
                  %0 = input "x" : f32[B]
                  %1 = const 1 : f32[]
                  output "out" = %0
                }
                """);
    }

    @Test
    void minusPositiveZeroIsOperand() {
        assertRewrite(b -> b.sub(x(b), b.constant(0.0)), """
                graph rule {
                  %0 = input "x" : f32[B]
                  %1 = const 0 : f32[]
                  %2 = sub %0, %1 : f32[B]
                  output "out" = %2
                }
                """, """
                graph rule {
                  %0 = input "x" : f32[B]
                  %1 = const 0 : f32[]
                  output "out" = %0
                }
                """);
    }

    @Test
    void plusNegativeZeroIsOperand() {
        assertRewrite(b -> b.add(x(b), b.constant(-0.0)), """
                graph rule {
                  %0 = input "x" : f32[B]
                  %1 = const -0.0 : f32[]
                  %2 = add %0, %1 : f32[B]
                  output "out" = %2
                }
                """, """
                graph rule {
                  %0 = input "x" : f32[B]
                  %1 = const -0.0 : f32[]
                  output "out" = %0
                }
                """);
    }

    @Test
    void negativeZeroPlusIsOperand() {
        assertRewrite(b -> b.add(b.constant(-0.0), x(b)), """
                graph rule {
                  %0 = const -0.0 : f32[]
                  %1 = input "x" : f32[B]
                  %2 = add %0, %1 : f32[B]
                  output "out" = %2
                }
                """, """
                graph rule {
                  %0 = const -0.0 : f32[]
                  %1 = input "x" : f32[B]
                  output "out" = %1
                }
                """);
    }

    @Test
    void negativeZeroMinusIsNegation() {
        assertRewrite(b -> b.sub(b.constant(-0.0), x(b)), """
                graph rule {
                  %0 = const -0.0 : f32[]
                  %1 = input "x" : f32[B]
                  %2 = sub %0, %1 : f32[B]
                  output "out" = %2
                }
                """, """
                graph rule {
                  %0 = const -0.0 : f32[]
                  %1 = input "x" : f32[B]
                  %2 = neg %1 : f32[B]
                  output "out" = %2
                }
                """);
    }

    @Test
    void doubleNegationIsOperand() {
        assertRewrite(b -> b.neg(b.neg(x(b))), """
                graph rule {
                  %0 = input "x" : f32[B]
                  %1 = neg %0 : f32[B]
                  %2 = neg %1 : f32[B]
                  output "out" = %2
                }
                """, """
                graph rule {
                  %0 = input "x" : f32[B]
                  %1 = neg %0 : f32[B]
                  output "out" = %0
                }
                """);
    }

    @Test
    void timesMinusOneIsNegation() {
        assertRewrite(b -> b.mul(x(b), b.constant(-1)), """
                graph rule {
                  %0 = input "x" : f32[B]
                  %1 = const -1 : f32[]
                  %2 = mul %0, %1 : f32[B]
                  output "out" = %2
                }
                """, """
                graph rule {
                  %0 = input "x" : f32[B]
                  %1 = const -1 : f32[]
                  %2 = neg %0 : f32[B]
                  output "out" = %2
                }
                """);
    }

    @Test
    void minusOneTimesIsNegation() {
        assertRewrite(b -> b.mul(b.constant(-1), x(b)), """
                graph rule {
                  %0 = const -1 : f32[]
                  %1 = input "x" : f32[B]
                  %2 = mul %0, %1 : f32[B]
                  output "out" = %2
                }
                """, """
                graph rule {
                  %0 = const -1 : f32[]
                  %1 = input "x" : f32[B]
                  %2 = neg %1 : f32[B]
                  output "out" = %2
                }
                """);
    }

    @Test
    void negationTimesMinusOneIsOperand() {
        assertRewrite(b -> b.mul(b.neg(x(b)), b.constant(-1)), """
                graph rule {
                  %0 = input "x" : f32[B]
                  %1 = neg %0 : f32[B]
                  %2 = const -1 : f32[]
                  %3 = mul %1, %2 : f32[B]
                  output "out" = %3
                }
                """, """
                graph rule {
                  %0 = input "x" : f32[B]
                  %1 = neg %0 : f32[B]
                  %2 = const -1 : f32[]
                  output "out" = %0
                }
                """);
    }

    @Test
    void overMinusOneIsNegation() {
        assertRewrite(b -> b.div(x(b), b.constant(-1)), """
                graph rule {
                  %0 = input "x" : f32[B]
                  %1 = const -1 : f32[]
                  %2 = div %0, %1 : f32[B]
                  output "out" = %2
                }
                """, """
                graph rule {
                  %0 = input "x" : f32[B]
                  %1 = const -1 : f32[]
                  %2 = neg %0 : f32[B]
                  output "out" = %2
                }
                """);
    }

    @Test
    void overPowerOfTwoIsProductWithReciprocal() {
        assertRewrite(b -> b.div(x(b), b.constant(4)), """
                graph rule {
                  %0 = input "x" : f32[B]
                  %1 = const 4 : f32[]
                  %2 = div %0, %1 : f32[B]
                  output "out" = %2
                }
                """, """
                graph rule {
                  %0 = input "x" : f32[B]
                  %1 = const 4 : f32[]
                  %2 = const 0.25 : f32[]
                  %3 = mul %0, %2 : f32[B]
                  output "out" = %3
                }
                """);
    }

    @Test
    void overNegativeHalfIsProductWithMinusTwo() {
        assertRewrite(b -> b.div(x(b), b.constant(-0.5)), """
                graph rule {
                  %0 = input "x" : f32[B]
                  %1 = const -0.5 : f32[]
                  %2 = div %0, %1 : f32[B]
                  output "out" = %2
                }
                """, """
                graph rule {
                  %0 = input "x" : f32[B]
                  %1 = const -0.5 : f32[]
                  %2 = const -2 : f32[]
                  %3 = mul %0, %2 : f32[B]
                  output "out" = %3
                }
                """);
    }

    @Test
    void overTensorOfTwosKeepsShape() {
        assertRewrite(b -> b.div(scalar(b), b.broadcastTo(b.constant(2), Shape.of(3))), """
                graph rule {
                  %0 = input "s" : f32[]
                  %1 = const 2 : f32[]
                  %2 = broadcast_to [3] %1 : f32[3]
                  %3 = div %0, %2 : f32[3]
                  output "out" = %3
                }
                """, """
                graph rule {
                  %0 = input "s" : f32[]
                  %1 = const 2 : f32[]
                  %2 = broadcast_to [3] %1 : f32[3]
                  %3 = const 0.5 : f32[]
                  %4 = broadcast_to [3] %3 : f32[3]
                  %5 = mul %0, %4 : f32[3]
                  output "out" = %5
                }
                """);
    }

    @Test
    void minusNegationIsSum() {
        assertRewrite(b -> b.sub(x(b), b.neg(y(b))), """
                graph rule {
                  %0 = input "x" : f32[B]
                  %1 = input "y" : f32[B]
                  %2 = neg %1 : f32[B]
                  %3 = sub %0, %2 : f32[B]
                  output "out" = %3
                }
                """, """
                graph rule {
                  %0 = input "x" : f32[B]
                  %1 = input "y" : f32[B]
                  %2 = neg %1 : f32[B]
                  %3 = add %0, %1 : f32[B]
                  output "out" = %3
                }
                """);
    }

    @Test
    void plusNegationIsDifference() {
        assertRewrite(b -> b.add(x(b), b.neg(y(b))), """
                graph rule {
                  %0 = input "x" : f32[B]
                  %1 = input "y" : f32[B]
                  %2 = neg %1 : f32[B]
                  %3 = add %0, %2 : f32[B]
                  output "out" = %3
                }
                """, """
                graph rule {
                  %0 = input "x" : f32[B]
                  %1 = input "y" : f32[B]
                  %2 = neg %1 : f32[B]
                  %3 = sub %0, %1 : f32[B]
                  output "out" = %3
                }
                """);
    }

    @Test
    void negationPlusIsDifference() {
        assertRewrite(b -> b.add(b.neg(x(b)), y(b)), """
                graph rule {
                  %0 = input "x" : f32[B]
                  %1 = neg %0 : f32[B]
                  %2 = input "y" : f32[B]
                  %3 = add %1, %2 : f32[B]
                  output "out" = %3
                }
                """, """
                graph rule {
                  %0 = input "x" : f32[B]
                  %1 = neg %0 : f32[B]
                  %2 = input "y" : f32[B]
                  %3 = sub %2, %0 : f32[B]
                  output "out" = %3
                }
                """);
    }

    @Test
    void productOfNegationsDropsBoth() {
        assertRewrite(b -> b.mul(b.neg(x(b)), b.neg(y(b))), """
                graph rule {
                  %0 = input "x" : f32[B]
                  %1 = neg %0 : f32[B]
                  %2 = input "y" : f32[B]
                  %3 = neg %2 : f32[B]
                  %4 = mul %1, %3 : f32[B]
                  output "out" = %4
                }
                """, """
                graph rule {
                  %0 = input "x" : f32[B]
                  %1 = neg %0 : f32[B]
                  %2 = input "y" : f32[B]
                  %3 = neg %2 : f32[B]
                  %4 = mul %0, %2 : f32[B]
                  output "out" = %4
                }
                """);
    }

    @Test
    void quotientOfNegationsDropsBoth() {
        assertRewrite(b -> b.div(b.neg(x(b)), b.neg(y(b))), """
                graph rule {
                  %0 = input "x" : f32[B]
                  %1 = neg %0 : f32[B]
                  %2 = input "y" : f32[B]
                  %3 = neg %2 : f32[B]
                  %4 = div %1, %3 : f32[B]
                  output "out" = %4
                }
                """, """
                graph rule {
                  %0 = input "x" : f32[B]
                  %1 = neg %0 : f32[B]
                  %2 = input "y" : f32[B]
                  %3 = neg %2 : f32[B]
                  %4 = div %0, %2 : f32[B]
                  output "out" = %4
                }
                """);
    }

    @Test
    void powerOfOneIsBase() {
        assertRewrite(b -> b.pow(x(b), b.constant(1)), """
                graph rule {
                  %0 = input "x" : f32[B]
                  %1 = const 1 : f32[]
                  %2 = pow %0, %1 : f32[B]
                  output "out" = %2
                }
                """, """
                graph rule {
                  %0 = input "x" : f32[B]
                  %1 = const 1 : f32[]
                  output "out" = %0
                }
                """);
    }

    @Test
    void broadcastToOwnShapeIsOperand() {
        assertRewrite(b -> b.apply(new Reduce.BroadcastTo(Shape.batched()), x(b)), """
                graph rule {
                  %0 = input "x" : f32[B]
                  %1 = broadcast_to [B] %0 : f32[B]
                  output "out" = %1
                }
                """, """
                graph rule {
                  %0 = input "x" : f32[B]
                  output "out" = %0
                }
                """);
    }

    @Test
    void broadcastOfBroadcastIsOneBroadcast() {
        assertRewrite(b -> b.broadcastTo(b.broadcastTo(vector(b), Shape.of(2, 3)), Shape.batched(2, 3)), """
                graph rule {
                  %0 = input "v" : f32[3]
                  %1 = broadcast_to [2,3] %0 : f32[2,3]
                  %2 = broadcast_to [B,2,3] %1 : f32[B,2,3]
                  output "out" = %2
                }
                """, """
                graph rule {
                  %0 = input "v" : f32[3]
                  %1 = broadcast_to [2,3] %0 : f32[2,3]
                  %2 = broadcast_to [B,2,3] %0 : f32[B,2,3]
                  output "out" = %2
                }
                """);
    }

    @Test
    void chainedRulesApplyInOnePass() {
        // x * 1 becomes x, so its negation's negation becomes x as well, and x / 1 then reads x.
        assertRewrite(b -> b.div(b.neg(b.neg(b.mul(x(b), b.constant(1)))), b.constant(1)), """
                graph rule {
                  %0 = input "x" : f32[B]
                  %1 = const 1 : f32[]
                  %2 = mul %0, %1 : f32[B]
                  %3 = neg %2 : f32[B]
                  %4 = neg %3 : f32[B]
                  %5 = div %4, %1 : f32[B]
                  output "out" = %5
                }
                """, """
                graph rule {
                  %0 = input "x" : f32[B]
                  %1 = const 1 : f32[]
                  %2 = neg %0 : f32[B]
                  output "out" = %0
                }
                """);
    }

    @Test
    void rewrittenNodeIsRewrittenAgain() {
        // 1 / 2 becomes 1 * 0.5, which the rule for a product with 1 turns into 0.5.
        assertRewrite(b -> b.div(b.constant(1), b.constant(2)), """
                graph rule {
                  %0 = const 1 : f32[]
                  %1 = const 2 : f32[]
                  %2 = div %0, %1 : f32[]
                  output "out" = %2
                }
                """, """
                graph rule {
                  %0 = const 1 : f32[]
                  %1 = const 2 : f32[]
                  %2 = const 0.5 : f32[]
                  %3 = mul %0, %2 : f32[]
                  output "out" = %2
                }
                """);
    }

    // ---- identities left alone -------------------------------------------------------------

    @Test
    void plusPositiveZeroLeftAlone() {
        // -0 + +0 is +0, not -0.
        assertLeftAlone(b -> b.add(x(b), b.constant(0)), """
                graph rule {
                  %0 = input "x" : f32[B]
                  %1 = const 0 : f32[]
                  %2 = add %0, %1 : f32[B]
                  output "out" = %2
                }
                """);
        assertLeftAlone(b -> b.add(b.constant(0), x(b)), """
                graph rule {
                  %0 = const 0 : f32[]
                  %1 = input "x" : f32[B]
                  %2 = add %0, %1 : f32[B]
                  output "out" = %2
                }
                """);
        assertNaiveRewriteChangesBits(b -> b.add(x(b), b.constant(0)), AlgebraicSimplificationTest::x);
    }

    @Test
    void minusNegativeZeroLeftAlone() {
        // x - -0 is x + +0, which turns -0 into +0.
        assertLeftAlone(b -> b.sub(x(b), b.constant(-0.0)), """
                graph rule {
                  %0 = input "x" : f32[B]
                  %1 = const -0.0 : f32[]
                  %2 = sub %0, %1 : f32[B]
                  output "out" = %2
                }
                """);
        assertNaiveRewriteChangesBits(b -> b.sub(x(b), b.constant(-0.0)), AlgebraicSimplificationTest::x);
    }

    @Test
    void positiveZeroMinusLeftAlone() {
        // +0 - +0 is +0, but -(+0) is -0.
        assertLeftAlone(b -> b.sub(b.constant(0), x(b)), """
                graph rule {
                  %0 = const 0 : f32[]
                  %1 = input "x" : f32[B]
                  %2 = sub %0, %1 : f32[B]
                  output "out" = %2
                }
                """);
        assertNaiveRewriteChangesBits(b -> b.sub(b.constant(0), x(b)), b -> b.neg(x(b)));
    }

    @Test
    void timesZeroLeftAlone() {
        // inf * 0 and NaN * 0 are NaN, and -1 * 0 is -0.
        assertLeftAlone(b -> b.mul(x(b), b.constant(0)), """
                graph rule {
                  %0 = input "x" : f32[B]
                  %1 = const 0 : f32[]
                  %2 = mul %0, %1 : f32[B]
                  output "out" = %2
                }
                """);
        assertNaiveRewriteChangesBits(b -> b.mul(x(b), b.constant(0)), b -> filledLike(b, 0, x(b)));
    }

    @Test
    void differenceWithItselfLeftAlone() {
        // inf - inf and NaN - NaN are NaN, not 0.
        assertLeftAlone(b -> b.sub(x(b), x(b)), """
                graph rule {
                  %0 = input "x" : f32[B]
                  %1 = sub %0, %0 : f32[B]
                  output "out" = %1
                }
                """);
        assertNaiveRewriteChangesBits(b -> b.sub(x(b), x(b)), b -> filledLike(b, 0, x(b)));
    }

    @Test
    void quotientWithItselfLeftAlone() {
        // 0 / 0, inf / inf and NaN / NaN are NaN, not 1.
        assertLeftAlone(b -> b.div(x(b), x(b)), """
                graph rule {
                  %0 = input "x" : f32[B]
                  %1 = div %0, %0 : f32[B]
                  output "out" = %1
                }
                """);
        assertNaiveRewriteChangesBits(b -> b.div(x(b), x(b)), b -> filledLike(b, 1, x(b)));
    }

    @Test
    void expOfLogLeftAlone() {
        // Both round, and log of a negative number is NaN.
        assertLeftAlone(b -> b.exp(b.log(x(b))), """
                graph rule {
                  %0 = input "x" : f32[B]
                  %1 = log %0 : f32[B]
                  %2 = exp %1 : f32[B]
                  output "out" = %2
                }
                """);
        assertNaiveRewriteChangesBits(b -> b.exp(b.log(x(b))), AlgebraicSimplificationTest::x);
    }

    @Test
    void powerOfTwoLeftAsPow() {
        // glibc's powf is not correctly rounded: powf(1 + 2^-12, 2) is one ulp above x * x. The
        // double reference evaluator cannot show that, so only the IR is checked here.
        assertLeftAlone(b -> b.pow(x(b), b.constant(2)), """
                graph rule {
                  %0 = input "x" : f32[B]
                  %1 = const 2 : f32[]
                  %2 = pow %0, %1 : f32[B]
                  output "out" = %2
                }
                """);
    }

    @Test
    void sumToOwnShapeLeftAlone() {
        // A sum starts at +0, so a -0 element comes out as +0.
        assertLeftAlone(b -> b.apply(new Reduce.SumTo(Shape.batched()), x(b)), """
                graph rule {
                  %0 = input "x" : f32[B]
                  %1 = sum_to [B] %0 : f32[B]
                  output "out" = %1
                }
                """);
        assertNaiveRewriteChangesBits(b -> b.apply(new Reduce.SumTo(Shape.batched()), x(b)),
                AlgebraicSimplificationTest::x);
    }

    @Test
    void sumOfSumLeftAlone() {
        assertLeftAlone(b -> b.sum(b.sumTo(matrix(b), Shape.of(2))), """
                graph rule {
                  %0 = input "m" : f32[2,2]
                  %1 = sum_to [2] %0 : f32[2]
                  %2 = sum_to [] %1 : f32[]
                  output "out" = %2
                }
                """);
        // Summing columns first gives (1e16 + -1e16) + (1 + 1) = 2; summing in row-major order
        // gives ((1e16 + 1) + -1e16) + 1 = 1, because 1e16 + 1 rounds to 1e16.
        double[] m = {1e16, 1, -1e16, 1};
        double nested = new Evaluator().input("m", m).run(graph(b -> b.sum(b.sumTo(matrix(b), Shape.of(2)))), 1)
                .output("out")[0];
        double flat = new Evaluator().input("m", m).run(graph(b -> b.sum(matrix(b))), 1).output("out")[0];
        assertEquals(2.0, nested);
        assertEquals(1.0, flat);
    }

    @Test
    void overNonPowerOfTwoLeftAlone() {
        // 1/3 is inexact, so x * (1/3) rounds twice.
        assertLeftAlone(b -> b.div(x(b), b.constant(3)), """
                graph rule {
                  %0 = input "x" : f32[B]
                  %1 = const 3 : f32[]
                  %2 = div %0, %1 : f32[B]
                  output "out" = %2
                }
                """);
        assertNaiveRewriteChangesBits(b -> b.div(x(b), b.constant(3)),
                b -> b.mul(x(b), b.constant(1.0 / 3)));
    }

    @Test
    void subnormalReciprocalLeftAlone() {
        // 2^-127 is subnormal in float, and 2^127 is the largest power of two a float holds.
        assertLeftAlone(b -> b.div(x(b), b.constant(0x1p127)), """
                graph rule {
                  %0 = input "x" : f32[B]
                  %1 = const 1.7014118346046923E38 : f32[]
                  %2 = div %0, %1 : f32[B]
                  output "out" = %2
                }
                """);
        assertLeftAlone(b -> b.div(x(b), b.constant(0x1p-127)), """
                graph rule {
                  %0 = input "x" : f32[B]
                  %1 = const 5.877471754111438E-39 : f32[]
                  %2 = div %0, %1 : f32[B]
                  output "out" = %2
                }
                """);
    }

    @Test
    void scalarTimesTensorOfOnesKeepsShape() {
        // Replacing the product by the scalar would change the shape from [3] to [].
        assertLeftAlone(b -> b.mul(scalar(b), b.broadcastTo(b.constant(1), Shape.of(3))), """
                graph rule {
                  %0 = input "s" : f32[]
                  %1 = const 1 : f32[]
                  %2 = broadcast_to [3] %1 : f32[3]
                  %3 = mul %0, %2 : f32[3]
                  output "out" = %3
                }
                """);
    }

    @Test
    void integerOperandsLeftAlone() {
        // Replacing the product by the labels would change the dtype from f32 to i32.
        assertLeftAlone(b -> b.mul(labels(b), b.constant(1)), """
                graph rule {
                  %0 = input "labels" : i32[B]
                  %1 = const 1 : f32[]
                  %2 = mul %0, %1 : f32[B]
                  output "out" = %2
                }
                """);
        assertLeftAlone(b -> b.neg(b.neg(labels(b))), """
                graph rule {
                  %0 = input "labels" : i32[B]
                  %1 = neg %0 : f32[B]
                  %2 = neg %1 : f32[B]
                  output "out" = %2
                }
                """);
    }

    // ---- graphs of a model -----------------------------------------------------------------

    @Test
    void gradientGraphSimplifiesWithSameBits() {
        Graph original = smallModelGradients();
        Graph simplified = SIMPLIFY.run(original);
        Verifier.verify(simplified, SIMPLIFY.name());

        // The L1 loss's mean divides by 2, and its cotangent adds a negation: -a + b becomes b - a.
        Map<String, Integer> before = live(original).opCounts();
        Map<String, Integer> after = live(simplified).opCounts();
        assertTrue(after.get("div") < before.get("div"), "divisions: " + before + " -> " + after);
        assertTrue(after.get("neg") < before.get("neg"), "negations: " + before + " -> " + after);

        Random random = new Random(7);
        for (int trial = 0; trial < 5; trial++) {
            Evaluator evaluator = modelBindings(random, trial == 0);
            Evaluator.Result expected = evaluator.run(original, 4);
            Evaluator.Result actual = evaluator.run(simplified, 4);
            for (String label : original.outputs().keySet()) {
                assertSameBits(expected.output(label), actual.output(label), "output " + label + " in trial " + trial);
            }
        }
    }

    @Test
    void simplifiedGradientDifferentiatesAgain() {
        Graph original = smallModelGradients();
        Graph simplified = live(SIMPLIFY.run(original));
        Random random = new Random(11);
        Evaluator evaluator = modelBindings(random, false);

        double[] expected = evaluator.run(secondOrder(original), 4).output("hessian_vector");
        double[] actual = evaluator.run(secondOrder(simplified), 4).output("hessian_vector");

        // Autodiff sums the cotangents of a node in the order of its users, which differs between
        // the two graphs, so the second derivatives agree to rounding rather than bit for bit.
        assertEquals(expected.length, actual.length);
        for (int i = 0; i < expected.length; i++) {
            assertEquals(expected[i], actual[i], 1e-12 * (1 + Math.abs(expected[i])), "element " + i);
        }
    }

    /** Builds a tanh layer and a linear layer, their L1 loss, and its gradient with respect to each parameter. */
    private static Graph smallModelGradients() {
        GraphBuilder b = new GraphBuilder("gradients");
        Node input = b.input("x", Shape.batched(3), DType.F32);
        Node targets = b.input("targets", Shape.batched(2), DType.F32);
        List<Node> params = List.of(b.param("w1", Shape.of(4, 3)), b.param("b1", Shape.of(4)),
                b.param("w2", Shape.of(2, 4)), b.param("b2", Shape.of(2)));
        Node hidden = b.tanh(b.linear(input, params.get(0), params.get(1)));
        Node output = b.linear(hidden, params.get(2), params.get(3));
        Node loss = Loss.L1.build(b, output, targets);
        b.output("loss", loss);
        List<Node> grads = Autodiff.grad(b, loss, params);
        for (int i = 0; i < params.size(); i++) {
            b.output("d_" + Graph.labelOf(params.get(i)), grads.get(i));
        }
        return b.build();
    }

    /** Copies {@code gradients} and adds d/dw1 of the sum of every gradient output, a Hessian-vector product. */
    private static Graph secondOrder(Graph gradients) {
        GraphCopier copier = new GraphCopier(gradients.name());
        for (Node node : gradients.nodes()) {
            copier.copy(node);
        }
        GraphBuilder b = copier.builder();
        Node total = null;
        for (Map.Entry<String, Node> output : gradients.outputs().entrySet()) {
            if (output.getKey().startsWith("d_")) {
                Node sum = b.sum(copier.mapped(output.getValue()));
                total = total == null ? sum : b.add(total, sum);
            }
        }
        Node w1 = copier.mapped(gradients.leaf(Leaf.Param.class, "w1"));
        b.output("hessian_vector", Autodiff.grad(b, total, List.of(w1)).get(0));
        return b.build();
    }

    /** Binds Gaussian values at batch 4, with the special values as features when {@code special} is set. */
    private static Evaluator modelBindings(Random random, boolean special) {
        double[] features = values(random, 4 * 3);
        if (special) {
            System.arraycopy(SPECIAL, 0, features, 0, features.length);
        }
        return new Evaluator().input("x", features).input("targets", values(random, 4 * 2))
                .param("w1", values(random, 12)).param("b1", values(random, 4))
                .param("w2", values(random, 8)).param("b2", values(random, 2));
    }

    private static double[] values(Random random, int count) {
        double[] out = new double[count];
        for (int i = 0; i < count; i++) {
            out[i] = random.nextGaussian();
        }
        return out;
    }

    private static Graph live(Graph graph) {
        return new DeadCodeElimination().run(new CommonSubexpressionElimination().run(graph));
    }

    // ---- helpers ---------------------------------------------------------------------------

    private static Node x(GraphBuilder b) {
        return b.input("x", Shape.batched(), DType.F32);
    }

    private static Node y(GraphBuilder b) {
        return b.input("y", Shape.batched(), DType.F32);
    }

    private static Node scalar(GraphBuilder b) {
        return b.input("s", Shape.SCALAR, DType.F32);
    }

    private static Node vector(GraphBuilder b) {
        return b.input("v", Shape.of(3), DType.F32);
    }

    private static Node matrix(GraphBuilder b) {
        return b.input("m", Shape.of(2, 2), DType.F32);
    }

    private static Node labels(GraphBuilder b) {
        return b.input("labels", Shape.batched(), DType.I32);
    }

    /** Returns {@code value} in the shape of {@code x}, without reading x's values. */
    private static Node filledLike(GraphBuilder b, double value, Node x) {
        return b.broadcastTo(b.constant(value), x.shape());
    }

    private static Graph graph(Function<GraphBuilder, Node> body) {
        GraphBuilder b = new GraphBuilder("rule");
        b.output("out", body.apply(b));
        return b.build();
    }

    /** Checks the IR before and after the pass, and that both evaluate to the same bits. */
    private static void assertRewrite(Function<GraphBuilder, Node> body, String before, String after) {
        Graph original = graph(body);
        assertSameText(before, original.toString(), "IR before simplification");
        Graph simplified = SIMPLIFY.run(original);
        assertSameText(after, simplified.toString(), "IR after simplification");
        Verifier.verify(simplified, SIMPLIFY.name());
        assertSameBits(evaluateOnSpecialValues(original), evaluateOnSpecialValues(simplified), "output out");
    }

    private static void assertLeftAlone(Function<GraphBuilder, Node> body, String ir) {
        Graph original = graph(body);
        assertSameText(ir, original.toString(), "IR before simplification");
        assertSameText(ir, SIMPLIFY.run(original).toString(), "IR after simplification");
    }

    /** Checks that replacing {@code identity} by {@code naive} would change some result. */
    private static void assertNaiveRewriteChangesBits(Function<GraphBuilder, Node> identity,
                                                      Function<GraphBuilder, Node> naive) {
        double[] original = evaluateOnSpecialValues(graph(identity));
        double[] rewritten = evaluateOnSpecialValues(graph(naive));
        assertEquals(original.length, rewritten.length);
        boolean differs = false;
        for (int i = 0; i < original.length; i++) {
            differs |= Double.doubleToLongBits(original[i]) != Double.doubleToLongBits(rewritten[i]);
        }
        assertTrue(differs, "the naive rewrite keeps every result, so the test shows nothing");
    }

    /**
     * Evaluates the output {@code out} with every pair of special values: input {@code x} (and any
     * static-shaped input) takes SPECIAL[i % n] at element i, input {@code y} takes SPECIAL[i / n].
     */
    private static double[] evaluateOnSpecialValues(Graph graph) {
        int n = SPECIAL.length;
        long batch = (long) n * n;
        Evaluator evaluator = new Evaluator();
        for (Node input : graph.leaves(Leaf.Input.class)) {
            String label = Graph.labelOf(input);
            double[] values = new double[Math.toIntExact(input.shape().elements(batch))];
            for (int i = 0; i < values.length; i++) {
                if (input.dtype() == DType.I32) {
                    values[i] = i % 5;
                } else {
                    values[i] = SPECIAL[label.equals("y") ? (i / n) % n : i % n];
                }
            }
            evaluator.input(label, values);
        }
        return evaluator.run(graph, batch).output("out");
    }

    /**
     * Compares with {@link Double#doubleToLongBits}, which distinguishes -0.0 from +0.0 and treats every
     * NaN as one value, since IEEE 754 does not specify which NaN an operation returns.
     */
    private static void assertSameBits(double[] expected, double[] actual, String description) {
        assertEquals(expected.length, actual.length, description + " length");
        List<String> mismatches = new ArrayList<>();
        for (int i = 0; i < expected.length; i++) {
            if (Double.doubleToLongBits(expected[i]) != Double.doubleToLongBits(actual[i])) {
                mismatches.add("element " + i + ": " + expected[i] + " became " + actual[i]);
            }
        }
        if (!mismatches.isEmpty()) {
            fail(description + " changed at " + mismatches.size() + " of " + expected.length + " elements: "
                    + mismatches.subList(0, Math.min(10, mismatches.size())));
        }
        assertNotEquals(0, expected.length, description + " is empty");
    }
}
