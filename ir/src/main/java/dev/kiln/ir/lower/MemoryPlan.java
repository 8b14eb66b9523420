package dev.kiln.ir.lower;

import dev.kiln.ir.Node;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Static workspace plan. Every tensor that needs a workspace buffer is live from the kernel that
 * writes it to the last kernel that reads it, and gets the lowest offset that no live buffer
 * uses (first fit). Batched buffers are sized in floats per batch row, so one plan holds for
 * every batch size: a batched buffer at offset o starts at o * B.
 */
record MemoryPlan(long perRow, long fixed) {

    private record Allocation(long offset, long size, int lastUse) {
    }

    static MemoryPlan plan(List<Kernel> scheduled, Map<Node, Location> locations) {
        List<Kernel> kernels = Kernel.flatten(scheduled);
        Map<Node, Integer> definedAt = new IdentityHashMap<>();
        Map<Node, Integer> lastUse = new IdentityHashMap<>();
        for (int k = 0; k < kernels.size(); k++) {
            for (Node written : written(kernels.get(k))) {
                if (!locations.containsKey(written)) {
                    definedAt.put(written, k);
                }
            }
            for (Node read : read(kernels.get(k))) {
                lastUse.put(read, k);
            }
        }
        List<Allocation> batched = new ArrayList<>();
        List<Allocation> fixed = new ArrayList<>();
        long perRowPeak = 0;
        long fixedPeak = 0;
        // Sorting by node id as well keeps the plan, and so the generated source, the same on every build.
        for (Map.Entry<Node, Integer> definition : definedAt.entrySet().stream()
                .sorted(java.util.Comparator.comparing((Map.Entry<Node, Integer> e) -> e.getValue())
                        .thenComparing(e -> e.getKey().id()))
                .toList()) {
            Node node = definition.getKey();
            int start = definition.getValue();
            int end = lastUse.getOrDefault(node, start);
            boolean isBatched = node.shape().isBatched();
            long size = node.shape().staticElements();
            List<Allocation> live = isBatched ? batched : fixed;
            live.removeIf(a -> a.lastUse() < start);
            long offset = firstFit(live, size);
            live.add(new Allocation(offset, size, end));
            locations.put(node, new Location.Workspace(isBatched, offset, size));
            if (isBatched) {
                perRowPeak = Math.max(perRowPeak, offset + size);
            } else {
                fixedPeak = Math.max(fixedPeak, offset + size);
            }
        }
        return new MemoryPlan(perRowPeak, fixedPeak);
    }

    private static long firstFit(List<Allocation> live, long size) {
        List<Allocation> byOffset = new ArrayList<>(live);
        byOffset.sort((a, b) -> Long.compare(a.offset(), b.offset()));
        long candidate = 0;
        for (Allocation a : byOffset) {
            if (candidate + size <= a.offset()) {
                return candidate;
            }
            candidate = Math.max(candidate, a.offset() + a.size());
        }
        return candidate;
    }

    /** Returns the tensors a kernel writes to memory. */
    private static List<Node> written(Kernel kernel) {
        return switch (kernel) {
            case Kernel.Fused fused -> List.copyOf(fused.stored());
            case Kernel.Single single -> single.node().shape().isScalar() ? List.of() : List.of(single.node());
            case Kernel.Scalar scalar -> List.of();
            case Kernel.Copy copy -> List.of();
            case Kernel.Guarded guarded -> throw new IllegalStateException("guarded kernels are flattened first");
        };
    }

    /** Returns the nodes whose memory a kernel reads. */
    private static List<Node> read(Kernel kernel) {
        return switch (kernel) {
            case Kernel.Fused fused -> {
                List<Node> out = new ArrayList<>();
                for (Node node : fused.nodes()) {
                    for (Node input : node.inputs()) {
                        if (!fused.nodes().contains(input)) {
                            out.add(input);
                        }
                    }
                }
                yield out;
            }
            case Kernel.Single single -> single.node().inputs();
            case Kernel.Scalar scalar -> scalar.node().inputs();
            case Kernel.Copy copy -> List.of(copy.value());
            case Kernel.Guarded guarded -> throw new IllegalStateException("guarded kernels are flattened first");
        };
    }
}
