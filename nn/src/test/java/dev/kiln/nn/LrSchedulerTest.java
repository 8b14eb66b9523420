package dev.kiln.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * Checks the learning-rate schedules against the learning rates PyTorch 1.13 sets for epochs 0
 * to 10, printed by {@code tools/oracle/optimizer_reference.py} from an SGD optimizer with lr 0.1.
 */
class LrSchedulerTest {
    // StepLR(step_size=3, gamma=0.5) and CosineAnnealingLR(T_max=4, eta_min=0.001), epochs 0..10.
    private static final double[] STEP_LR = {0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025, 0.025, 0.0125, 0.0125};
    private static final double[] COSINE_LR = {0.1, 0.0855017856687341, 0.0505, 0.0154982143312659, 0.001,
        0.015498214331265896, 0.05050000000000001, 0.08550178566873413, 0.10000000000000003, 0.08550178566873413,
        0.05050000000000003};

    @Test
    void stepLrMatchesPyTorch() {
        Sgd sgd = new Sgd(0.1);
        StepLr schedule = new StepLr(sgd, 3, 0.5);

        assertSequence("StepLR", STEP_LR, sgd, schedule);
    }

    @Test
    void cosineAnnealingLrMatchesPyTorch() {
        Adam adam = new Adam(0.1);
        CosineAnnealingLr schedule = new CosineAnnealingLr(adam, 4, 0.001);

        assertSequence("CosineAnnealingLR", COSINE_LR, adam, schedule);
    }

    @Test
    void defaultsFollowPyTorch() {
        RmsProp rmsProp = new RmsProp(0.2);
        StepLr step = new StepLr(rmsProp, 2);
        assertEquals(0.1, step.gamma());
        step.step();
        step.step();
        assertEquals(0.2 * 0.1, rmsProp.lr(), 1e-15);

        AdamW adamW = new AdamW(0.2);
        CosineAnnealingLr cosine = new CosineAnnealingLr(adamW, 5);
        assertEquals(0, cosine.etaMin());
        for (int i = 0; i < 5; i++) {
            cosine.step();
        }
        assertEquals(0, adamW.lr(), 1e-15, "eta_min 0 at T_max");
    }

    @Test
    void stepOverridesLearningRateSetByHand() {
        Sgd sgd = new Sgd(0.1);
        StepLr schedule = new StepLr(sgd, 1, 0.5);
        sgd.lr(7);

        schedule.step();

        assertEquals(0.05, sgd.lr(), 1e-15, "the closed form starts from the learning rate at creation");
        assertEquals(0.1, schedule.baseLr());
    }

    @Test
    void invalidArgumentsAreRejected() {
        Sgd sgd = new Sgd(0.1);
        IllegalArgumentException stepSize = assertThrows(IllegalArgumentException.class, () -> new StepLr(sgd, 0, 0.5));
        assertTrue(stepSize.getMessage().contains("step size"), stepSize.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new StepLr(sgd, 3, Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> new StepLr(sgd, 3, -0.5));
        IllegalArgumentException tMax = assertThrows(IllegalArgumentException.class, () -> new CosineAnnealingLr(sgd, 0));
        assertTrue(tMax.getMessage().contains("T_max"), tMax.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new CosineAnnealingLr(sgd, 4, -1));
        assertThrows(IllegalArgumentException.class, () -> new StepLr(null, 3));
    }

    private static void assertSequence(String name, double[] expected, OptimizerConfig optimizer, LrScheduler schedule) {
        assertEquals(expected[0], optimizer.lr(), 1e-15, name + " at epoch 0");
        assertEquals(expected[0], schedule.lastLr(), 1e-15, name + " last lr at epoch 0");
        for (int epoch = 1; epoch < expected.length; epoch++) {
            schedule.step();
            assertEquals(epoch, schedule.epoch());
            assertEquals(expected[epoch], optimizer.lr(), 1e-15, name + " at epoch " + epoch);
            assertEquals(optimizer.lr(), schedule.lastLr(), name + " last lr at epoch " + epoch);
        }
    }
}
