package dev.kiln.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.ir.Hyperparameters;
import dev.kiln.ir.Loss;
import dev.kiln.ir.Optimizer;
import java.util.Locale;
import org.junit.jupiter.api.Test;

/** Checks the defaults, validation and {@code kiln_call} values of the optimizer configurations. */
class OptimizerConfigTest {

    @Test
    void adamWDefaultsFollowPyTorch() {
        AdamW adamW = new AdamW();
        double[] call = beginStep(adamW);

        assertEquals(OptimizerKind.ADAMW, adamW.kind());
        assertEquals(1e-3, call[index(Hyperparameters.LR)]);
        assertEquals(0.01, call[index(Hyperparameters.WEIGHT_DECAY)]);
        assertEquals(0.9, call[index(Hyperparameters.BETA1)]);
        assertEquals(0.999, call[index(Hyperparameters.BETA2)]);
        assertEquals(1e-8, call[index(Hyperparameters.EPS)]);
        assertEquals(1, call[index(Hyperparameters.STEP)]);
    }

    @Test
    void rmsPropDefaultsFollowPyTorch() {
        RmsProp rmsProp = new RmsProp();
        double[] call = beginStep(rmsProp);

        assertEquals(OptimizerKind.RMSPROP, rmsProp.kind());
        assertEquals(1e-2, call[index(Hyperparameters.LR)]);
        assertEquals(0.99, call[index(Hyperparameters.ALPHA)]);
        assertEquals(1e-8, call[index(Hyperparameters.EPS)]);
        assertEquals(0, call[index(Hyperparameters.MOMENTUM)]);
        assertEquals(0, call[index(Hyperparameters.CENTERED)]);
        assertEquals(0, call[index(Hyperparameters.WEIGHT_DECAY)]);
    }

    @Test
    void rmsPropOptionsReachTheCall() {
        double[] call = beginStep(new RmsProp(0.05).alpha(0.9).eps(1e-6).momentum(0.5).centered(true));

        assertEquals(0.9, call[index(Hyperparameters.ALPHA)]);
        assertEquals(1e-6, call[index(Hyperparameters.EPS)]);
        assertEquals(0.5, call[index(Hyperparameters.MOMENTUM)]);
        assertEquals(1, call[index(Hyperparameters.CENTERED)]);
    }

    @Test
    void clippingIsOffUnlessSet() {
        Adam adam = new Adam();
        assertEquals(Double.POSITIVE_INFINITY, adam.clipGradNorm());
        assertEquals(0, beginStep(adam)[index(Hyperparameters.MAX_GRAD_NORM)], "0 turns clipping off");

        adam.clipGradNorm(1.5);
        assertEquals(1.5, beginStep(adam)[index(Hyperparameters.MAX_GRAD_NORM)]);

        adam.clipGradNorm(Double.POSITIVE_INFINITY);
        assertEquals(0, beginStep(adam)[index(Hyperparameters.MAX_GRAD_NORM)]);
    }

    @Test
    void invalidValuesAreRejected() {
        IllegalArgumentException clip = assertThrows(IllegalArgumentException.class, () -> new Sgd(0.1).clipGradNorm(0));
        assertTrue(clip.getMessage().contains("max gradient norm"), clip.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Sgd(0.1).clipGradNorm(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> new RmsProp().alpha(1.5));
        assertThrows(IllegalArgumentException.class, () -> new RmsProp().momentum(-1));
        assertThrows(IllegalArgumentException.class, () -> new RmsProp().eps(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> new AdamW().betas(1, 0.9));
        assertThrows(IllegalArgumentException.class, () -> new AdamW().weightDecay(-0.1));
    }

    @Test
    void newHyperparametersFollowTheExistingOnes() {
        assertEquals(10, index(Hyperparameters.SEED), "existing indices stay where compiled code expects them");
        assertEquals(11, index(Hyperparameters.ALPHA));
        assertEquals(12, index(Hyperparameters.CENTERED));
        assertEquals(13, index(Hyperparameters.MAX_GRAD_NORM));
    }

    @Test
    void stateTensorsPerParameter() {
        assertEquals(1, OptimizerKind.SGD.stateTensorsPerParameter());
        assertEquals(2, OptimizerKind.ADAM.stateTensorsPerParameter());
        assertEquals(2, OptimizerKind.ADAMW.stateTensorsPerParameter());
        assertEquals(3, OptimizerKind.RMSPROP.stateTensorsPerParameter());
    }

    @Test
    void lossKindsAgreeWithIrLosses() {
        for (LossKind kind : LossKind.values()) {
            Loss loss = Loss.valueOf(kind.name());
            assertEquals(loss.takesClassIndices(), kind.takesClassIndices(), kind.name());
            assertEquals(loss.needsClassRows(), kind.scoresClasses(), kind.name());
        }
        assertEquals(Loss.values().length, LossKind.values().length);
        for (OptimizerKind kind : OptimizerKind.values()) {
            assertEquals(kind.name().toLowerCase(Locale.ROOT), Optimizer.valueOf(kind.name()).id(), kind.name());
        }
        assertEquals(Optimizer.values().length, OptimizerKind.values().length);
    }

    @Test
    void lossLabelKinds() {
        assertTrue(LossKind.CROSS_ENTROPY.takesClassIndices());
        assertTrue(LossKind.NLL.takesClassIndices());
        assertEquals(false, LossKind.SOFT_CROSS_ENTROPY.takesClassIndices());
        assertTrue(LossKind.SOFT_CROSS_ENTROPY.scoresClasses());
        assertEquals(false, LossKind.BCE_WITH_LOGITS.takesClassIndices());
        assertEquals(false, LossKind.BCE_WITH_LOGITS.scoresClasses());
        assertEquals(false, LossKind.HUBER.scoresClasses());
    }

    private static double[] beginStep(OptimizerConfig optimizer) {
        double[] call = new double[Hyperparameters.NAMES.size()];
        optimizer.beginStep(call);
        return call;
    }

    private static int index(String name) {
        return Hyperparameters.index(name);
    }
}
