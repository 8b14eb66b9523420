package dev.kiln.ir.lower;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.ir.DType;
import dev.kiln.ir.Entries;
import dev.kiln.ir.Entry;
import dev.kiln.ir.GraphBuilder;
import dev.kiln.ir.Loss;
import dev.kiln.ir.ModelSpec;
import dev.kiln.ir.Node;
import dev.kiln.ir.Optimizer;
import dev.kiln.ir.Shape;
import dev.kiln.ir.pass.Pipeline;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LoweringTest {

    /** The reference network: 13-20, one tied 20-20 layer applied nine times with tanh, 20-3. */
    static ModelSpec referenceNetwork() {
        GraphBuilder b = new GraphBuilder("forward");
        Node x = b.input("x", Shape.batched(13), DType.F32);
        Node h = b.tanh(b.linear(x, b.param("fc1.weight", Shape.of(20, 13)), b.param("fc1.bias", Shape.of(20))));
        for (int i = 0; i < 9; i++) {
            h = b.tanh(b.linear(h, b.param("fc2.weight", Shape.of(20, 20)), b.param("fc2.bias", Shape.of(20))));
        }
        b.output("output", b.linear(h, b.param("fc3.weight", Shape.of(3, 20)), b.param("fc3.bias", Shape.of(3))));
        return new ModelSpec("Reference", b.build(), List.of(
                new ModelSpec.ParamSpec("fc1.weight", Shape.of(20, 13), 13),
                new ModelSpec.ParamSpec("fc1.bias", Shape.of(20), 13),
                new ModelSpec.ParamSpec("fc2.weight", Shape.of(20, 20), 20),
                new ModelSpec.ParamSpec("fc2.bias", Shape.of(20), 20),
                new ModelSpec.ParamSpec("fc3.weight", Shape.of(3, 20), 20),
                new ModelSpec.ParamSpec("fc3.bias", Shape.of(3), 20)),
                Loss.CROSS_ENTROPY, List.of(Optimizer.ADAM, Optimizer.SGD));
    }

    static List<Schedule> schedules() {
        List<Schedule> out = new ArrayList<>();
        for (Entry entry : Entries.build(referenceNetwork())) {
            Entry optimized = new Entry(entry.name(), new Pipeline(true, false).run(entry.graph()),
                    entry.args(), entry.bindings());
            out.add(Lowering.lower(optimized));
        }
        return out;
    }

    @Test
    void liveBuffersNeverOverlap() {
        for (Schedule schedule : schedules()) {
            Map<Node, int[]> lifetimes = lifetimes(schedule);
            List<Node> buffers = new ArrayList<>(lifetimes.keySet());
            for (int i = 0; i < buffers.size(); i++) {
                for (int j = i + 1; j < buffers.size(); j++) {
                    Location.Workspace a = (Location.Workspace) schedule.location(buffers.get(i));
                    Location.Workspace b = (Location.Workspace) schedule.location(buffers.get(j));
                    int[] la = lifetimes.get(buffers.get(i));
                    int[] lb = lifetimes.get(buffers.get(j));
                    boolean liveTogether = la[0] <= lb[1] && lb[0] <= la[1];
                    boolean sameMemory = a.batched() == b.batched()
                            && a.offset() < b.offset() + b.size() && b.offset() < a.offset() + a.size();
                    assertFalse(liveTogether && sameMemory, schedule.entry().name() + ": " + buffers.get(i)
                            + " and " + buffers.get(j) + " are live together in the same memory");
                }
            }
        }
    }

    @Test
    void clippedGradientsJoinTheirUpdateLoops() {
        // The training entries scale every gradient by the clipping factor, a scalar, before its
        // update. Updates of parameters of other shapes come in between, but each scaled gradient
        // still joins its own update's loop instead of making a round trip through memory.
        int scaled = 0;
        for (Schedule schedule : schedules()) {
            if (!schedule.entry().name().startsWith("train_")) {
                continue;
            }
            Map<Node, List<Node>> users = schedule.entry().graph().users();
            for (Kernel kernel : Kernel.flatten(schedule.kernels())) {
                if (!(kernel instanceof Kernel.Fused fused)) {
                    continue;
                }
                for (Node node : fused.nodes()) {
                    // A weight gradient (a matmul's result) times a scalar: the clipped gradient.
                    boolean clippedWeightGradient = node.op().name().equals("mul")
                            && node.inputs().stream().anyMatch(in -> schedule.location(in) instanceof Location.Scalar)
                            && node.inputs().stream().anyMatch(in -> in.op() instanceof dev.kiln.ir.Matmul);
                    if (!clippedWeightGradient) {
                        continue;
                    }
                    scaled++;
                    assertTrue(users.get(node).stream().allMatch(fused.nodes()::contains)
                                    && schedule.location(node) instanceof Location.Register,
                            schedule.entry().name() + ": " + node + " is not in the loop of the update that reads it");
                }
            }
        }
        // fc1 and fc3 weights in train_adam and train_sgd; the tied fc2 weight sums nine products first.
        assertEquals(4, scaled, "clipped weight gradients found");
    }

    @Test
    void planIsTheSameOnEveryBuild() {
        for (int attempt = 0; attempt < 5; attempt++) {
            assertEquals(planText(schedules()), planText(schedules()));
        }
    }

    private static String planText(List<Schedule> schedules) {
        StringBuilder text = new StringBuilder();
        for (Schedule schedule : schedules) {
            schedule.entry().graph().nodes().forEach(node ->
                    text.append(node.id()).append(':').append(schedule.locations().get(node)).append('\n'));
        }
        return text.toString();
    }

    @Test
    void predictReusesTwoHiddenBuffers() {
        Schedule predict = schedules().get(0);
        assertEquals("predict", predict.entry().name());
        assertEquals(40, predict.workspacePerRow(), predict.summary());
        assertEquals(0, predict.workspaceFixed(), predict.summary());
    }

    @Test
    void optimizerUpdateFusesIntoParameters() {
        for (Schedule schedule : schedules()) {
            if (schedule.entry().name().startsWith("update_")) {
                // The only workspace is the squared gradients summed into the global gradient norm
                // for clipping, at most one float per parameter element, and the only kernels that
                // are not fused loops or scalar code are those sums.
                assertEquals(0, schedule.workspacePerRow(), schedule.summary());
                assertTrue(schedule.workspaceFixed() <= referenceNetwork().parameterCount(), schedule.summary());
                assertTrue(Kernel.flatten(schedule.kernels()).stream().allMatch(k -> k instanceof Kernel.Fused || k instanceof Kernel.Scalar
                                || k instanceof Kernel.Single single && single.node().op().name().equals("sum_to")),
                        schedule.summary());
            }
        }
    }

    @Test
    void gradientNormRunsOnlyWithClippingOn() {
        // Every optimizer entry clips by the global gradient norm, and max_grad_norm <= 0 turns
        // clipping off. The squares and sums of the norm go into one guarded kernel, which runs
        // only where max_grad_norm > 0, and the updates stay outside it.
        int optimizerEntries = 0;
        for (Schedule schedule : schedules()) {
            String name = schedule.entry().name();
            if (!name.startsWith("train_") && !name.startsWith("update_")) {
                continue;
            }
            optimizerEntries++;
            List<Kernel.Guarded> guards = schedule.kernels().stream()
                    .filter(k -> k instanceof Kernel.Guarded).map(k -> (Kernel.Guarded) k).toList();
            assertEquals(1, guards.size(), name + ": " + schedule.summary());
            Kernel.Guarded guard = guards.get(0);
            Node condition = guard.condition();
            assertEquals("gt", condition.op().name(), name);
            assertEquals(new dev.kiln.ir.Leaf.Hyper(dev.kiln.ir.Hyperparameters.MAX_GRAD_NORM), condition.input(0).op(), name);
            long sums = guard.body().stream()
                    .filter(k -> k instanceof Kernel.Single single && single.node().op().name().equals("sum_to")
                            && single.node().shape().isScalar())
                    .count();
            assertEquals(referenceNetwork().params().size(), sums, name + ": one sum of squares per parameter");
            assertTrue(guard.body().stream().noneMatch(k -> k instanceof Kernel.Copy), name);
            assertTrue(guard.body().stream().allMatch(k -> !(k instanceof Kernel.Fused fused)
                            || fused.nodes().stream().allMatch(n -> n.op().name().equals("mul"))),
                    name + ": only the squares of the gradients are fused loops in the guard");
        }
        assertEquals(4, optimizerEntries);
    }

    @Test
    void whereFalseBranchStaysUnguarded() {
        // The sum of squares is tensor work that only the where reads. When the false branch
        // reads it too, it must run whatever the condition is, so no guard may take it.
        assertEquals(0, guardsInPredict(true), "guards when the false branch reads the sum");
        assertEquals(1, guardsInPredict(false), "guards when the false branch is a constant");
    }

    /** Counts the guards in the predict entry of output = x * where(lr > 0, 2 sum(p * p), f). */
    private static long guardsInPredict(boolean falseBranchReadsSum) {
        GraphBuilder b = new GraphBuilder("forward");
        Node x = b.input("x", Shape.batched(4), DType.F32);
        Node p = b.param("p", Shape.of(4));
        Node squares = b.sum(b.mul(p, p));
        Node condition = b.gt(b.hyper(dev.kiln.ir.Hyperparameters.LR), b.constant(0));
        Node whenFalse = falseBranchReadsSum ? squares : b.constant(1);
        Node scale = b.where(condition, b.mul(squares, b.constant(2)), whenFalse);
        b.output("output", b.mul(x, scale));
        ModelSpec spec = new ModelSpec("FalseBranch", b.build(), List.of(new ModelSpec.ParamSpec("p", Shape.of(4), 4)),
                Loss.MSE, List.of(Optimizer.SGD));
        Entry predict = Entries.build(spec).get(0);
        assertEquals("predict", predict.name());
        Entry optimized = new Entry(predict.name(), new Pipeline(true, false).run(predict.graph()),
                predict.args(), predict.bindings());
        return Lowering.lower(optimized).kernels().stream().filter(k -> k instanceof Kernel.Guarded).count();
    }

    @Test
    void biasAddAndTanhShareOneLoop() {
        Schedule predict = schedules().get(0);
        long fusedPairs = predict.kernels().stream()
                .filter(k -> k instanceof Kernel.Fused fused && fused.nodes().size() == 2)
                .count();
        assertEquals(10, fusedPairs, predict.summary());
    }

    /** Returns, for every workspace buffer, the first kernel writing it and the last reading it. */
    private static Map<Node, int[]> lifetimes(Schedule schedule) {
        Map<Node, int[]> out = new IdentityHashMap<>();
        List<Kernel> kernels = Kernel.flatten(schedule.kernels());
        for (int k = 0; k < kernels.size(); k++) {
            for (Node node : touched(kernels.get(k))) {
                if (schedule.locations().get(node) instanceof Location.Workspace) {
                    int index = k;
                    out.computeIfAbsent(node, n -> new int[] {index, index})[1] = index;
                }
            }
        }
        return out;
    }

    private static List<Node> touched(Kernel kernel) {
        List<Node> out = new ArrayList<>();
        switch (kernel) {
            case Kernel.Fused fused -> fused.nodes().forEach(n -> {
                out.add(n);
                out.addAll(n.inputs());
            });
            case Kernel.Single single -> {
                out.add(single.node());
                out.addAll(single.node().inputs());
            }
            case Kernel.Scalar scalar -> out.addAll(scalar.node().inputs());
            case Kernel.Copy copy -> out.add(copy.value());
            case Kernel.Guarded guarded -> guarded.body().forEach(inner -> out.addAll(touched(inner)));
        }
        return out;
    }
}
