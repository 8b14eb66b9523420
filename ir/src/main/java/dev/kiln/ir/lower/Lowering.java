package dev.kiln.ir.lower;

import dev.kiln.ir.DType;
import dev.kiln.ir.Elementwise;
import dev.kiln.ir.Entry;
import dev.kiln.ir.Graph;
import dev.kiln.ir.Hyperparameters;
import dev.kiln.ir.Leaf;
import dev.kiln.ir.Node;
import dev.kiln.ir.Op;
import dev.kiln.ir.Shape;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Lowers an entry to a {@link Schedule} in three steps:
 * <ol>
 *   <li>place values that live outside the workspace: leaves, outputs, and store values that
 *       can be computed in place;
 *   <li>fuse runs of elementwise nodes of one shape into single loops, keeping values that no
 *       other kernel reads in registers;
 *   <li>plan the workspace: buffers whose lifetimes do not overlap share memory.
 * </ol>
 */
public final class Lowering {
    private final Entry entry;
    private final Graph graph;
    private final Map<Node, Location> locations = new IdentityHashMap<>();
    private final Map<Node, Node> homedStores = new IdentityHashMap<>();
    private List<Kernel> kernels = new ArrayList<>();
    /** Guards, keyed by the scalar {@code where} whose true branch they compute. */
    private final Map<Node, Guard> guards = new IdentityHashMap<>();
    /** Members of guards, lowered just before their {@code where} instead of in graph order. */
    private final Set<Node> guarded = new HashSet<>();

    /** Condition and members of a guard: the nodes that only the true branch of a {@code where} reads. */
    private record Guard(Node condition, List<Node> nodes) {
    }

    private Lowering(Entry entry) {
        this.entry = entry;
        this.graph = entry.graph();
    }

    /** Lowers one entry. */
    public static Schedule lower(Entry entry) {
        return new Lowering(entry).run();
    }

    private Schedule run() {
        placeLeavesOutputsAndStores();

        fuse();

        addFinalCopies();

        MemoryPlan plan = MemoryPlan.plan(kernels, locations);
        return new Schedule(entry, List.copyOf(kernels), locations, plan.perRow(), plan.fixed());
    }

    // ---- placement -------------------------------------------------------------------------

    /**
     * Places leaves, computes tensor outputs straight into the caller's buffers, and computes a
     * store's value straight into its target when every other reader of the target has already
     * run and the value is elementwise. Then element i is read before it is overwritten.
     */
    private void placeLeavesOutputsAndStores() {
        for (Node node : graph.nodes()) {
            if (node.op() instanceof Leaf leaf) {
                locations.put(node, leafLocation(node, leaf));
            }
        }
        for (Map.Entry<String, Node> output : graph.outputs().entrySet()) {
            Node node = output.getValue();
            if (!node.shape().isScalar() && !locations.containsKey(node)) {
                locations.put(node, argument(entry.binding("output:" + output.getKey()), DType.F32));
            }
        }
        Map<Node, List<Node>> users = graph.users();
        for (Map.Entry<Node, Node> store : graph.stores().entrySet()) {
            Node target = store.getKey();
            Node value = store.getValue();
            boolean othersDone = users.get(target).stream().allMatch(u -> u.id() <= value.id());
            if (value.op() instanceof Elementwise && othersDone && !locations.containsKey(value)
                    && !value.shape().isScalar()) {
                locations.put(value, locations.get(target));
                homedStores.put(target, value);
            }
        }
    }

    private Location leafLocation(Node node, Leaf leaf) {
        return switch (leaf) {
            case Leaf.Constant c -> new Location.Constant(c.value());
            case Leaf.Hyper h -> new Location.Hyperparameter(Hyperparameters.index(h.label()));
            case Leaf.BatchSize b -> new Location.BatchSize();
            case Leaf.Input in -> argument(entry.binding("input:" + in.label()), node.dtype());
            case Leaf.Param p -> argument(entry.binding("param:" + p.label()), node.dtype());
            case Leaf.State s -> argument(entry.binding("state:" + s.label()), node.dtype());
        };
    }

    private static Location argument(Entry.Binding binding, DType dtype) {
        return new Location.Argument(binding.arg(), binding.offset(), dtype);
    }

    // ---- fusion ----------------------------------------------------------------------------

    /**
     * Groups elementwise nodes of one shape into fused loops. A group stays open while other
     * kernels are emitted, so that nodes of its shape later in the graph can still join it. For
     * example, a gradient scaled by a clipping factor joins the optimizer update of its parameter,
     * although the updates of parameters of other shapes come between them. A group is emitted
     * (closed) as late as possible. That is before the first kernel or group that reads one of
     * its values, and before a group that writes in place over a tensor that it reads.
     */
    private void fuse() {
        findGuards();
        Map<Shape, List<Node>> open = new LinkedHashMap<>();
        Map<Node, List<Node>> groupOf = new IdentityHashMap<>();
        Map<Node, Node> homedTarget = new IdentityHashMap<>();
        for (Map.Entry<Node, Node> homed : homedStores.entrySet()) {
            homedTarget.put(homed.getValue(), homed.getKey());
        }
        List<Node> inOrder = graph.nodes().stream()
                .filter(node -> !(node.op() instanceof Leaf) && !guarded.contains(node))
                .toList();
        lowerAll(inOrder, open, groupOf, homedTarget);
    }

    /**
     * Lowers nodes in order, each guard just before its {@code where}, and then closes every
     * group that is still open.
     */
    private void lowerAll(List<Node> nodes, Map<Shape, List<Node>> open, Map<Node, List<Node>> groupOf,
                          Map<Node, Node> homedTarget) {
        for (Node node : nodes) {
            Guard guard = guards.get(node);
            if (guard != null) {
                lowerGuard(guard, open, groupOf, homedTarget);
            }
            lowerNode(node, open, groupOf, homedTarget);
        }
        for (List<Node> group : List.copyOf(open.values())) {
            close(group, open, groupOf);
        }
    }

    /**
     * Lowers the members of a guard into one {@link Kernel.Guarded}, with fusion groups of their
     * own, after closing the open groups that compute their inputs.
     */
    private void lowerGuard(Guard guard, Map<Shape, List<Node>> open, Map<Node, List<Node>> groupOf,
                            Map<Node, Node> homedTarget) {
        for (Node member : guard.nodes()) {
            closeGroupsReading(member.inputs(), open, groupOf, null);
        }
        List<Kernel> outer = kernels;
        kernels = new ArrayList<>();
        lowerAll(guard.nodes(), new LinkedHashMap<>(), groupOf, homedTarget);
        outer.add(new Kernel.Guarded(guard.condition(), kernels));
        kernels = outer;
    }

    private void lowerNode(Node node, Map<Shape, List<Node>> open, Map<Node, List<Node>> groupOf,
                           Map<Node, Node> homedTarget) {
        boolean elementwise = node.op().kernel() == Op.Kernel.ELEMENTWISE;
        if (node.shape().isScalar() && elementwise) {
            // Reads scalars only, which are computed once and never overwritten.
            locations.put(node, new Location.Scalar(node.id()));
            kernels.add(new Kernel.Scalar(node));
            return;
        }
        if (!elementwise) {
            closeGroupsReading(node.inputs(), open, groupOf, null);
            if (node.shape().isScalar()) {
                locations.put(node, new Location.Scalar(node.id()));
            }
            kernels.add(new Kernel.Single(node));
            return;
        }
        List<Node> own = open.get(node.shape());
        closeGroupsReading(node.inputs(), open, groupOf, own);
        Node target = homedTarget.get(node);
        if (target != null) {
            // Readers of the old values in other loops run before this one overwrites them.
            List<List<Node>> readers = new ArrayList<>();
            for (List<Node> group : open.values()) {
                if (group != own && group.stream().anyMatch(member -> member.inputs().contains(target))) {
                    readers.add(group);
                }
            }
            for (List<Node> group : readers) {
                close(group, open, groupOf);
            }
        }
        List<Node> group = open.computeIfAbsent(node.shape(), shape -> new ArrayList<>());
        group.add(node);
        groupOf.put(node, group);
    }

    /**
     * Finds each scalar {@code where} whose condition depends on hyperparameters and constants
     * alone, and whose true branch needs tensor work that nothing else reads. Gradient clipping is
     * one, because with clipping off the global gradient norm is not needed. That work then runs
     * only where the condition is nonzero. A member may not read a store target, because a store
     * could overwrite it before the guard runs.
     */
    private void findGuards() {
        Map<Node, List<Node>> users = graph.users();
        Set<Node> results = new HashSet<>(graph.outputs().values());
        results.addAll(graph.stores().values());
        Set<Node> storeTargets = graph.stores().keySet();
        for (Node node : graph.nodes()) {
            if (node.op() != Elementwise.WHERE || !node.shape().isScalar() || !hyperparametersOnly(node.input(0))) {
                continue;
            }
            Node whenTrue = node.input(1);
            Set<Node> candidates = new HashSet<>();
            ArrayDeque<Node> work = new ArrayDeque<>(List.of(whenTrue));
            while (!work.isEmpty()) {
                Node next = work.pop();
                // The condition runs before the guard, and the false branch is read without it.
                boolean readOutsideGuard = next == node.input(0) || next == node.input(2);
                if (!(next.op() instanceof Leaf) && !readOutsideGuard && !results.contains(next)
                        && !guarded.contains(next) && candidates.add(next)) {
                    work.addAll(next.inputs());
                }
            }
            Set<Node> cone = new HashSet<>();
            candidates.stream().sorted(Comparator.comparingInt(Node::id).reversed()).forEach(candidate -> {
                if (users.get(candidate).stream().allMatch(u -> u == node || cone.contains(u))) {
                    cone.add(candidate);
                }
            });
            boolean tensorWork = cone.stream().anyMatch(member -> !member.shape().isScalar());
            boolean readsStoreTarget = cone.stream().anyMatch(member -> member.inputs().stream()
                    .anyMatch(storeTargets::contains));
            if (!tensorWork || readsStoreTarget) {
                continue;
            }
            List<Node> members = cone.stream().sorted(Comparator.comparingInt(Node::id)).toList();
            guards.put(node, new Guard(node.input(0), members));
            guarded.addAll(members);
        }
    }

    /** Returns whether a scalar is computed from hyperparameters, the batch size and constants alone. */
    private static boolean hyperparametersOnly(Node node) {
        if (node.op() instanceof Leaf leaf) {
            return leaf instanceof Leaf.Hyper || leaf instanceof Leaf.Constant || leaf instanceof Leaf.BatchSize;
        }
        return node.shape().isScalar() && node.op().kernel() == Op.Kernel.ELEMENTWISE
                && node.inputs().stream().allMatch(Lowering::hyperparametersOnly);
    }

    /** Closes every open group except {@code keep} that computes one of {@code inputs}. */
    private void closeGroupsReading(List<Node> inputs, Map<Shape, List<Node>> open, Map<Node, List<Node>> groupOf,
                                    List<Node> keep) {
        for (Node in : inputs) {
            List<Node> group = groupOf.get(in);
            if (group != null && group != keep && open.get(group.get(0).shape()) == group) {
                close(group, open, groupOf);
            }
        }
    }

    private void close(List<Node> group, Map<Shape, List<Node>> open, Map<Node, List<Node>> groupOf) {
        open.remove(group.get(0).shape());
        for (Node member : group) {
            groupOf.remove(member);
        }
        closeGroup(new ArrayList<>(group));
    }

    /** Emits the fused loop of {@code group}; a value is stored when anything outside reads it. */
    private void closeGroup(List<Node> group) {
        if (group.isEmpty()) {
            return;
        }
        Set<Node> members = new HashSet<>(group);
        Set<Node> results = new HashSet<>(graph.outputs().values());
        results.addAll(graph.stores().values());
        Map<Node, List<Node>> users = graph.users();
        Set<Node> stored = new LinkedHashSet<>();
        for (Node node : group) {
            boolean readOutside = users.get(node).stream().anyMatch(u -> !members.contains(u));
            if (readOutside || results.contains(node)) {
                stored.add(node);
            } else {
                locations.put(node, new Location.Register(node.id()));
            }
        }
        kernels.add(new Kernel.Fused(group.get(0).shape(), List.copyOf(group), stored));
        group.clear();
    }

    // ---- results ---------------------------------------------------------------------------

    private void addFinalCopies() {
        for (Map.Entry<String, Node> output : graph.outputs().entrySet()) {
            Node node = output.getValue();
            Location target = argument(entry.binding("output:" + output.getKey()), DType.F32);
            if (node.shape().isScalar() || !target.equals(locations.get(node))) {
                kernels.add(new Kernel.Copy(node, target));
            }
        }
        for (Map.Entry<Node, Node> store : graph.stores().entrySet()) {
            if (homedStores.get(store.getKey()) != store.getValue()) {
                kernels.add(new Kernel.Copy(store.getValue(), locations.get(store.getKey())));
            }
        }
    }
}
