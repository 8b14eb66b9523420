package dev.kiln.codegen.c;

import dev.kiln.ir.Broadcasting;
import dev.kiln.ir.DType;
import dev.kiln.ir.Elementwise;
import dev.kiln.ir.Entry;
import dev.kiln.ir.IndexOp;
import dev.kiln.ir.IrException;
import dev.kiln.ir.Matmul;
import dev.kiln.ir.Node;
import dev.kiln.ir.Reduce;
import dev.kiln.ir.RowOp;
import dev.kiln.ir.Shape;
import dev.kiln.ir.lower.Kernel;
import dev.kiln.ir.lower.Location;
import dev.kiln.ir.lower.Schedule;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Renders one lowered entry as a C function: pointer declarations for the arguments and the
 * workspace buffers, then one loop nest or call per kernel of the schedule. Scalars are double
 * locals; tensors are float.
 */
final class EntryEmitter {
    private final String symbol;
    private final Schedule schedule;
    private final Entry entry;
    private final CWriter out;
    private final Set<SmallMatmul> smallMatmuls;
    private int temporaries;

    /** {@code smallMatmuls} collects the specialized matmul functions that the entry calls. */
    EntryEmitter(String libraryName, Schedule schedule, CWriter out, Set<SmallMatmul> smallMatmuls) {
        this.symbol = CEmitter.symbol(libraryName, schedule.entry().name());
        this.schedule = schedule;
        this.entry = schedule.entry();
        this.out = out;
        this.smallMatmuls = smallMatmuls;
    }

    void emit() {
        out.line("/*");
        out.line(" * " + entry.name() + ": arguments");
        for (int i = 0; i < entry.args().size(); i++) {
            Entry.Arg arg = entry.args().get(i);
            out.line(" *   args[" + i + "] " + arg.name() + " (" + arg.dtype().text()
                    + (arg.written() ? ", written" : ", read") + ")");
        }
        out.line(" * " + schedule.summary());
        out.line(" */");
        out.open("KILN_EXPORT KILN_CLONES int32_t " + symbol
                + "(int64_t batch, const double *call, void *workspace, void *const *args)");
        out.line("float *ws = (float *) workspace;");
        out.line("(void) ws;");
        out.line("(void) call;");
        for (int i = 0; i < entry.args().size(); i++) {
            String type = entry.args().get(i).dtype() == DType.I32 ? "int32_t" : "float";
            out.line(type + " *a" + i + " = (" + type + " *) args[" + i + "];");
            out.line("(void) a" + i + ";");
        }
        for (Kernel kernel : schedule.kernels()) {
            emitKernel(kernel);
        }
        out.line("return 0;");
        out.close();
        out.blank();
        out.open("KILN_EXPORT int64_t " + symbol + "_workspace(int64_t batch)");
        out.line("return (int64_t) sizeof(float) * (" + schedule.workspacePerRow() + " * batch + "
                + schedule.workspaceFixed() + ");");
        out.close();
    }

    // ---- values ----------------------------------------------------------------------------

    /** Returns the C expression of a node: a pointer for tensors, a double for scalars. */
    private String value(Node node) {
        return render(schedule.location(node));
    }

    private String render(Location location) {
        return switch (location) {
            case Location.Argument a -> a.offset() == 0 ? "a" + a.arg() : "(a" + a.arg() + " + " + a.offset() + ")";
            case Location.Workspace w -> w.batched()
                    ? "(ws + " + w.offset() + " * batch)"
                    : "(ws + " + schedule.workspacePerRow() + " * batch + " + w.offset() + ")";
            case Location.Scalar s -> "s" + s.id();
            case Location.Constant c -> CLiterals.doubleLiteral(c.value());
            case Location.Hyperparameter h -> "call[" + h.index() + "]";
            case Location.BatchSize b -> "((double) batch)";
            case Location.Register r -> "v" + r.id();
        };
    }

    /** Returns a scalar operand in double precision; a one-element tensor is read as a scalar. */
    private String scalar(Node node) {
        Location location = schedule.location(node);
        return location instanceof Location.Argument || location instanceof Location.Workspace
                ? value(node) + "[0]"
                : value(node);
    }

    // ---- kernels ---------------------------------------------------------------------------

    private void emitKernel(Kernel kernel) {
        switch (kernel) {
            case Kernel.Fused fused -> emitFused(fused);
            case Kernel.Scalar scalar -> {
                out.line("/* " + describe(scalar.node()) + " */");
                out.line("double " + value(scalar.node()) + " = " + expression(scalar.node(), null, "", Set.of()) + ";");
            }
            case Kernel.Single single -> emitSingle(single.node());
            case Kernel.Copy copy -> emitCopy(copy);
        }
    }

    private void emitFused(Kernel.Fused fused) {
        for (Node node : fused.nodes()) {
            out.line("/* " + describe(node) + (fused.stored().contains(node) ? "" : " (register)") + " */");
        }
        Set<Node> members = new HashSet<>(fused.nodes());
        boolean flat = true;
        for (Node node : fused.nodes()) {
            for (Node in : node.inputs()) {
                if (!members.contains(in) && !in.shape().isScalar() && !in.shape().equals(fused.shape())) {
                    flat = false;
                }
            }
        }
        Loops loops = flat ? null : new Loops(fused.shape());
        String index;
        if (flat) {
            out.open("for (int64_t i = 0; i < " + new Loops(fused.shape()).elements() + "; i++)");
            index = "i";
        } else {
            loops.open(out);
            index = loops.index(fused.shape());
        }
        for (Node node : fused.nodes()) {
            out.line("float v" + node.id() + " = " + expression(node, loops, "f", members) + ";");
            if (fused.stored().contains(node)) {
                out.line(value(node) + "[" + index + "] = v" + node.id() + ";");
            }
        }
        if (flat) {
            out.close();
        } else {
            loops.close(out);
        }
    }

    /**
     * Renders an elementwise node applied to its operands: values of the same fused loop by
     * register name, scalars converted to the loop's type, tensors at the loop's index (the flat
     * index i when {@code loops} is null).
     */
    private String expression(Node node, Loops loops, String suffix, Set<Node> members) {
        String[] operands = new String[node.inputs().size()];
        for (int i = 0; i < operands.length; i++) {
            Node in = node.input(i);
            if (members.contains(in)) {
                operands[i] = "v" + in.id();
            } else if (in.shape().isScalar()) {
                operands[i] = suffix.isEmpty() ? scalar(in) : "(float) " + scalar(in);
            } else if (loops == null) {
                operands[i] = value(in) + "[i]";
            } else {
                operands[i] = value(in) + "[" + loops.index(in.shape()) + "]";
            }
        }
        if (node.op() instanceof Reduce.BroadcastTo) {
            return operands[0];
        }
        if (node.op() instanceof Elementwise op) {
            return op.c(operands, suffix);
        }
        throw new IrException("no C lowering for elementwise op '" + node.op().name() + "'");
    }

    private void emitSingle(Node node) {
        out.line("/* " + describe(node) + " */");
        switch (node.op()) {
            case Matmul op -> emitMatmul(node, op);
            case Reduce.SumTo op -> emitSumTo(node, op);
            case RowOp op -> emitRow(node, op);
            case IndexOp.Pick op -> emitPick(node);
            case IndexOp.OneHot op -> emitOneHot(node, op);
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

    private void emitMatmul(Node node, Matmul op) {
        String[] a = dims(node.input(0).shape());
        String[] b = dims(node.input(1).shape());
        String m = op.transposeA() ? a[1] : a[0];
        String k = op.transposeA() ? a[0] : a[1];
        String n = op.transposeB() ? b[0] : b[1];
        Optional<SmallMatmul> small = SmallMatmul.of(op, node.input(0).shape(), node.input(1).shape());
        if (small.isPresent()) {
            smallMatmuls.add(small.get());
            String dynamic = small.get().form() == SmallMatmul.Form.ROWS ? m : k;
            out.line(small.get().call(dynamic, value(node.input(0)), value(node.input(1)), value(node)));
            return;
        }
        out.line("kiln_matmul(" + m + ", " + n + ", " + k + ", "
                + value(node.input(0)) + ", " + (op.transposeA() ? 1 : 0) + ", "
                + value(node.input(1)) + ", " + (op.transposeB() ? 1 : 0) + ", "
                + value(node) + ");");
    }

    private void emitSumTo(Node node, Reduce.SumTo op) {
        Node in = node.input(0);
        Loops loops = new Loops(in.shape());
        if (op.target().isScalar()) {
            String acc = "acc" + (temporaries++);
            out.line("double " + acc + " = 0.0;");
            out.open("for (int64_t i = 0; i < " + loops.elements() + "; i++)");
            out.line(acc + " += " + value(in) + "[i];");
            out.close();
            out.line("double " + value(node) + " = " + acc + ";");
            return;
        }
        out.line("memset(" + value(node) + ", 0, sizeof(float) * (size_t) (" + new Loops(node.shape()).elements() + "));");
        loops.open(out);
        out.line(value(node) + "[" + loops.index(op.target()) + "] += " + value(in) + "[" + loops.index(in.shape()) + "];");
        loops.close(out);
    }

    private void emitRow(Node node, RowOp op) {
        Node in = node.input(0);
        String width = Integer.toString(in.shape().last());
        String rows = "(" + new Loops(in.shape()).elements() + ") / " + width;
        String x = value(in);
        String y = value(node);
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

    private void emitPick(Node node) {
        Node x = node.input(0);
        String width = Integer.toString(x.shape().last());
        out.open("for (int64_t r = 0; r < " + dims(node.shape())[0] + "; r++)");
        out.line(value(node) + "[r] = " + value(x) + "[r * " + width + " + " + value(node.input(1)) + "[r]];");
        out.close();
    }

    private void emitOneHot(Node node, IndexOp.OneHot op) {
        String rows = dims(node.shape())[0];
        out.line("memset(" + value(node) + ", 0, sizeof(float) * (size_t) (" + rows + " * " + op.classes() + "));");
        out.open("for (int64_t r = 0; r < " + rows + "; r++)");
        out.line(value(node) + "[r * " + op.classes() + " + " + value(node.input(1)) + "[r]] = "
                + value(node.input(0)) + "[r];");
        out.close();
    }

    private void emitCopy(Kernel.Copy copy) {
        Node node = copy.value();
        String target = render(copy.target());
        if (node.shape().isScalar()) {
            out.line(target + "[0] = (float) " + scalar(node) + ";");
            return;
        }
        out.line("memcpy(" + target + ", " + value(node) + ", sizeof(float) * (size_t) ("
                + new Loops(node.shape()).elements() + "));");
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
