package dev.kiln.ir;

import java.util.List;
import java.util.Map;

/**
 * One function of a compiled model library: a graph together with the pointer arguments it is
 * called with. Each tensor the graph reads or writes from outside lives in one argument at an
 * offset counted in elements.
 *
 * @param name the function's suffix, e.g. {@code predict} or {@code train_adam}
 * @param graph the computation
 * @param args the pointer arguments in call order
 * @param bindings where each input, parameter, state, output and store lives, keyed as
 *     {@code input:x}, {@code param:fc1.weight}, {@code state:exp_avg.fc1.weight} or
 *     {@code output:loss}
 */
public record Entry(String name, Graph graph, List<Arg> args, Map<String, Binding> bindings) {

    public Entry {
        args = List.copyOf(args);
        bindings = Map.copyOf(bindings);
    }

    /** Returns where a leaf or output lives. */
    public Binding binding(String key) {
        Binding binding = bindings.get(key);
        if (binding == null) {
            throw new IrException("entry '" + name + "' has no binding for '" + key + "'");
        }
        return binding;
    }

    public int argIndex(String argName) {
        for (int i = 0; i < args.size(); i++) {
            if (args.get(i).name().equals(argName)) {
                return i;
            }
        }
        throw new IrException("entry '" + name + "' has no argument '" + argName + "'");
    }

    /** A pointer argument of an entry. */
    public record Arg(String name, DType dtype, boolean written) {
    }

    /** A tensor inside a pointer argument, {@code offset} elements from its start. */
    public record Binding(int arg, long offset) {
    }
}
