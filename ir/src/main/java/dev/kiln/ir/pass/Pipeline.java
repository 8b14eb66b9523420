package dev.kiln.ir.pass;

import dev.kiln.ir.Graph;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The optimization pipeline, a flat list of named passes. With verification on, the IR is
 * checked after every pass; with dumping on, the IR after every pass is kept by pass name.
 */
public final class Pipeline {
    // Simplification runs on folded constants, and before merging and dropping nodes, because
    // its rewrites make nodes equal (x - (-w) and x + w) and leave nodes unused.
    private final List<Pass> passes = List.of(
            new ConstantFolding(),

            new AlgebraicSimplification(),

            new CommonSubexpressionElimination(),

            new DeadCodeElimination());

    private final boolean verify;
    private final Map<String, String> dumps;

    public Pipeline(boolean verify, boolean dump) {
        this.verify = verify;
        this.dumps = dump ? new LinkedHashMap<>() : null;
    }

    /** Runs every pass in order. */
    public Graph run(Graph graph) {
        record("input", graph);
        for (Pass pass : passes) {
            graph = pass.run(graph);
            if (verify) {
                Verifier.verify(graph, pass.name());
            }
            record(pass.name(), graph);
        }
        return graph;
    }

    private void record(String stage, Graph graph) {
        if (dumps != null) {
            dumps.put(graph.name() + "." + stage, graph.toString());
        }
    }

    /** Returns the IR text after each stage, keyed {@code <graph>.<pass>}, if dumping is on. */
    public Map<String, String> dumps() {
        return dumps == null ? Map.of() : dumps;
    }
}
