package dev.kiln.runtime;

import dev.kiln.ir.Loss;
import dev.kiln.ir.Optimizer;
import dev.kiln.nn.AdamW;
import dev.kiln.nn.OptimizerConfig;
import dev.kiln.nn.RmsProp;
import dev.kiln.nn.Sgd;
import dev.kiln.runtime.testing.NativeBuild;
import dev.kiln.runtime.testing.NativeBuild.TestModel;
import dev.kiln.runtime.testing.TestModels;
import dev.kiln.runtime.testing.Tolerance;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Compares five native optimizer steps with the parameters that PyTorch 1.13 computes in
 * float64 from the same start and the same gradients. The numbers come from
 * {@code /usr/bin/python3 tools/oracle/optimizer_reference.py}, which documents the formulas for
 * the starting parameters and the gradients of each step used here too.
 */
class PyTorchOptimizerParityTest {
    private static final int STEPS = 5;
    private static final int WEIGHTS = 9;
    private static final int ELEMENTS = 12;

    // Parameters after five steps: fc.weight row-major, then fc.bias.
    private static final double[] ADAMW_CLIPPED = {0.22748691693178805, 0.047464482254671016, -0.13465867321442362,
        -0.27312683927557857, -0.21232230976796418, 0.00857946674394235, 0.23838602369017758, 0.3159282345647373,
        0.095834244335646, -0.20293366197999135, -0.34486793302486074, -0.2105476365781562};
    private static final double[] ADAMW_DEFAULTS = {0.2280291123088172, 0.04779205461441747, -0.1350246483840523,
        -0.27400301741682775, -0.21306651722299005, 0.00866434536222226, 0.23923350928344098, 0.3163534711191396,
        0.09563638320988715, -0.20343690940847156, -0.3455048960233664, -0.21044371478565216};
    private static final double[] RMSPROP_DEFAULTS = {-0.01806038712851475, -0.005749429599447811,
        0.10837451317046631, -0.27562780926119385, -0.39989180131066443, -0.20712165359466428, 0.22304569140020042,
        0.5105400653157915, 0.06032474935304548, -0.38076158181933284, -0.5307319936889392, -0.187746087675751};
    private static final double[] RMSPROP_CENTERED_MOMENTUM = {0.08600998753611326, 0.009144513055326289,
        0.011210364777081885, -0.2518643134398338, -0.2987904208203886, -0.11713292874873077, 0.21956613599758165,
        0.43973924957368754, 0.09857420999364601, -0.287921714100207, -0.4544233293733171, -0.20775984480574744};
    private static final double[] SGD_CLIPPED = {0.20125242406721547, 0.06461892850892056, -0.1507255086626362,
        -0.31117227890622595, -0.26891251712481823, -0.012451458580459292, 0.26100000600666634, 0.2993505780729836,
        0.052549134658182894, -0.2587312332304258, -0.35975589084908205, -0.18701744567572978};

    private static NativeBuild build;

    @BeforeAll
    static void compileModel() {
        build = NativeBuild.of(TestModels.singleLayer("ParityLayer", 3, TestModels.Activation.IDENTITY, Loss.MSE,
                List.of(Optimizer.ADAMW, Optimizer.RMSPROP, Optimizer.SGD)));
    }

    @Test
    void adamWWithClippingMatchesPyTorch() {
        AdamW adamW = new AdamW(0.01).betas(0.9, 0.99).eps(1e-8);
        adamW.weightDecay(0.05);
        adamW.clipGradNorm(1.0);
        assertRun("AdamW(lr=0.01, betas=(0.9, 0.99), weight_decay=0.05), clip 1.0", adamW, ADAMW_CLIPPED);
    }

    @Test
    void adamWDefaultsMatchPyTorch() {
        assertRun("AdamW(lr=0.01)", new AdamW(0.01), ADAMW_DEFAULTS);
    }

    @Test
    void rmsPropDefaultsMatchPyTorch() {
        assertRun("RMSprop(lr=0.01)", new RmsProp(0.01), RMSPROP_DEFAULTS);
    }

    @Test
    void centeredRmsPropWithMomentumMatchesPyTorch() {
        RmsProp rmsProp = new RmsProp(0.01).alpha(0.9).eps(1e-6).momentum(0.5).centered(true);
        rmsProp.weightDecay(0.01);
        assertRun("RMSprop(centered, momentum 0.5, weight_decay 0.01)", rmsProp, RMSPROP_CENTERED_MOMENTUM);
    }

    @Test
    void sgdWithClippingMatchesPyTorch() {
        Sgd sgd = new Sgd(0.1);
        sgd.clipGradNorm(0.5);
        assertRun("SGD(lr=0.1), clip 0.5", sgd, SGD_CLIPPED);
    }

    private static void assertRun(String what, OptimizerConfig optimizer, double[] expected) {
        try (TestModel model = build.newModel(1)) {
            float[] initial = new float[ELEMENTS];
            for (int k = 0; k < ELEMENTS; k++) {
                initial[k] = (float) (0.3 * Math.cos(0.9 * k + 0.4));
            }
            model.setParameter("fc.weight", Arrays.copyOfRange(initial, 0, WEIGHTS));
            model.setParameter("fc.bias", Arrays.copyOfRange(initial, WEIGHTS, ELEMENTS));

            for (int t = 1; t <= STEPS; t++) {
                float[] g = new float[ELEMENTS];
                for (int k = 0; k < ELEMENTS; k++) {
                    g[k] = (float) (0.5 * Math.sin(1.3 * k + 0.7 * t) + 0.05 * t);
                }
                model.setGradient("fc.weight", Arrays.copyOfRange(g, 0, WEIGHTS));
                model.setGradient("fc.bias", Arrays.copyOfRange(g, WEIGHTS, ELEMENTS));
                model.applyGradients(optimizer);
            }

            // Compare the distance moved, which small update errors would change far more than the values.
            double[] expectedDelta = new double[ELEMENTS];
            float[] actualDelta = new float[ELEMENTS];
            float[] weight = model.parameter("fc.weight");
            float[] bias = model.parameter("fc.bias");
            for (int k = 0; k < ELEMENTS; k++) {
                float actual = k < WEIGHTS ? weight[k] : bias[k - WEIGHTS];
                expectedDelta[k] = expected[k] - initial[k];
                actualDelta[k] = actual - initial[k];
            }
            Tolerance.assertClose(what, expectedDelta, actualDelta);
        }
    }
}
