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
    private final CWriter helpers;
    private int temporaries;
    /** Scalars that a guard declared before its {@code if}. */
    private final Set<Node> declared = new HashSet<>();

    /**
     * {@code smallMatmuls} collects the specialized matmul functions that the entry calls, and
     * {@code helpers} receives the functions of its fused matmul kernels; both must precede the
     * entry in the translation unit.
     */
    EntryEmitter(String libraryName, Schedule schedule, CWriter out, Set<SmallMatmul> smallMatmuls, CWriter helpers) {
        this.symbol = CEmitter.symbol(libraryName, schedule.entry().name());
        this.schedule = schedule;
        this.entry = schedule.entry();
        this.out = out;
        this.smallMatmuls = smallMatmuls;
        this.helpers = helpers;
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
        declareArguments(out);
        emitKernels(schedule.kernels());
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

    /** Emits kernels in order, running consecutive fused small matmuls in one parallel region. */
    private void emitKernels(List<Kernel> kernels) {
        List<RangeCall> region = new ArrayList<>();
        for (int k = 0; k < kernels.size(); k++) {
            RangeCall call = k + 1 < kernels.size() ? matmulWithEpilogue(kernels.get(k), kernels.get(k + 1)) : null;
            if (call != null) {
                if (!region.isEmpty() && !joins(region, call)) {
                    emitRegion(region);
                }
                region.add(call);
                k++;
                continue;
            }
            emitRegion(region);
            emitKernel(kernels.get(k));
        }
        emitRegion(region);
    }

    private void emitKernel(Kernel kernel) {
        switch (kernel) {
            case Kernel.Fused fused -> emitFused(fused);
            case Kernel.Scalar scalar -> {
                out.line("/* " + describe(scalar.node()) + " */");
                out.line(declare(scalar.node()) + " = " + expression(scalar.node(), null, "", Set.of()) + ";");
            }
            case Kernel.Single single -> emitSingle(single.node());
            case Kernel.Copy copy -> emitCopy(copy);
            case Kernel.Guarded guarded -> emitGuarded(guarded);
        }
    }

    /**
     * Emits the body of a guard inside {@code if}. Its scalars are declared before the {@code if},
     * so that they are in scope where the {@code where} reads them.
     */
    private void emitGuarded(Kernel.Guarded guarded) {
        List<Node> scalars = new ArrayList<>();
        for (Kernel kernel : guarded.body()) {
            Node node = switch (kernel) {
                case Kernel.Scalar scalar -> scalar.node();
                case Kernel.Single single -> single.node();
                default -> null;
            };
            if (node != null && schedule.location(node) instanceof Location.Scalar) {
                scalars.add(node);
            }
        }
        out.line("/* Runs only where " + describe(guarded.condition()) + " is nonzero: */");
        for (Node node : scalars) {
            out.line("double " + value(node) + " = 0.0;");
            declared.add(node);
        }
        out.open("if (" + scalar(guarded.condition()) + " != 0)");
        emitKernels(guarded.body());
        out.close();
    }

    /** Returns the left side of a scalar's definition, with its type unless a guard declared it. */
    private String declare(Node node) {
        return declared.contains(node) ? value(node) : "double " + value(node);
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
        if (flat && emitParallelFlat(fused, members)) {
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

    /** Elements per block of a flat loop that the thread pool splits: a 64-byte cache line. */
    private static final int FLAT_GRAIN = 16;

    /**
     * Emits a flat elementwise loop, whose operands all have its shape or are scalars, as a
     * function over ranges of its elements that the thread pool may split, such as an optimizer
     * update over a large weight. Each element is computed alone, so results do not depend on
     * the split. Scalars of the entry reach the function through an array. The work estimate
     * counts each op, a function call as {@link #CALL_COST}, and each tensor read or written,
     * since such loops are often bound by memory traffic. Returns false, emitting nothing, for
     * loops whose static size is too small to ever split.
     */
    private boolean emitParallelFlat(Kernel.Fused fused, Set<Node> members) {
        long cost = 0;
        java.util.LinkedHashSet<Node> tensors = new java.util.LinkedHashSet<>();
        java.util.LinkedHashSet<Node> scalars = new java.util.LinkedHashSet<>();
        for (Node node : fused.nodes()) {
            cost += callsFunction(node) ? CALL_COST : 1;
            if (fused.stored().contains(node)) {
                cost++;
            }
            for (Node in : node.inputs()) {
                if (members.contains(in)) {
                    continue;
                }
                if (in.shape().isScalar()) {
                    Location location = schedule.location(in);
                    if (location instanceof Location.Register) {
                        return false;
                    }
                    if (location instanceof Location.Scalar) {
                        scalars.add(in);
                    }
                } else {
                    tensors.add(in);
                }
            }
        }
        cost += tensors.size();
        // Below this many elements the loop stays on one thread at any batch the pool would split.
        if (!fused.shape().isBatched() && fused.shape().staticElements() * cost < MIN_PARALLEL_WORK) {
            return false;
        }
        String name = "kiln_loop_" + entry.name() + "_" + fused.nodes().getLast().id();
        List<Node> scalarList = new ArrayList<>(scalars);
        openRangeFunction(name, "Elements [begin, end) of the fused loop ending in " + fused.nodes().getLast().ref()
                + " of " + entry.name() + ".");
        for (int k = 0; k < scalarList.size(); k++) {
            helpers.line("const double " + value(scalarList.get(k)) + " = scalars[" + k + "];");
        }
        helpers.open("for (int64_t i = begin; i < end; i++)");
        emitBody(helpers, fused, members, in -> value(in) + "[i]", "i");
        helpers.close();
        closeRangeFunction(name);

        out.open("");
        StringBuilder values = new StringBuilder();
        for (Node scalar : scalarList) {
            values.append(values.isEmpty() ? "" : ", ").append(value(scalar));
        }
        if (!scalarList.isEmpty()) {
            out.line("const double scalars[] = {" + values + "};");
        }
        String count = new Loops(fused.shape()).elements();
        callRangeFunction(name, count, FLAT_GRAIN, "(double) (" + count + ") * " + cost,
                scalarList.isEmpty() ? "NULL" : "scalars");
        out.close();
        return true;
    }

    /** Declares the entry's pointer arguments a0, a1, ... from {@code args}, as the entry and its helpers need them. */
    private void declareArguments(CWriter w) {
        for (int i = 0; i < entry.args().size(); i++) {
            String type = entry.args().get(i).dtype() == DType.I32 ? "int32_t" : "float";
            w.line(type + " *a" + i + " = (" + type + " *) args[" + i + "];");
            w.line("(void) a" + i + ";");
        }
    }

    /**
     * Opens, among the helpers, a function over a range [begin, end) of a kernel's rows or
     * elements. Its parameters give the entry's batch, hyperparameters, workspace, arguments and
     * an array of scalars under the names that the entry uses.
     */
    private void openRangeFunction(String name, String comment) {
        helpers.blank();
        helpers.line("/* " + comment + " */");
        helpers.open("static inline KILN_INLINE void " + name + "(int64_t begin, int64_t end, int64_t batch, "
                + "const double *call, float *ws, void *const *args, const double *scalars)");
        helpers.line("(void) batch;");
        helpers.line("(void) call;");
        helpers.line("(void) ws;");
        helpers.line("(void) scalars;");
        declareArguments(helpers);
    }

    /** Closes a range function and adds its thread-pool task, compiled for each instruction set as the entries are. */
    private void closeRangeFunction(String name) {
        helpers.close();
        helpers.blank();
        helpers.open("static KILN_CLONES void " + name + "_task(void *context, int64_t begin, int64_t end)");
        helpers.line("const kiln_entry_job *job = context;");
        helpers.line(name + "(begin, end, job->batch, job->call, job->ws, job->args, job->scalars);");
        helpers.close();
    }

    /** Emits the entry's call of a range function over [0, count): on the thread pool when the work repays it. */
    private void callRangeFunction(String name, String count, int grain, String work, String scalars) {
        out.line("{ kiln_entry_job job = {batch, call, ws, args, " + scalars + "}; if (!kiln_parallel(" + count + ", "
                + grain + ", " + work + ", " + name + "_task, &job)) " + name + "(0, " + count
                + ", batch, call, ws, args, " + scalars + "); }");
    }

    /** The thread pool's least work to split, KILN_PARALLEL_MIN_WORK of the prelude at its default. */
    private static final long MIN_PARALLEL_WORK = 262144;

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
        emitBody(out, fused, members, in -> tiles.containsKey(in) ? tiles.get(in) + "[t]" : value(in) + "[i]", "i");
        out.close();
        out.close();
        out.close();
        // Rows after the last whole tile, fewer than rowsPerTile: row by row, so that the column loop vectorizes.
        out.open("for (int64_t r = whole" + id + " / " + n + "; r < " + rows + "; r++)");
        out.open("for (int64_t c = 0; c < " + n + "; c++)");
        out.line("const int64_t i = r * " + n + " + c;");
        emitBody(out, fused, members, in -> tiles.containsKey(in) ? value(in) + "[c]" : value(in) + "[i]", "i");
        out.close();
        out.close();
        out.close();
        return true;
    }

    /**
     * Emits a fused kernel's nodes for one element: members by register name, scalars converted
     * to float, other tensors as {@code tensor} renders them, stored values at {@code index}.
     */
    private void emitBody(CWriter w, Kernel.Fused fused, Set<Node> members,
                          java.util.function.Function<Node, String> tensor, String index) {
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
            w.line("float v" + node.id() + " = " + applyOp(node, operands, "f") + ";");
            if (fused.stored().contains(node)) {
                w.line(value(node) + "[" + index + "] = v" + node.id() + ";");
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

    // ---- matmul with a fused epilogue ---------------------------------------------------------

    /** Multiply-adds that an elementwise op with a function call (exp, tanh, erf, ...) is counted as. */
    private static final int CALL_COST = 20;

    /**
     * Emits a small rows-form matmul together with the fused elementwise kernel that follows it,
     * such as a bias and an activation, as one function over ranges of rows. The product runs in
     * chunks of rows, and the elementwise chain runs over each chunk while the chunk is still in
     * the first-level cache, in row tiles as {@link #emitRowTiled} lays them out. The thread pool
     * splits the rows at multiples of the register block, so results do not depend on the thread
     * count, and the elementwise work counts toward the split.
     *
     * <p>Returns false, emitting nothing, unless the pair qualifies. The fused kernel must have
     * the product's shape and read the product. Its other operands must be row vectors, tensors
     * of its own shape, or scalars that are not locals of the entry. No value it writes may
     * share memory with an operand that a later chunk still reads.
     */
    private RangeCall matmulWithEpilogue(Kernel first, Kernel next) {
        if (!(first instanceof Kernel.Single single) || !(single.node().op() instanceof Matmul op)
                || !(next instanceof Kernel.Fused fused)) {
            return null;
        }
        Node product = single.node();
        Shape shape = product.shape();
        if (shape.rank() != 2 || !fused.shape().equals(shape) || shape.dim(1) == Shape.BATCH) {
            return null;
        }
        Optional<SmallMatmul> small = SmallMatmul.of(op, product.input(0).shape(), product.input(1).shape());
        if (small.isEmpty() || small.get().form() != SmallMatmul.Form.ROWS) {
            return null;
        }
        int n = shape.dim(1);
        Set<Node> members = new HashSet<>(fused.nodes());
        java.util.LinkedHashSet<Node> rowOperands = new java.util.LinkedHashSet<>();
        java.util.LinkedHashSet<Node> fullOperands = new java.util.LinkedHashSet<>();
        boolean readsProduct = false;
        int elementCost = 0;
        for (Node node : fused.nodes()) {
            elementCost += callsFunction(node) ? CALL_COST : 1;
            for (Node in : node.inputs()) {
                if (members.contains(in)) {
                    continue;
                }
                if (in == product) {
                    readsProduct = true;
                } else if (in.shape().isScalar()) {
                    Location location = schedule.location(in);
                    if (location instanceof Location.Scalar || location instanceof Location.Register) {
                        return null;
                    }
                } else if (in.shape().equals(Shape.of(n)) || in.shape().equals(Shape.of(1, n))) {
                    rowOperands.add(in);
                } else if (in.shape().equals(shape)) {
                    fullOperands.add(in);
                } else {
                    return null;
                }
            }
        }
        if (!readsProduct) {
            return null;
        }
        // A chunk writes only its own rows, after reading them. So a row-wise operand stored exactly
        // where a written value goes is safe, because row r of both is the same memory. The memory
        // plan puts a layer's output over its dead input that way. Any other overlap is unsafe.
        for (Node target : fused.nodes()) {
            if (!fused.stored().contains(target)) {
                continue;
            }
            if (overlaps(target, product.input(1)) || !inPlaceOrApart(target, product.input(0))) {
                return null;
            }
            for (Node in : rowOperands) {
                if (overlaps(target, in)) {
                    return null;
                }
            }
            for (Node in : fullOperands) {
                if (!inPlaceOrApart(target, in)) {
                    return null;
                }
            }
        }

        SmallMatmul matmul = small.get();
        long tile = lcm(n, TILE_LANES);
        int unit = (int) lcm(matmul.rowBlock(), tile / n);
        int chunkRows = Math.max(unit, CHUNK_FLOATS / n / unit * unit);
        String name = "kiln_fused_" + entry.name() + "_" + product.id();
        openRangeFunction(name, describe(product) + ", then " + fused.nodes().size()
                + " elementwise op(s) over each chunk of its rows.");
        matmul.renderFused(helpers, value(product.input(0)), value(product.input(1)), value(product), chunkRows,
                new ChunkEpilogue(fused, members, n, tile, rowOperands));
        closeRangeFunction(name);

        List<String> comments = new ArrayList<>();
        comments.add(describe(product));
        for (Node node : fused.nodes()) {
            comments.add(describe(node) + (fused.stored().contains(node) ? "" : " (register)"));
        }
        Set<Node> stored = new HashSet<>(fused.stored());
        stored.add(product);
        Set<Node> rowReads = new HashSet<>(fullOperands);
        rowReads.add(product.input(0));
        Set<Node> sharedReads = new HashSet<>(rowOperands);
        sharedReads.add(product.input(1));
        long work = (long) n * matmul.depth() + (long) n * elementCost;
        return new RangeCall(name, shape.dim(0), matmul.rowBlock(), work, comments, stored, rowReads, sharedReads);
    }

    /**
     * A call of a range function over the rows of a kernel: {@code rows} is the row count (a
     * static size or {@link Shape#BATCH}), split at multiples of {@code grain}. {@code workPerRow}
     * is the thread pool's work estimate of one row. The kernel writes the rows of {@code stored}
     * that its range covers and reads those rows of {@code rowReads}, and reads all of
     * {@code sharedReads}, which do not scale with the rows.
     */
    private record RangeCall(String name, int rows, int grain, long workPerRow, List<String> comments,
                             Set<Node> stored, Set<Node> rowReads, Set<Node> sharedReads) {
    }

    /**
     * Returns whether a call may join a region of calls that one thread-pool task runs in turn
     * over the same rows. Each call reads row r of its batched operands only where an earlier call
     * of the same task wrote it, or before the region, so a thread needs nothing from another
     * between calls. That holds only where tensors that share memory also share its rows: a
     * buffer reused by a tensor of another row width puts one thread's rows of the one over
     * another thread's rows of the other. Memory that every row reads must not be written
     * inside the region.
     */
    private boolean joins(List<RangeCall> region, RangeCall call) {
        if (call.rows() != Shape.BATCH || region.getFirst().rows() != Shape.BATCH) {
            return false;
        }
        Set<Node> touched = new HashSet<>(call.stored());
        touched.addAll(call.rowReads());
        for (RangeCall member : region) {
            for (Node written : member.stored()) {
                for (Node other : touched) {
                    if (!inPlaceOrApart(written, other)) {
                        return false;
                    }
                }
            }
            for (Node written : call.stored()) {
                for (Node read : member.rowReads()) {
                    if (!inPlaceOrApart(written, read)) {
                        return false;
                    }
                }
            }
            for (Node written : member.stored()) {
                for (Node read : call.sharedReads()) {
                    if (overlaps(written, read)) {
                        return false;
                    }
                }
            }
            for (Node written : call.stored()) {
                for (Node read : member.sharedReads()) {
                    if (overlaps(written, read)) {
                        return false;
                    }
                }
            }
        }
        return true;
    }

    /**
     * Emits the calls of a region and empties it. Two or more calls become one range function
     * that runs them in turn, so the thread pool hands rows out and joins once for all of them
     * instead of once per layer. Split points are multiples of every call's grain, so each
     * kernel splits its rows as it would alone, and results do not depend on the thread count.
     */
    private void emitRegion(List<RangeCall> region) {
        if (region.isEmpty()) {
            return;
        }
        String rows = region.getFirst().rows() == Shape.BATCH ? "batch" : Integer.toString(region.getFirst().rows());
        long grain = 1;
        long work = 0;
        for (RangeCall call : region) {
            for (String comment : call.comments()) {
                out.line("/* " + comment + " */");
            }
            grain = lcm(grain, call.grain());
            work += call.workPerRow();
        }
        String name = region.getFirst().name();
        if (region.size() > 1) {
            // Named after its first call: kiln_fused_<entry>_<id> becomes kiln_region_<entry>_<id>.
            name = "kiln_region_" + name.substring("kiln_fused_".length());
            openRangeFunction(name, "Rows [begin, end) of " + region.size() + " fused matmuls of " + entry.name() + ", in turn.");
            for (RangeCall call : region) {
                helpers.line(call.name() + "(begin, end, batch, call, ws, args, scalars);");
            }
            closeRangeFunction(name);
        }
        callRangeFunction(name, rows, (int) grain, "(double) " + rows + " * " + work, "NULL");
        region.clear();
    }

    /** Floats of the product per chunk of a fused matmul: 8 KiB, which stays in the first-level cache with its outputs. */
    private static final int CHUNK_FLOATS = 2048;

    /**
     * The elementwise chain over rows [start, end) of a product: whole row tiles from the first
     * row, then the rows left over, one by one. Row operands are repeated into tiles once per call.
     */
    private final class ChunkEpilogue implements SmallMatmul.Epilogue {
        private final Kernel.Fused fused;
        private final Set<Node> members;
        private final int n;
        private final long tile;
        private final Set<Node> rowOperands;

        ChunkEpilogue(Kernel.Fused fused, Set<Node> members, int n, long tile, Set<Node> rowOperands) {
            this.fused = fused;
            this.members = members;
            this.n = n;
            this.tile = tile;
            this.rowOperands = rowOperands;
        }

        @Override
        public void prepare(CWriter w) {
            long rowsPerTile = tile / n;
            for (Node in : rowOperands) {
                w.line("float row" + in.id() + "[" + tile + "] __attribute__((aligned(32)));");
            }
            if (rowOperands.isEmpty()) {
                return;
            }
            // Calls with fewer rows than a tile use only the first row of each.
            w.open("for (int64_t r = 0; r < (end - begin >= " + rowsPerTile + " ? " + rowsPerTile + " : 1); r++)");
            for (Node in : rowOperands) {
                w.line("memcpy(row" + in.id() + " + r * " + n + ", " + value(in) + ", sizeof(float) * " + n + ");");
            }
            w.close();
        }

        @Override
        public void render(CWriter w, String start, String end) {
            long rowsPerTile = tile / n;
            w.open("");
            w.line("const int64_t whole = (" + start + ") * " + n + " + ((" + end + ") - (" + start + ")) / " + rowsPerTile
                    + " * " + tile + ";");
            w.open("for (int64_t base = (" + start + ") * " + n + "; base < whole; base += " + tile + ")");
            w.open("for (int64_t t = 0; t < " + tile + "; t++)");
            w.line("const int64_t i = base + t;");
            emitBody(w, fused, members, in -> rowOperands.contains(in) ? "row" + in.id() + "[t]" : value(in) + "[i]", "i");
            w.close();
            w.close();
            w.open("for (int64_t r = whole / " + n + "; r < " + end + "; r++)");
            // A row left over comes straight from the matmul's 8-lane stores, and at batch 1 every
            // row does. Loads as wide as those stores take each value from one of them, where a
            // 16-lane load would span two and wait for both to reach memory (a failed
            // store-to-load forward on the critical path of every layer).
            w.line("#pragma omp simd simdlen(8)");
            w.open("for (int64_t col = 0; col < " + n + "; col++)");
            w.line("const int64_t i = r * " + n + " + col;");
            emitBody(w, fused, members, in -> rowOperands.contains(in) ? "row" + in.id() + "[col]" : value(in) + "[i]", "i");
            w.close();
            w.close();
            w.close();
        }
    }

    /** Returns whether the C lowering of an elementwise node calls a function, such as expf or kiln_tanhf. */
    private static boolean callsFunction(Node node) {
        if (!(node.op() instanceof Elementwise op)) {
            return false;
        }
        String[] operands = new String[op.arity()];
        java.util.Arrays.fill(operands, "x");
        return FUNCTION_CALL.matcher(op.c(operands, "f")).find();
    }

    /** A name followed by an opening parenthesis: a call in a rendered C expression. */
    private static final java.util.regex.Pattern FUNCTION_CALL = java.util.regex.Pattern.compile("[A-Za-z0-9_]\\(");

    /** Returns whether a written tensor and a row-wise operand are apart or occupy the same memory element for element. */
    private boolean inPlaceOrApart(Node written, Node operand) {
        return !overlaps(written, operand)
                || (schedule.location(written).equals(schedule.location(operand)) && written.shape().equals(operand.shape()));
    }

    /**
     * Returns whether two tensors may share memory: the same argument, or intersecting ranges of the same
     * workspace region. Batched workspace buffers are measured in floats per row, which scale
     * with the batch alike.
     */
    private boolean overlaps(Node x, Node y) {
        long[] a = span(x);
        long[] b = span(y);
        if (a == null || b == null || a[0] != b[0]) {
            return false;
        }
        return a[1] < b[2] && b[1] < a[2];
    }

    /** Returns {region, start, end} of a tensor's memory, or null for values that are not in memory. */
    private long[] span(Node node) {
        long perRow = node.shape().staticElements();
        boolean batched = node.shape().isBatched();
        return switch (schedule.location(node)) {
            case Location.Argument a -> new long[] {2 + a.arg(), batched ? 0 : a.offset(),
                    batched ? Long.MAX_VALUE : a.offset() + perRow};
            case Location.Workspace w -> new long[] {w.batched() ? 0 : 1, w.offset(), w.offset() + Math.max(w.size(), perRow)};
            default -> null;
        };
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
            out.line(declare(node) + " = " + acc + ";");
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
            out.line(declare(node) + " = " + value(node.input(0)) + "[0];");
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
            // Both loop bounds are computed first. With a constant count that is a multiple of 8,
            // GCC 12 otherwise warned that the empty second loop invokes undefined behavior.
            out.line("const int64_t " + acc + "_n = " + loops.elements() + ";");
            out.line("const int64_t " + acc + "_whole = " + acc + "_n - " + acc + "_n % 8;");
            out.open("for (int64_t i = 0; i < " + acc + "_whole; i += 8)");
            out.line("for (int l = 0; l < 8; l++) " + acc + "[l] += " + x + "[i + l];");
            out.close();
            out.open("for (int64_t i = " + acc + "_whole; i < " + acc + "_n; i++)");
            out.line(acc + "[0] += " + x + "[i];");
            out.close();
            out.line(declare(node) + " = ((" + acc + "[0] + " + acc + "[4]) + (" + acc + "[2] + " + acc + "[6]))"
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
