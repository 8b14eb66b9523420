package dev.kiln.ir.pass;

import dev.kiln.ir.Graph;

/** A graph-to-graph transformation that keeps the graph's results unchanged. */
public interface Pass {
    /** Returns the pass's name as it appears in IR dumps. */
    String name();

    Graph run(Graph graph);
}
