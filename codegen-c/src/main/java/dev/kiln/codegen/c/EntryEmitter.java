package dev.kiln.codegen.c;

import dev.kiln.ir.Broadcasting;
import dev.kiln.ir.DType;
import dev.kiln.ir.Elementwise;
import dev.kiln.ir.Entry;
import dev.kiln.ir.Graph;
import dev.kiln.ir.Hyperparameters;
import dev.kiln.ir.IndexOp;
import dev.kiln.ir.IrException;
import dev.kiln.ir.Leaf;
import dev.kiln.ir.Matmul;
import dev.kiln.ir.Node;
import dev.kiln.ir.Reduce;
import dev.kiln.ir.RowOp;
import dev.kiln.ir.Shape;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Lowers one entry to a C function: plans where every value lives, then emits one loop nest per
 * node in graph order. Scalars are computed in double precision as locals; tensors live in the
 * caller's buffers or in the workspace.
 */
final class EntryEmitter {
    private final String symbol;
    private final Entry entry;
    private final Graph graph;
    private final CWriter out;
    private final Map<Node, String> values = new IdentityHashMap<>();
    private final Map<Node, Node> homedStores = new IdentityHashMap<>();
    private long workspacePerRow;
    private long workspaceFixed;
    private int temporaries;

    EntryEmitter(String libraryName, Entry entry, CWriter out) {
        this.symbol = CEmitter.symbol(libraryName, entry.name());
        this.entry = entry;
        this.graph = entry.graph();
        this.out = out;
    }

    void emit() {
        out.line("/*");
        out.line(" * " + entry.name() + ": arguments");
        for (int i = 0; i < entry.args().size(); i++) {
            Entry.Arg arg = entry.args().get(i);
            out.line(" *   args[" + i + "] " + arg.name() + " (" + arg.dtype().text()
                    + (arg.written() ? ", written" : ", read") + ")");
        }
        out.line(" */");
        out.open("KILN_EXPORT int32_t " + symbol
                + "(int64_t batch, const double *call, void *workspace, void *const *args)");
        out.line("float *ws = (float *) workspace;");
        out.line("(void) ws;");
        out.line("(void) call;");
        planOutputsAndStores();
        for (Node node : graph.nodes()) {
            if (!values.containsKey(node)) {
                plan(node);
            }
            emitNode(node);
        }
        emitResults();
        out.line("return 0;");
        out.close();
        out.blank();
        out.open("KILN_EXPORT int64_t " + symbol + "_workspace(int64_t batch)");
        out.line("return (int64_t) sizeof(float) * (" + workspacePerRow + " * batch + " + workspaceFixed + ");");
        out.close();
    }

    // ---- planning --------------------------------------------------------------------------

    /**
     * Computes each tensor output straight into the caller's buffer. A store's value goes straight
     * into its target when every other reader of the target has already run and the value is
     * elementwise, because then element i is read before it is overwritten.
     */
    private void planOutputsAndStores() {
        Map<Node, List<Node>> users = graph.users();
        for (Map.Entry<String, Node> output : graph.outputs().entrySet()) {
            Node node = output.getValue();
            if (node.shape().isScalar() || node.op() instanceof Leaf || values.containsKey(node)) {
                continue;
            }
            values.put(node, argPointer(entry.binding("output:" + output.getKey()), DType.F32));
        }
        for (Map.Entry<Node, Node> store : graph.stores().entrySet()) {
            Node target = store.getKey();
            Node value = store.getValue();
            boolean elementwise = value.op() instanceof Elementwise;
            boolean othersDone = users.get(target).stream().allMatch(u -> u.id() <= value.id());
            if (elementwise && othersDone && !values.containsKey(value) && !value.shape().isScalar()) {
                values.put(value, leafPointer(target));
                homedStores.put(target, value);
            }
        }
    }

    private void plan(Node node) {
        if (node.op() instanceof Leaf leaf) {
            values.put(node, leafValue(node, leaf));
        } else if (node.shape().isScalar()) {
            values.put(node, "s" + node.id());
        } else {
            String name = "t" + node.id();
            out.line("float *" + name + " = ws + " + workspacePerRow + " * batch + " + workspaceFixed + ";");
            if (node.shape().isBatched()) {
                workspacePerRow += node.shape().staticElements();
            } else {
                workspaceFixed += node.shape().staticElements();
            }
            values.put(node, name);
        }
    }

    private String leafValue(Node node, Leaf leaf) {
        return switch (leaf) {
            case Leaf.Constant c -> CLiterals.doubleLiteral(c.value());
            case Leaf.Hyper h -> "call[" + Hyperparameters.index(h.label()) + "]";
            case Leaf.BatchSize b -> "((double) batch)";
            default -> leafPointer(node);
        };
    }

    private String leafPointer(Node node) {
        String key = switch (node.op()) {
            case Leaf.Input in -> "input:" + in.label();
            case Leaf.Param p -> "param:" + p.label();
            case Leaf.State s -> "state:" + s.label();
            default -> throw new IrException("no pointer for " + node);
        };
        return argPointer(entry.binding(key), node.dtype());
    }

    private String argPointer(Entry.Binding binding, DType dtype) {
        String type = dtype == DType.I32 ? "int32_t" : "float";
        String base = "((" + type + " *) args[" + binding.arg() + "])";
        return binding.offset() == 0 ? base : "(" + base + " + " + binding.offset() + ")";
    }

    // ---- kernels ---------------------------------------------------------------------------

    private void emitNode(Node node) {
        if (node.op() instanceof Leaf) {
            return;
        }
        out.line("/* " + describe(node) + " */");
        switch (node.op().kernel()) {
            case ELEMENTWISE -> emitElementwise(node);
            case MATMUL -> emitMatmul(node, (Matmul) node.op());
            case REDUCE -> emitSumTo(node, (Reduce.SumTo) node.op());
            case ROW -> emitRow(node, (RowOp) node.op());
            case INDEX -> emitIndex(node);
            default -> throw new IrException("no C lowering for op '" + node.op().name() + "'");
        }
    }

    private String describe(Node node) {
        StringBuilder sb = new StringBuilder(node.ref()).append(" = ").append(node.op().text());
        for (int i = 0; i < node.inputs().size(); i++) {
            sb.append(i == 0 ? " " : ", ").append(node.input(i).ref());
        }
        sb.append(" : ").append(node.dtype().text()).append(node.shape());
        if (node.origin() != null) {
            sb.append(" at ").append(node.origin().replace("*/", "* /"));
        }
        return sb.toString();
    }

    private void emitElementwise(Node node) {
        if (node.shape().isScalar()) {
            out.line("double " + values.get(node) + " = " + elementwiseExpression(node, null, "") + ";");
            return;
        }
        Loops loops = new Loops(node.shape());
        boolean flat = node.inputs().stream().allMatch(in -> in.shape().isScalar() || in.shape().equals(node.shape()));
        if (flat) {
            out.open("for (int64_t i = 0; i < " + loops.elements() + "; i++)");
            out.line(values.get(node) + "[i] = " + elementwiseExpression(node, null, "f") + ";");
            out.close();
            return;
        }
        loops.open(out);
        out.line(values.get(node) + "[" + loops.index(node.shape()) + "] = "
                + elementwiseExpression(node, loops, "f") + ";");
        loops.close(out);
    }

    /** Renders the op applied to its operands at the current index, or the flat index i. */
    private String elementwiseExpression(Node node, Loops loops, String suffix) {
        String[] operands = new String[node.inputs().size()];
        for (int i = 0; i < operands.length; i++) {
            Node in = node.input(i);
            if (in.shape().isScalar()) {
                operands[i] = suffix.isEmpty() ? scalar(in) : "(float) " + scalar(in);
            } else if (loops == null) {
                operands[i] = values.get(in) + "[i]";
            } else {
                operands[i] = values.get(in) + "[" + loops.index(in.shape()) + "]";
            }
        }
        if (node.op() instanceof Reduce.BroadcastTo) {
            return operands[0];
        }
        return ((Elementwise) node.op()).c(operands, suffix);
    }

    /** Returns a scalar operand; a tensor of one element is read as a scalar here too. */
    private String scalar(Node node) {
        String value = values.get(node);
        return node.op() instanceof Leaf.Constant || node.op() instanceof Leaf.Hyper
                || node.op() instanceof Leaf.BatchSize || node.shape().isScalar() && !(node.op() instanceof Leaf)
                ? value : value + "[0]";
    }

    private void emitMatmul(Node node, Matmul op) {
        String[] a = dims(node.input(0).shape());
        String[] b = dims(node.input(1).shape());
        String m = op.transposeA() ? a[1] : a[0];
        String k = op.transposeA() ? a[0] : a[1];
        String n = op.transposeB() ? b[0] : b[1];
        out.line("kiln_matmul(" + m + ", " + n + ", " + k + ", "
                + values.get(node.input(0)) + ", " + (op.transposeA() ? 1 : 0) + ", "
                + values.get(node.input(1)) + ", " + (op.transposeB() ? 1 : 0) + ", "
                + values.get(node) + ");");
    }

    private void emitSumTo(Node node, Reduce.SumTo op) {
        Node in = node.input(0);
        Loops loops = new Loops(in.shape());
        if (op.target().isScalar()) {
            String acc = "acc" + (temporaries++);
            out.line("double " + acc + " = 0.0;");
            out.open("for (int64_t i = 0; i < " + loops.elements() + "; i++)");
            out.line(acc + " += " + values.get(in) + "[i];");
            out.close();
            out.line("double " + values.get(node) + " = " + acc + ";");
            return;
        }
        out.line("memset(" + values.get(node) + ", 0, sizeof(float) * (size_t) (" + new Loops(node.shape()).elements() + "));");
        loops.open(out);
        out.line(values.get(node) + "[" + loops.index(op.target()) + "] += " + values.get(in) + "[" + loops.index(in.shape()) + "];");
        loops.close(out);
    }

    private void emitRow(Node node, RowOp op) {
        Node in = node.input(0);
        String width = Integer.toString(in.shape().last());
        String rows = "(" + new Loops(in.shape()).elements() + ") / " + width;
        String x = values.get(in);
        String y = values.get(node);
        out.open("for (int64_t r = 0; r < " + rows + "; r++)");
        out.line("const float *xr = " + x + " + r * " + width + ";");
        if (op == RowOp.ROW_SUM) {
            out.line("double sum = 0.0;");
            out.line("for (int64_t i = 0; i < " + width + "; i++) sum += xr[i];");
            out.line(y + "[r] = (float) sum;");
            out.close();
            return;
        }
        out.line("float *yr = " + y + " + r * " + width + ";");
        out.line("float max = -INFINITY;");
        out.line("for (int64_t i = 0; i < " + width + "; i++) max = xr[i] > max ? xr[i] : max;");
        out.line("double sum = 0.0;");
        out.line("for (int64_t i = 0; i < " + width + "; i++) sum += exp((double) (xr[i] - max));");
        if (op == RowOp.SOFTMAX) {
            out.line("for (int64_t i = 0; i < " + width + "; i++) yr[i] = (float) (exp((double) (xr[i] - max)) / sum);");
        } else {
            // Subtract max before log(sum): max + log(sum) rounded to float loses log(sum) for large max.
            out.line("float log_sum = (float) log(sum);");
            out.line("for (int64_t i = 0; i < " + width + "; i++) yr[i] = (xr[i] - max) - log_sum;");
        }
        out.close();
    }

    private void emitIndex(Node node) {
        if (node.op() instanceof IndexOp.Pick) {
            Node x = node.input(0);
            String width = Integer.toString(x.shape().last());
            out.open("for (int64_t r = 0; r < " + dims(node.shape())[0] + "; r++)");
            out.line(values.get(node) + "[r] = " + values.get(x) + "[r * " + width + " + " + values.get(node.input(1)) + "[r]];");
            out.close();
            return;
        }
        IndexOp.OneHot op = (IndexOp.OneHot) node.op();
        String rows = dims(node.shape())[0];
        out.line("memset(" + values.get(node) + ", 0, sizeof(float) * (size_t) (" + rows + " * " + op.classes() + "));");
        out.open("for (int64_t r = 0; r < " + rows + "; r++)");
        out.line(values.get(node) + "[r * " + op.classes() + " + " + values.get(node.input(1)) + "[r]] = "
                + values.get(node.input(0)) + "[r];");
        out.close();
    }

    // ---- results ---------------------------------------------------------------------------

    private void emitResults() {
        for (Map.Entry<String, Node> output : graph.outputs().entrySet()) {
            Node node = output.getValue();
            String target = argPointer(entry.binding("output:" + output.getKey()), DType.F32);
            if (node.shape().isScalar()) {
                out.line(target + "[0] = (float) " + scalar(node) + ";");
            } else if (!values.get(node).equals(target)) {
                out.line("memcpy(" + target + ", " + values.get(node) + ", sizeof(float) * (size_t) ("
                        + new Loops(node.shape()).elements() + "));");
            }
        }
        for (Map.Entry<Node, Node> store : graph.stores().entrySet()) {
            Node target = store.getKey();
            Node value = store.getValue();
            if (homedStores.get(target) == value) {
                continue;
            }
            out.line("/* store " + target.op().text() + " */");
            if (value.shape().isScalar()) {
                out.line(values.get(target) + "[0] = (float) " + scalar(value) + ";");
            } else {
                out.line("memcpy(" + values.get(target) + ", " + values.get(value) + ", sizeof(float) * (size_t) ("
                        + new Loops(value.shape()).elements() + "));");
            }
        }
    }

    // ---- index arithmetic ------------------------------------------------------------------

    static String[] dims(Shape shape) {
        String[] dims = new String[shape.rank()];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = shape.dim(i) == Shape.BATCH ? "batch" : Integer.toString(shape.dim(i));
        }
        return dims;
    }

    /** A loop nest over every element of a shape, with index variables i0, i1, ... */
    private static final class Loops {
        private final Shape shape;
        private final String[] dims;

        Loops(Shape shape) {
            this.shape = shape;
            this.dims = dims(shape);
        }

        String elements() {
            if (dims.length == 0) {
                return "1";
            }
            return String.join(" * ", dims);
        }

        void open(CWriter out) {
            for (int i = 0; i < dims.length; i++) {
                out.open("for (int64_t i" + i + " = 0; i" + i + " < " + dims[i] + "; i" + i + "++)");
            }
        }

        void close(CWriter out) {
            for (int i = 0; i < dims.length; i++) {
                out.close();
            }
        }

        /** Returns the flat index into an operand that broadcasts to the loop's shape. */
        String index(Shape operand) {
            if (operand.isScalar()) {
                return "0";
            }
            long[] strides = Broadcasting.strides(shape.dims(), operand.dims());
            List<String> terms = new ArrayList<>();
            for (int i = 0; i < strides.length; i++) {
                if (strides[i] == 1) {
                    terms.add("i" + i);
                } else if (strides[i] != 0) {
                    terms.add("i" + i + " * " + strides[i]);
                }
            }
            return terms.isEmpty() ? "0" : String.join(" + ", terms);
        }
    }
}
