package dev.kiln.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.nn.Adam;
import dev.kiln.nn.Sgd;
import dev.kiln.runtime.opencl.OpenClBuildException;
import dev.kiln.runtime.testing.NativeBuild;
import dev.kiln.runtime.testing.NativeBuild.TestModel;
import dev.kiln.runtime.testing.OpenClSupport;
import dev.kiln.runtime.testing.Reference;
import dev.kiln.runtime.testing.TestData;
import dev.kiln.runtime.testing.TestModels;
import dev.kiln.runtime.testing.Tolerance;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The OpenCL runtime around the kernels: a closed device context, a program the device compiler
 * rejects, parameters kept in sync between host and device in both directions, device profiles,
 * and a malformed work-group size cap.
 */
class OpenClRuntimeBehaviourTest {
    private static final int BATCH = 9;

    private static NativeBuild build;
    private static Device.OpenCl device;

    @TempDir
    Path folder;

    @BeforeAll
    static void compileModel() {
        device = OpenClSupport.deviceOrSkip();
        build = NativeBuild.of(TestModels.residual());
    }

    @AfterAll
    static void closeDevice() {
        if (device != null) {
            device.close();
        }
    }

    @Test
    void closedDeviceRejectsPredict() {
        Device.OpenCl own = OpenClSupport.deviceOrSkip();
        float[] x = samples(1, 2);
        try (TestModel model = build.openClModel(own, 1)) {
            model.predict(x, 2);

            own.close();

            IllegalStateException e = assertThrows(IllegalStateException.class, () -> model.predict(x, 2));
            assertTrue(e.getMessage().contains("closed"), e.getMessage());
            assertTrue(e.getMessage().contains(build.descriptor().modelName()), e.getMessage());
            assertThrows(IllegalStateException.class, () -> model.forwardBackward(x, new int[] {0, 1}, 2));
        }
    }

    @Test
    void brokenProgramCarriesCompilerLog() {
        String launches = build.openClProgram().launchList();
        String broken = "__kernel void kiln_broken(__global float *out) { out[0] = undeclared_name; }\n";

        OpenClBuildException e = assertThrows(OpenClBuildException.class,
                () -> new CompiledModel(build.descriptor(), device, broken, launches, 1) { });

        assertTrue(e.buildLog().contains("undeclared_name"), e.buildLog());
        assertTrue(e.getMessage().contains(e.buildLog().strip()), e.getMessage());
    }

    @Test
    void invalidWorkGroupCapIsRejected() {
        for (String cap : new String[] {"0", "-4", "many"}) {
            String previous = System.getProperty(OpenClSupport.CAP_PROPERTY);
            System.setProperty(OpenClSupport.CAP_PROPERTY, cap);
            try {
                IllegalArgumentException e =
                        assertThrows(IllegalArgumentException.class, () -> build.openClModel(device, 1), "cap " + cap);
                assertTrue(e.getMessage().contains("'" + cap + "'"), e.getMessage());
            } finally {
                restore(previous);
            }
        }
    }

    @Test
    void hostParameterChangesReachDevice() {
        float[] x = samples(2, BATCH);
        try (TestModel openCl = build.openClModel(device, 1); TestModel c = build.newModel(7)) {
            float[] before = openCl.predict(x, BATCH);

            // The first call uploaded seed 1's parameters; these host writes must replace them.
            for (String name : c.parameterNames()) {
                openCl.setParameter(name, c.parameter(name));
            }
            float[] after = openCl.predict(x, BATCH);

            Tolerance.assertClose("OpenCL output after setParameter against C", Reference.toDoubles(c.predict(x, BATCH)),
                    after);
            assertFalse(java.util.Arrays.equals(before, after), "setParameter did not change the device's output");
        }
    }

    @Test
    void loadedCheckpointReachesDevice() throws IOException {
        Path file = folder.resolve("residual.safetensors");
        float[] x = samples(3, BATCH);
        try (TestModel openCl = build.openClModel(device, 1); TestModel c = build.newModel(8)) {
            openCl.predict(x, BATCH);
            c.save(file, Map.of("origin", "c"));

            Map<String, String> metadata = openCl.load(file);

            assertEquals("c", metadata.get("origin"));
            Tolerance.assertClose("OpenCL output after load against C", Reference.toDoubles(c.predict(x, BATCH)),
                    openCl.predict(x, BATCH));
        }
    }

    @Test
    void initializeReachesDevice() {
        float[] x = samples(4, BATCH);
        try (TestModel openCl = build.openClModel(device, 1); TestModel c = build.newModel(9)) {
            openCl.predict(x, BATCH);

            openCl.initialize(9);

            Tolerance.assertClose("OpenCL output after initialize against C", Reference.toDoubles(c.predict(x, BATCH)),
                    openCl.predict(x, BATCH));
        }
    }

    @Test
    void deviceTrainedParametersReadBack() throws IOException {
        SplittableRandom random = new SplittableRandom(5);
        Path file = folder.resolve("trained.safetensors");
        try (TestModel openCl = build.openClModel(device, 2); TestModel c = build.newModel(2)) {
            Adam openClAdam = new Adam(1e-2);
            Adam cAdam = new Adam(1e-2);
            float[] initial = openCl.parameter("fc1.weight");
            for (int step = 0; step < 3; step++) {
                float[] x = TestData.samples(random, build.descriptor(), BATCH);
                int[] labels = TestData.labels(random, 3, BATCH);
                openCl.trainStep(x, labels, BATCH, openClAdam);
                c.trainStep(x, labels, BATCH, cAdam);
            }

            for (String name : openCl.parameterNames()) {
                Tolerance.assertClose("OpenCL-trained " + name + " read on the host against C",
                        Reference.toDoubles(c.parameter(name)), openCl.parameter(name));
            }
            assertNotEquals(initial[0], openCl.parameter("fc1.weight")[0], "training did not reach the host copy");

            openCl.save(file);
            try (TestModel reloaded = build.newModel(99)) {
                reloaded.load(file);
                for (String name : openCl.parameterNames()) {
                    assertArrayEquals(openCl.parameter(name), reloaded.parameter(name), "saved " + name);
                }
            }
        }
    }

    @Test
    void hostGradientsReachDeviceUpdate() {
        try (TestModel openCl = build.openClModel(device, 3)) {
            SplittableRandom random = new SplittableRandom(6);
            openCl.forwardBackward(samples(6, BATCH), TestData.labels(random, 3, BATCH), BATCH);
            Map<String, double[]> before = Reference.parameters(openCl);
            float[] gradient = TestData.uniform(random, before.get("fc3.weight").length);
            for (String name : openCl.parameterNames()) {
                openCl.setGradient(name, new float[before.get(name).length]);
            }
            openCl.setGradient("fc3.weight", gradient);

            // Plain SGD: p <- p - lr g, so only fc3.weight moves, by exactly the host's gradient.
            openCl.applyGradients(new Sgd(0.5));

            float[] after = openCl.parameter("fc3.weight");
            for (int i = 0; i < after.length; i++) {
                assertEquals(before.get("fc3.weight")[i] - 0.5 * gradient[i], after[i], 1e-6, "fc3.weight[" + i + "]");
            }
            assertArrayEquals(TestData.toFloats(before.get("fc1.weight")), openCl.parameter("fc1.weight"));
            assertArrayEquals(gradient, openCl.gradient("fc3.weight"));
        }
    }

    @Test
    void deviceProfileCountsKernelsAndTransfers() {
        Device.OpenCl own = OpenClSupport.deviceOrSkip();
        try (own; TestModel model = build.openClModel(own, 4)) {
            model.resetDeviceProfile();
            assertEquals(new DeviceProfile(0, 0), model.deviceProfile());

            model.predict(samples(7, BATCH), BATCH);
            model.trainStep(samples(8, BATCH), TestData.labels(new SplittableRandom(8), 3, BATCH), BATCH, new Adam());

            DeviceProfile profile = model.deviceProfile();
            assertTrue(profile.kernelNanos() > 0, profile.toString());
            assertTrue(profile.transferNanos() > 0, profile.toString());
            assertTrue(model.device().startsWith("OpenCL on "), model.device());
        }
    }

    @Test
    void deviceProfileOnCpuIsRejected() {
        try (TestModel model = build.newModel(1)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, model::deviceProfile);
            assertTrue(e.getMessage().contains("CPU"), e.getMessage());
        }
    }

    private static float[] samples(long seed, int batch) {
        return TestData.samples(new SplittableRandom(seed), build.descriptor(), batch);
    }

    private static void restore(String previous) {
        if (previous == null) {
            System.clearProperty(OpenClSupport.CAP_PROPERTY);
        } else {
            System.setProperty(OpenClSupport.CAP_PROPERTY, previous);
        }
    }
}
