package dev.kiln.codegen.c;

import dev.kiln.ir.Broadcasting;
import dev.kiln.ir.DType;
import dev.kiln.ir.Dropout;
import dev.kiln.ir.Elementwise;
import dev.kiln.ir.Entry;
import dev.kiln.ir.IndexOp;
import dev.kiln.ir.IrException;
import dev.kiln.ir.Layout;
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
        if (!flat && emitRowTiled(fused, members)) {
            return;
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

    /** Lanes that a row tile's length is a multiple of: the widest float vector, AVX-512's 16. */
    private static final int TILE_LANES = 16;
    /** Longest row tile in floats; each row operand gets a copy of this size on the stack. */
    private static final int MAX_TILE = 1024;

    /**
     * Emits a fused loop over [rows, n] whose broadcast operands are all row vectors ([n] or
     * [1, n]), such as a bias, as a flat loop over tiles of lcm(n, 16) elements: each row operand
     * is first repeated into a tile, so the loop body reads every operand at a unit stride and
     * its trip count is a multiple of every vector width. A nested loop over rows and columns
     * would leave n mod 16 columns of each row to scalar code, which for expensive functions
     * such as tanh takes most of the time when n is small. Rows after the last whole tile take
     * the nested loop. Returns false, emitting nothing, when the shapes do not fit.
     */
    private boolean emitRowTiled(Kernel.Fused fused, Set<Node> members) {
        Shape shape = fused.shape();
        if (shape.rank() != 2 || shape.dim(1) == Shape.BATCH || shape.dim(1) < 1) {
            return false;
        }
        int n = shape.dim(1);
        Shape row = Shape.of(n);
        Shape row2 = Shape.of(1, n);
        java.util.LinkedHashSet<Node> rowOperands = new java.util.LinkedHashSet<>();
        for (Node node : fused.nodes()) {
            for (Node in : node.inputs()) {
                if (members.contains(in) || in.shape().isScalar() || in.shape().equals(shape)) {
                    continue;
                }
                if (!in.shape().equals(row) && !in.shape().equals(row2)) {
                    return false;
                }
                rowOperands.add(in);
            }
        }

        long tile = lcm(n, TILE_LANES);
        if (tile > MAX_TILE) {
            return false;
        }
        long rowsPerTile = tile / n;
        String rows = dims(shape)[0];
        int id = temporaries++;

        out.open("");
        out.line("const int64_t whole" + id + " = (" + rows + ") / " + rowsPerTile + " * " + tile + ";");
        // Batches smaller than one tile skip the tile set-up, which would cost more than it saves.
        out.open("if (whole" + id + " > 0)");
        java.util.Map<Node, String> tiles = new java.util.IdentityHashMap<>();
        for (Node in : rowOperands) {
            String name = "tile" + id + "_" + in.id();
            tiles.put(in, name);
            out.line("float " + name + "[" + tile + "];");
            out.line("for (int64_t t = 0; t < " + tile + "; t++) " + name + "[t] = " + value(in) + "[t % " + n + "];");
        }
        out.open("for (int64_t base = 0; base < whole" + id + "; base += " + tile + ")");
        out.open("for (int64_t t = 0; t < " + tile + "; t++)");
        out.line("const int64_t i = base + t;");
        emitBody(fused, members, in -> tiles.containsKey(in) ? tiles.get(in) + "[t]" : value(in) + "[i]", "i");
        out.close();
        out.close();
        out.close();
        // Rows after the last whole tile, fewer than rowsPerTile: row by row, so that the column loop vectorizes.
        out.open("for (int64_t r = whole" + id + " / " + n + "; r < " + rows + "; r++)");
        out.open("for (int64_t c = 0; c < " + n + "; c++)");
        out.line("const int64_t i = r * " + n + " + c;");
        emitBody(fused, members, in -> tiles.containsKey(in) ? value(in) + "[c]" : value(in) + "[i]", "i");
        out.close();
        out.close();
        out.close();
        return true;
    }

    private void emitBody(Kernel.Fused fused, Set<Node> members, java.util.function.Function<Node, String> tensor,
                          String index) {
        for (Node node : fused.nodes()) {
            String[] operands = new String[node.inputs().size()];
            for (int i = 0; i < operands.length; i++) {
                Node in = node.input(i);
                if (members.contains(in)) {
                    operands[i] = "v" + in.id();
                } else if (in.shape().isScalar()) {
                    operands[i] = "(float) " + scalar(in);
                } else {
                    operands[i] = tensor.apply(in);
                }
            }
            out.line("float v" + node.id() + " = " + applyOp(node, operands, "f") + ";");
            if (fused.stored().contains(node)) {
                out.line(value(node) + "[" + index + "] = v" + node.id() + ";");
            }
        }
    }

    private static long lcm(long a, long b) {
        long x = a;
        long y = b;
        while (y != 0) {
            long r = x % y;
            x = y;
            y = r;
        }
        return a / x * b;
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
        return applyOp(node, operands, suffix);
    }

    /** Renders an elementwise node's op applied to rendered operands. */
    private static String applyOp(Node node, String[] operands, String suffix) {
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
            case Reduce.Extreme op -> emitExtreme(node, op);
            case Layout.Gather op -> emitGather(node, op);
            case Layout.Reshape op -> emitReshape(node);
            case Layout.SliceScatter op -> emitSliceScatter(node, op);
            case Layout.Concat op -> emitConcat(node, op);
            case RowOp op -> emitRow(node, op);
            case IndexOp.Pick op -> emitPick(node);
            case IndexOp.OneHot op -> emitOneHot(node, op);
            case IndexOp.GatherRows op -> emitGatherRows(node, op);
            case IndexOp.ScatterAddRows op -> emitScatterAddRows(node, op);
            case Dropout op -> emitDropout(node, op);
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
        Shape as = node.input(0).shape();
        Shape bs = node.input(1).shape();
        String[] a = dims(as);
        String[] b = dims(bs);
        int ra = as.rank() - 2;
        int rb = bs.rank() - 2;
        String m = op.transposeA() ? a[ra + 1] : a[ra];
        String k = op.transposeA() ? a[ra] : a[ra + 1];
        String n = op.transposeB() ? b[rb] : b[rb + 1];
        if (node.shape().rank() == 2) {
            Optional<SmallMatmul> small = SmallMatmul.of(op, as, bs);
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
            return;
        }
        String count = dims(node.shape())[0];
        if (ra == 1 && rb == 0 && !op.transposeA()) {
            // The matrices of a are contiguous rows: one product with count * m rows.
            out.line("kiln_matmul(" + count + " * " + m + ", " + n + ", " + k + ", "
                    + value(node.input(0)) + ", 0, " + value(node.input(1)) + ", " + (op.transposeB() ? 1 : 0) + ", "
                    + value(node) + ");");
            return;
        }
        out.open("for (int64_t l = 0; l < " + count + "; l++)");
        out.line("kiln_matmul(" + m + ", " + n + ", " + k + ", "
                + value(node.input(0)) + (ra == 1 ? " + l * " + m + " * " + k : "") + ", " + (op.transposeA() ? 1 : 0) + ", "
                + value(node.input(1)) + (rb == 1 ? " + l * " + k + " * " + n : "") + ", " + (op.transposeB() ? 1 : 0) + ", "
                + value(node) + " + l * " + m + " * " + n + ");");
        out.close();
    }

    /** Maximum or minimum over broadcast axes; NaN wins, as in the reference evaluator. */
    private void emitExtreme(Node node, Reduce.Extreme op) {
        Node in = node.input(0);
        Loops loops = new Loops(in.shape());
        String better = op.max() ? ">" : "<";
        String start = op.max() ? "-INFINITY" : "INFINITY";
        if (op.target().isScalar()) {
            String acc = "acc" + (temporaries++);
            out.line("float " + acc + " = " + start + ";");
            out.open("for (int64_t i = 0; i < " + loops.elements() + "; i++)");
            out.line("float x = " + value(in) + "[i];");
            out.line("if (" + acc + " == " + acc + " && (x != x || x " + better + " " + acc + ")) " + acc + " = x;");
            out.close();
            out.line("double " + value(node) + " = " + acc + ";");
            return;
        }
        String y = value(node);
        out.open("for (int64_t i = 0; i < " + new Loops(node.shape()).elements() + "; i++)");
        out.line(y + "[i] = " + start + ";");
        out.close();
        loops.open(out);
        out.line("float x = " + value(in) + "[" + loops.index(in.shape()) + "];");
        out.line("float *acc = &" + y + "[" + loops.index(op.target()) + "];");
        out.line("if (*acc == *acc && (x != x || x " + better + " *acc)) *acc = x;");
        loops.close(out);
    }

    private void emitGather(Node node, Layout.Gather op) {
        Loops loops = new Loops(node.shape());
        loops.open(out);
        out.line(value(node) + "[" + loops.index(node.shape()) + "] = " + value(node.input(0)) + "["
                + op.source(node).render() + "];");
        loops.close(out);
    }

    private void emitReshape(Node node) {
        if (node.shape().isScalar()) {
            out.line("double " + value(node) + " = " + value(node.input(0)) + "[0];");
            return;
        }
        if (node.input(0).shape().isScalar()) {
            out.line(value(node) + "[0] = (float) " + scalar(node.input(0)) + ";");
            return;
        }
        out.line("memmove(" + value(node) + ", " + value(node.input(0)) + ", sizeof(float) * (size_t) ("
                + new Loops(node.shape()).elements() + "));");
    }

    private void emitSliceScatter(Node node, Layout.SliceScatter op) {
        out.line("memset(" + value(node) + ", 0, sizeof(float) * (size_t) (" + new Loops(node.shape()).elements() + "));");
        scatter(node.input(0), value(node), op.target(node));
    }

    private void emitConcat(Node node, Layout.Concat op) {
        for (int k = 0; k < node.inputs().size(); k++) {
            scatter(node.input(k), value(node), op.target(node, k));
        }
    }

    /** Writes every element of {@code in} to {@code target} at the strided index of its multi-index. */
    private void scatter(Node in, String target, Layout.Strided map) {
        Loops loops = new Loops(in.shape());
        loops.open(out);
        out.line(target + "[" + map.render() + "] = " + value(in) + "[" + loops.index(in.shape()) + "];");
        loops.close(out);
    }

    private void emitSumTo(Node node, Reduce.SumTo op) {
        Node in = node.input(0);
        Loops loops = new Loops(in.shape());
        if (op.target().isScalar()) {
            // Eight partial sums in double: one chain of dependent adds ran at a quarter of the
            // speed, and a fixed order keeps the result independent of threads and batch splits.
            String acc = "acc" + (temporaries++);
            String x = value(in);
            out.line("double " + acc + "[8] = {0.0};");
            out.line("int64_t " + acc + "_n = " + loops.elements() + ";");
            out.line("int64_t " + acc + "_i = 0;");
            out.open("for (; " + acc + "_i + 8 <= " + acc + "_n; " + acc + "_i += 8)");
            out.line("for (int l = 0; l < 8; l++) " + acc + "[l] += " + x + "[" + acc + "_i + l];");
            out.close();
            out.open("for (; " + acc + "_i < " + acc + "_n; " + acc + "_i++)");
            out.line(acc + "[0] += " + x + "[" + acc + "_i];");
            out.close();
            out.line("double " + value(node) + " = ((" + acc + "[0] + " + acc + "[4]) + (" + acc + "[2] + " + acc + "[6]))"
                    + " + ((" + acc + "[1] + " + acc + "[5]) + (" + acc + "[3] + " + acc + "[7]));");
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

    /**
     * Copies table rows; an index that is not an integer in [0, N) (NaN included) fills its row
     * with NaN or 0 instead of reading out of bounds. The range test comes before the conversion
     * to an integer, which C leaves undefined for values out of range.
     */
    private void emitGatherRows(Node node, IndexOp.GatherRows op) {
        Node table = node.input(0);
        Node index = node.input(1);
        String rows = Integer.toString(table.shape().dim(0));
        String width = Integer.toString(table.shape().dim(1));
        out.open("for (int64_t r = 0; r < " + new Loops(index.shape()).elements() + "; r++)");
        out.line("const double v = (double) " + value(index) + "[r];");
        out.line("float *yr = " + value(node) + " + r * " + width + ";");
        out.open("if (v >= 0.0 && v < " + rows + ".0 && v == (double) (int64_t) v)");
        out.line("memcpy(yr, " + value(table) + " + (int64_t) v * " + width + ", sizeof(float) * " + width + ");");
        out.close();
        out.open("else");
        out.line("for (int64_t d = 0; d < " + width + "; d++) yr[d] = " + (op.nanOnInvalid() ? "NAN" : "0.0f") + ";");
        out.close();
        out.close();
    }

    /** Adds each row of g into the output row at its index; invalid indices add nothing. */
    private void emitScatterAddRows(Node node, IndexOp.ScatterAddRows op) {
        Node g = node.input(0);
        Node index = node.input(1);
        String width = Integer.toString(node.shape().dim(1));
        out.line("memset(" + value(node) + ", 0, sizeof(float) * (size_t) (" + op.rows() + " * " + width + "));");
        out.open("for (int64_t r = 0; r < " + new Loops(index.shape()).elements() + "; r++)");
        out.line("const double v = (double) " + value(index) + "[r];");
        out.open("if (v >= 0.0 && v < " + op.rows() + ".0 && v == (double) (int64_t) v)");
        out.line("float *yr = " + value(node) + " + (int64_t) v * " + width + ";");
        out.line("const float *gr = " + value(g) + " + r * " + width + ";");
        out.line("for (int64_t d = 0; d < " + width + "; d++) yr[d] += gr[d];");
        out.close();
        out.close();
    }

    /** Dropout with the counter-based mask of {@link Dropout}, whose keys are hyperparameters of the call. */
    private void emitDropout(Node node, Dropout op) {
        String seed = "dropout_seed" + temporaries;
        String step = "dropout_step" + (temporaries++);
        out.line("const uint32_t " + seed + " = (uint32_t) " + scalar(node.input(1)) + ";");
        out.line("const uint32_t " + step + " = (uint32_t) " + scalar(node.input(2)) + ";");
        out.open("for (int64_t i = 0; i < " + new Loops(node.shape()).elements() + "; i++)");
        out.line(value(node) + "[i] = " + value(node.input(0)) + "[i] * (kiln_dropped(" + seed + ", " + step + ", "
                + op.stream() + "U, (uint32_t) i, " + op.threshold() + "U) ? 0.0f : (float) "
                + CLiterals.doubleLiteral(op.scale()) + ");");
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
