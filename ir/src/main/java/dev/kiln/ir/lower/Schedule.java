package dev.kiln.ir.lower;

import dev.kiln.ir.Entry;
import dev.kiln.ir.IrException;
import dev.kiln.ir.Node;
import java.util.List;
import java.util.Map;

/**
 * An entry lowered for a backend: the kernels in order, where every value lives, and the size of
 * the workspace, {@code workspacePerRow * B + workspaceFixed} floats. Backends render schedules;
 * fusion and memory planning are decided here, once for all of them.
 */
public record Schedule(Entry entry, List<Kernel> kernels, Map<Node, Location> locations,
                       long workspacePerRow, long workspaceFixed) {

    public Location location(Node node) {
        Location location = locations.get(node);
        if (location == null) {
            throw new IrException("no location planned for " + node + " in entry '" + entry.name() + "'");
        }
        return location;
    }

    /** Returns the number of kernels of each kind, for tests and build reports. */
    public String summary() {
        List<Kernel> flat = Kernel.flatten(kernels);
        long fused = flat.stream().filter(k -> k instanceof Kernel.Fused).count();
        long single = flat.stream().filter(k -> k instanceof Kernel.Single).count();
        return entry.name() + ": " + fused + " fused loops, " + single + " other kernels, workspace "
                + workspacePerRow + " * B + " + workspaceFixed + " floats";
    }
}
