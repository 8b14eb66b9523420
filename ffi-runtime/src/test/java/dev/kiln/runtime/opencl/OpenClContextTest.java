package dev.kiln.runtime.opencl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OpenClContextTest {
    private static final String VECTOR_ADD = """
            __kernel void add(__global const float* a, __global const float* b, __global float* c, int n) {
                int i = get_global_id(0);
                if (i < n) {
                    c[i] = a[i] + b[i];
                }
            }
            """;

    // Each work-group sums its slice in local memory; the stride loop works for any group size,
    // including ones that are not powers of two.
    private static final String PARTIAL_SUMS = """
            __kernel void partial_sums(__global const float* x, __global float* sums, __local float* scratch, int n) {
                int gid = get_global_id(0);
                int lid = get_local_id(0);
                int size = get_local_size(0);
                scratch[lid] = gid < n ? x[gid] : 0.0f;
                barrier(CLK_LOCAL_MEM_FENCE);
                for (int stride = 1; stride < size; stride <<= 1) {
                    if (lid % (2 * stride) == 0 && lid + stride < size) {
                        scratch[lid] += scratch[lid + stride];
                    }
                    barrier(CLK_LOCAL_MEM_FENCE);
                }
                if (lid == 0) {
                    sums[get_group_id(0)] = scratch[0];
                }
            }
            """;

    private static final int[] SIZES = {1, 63, 64, 65, 4095, 4097, 7919};

    @TempDir
    Path cache;

    @Test
    void listsDevices() {
        List<OpenClDevice> devices = OpenClTestSupport.devicesOrSkip();
        assertFalse(devices.isEmpty());
        for (OpenClDevice device : devices) {
            assertFalse(device.name().isBlank());
            assertFalse(device.platform().isBlank());
            assertTrue(device.maxWorkGroupSize() >= 1, device.toString());
            assertTrue(device.computeUnits() >= 1, device.toString());
            assertTrue(device.globalMemoryBytes() > 0, device.toString());
            assertTrue(device.localMemoryBytes() > 0, device.toString());
            assertTrue(device.version().startsWith("OpenCL "), device.version());
        }
        OpenClDevice best = OpenClDevice.best();
        assertTrue(devices.contains(best));
        for (OpenClDevice device : devices) {
            assertTrue(device.type().compareTo(best.type()) >= 0, "best() skipped a preferred type: " + device);
        }
        assertEquals(best.type(), OpenClDevice.byType(best.type()).type());
        assertTrue(OpenClDevice.byName(best.name().toUpperCase()).name().equals(best.name()));
    }

    @Test
    void unknownDeviceNameListsDevices() {
        List<OpenClDevice> devices = OpenClTestSupport.devicesOrSkip();
        OpenClUnavailableException e = assertThrows(OpenClUnavailableException.class,
                () -> OpenClDevice.byName("no-such-device-anywhere"));
        assertTrue(e.getMessage().contains(devices.get(0).name()), e.getMessage());
    }

    @Test
    void vectorAddAtEdgeSizes() {
        try (OpenClContext cl = OpenClContext.open(OpenClTestSupport.deviceOrSkip(), cache)) {
            Kernel add = cl.build(VECTOR_ADD, "").kernel("add");
            assertEquals(4, add.argumentCount());
            for (int n : SIZES) {
                float[] a = new float[n];
                float[] b = new float[n];
                float[] expected = new float[n];
                for (int i = 0; i < n; i++) {
                    a[i] = i * 0.5f;
                    b[i] = 2 - i;
                    expected[i] = a[i] + b[i];
                }
                DeviceBuffer da = cl.allocate(4L * n);
                DeviceBuffer db = cl.allocate(4L * n);
                DeviceBuffer dc = cl.allocate(4L * n);
                cl.write(da, a);
                cl.write(db, b);
                add.setArg(0, da).setArg(1, db).setArg(2, dc).setArgInt(3, n);
                cl.enqueue(add, new long[] {n}, null);
                float[] c = new float[n];
                cl.read(dc, c);
                assertArrayEquals(expected, c, "n = " + n);
                da.close();
                db.close();
                dc.close();
            }
        }
    }

    @Test
    void reductionWithPartialSums() {
        try (OpenClContext cl = OpenClContext.open(OpenClTestSupport.deviceOrSkip(), cache)) {
            Kernel reduce = cl.build(PARTIAL_SUMS, "").kernel("partial_sums");
            long largest = Math.min(256, reduce.workGroupSize());
            for (int n : SIZES) {
                float[] x = new float[n];
                double expected = 0;
                for (int i = 0; i < n; i++) {
                    // Small integers keep every partial sum exact in float.
                    x[i] = (i % 7) - 3 + (i % 2);
                    expected += x[i];
                }
                for (long local : new long[] {1, 3, 17, 64, largest}) {
                    long local1 = Math.min(local, reduce.workGroupSize());
                    int groups = (int) ((n + local1 - 1) / local1);
                    DeviceBuffer input = cl.allocate(4L * n);
                    DeviceBuffer sums = cl.allocate(4L * groups);
                    cl.write(input, x);
                    reduce.setArg(0, input).setArg(1, sums).setArgLocal(2, 4 * local1).setArgInt(3, n);
                    cl.enqueue(reduce, new long[] {groups * local1}, new long[] {local1});
                    float[] partial = new float[groups];
                    cl.read(sums, partial);
                    double total = 0;
                    for (float p : partial) {
                        total += p;
                    }
                    assertEquals(expected, total, 0.0, "n = " + n + ", local size = " + local1);
                    input.close();
                    sums.close();
                }
            }
        }
    }

    @Test
    void syntaxErrorCarriesBuildLog() {
        String broken = """
                __kernel void broken(__global float* x) {
                    x[0] = undeclared_value_42;
                }
                """;
        try (OpenClContext cl = OpenClContext.open(OpenClTestSupport.deviceOrSkip(), cache)) {
            OpenClBuildException e = assertThrows(OpenClBuildException.class, () -> cl.build(broken, ""));
            assertEquals("CL_BUILD_PROGRAM_FAILURE", e.codeName());
            assertEquals("clBuildProgram", e.call());
            assertTrue(e.buildLog().contains("undeclared_value_42"), e.buildLog());
            assertTrue(e.getMessage().contains("undeclared_value_42"), e.getMessage());
            assertTrue(e.getMessage().contains(e.buildLog().strip()), e.getMessage());
        }
    }

    @Test
    void secondBuildIsCacheHit() throws IOException {
        OpenClDevice device = OpenClTestSupport.deviceOrSkip();
        try (OpenClContext cl = OpenClContext.open(device, cache)) {
            assertFalse(cl.build(VECTOR_ADD, "-cl-fast-relaxed-math").fromCache());
            assertEquals(1, cl.programCacheMisses());
            assertEquals(1, countCacheFiles());
            assertTrue(cl.build(VECTOR_ADD, "-cl-fast-relaxed-math").fromCache());
            assertEquals(1, cl.programCacheHits());
            assertFalse(cl.build(VECTOR_ADD, "").fromCache(), "other options must not hit the cache");
        }
        try (OpenClContext cl = OpenClContext.open(device, cache)) {
            Program cached = cl.build(VECTOR_ADD, "-cl-fast-relaxed-math");
            assertTrue(cached.fromCache());
            assertThrows(IllegalArgumentException.class, () -> cached.kernel("add").setArgInt(0, 1),
                    "a cached binary must keep argument metadata");
            assertArrayEquals(new float[] {4, 6, 8}, runAdd(cl, cached, new float[] {1, 2, 3}, new float[] {3, 4, 5}));
        }
    }

    @Test
    void corruptCacheFallsBackToSource() throws IOException {
        OpenClDevice device = OpenClTestSupport.deviceOrSkip();
        try (OpenClContext cl = OpenClContext.open(device, cache)) {
            cl.build(VECTOR_ADD, "");
        }
        try (Stream<Path> files = Files.list(cache)) {
            for (Path file : files.toList()) {
                Files.write(file, new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
            }
        }
        try (OpenClContext cl = OpenClContext.open(device, cache)) {
            Program rebuilt = cl.build(VECTOR_ADD, "");
            assertFalse(rebuilt.fromCache());
            assertArrayEquals(new float[] {0, 0}, runAdd(cl, rebuilt, new float[] {1, -2}, new float[] {-1, 2}));
            assertTrue(cl.build(VECTOR_ADD, "").fromCache(), "the rejected entry must be replaced");
        }
    }

    @Test
    void missingKernelNameIsNamed() {
        try (OpenClContext cl = OpenClContext.open(OpenClTestSupport.deviceOrSkip(), cache)) {
            Program program = cl.build(VECTOR_ADD, "");
            OpenClException e = assertThrows(OpenClException.class, () -> program.kernel("subtract"));
            assertEquals(ClErrors.CL_INVALID_KERNEL_NAME, e.code());
            assertEquals("CL_INVALID_KERNEL_NAME", e.codeName());
            assertEquals("clCreateKernel", e.call());
            assertTrue(e.getMessage().contains("subtract"), e.getMessage());
        }
    }

    @Test
    void profilingCountsKernelsAndCopies() {
        int n = 1 << 20;
        try (OpenClContext cl = OpenClContext.open(OpenClTestSupport.deviceOrSkip(), cache)) {
            Program program = cl.build(VECTOR_ADD, "");
            assertEquals(0, cl.kernelNanos());
            assertEquals(0, cl.transferNanos());
            float[] ones = new float[n];
            java.util.Arrays.fill(ones, 1);
            float[] out = runAdd(cl, program, ones, ones);
            assertEquals(2f, out[n - 1]);
            assertTrue(cl.kernelNanos() > 0, "kernel nanoseconds: " + cl.kernelNanos());
            assertTrue(cl.transferNanos() > 0, "transfer nanoseconds: " + cl.transferNanos());
            cl.resetProfile();
            assertEquals(0, cl.kernelNanos());
            assertEquals(0, cl.transferNanos());
        }
    }

    @Test
    void segmentsFillAndCopyRoundTrip() {
        try (OpenClContext cl = OpenClContext.open(OpenClTestSupport.deviceOrSkip(), cache);
                Arena arena = Arena.ofConfined()) {
            DeviceBuffer first = cl.allocate(64);
            DeviceBuffer second = cl.allocate(64);
            cl.fill(first, 2.5f);
            cl.copy(first, second, 64);
            MemorySegment nativeOut = arena.allocate(64);
            cl.read(second, 0, nativeOut);
            for (int i = 0; i < 16; i++) {
                assertEquals(2.5f, nativeOut.getAtIndex(ValueLayout.JAVA_FLOAT, i));
            }
            MemorySegment heapIn = MemorySegment.ofArray(new float[] {7, 8});
            cl.write(second, 8, heapIn);
            float[] heapOut = new float[4];
            cl.read(second, 0, MemorySegment.ofArray(heapOut));
            assertArrayEquals(new float[] {2.5f, 2.5f, 7, 8}, heapOut);
        }
    }

    @Test
    void misuseRejectedBeforeNativeCall() {
        try (OpenClContext cl = OpenClContext.open(OpenClTestSupport.deviceOrSkip(), cache)) {
            DeviceBuffer buffer = cl.allocate(16);
            assertThrows(IllegalArgumentException.class, () -> cl.allocate(0));
            assertThrows(IllegalArgumentException.class, () -> cl.write(buffer, new float[5]));
            assertThrows(IllegalArgumentException.class, () -> cl.write(buffer, 8, new float[4], 0, 3));
            assertThrows(IllegalArgumentException.class, () -> cl.read(buffer, -4, new float[1], 0, 1));
            assertThrows(IllegalArgumentException.class, () -> cl.read(buffer, 0, new float[1], 0, 2));
            assertThrows(IllegalArgumentException.class, () -> cl.build("  ", ""));

            Kernel add = cl.build(VECTOR_ADD, "").kernel("add");
            assertThrows(IllegalArgumentException.class, () -> add.setArg(4, buffer));
            assertThrows(IllegalArgumentException.class, () -> add.setArgInt(0, 1), "int for a pointer");
            assertThrows(IllegalArgumentException.class, () -> add.setArgFloat(3, 1f), "float for an int");
            assertThrows(IllegalArgumentException.class, () -> add.setArgLocal(0, 16), "local for a global");
            add.setArg(0, buffer).setArg(1, buffer).setArg(2, buffer);
            IllegalStateException unset = assertThrows(IllegalStateException.class,
                    () -> cl.enqueue(add, new long[] {4}, null));
            assertTrue(unset.getMessage().contains("argument 3"), unset.getMessage());
            add.setArgInt(3, 4);
            assertThrows(IllegalArgumentException.class, () -> cl.enqueue(add, new long[] {4}, new long[] {3}));
            long tooLarge = add.workGroupSize() * 2;
            assertThrows(IllegalArgumentException.class,
                    () -> cl.enqueue(add, new long[] {tooLarge}, new long[] {tooLarge}));
            buffer.close();
            assertThrows(IllegalStateException.class, () -> cl.enqueue(add, new long[] {4}, null));
            assertThrows(IllegalStateException.class, () -> cl.write(buffer, new float[1]));

            try (OpenClContext other = OpenClContext.open(cl.device(), cache)) {
                DeviceBuffer foreign = other.allocate(16);
                assertThrows(IllegalArgumentException.class, () -> cl.write(foreign, new float[1]));
                assertThrows(IllegalArgumentException.class, () -> add.setArg(0, foreign));
            }
        }
    }

    @Test
    void useAfterCloseThrows() {
        OpenClContext cl = OpenClContext.open(OpenClTestSupport.deviceOrSkip(), cache);
        Program program = cl.build(VECTOR_ADD, "");
        Kernel add = program.kernel("add");
        DeviceBuffer buffer = cl.allocate(16);
        cl.close();
        cl.close();
        assertTrue(cl.isClosed());
        assertTrue(buffer.isClosed());
        assertThrows(IllegalStateException.class, () -> cl.build(VECTOR_ADD, ""));
        assertThrows(IllegalStateException.class, () -> cl.allocate(16));
        assertThrows(IllegalStateException.class, () -> cl.write(buffer, new float[1]));
        assertThrows(IllegalStateException.class, () -> cl.read(buffer, new float[1]));
        assertThrows(IllegalStateException.class, () -> cl.enqueue(add, new long[] {1}, null));
        assertThrows(IllegalStateException.class, () -> add.setArg(0, buffer));
        assertThrows(IllegalStateException.class, () -> add.setArgInt(3, 1));
        assertThrows(IllegalStateException.class, () -> program.kernel("add"));
        assertThrows(IllegalStateException.class, cl::finish);
        assertThrows(IllegalStateException.class, cl::kernelNanos);
        buffer.close();
        add.close();
        program.close();
    }

    private int countCacheFiles() throws IOException {
        try (Stream<Path> files = Files.list(cache)) {
            return (int) files.filter(file -> file.toString().endsWith(".bin")).count();
        }
    }

    private static float[] runAdd(OpenClContext cl, Program program, float[] a, float[] b) {
        int n = a.length;
        Kernel add = program.kernel("add");
        DeviceBuffer da = cl.allocate(4L * n);
        DeviceBuffer db = cl.allocate(4L * n);
        DeviceBuffer dc = cl.allocate(4L * n);
        cl.write(da, a);
        cl.write(db, b);
        add.setArg(0, da).setArg(1, db).setArg(2, dc).setArgInt(3, n);
        cl.enqueue(add, new long[] {n}, null);
        float[] c = new float[n];
        cl.read(dc, c);
        return c;
    }
}
