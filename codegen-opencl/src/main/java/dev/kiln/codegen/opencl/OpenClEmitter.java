package dev.kiln.codegen.opencl;

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
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Renders the schedules of a model as one OpenCL C 1.2 program plus the host's launch list.
 * Every kernel takes the same arguments,
 *
 * <pre>
 * (long batch, __global const float *call, __global float *ws, __global float *scalars, a0, a1, ...)
 * </pre>
 *
 * so the host binds them once per entry. Scalars live in the device buffer {@code scalars}, one
 * slot per scalar node, followed by {@link OpenClProgram#MAX_GROUPS} floats of partial sums.
 * Float32 throughout: scalars that the C backend computes in double are float here.
 */
public final class OpenClEmitter {
    private final StringBuilder source = new StringBuilder();
    private final Map<String, List<Launch>> launches = new LinkedHashMap<>();
    private final Map<String, long[]> workspace = new LinkedHashMap<>();
    private final Map<String, List<String>> arguments = new LinkedHashMap<>();
    private final Map<Node, Integer> scalarSlots = new IdentityHashMap<>();
    private int scalarCount;

    private OpenClEmitter() {
    }

    /** Renders every schedule of a library. */
    public static OpenClProgram emit(String libraryName, List<Schedule> schedules) {
        OpenClEmitter emitter = new OpenClEmitter();
        for (Schedule schedule : schedules) {
            emitter.emitEntry(libraryName, schedule);
        }
        String program = OpenClPrelude.text() + "#define KILN_SCALARS " + emitter.scalarCount + "\n\n" + emitter.source;
        return new OpenClProgram(program, emitter.scalarCount, emitter.launches, emitter.workspace, emitter.arguments);
    }

    private void emitEntry(String libraryName, Schedule schedule) {
        EntryWriter writer = new EntryWriter(libraryName + "_" + schedule.entry().name(), schedule);
        writer.emit();
        launches.put(schedule.entry().name(), writer.launches);
        workspace.put(schedule.entry().name(), new long[] {schedule.workspacePerRow(), schedule.workspaceFixed()});
        arguments.put(schedule.entry().name(), schedule.entry().args().stream()
                .map(arg -> arg.name() + (arg.written() ? ":w" : ":r")).toList());
    }

    private int slot(Node node) {
        return scalarSlots.computeIfAbsent(node, n -> scalarCount++);
    }

    /** Writes the kernels of one entry. */
    private final class EntryWriter {
        private final String prefix;
        private final Schedule schedule;
        private final Entry entry;
        private final List<Launch> launches = new ArrayList<>();
        private final List<Node> pendingScalars = new ArrayList<>();

        EntryWriter(String prefix, Schedule schedule) {
            this.prefix = prefix;
            this.schedule = schedule;
            this.entry = schedule.entry();
        }

        void emit() {
            // NOTE: guarded kernels run unconditionally here, because their condition is a scalar on the device.
            for (Kernel kernel : Kernel.flatten(schedule.kernels())) {
                if (kernel instanceof Kernel.Scalar scalar) {
                    pendingScalars.add(scalar.node());
                    continue;
                }
                flushScalars();
                switch (kernel) {
                    case Kernel.Fused fused -> emitFused(fused);
                    case Kernel.Single single -> emitSingle(single.node());
                    case Kernel.Copy copy -> emitCopy(copy);
                    case Kernel.Scalar scalar -> throw new IllegalStateException("unreachable");
                    case Kernel.Guarded guarded -> throw new IllegalStateException("guarded kernels are flattened above");
                }
            }
            flushScalars();
        }

        // ---- kernel frame ------------------------------------------------------------------

        private String open(String comment) {
            String name = prefix + "_k" + launches.size();
            source.append("/* ").append(comment.replace("*/", "* /")).append(" */\n");
            source.append("__kernel void ").append(name).append("(const long batch, __global const float *call, ")
                    .append("__global float *ws, __global float *scalars");
            for (int i = 0; i < entry.args().size(); i++) {
                source.append(", __global ").append(entry.args().get(i).dtype() == DType.I32 ? "int" : "float")
                        .append(" *a").append(i);
            }
            source.append(") {\n");
            source.append("    (void) batch; (void) call; (void) ws; (void) scalars;\n");
            return name;
        }

        private void line(String text) {
            source.append("    ").append(text).append('\n');
        }

        private void close() {
            source.append("}\n\n");
        }

        /** Opens a one-dimensional kernel over {@code count} items with index {@code i}. */
        private String openElements(String comment, Shape countShape) {
            String name = open(comment);
            line("const long n = " + elements(countShape) + ";");
            line("const long i = get_global_id(0);");
            line("if (i >= n) return;");
            launches.add(Launch.elements(name, countShape.isBatched() ? countShape.staticElements() : 0,
                    countShape.isBatched() ? 0 : countShape.staticElements()));
            return name;
        }

        // ---- values ------------------------------------------------------------------------

        private String value(Node node) {
            return render(schedule.location(node), node);
        }

        private String render(Location location, Node node) {
            return switch (location) {
                case Location.Argument a -> a.offset() == 0 ? "a" + a.arg() : "(a" + a.arg() + " + " + a.offset() + ")";
                case Location.Workspace w -> w.batched()
                        ? "(ws + " + w.offset() + " * batch)"
                        : "(ws + " + schedule.workspacePerRow() + " * batch + " + w.offset() + ")";
                case Location.Scalar s -> "scalars[" + slot(node) + "]";
                case Location.Constant c -> floatLiteral(c.value());
                case Location.Hyperparameter h -> "call[" + h.index() + "]";
                case Location.BatchSize b -> "((float) batch)";
                case Location.Register r -> "v" + r.id();
            };
        }

        private String scalar(Node node) {
            Location location = schedule.location(node);
            return location instanceof Location.Argument || location instanceof Location.Workspace
                    ? value(node) + "[0]"
                    : value(node);
        }

        /** Returns the op applied to operands at multi-index {@code indices} of {@code shape}, or scalars. */
        private String expression(Node node, Shape shape, Set<Node> registers) {
            String[] operands = new String[node.inputs().size()];
            for (int i = 0; i < operands.length; i++) {
                Node in = node.input(i);
                if (registers.contains(in)) {
                    operands[i] = "v" + in.id();
                } else if (in.shape().isScalar()) {
                    operands[i] = scalar(in);
                } else {
                    operands[i] = value(in) + "[" + Indexing.index(shape, in.shape()) + "]";
                }
            }
            if (node.op() instanceof Reduce.BroadcastTo) {
                return operands[0];
            }
            if (node.op() instanceof Elementwise op) {
                return op.c(operands, "f");
            }
            throw new IrException("no OpenCL lowering for elementwise op '" + node.op().name() + "'");
        }

        // ---- kernels -----------------------------------------------------------------------

        private void flushScalars() {
            if (pendingScalars.isEmpty()) {
                return;
            }
            String name = open("scalars " + pendingScalars.stream().map(Node::ref).toList());
            for (Node node : pendingScalars) {
                line(value(node) + " = " + expression(node, Shape.SCALAR, Set.of()) + ";");
            }
            close();
            launches.add(Launch.single(name));
            pendingScalars.clear();
        }

        private void emitFused(Kernel.Fused fused) {
            openElements("fused " + fused.nodes().stream().map(Node::ref).toList() + " : " + fused.shape(), fused.shape());
            for (String declaration : Indexing.declare(fused.shape())) {
                line(declaration);
            }
            Set<Node> registers = new HashSet<>();
            for (Node node : fused.nodes()) {
                line("const float v" + node.id() + " = " + expression(node, fused.shape(), registers) + ";");
                registers.add(node);
                if (fused.stored().contains(node)) {
                    line(value(node) + "[i] = v" + node.id() + ";");
                }
            }
            close();
        }

        private void emitSingle(Node node) {
            switch (node.op()) {
                case Matmul op -> emitMatmul(node, op);
                case Reduce.SumTo op -> {
                    if (op.target().isScalar()) {
                        emitScalarSum(node);
                    } else {
                        emitSumTo(node, op);
                    }
                }
                case Reduce.Extreme op -> emitExtreme(node, op);
                case Layout.Gather op -> emitGather(node, op);
                case Layout.Reshape op -> emitReshape(node);
                case Layout.SliceScatter op -> {
                    openElements(node.ref() + " = zeros for slice_scatter", node.shape());
                    line(value(node) + "[i] = 0.0f;");
                    close();
                    scatter(node, node.input(0), op.target(node));
                }
                case Layout.Concat op -> {
                    for (int k = 0; k < node.inputs().size(); k++) {
                        scatter(node, node.input(k), op.target(node, k));
                    }
                }
                case RowOp op -> emitRow(node, op);
                case IndexOp.Pick op -> emitPick(node);
                case IndexOp.OneHot op -> emitOneHot(node, op);
                case IndexOp.GatherRows op -> emitGatherRows(node, op);
                case IndexOp.ScatterAddRows op -> emitScatterAddRows(node, op);
                case Dropout op -> emitDropout(node, op);
                default -> throw new IrException("no OpenCL lowering for op '" + node.op().name() + "'");
            }
        }

        /**
         * A matmul tiled through local memory; out-of-range tiles read zeros, so any size works.
         * A batched product loops over its matrices inside the kernel.
         */
        private void emitMatmul(Node node, Matmul op) {
            Shape as = node.input(0).shape();
            Shape bs = node.input(1).shape();
            String[] a = dims(as);
            String[] b = dims(bs);
            int ra = as.rank() - 2;
            int rb = bs.rank() - 2;
            boolean batched = node.shape().rank() == 3;
            String name = open(node.ref() + " = " + node.op().text() + " : " + node.shape());
            line("const long m = " + (op.transposeA() ? a[ra + 1] : a[ra]) + ";");
            line("const long k = " + (op.transposeA() ? a[ra] : a[ra + 1]) + ";");
            line("const long n = " + (op.transposeB() ? b[rb] : b[rb + 1]) + ";");
            line("__local float tileA[KILN_TILE][KILN_TILE];");
            line("__local float tileB[KILN_TILE][KILN_TILE];");
            line("const int row = get_local_id(1);");
            line("const int col = get_local_id(0);");
            line("const long i = get_group_id(1) * KILN_TILE + row;");
            line("const long j = get_group_id(0) * KILN_TILE + col;");
            line("for (long l = 0; l < " + (batched ? dims(node.shape())[0] : "1") + "; l++) {");
            line("__global const float *A = " + value(node.input(0)) + (ra == 1 ? " + l * m * k" : "") + ";");
            line("__global const float *B = " + value(node.input(1)) + (rb == 1 ? " + l * k * n" : "") + ";");
            line("__global float *C = " + value(node) + " + l * m * n;");
            line("float acc = 0.0f;");
            line("for (long t = 0; t < k; t += KILN_TILE) {");
            String aAt = op.transposeA() ? "A[(t + col) * m + i]" : "A[i * k + t + col]";
            String bAt = op.transposeB() ? "B[j * k + t + row]" : "B[(t + row) * n + j]";
            line("    tileA[row][col] = (i < m && t + col < k) ? " + aAt + " : 0.0f;");
            line("    tileB[row][col] = (t + row < k && j < n) ? " + bAt + " : 0.0f;");
            line("    barrier(CLK_LOCAL_MEM_FENCE);");
            line("    for (int p = 0; p < KILN_TILE; p++) acc += tileA[row][p] * tileB[p][col];");
            line("    barrier(CLK_LOCAL_MEM_FENCE);");
            line("}");
            line("if (i < m && j < n) C[i * n + j] = acc;");
            line("}");
            close();
            Shape out = node.shape();
            int rowAxis = out.rank() - 2;
            long rowsPerRow = out.dim(rowAxis) == Shape.BATCH ? 1 : 0;
            long rowsFixed = out.dim(rowAxis) == Shape.BATCH ? 0 : out.dim(rowAxis);
            launches.add(new Launch(name, Launch.Kind.MATMUL, rowsPerRow, rowsFixed, 0, out.dim(rowAxis + 1)));
        }

        /** Maximum or minimum over broadcast axes, one work-item per target element; NaN wins. */
        private void emitExtreme(Node node, Reduce.Extreme op) {
            Node in = node.input(0);
            String better = op.max() ? ">" : "<";
            String start = op.max() ? "-INFINITY" : "INFINITY";
            if (op.target().isScalar()) {
                String name = open(node.ref() + " = " + op.text() + " " + in.ref());
                line("float acc = " + start + ";");
                line("for (long i = 0; i < " + elements(in.shape()) + "; i++) {");
                line("    const float x = " + value(in) + "[i];");
                line("    if (acc == acc && (x != x || x " + better + " acc)) acc = x;");
                line("}");
                line(value(node) + " = acc;");
                close();
                launches.add(Launch.single(name));
                return;
            }
            openElements(node.ref() + " = " + op.text() + " " + in.ref(), op.target());
            for (String line : Indexing.overReduced(in.shape(), op.target(), value(in), value(node),
                    "float acc = " + start + ";",
                    "{ const float x = %s; if (acc == acc && (x != x || x " + better + " acc)) acc = x; }",
                    "acc")) {
                line(line);
            }
            close();
        }

        private void emitGather(Node node, Layout.Gather op) {
            openElements(node.ref() + " = " + node.op().text() + " " + node.input(0).ref(), node.shape());
            for (String declaration : Indexing.declare(node.shape())) {
                line(declaration);
            }
            line(value(node) + "[i] = " + value(node.input(0)) + "[" + op.source(node).render() + "];");
            close();
        }

        private void emitReshape(Node node) {
            Node in = node.input(0);
            if (node.shape().isScalar() || in.shape().isScalar()) {
                String name = open(node.ref() + " = reshape " + in.ref());
                line(value(node) + (node.shape().isScalar() ? "" : "[0]") + " = " + scalar(in) + ";");
                close();
                launches.add(Launch.single(name));
                return;
            }
            openElements(node.ref() + " = reshape " + in.ref(), node.shape());
            line(value(node) + "[i] = " + value(in) + "[i];");
            close();
        }

        /** Writes each element of {@code in} into {@code node} at the strided index of its multi-index. */
        private void scatter(Node node, Node in, Layout.Strided map) {
            openElements(node.ref() + " <- " + in.ref() + " at " + map, in.shape());
            for (String declaration : Indexing.declare(in.shape())) {
                line(declaration);
            }
            line(value(node) + "[" + map.render() + "] = " + value(in) + "[i];");
            close();
        }

        /** Sums to a scalar in two launches: work-group partial sums, then one item adds them. */
        private void emitScalarSum(Node node) {
            Node in = node.input(0);
            String name = open(node.ref() + " = sum " + in.ref() + ", work-group partial sums");
            line("__local float partial[KILN_LOCAL];");
            line("const long n = " + elements(in.shape()) + ";");
            line("const int lane = get_local_id(0);");
            line("float sum = 0.0f;");
            line("for (long i = get_global_id(0); i < n; i += get_global_size(0)) sum += " + value(in) + "[i];");
            line("partial[lane] = sum;");
            line("barrier(CLK_LOCAL_MEM_FENCE);");
            line("for (int stride = 1; stride < KILN_LOCAL; stride *= 2) {");
            line("    if (lane % (2 * stride) == 0 && lane + stride < KILN_LOCAL) partial[lane] += partial[lane + stride];");
            line("    barrier(CLK_LOCAL_MEM_FENCE);");
            line("}");
            line("if (lane == 0) scalars[" + partialBase() + " + get_group_id(0)] = partial[0];");
            close();
            launches.add(new Launch(name, Launch.Kind.REDUCE, 0, 0, 0, 0));
            String finish = open(node.ref() + " = sum of partial sums");
            line("float sum = 0.0f;");
            line("for (int g = 0; g < KILN_GROUPS; g++) sum += scalars[" + partialBase() + " + g];");
            line(value(node) + " = sum;");
            close();
            launches.add(Launch.single(finish));
        }

        private String partialBase() {
            return "KILN_SCALARS";
        }

        /** Sums over broadcast axes with one work-item per target element. */
        private void emitSumTo(Node node, Reduce.SumTo op) {
            Node in = node.input(0);
            openElements(node.ref() + " = " + node.op().text() + " " + in.ref(), op.target());
            for (String line : Indexing.sumOverReduced(in.shape(), op.target(), value(in), value(node))) {
                line(line);
            }
            close();
        }

        private void emitRow(Node node, RowOp op) {
            Node in = node.input(0);
            int width = in.shape().last();
            Shape rows = in.shape().withLast(1);
            openElements(node.ref() + " = " + op.name() + " " + in.ref(), rows);
            line("__global const float *xr = " + value(in) + " + i * " + width + ";");
            if (op == RowOp.ROW_SUM) {
                line("float sum = 0.0f;");
                line("for (int c = 0; c < " + width + "; c++) sum += xr[c];");
                line(value(node) + "[i] = sum;");
                close();
                return;
            }
            line("__global float *yr = " + value(node) + " + i * " + width + ";");
            line("float max = -INFINITY;");
            line("for (int c = 0; c < " + width + "; c++) max = fmax(max, xr[c]);");
            line("float sum = 0.0f;");
            line("for (int c = 0; c < " + width + "; c++) sum += exp(xr[c] - max);");
            if (op == RowOp.SOFTMAX) {
                line("for (int c = 0; c < " + width + "; c++) yr[c] = exp(xr[c] - max) / sum;");
            } else {
                line("const float log_sum = log(sum);");
                line("for (int c = 0; c < " + width + "; c++) yr[c] = (xr[c] - max) - log_sum;");
            }
            close();
        }

        private void emitPick(Node node) {
            Node x = node.input(0);
            openElements(node.ref() + " = pick " + x.ref(), node.shape());
            line(value(node) + "[i] = " + value(x) + "[i * " + x.shape().last() + " + " + value(node.input(1)) + "[i]];");
            close();
        }

        private void emitOneHot(Node node, IndexOp.OneHot op) {
            openElements(node.ref() + " = one_hot " + node.input(0).ref(), node.shape());
            line("const long r = i / " + op.classes() + ";");
            line("const long c = i % " + op.classes() + ";");
            line(value(node) + "[i] = c == " + value(node.input(1)) + "[r] ? " + value(node.input(0)) + "[r] : 0.0f;");
            close();
        }

        /**
         * One work-item per output element; an index that is not an integer in [0, N) (NaN
         * included) gives NaN or 0 instead of reading out of bounds. The range test comes before
         * the conversion to an integer, which is undefined for values out of range.
         */
        private void emitGatherRows(Node node, IndexOp.GatherRows op) {
            Node table = node.input(0);
            int rows = table.shape().dim(0);
            int width = table.shape().dim(1);
            openElements(node.ref() + " = " + op.text() + " " + table.ref() + ", " + node.input(1).ref(), node.shape());
            line("const long r = i / " + width + ";");
            line("const float v = (float) " + value(node.input(1)) + "[r];");
            line("const int valid = v >= 0.0f && v < " + rows + ".0f && v == floor(v);");
            line(value(node) + "[i] = valid ? " + value(table) + "[(long) v * " + width + " + i % " + width + "] : "
                    + (op.nanOnInvalid() ? "NAN" : "0.0f") + ";");
            close();
        }

        /**
         * Zeros the output, then adds rows with one work-item per column, each walking every
         * index in order: no two work-items write the same element, so no atomics are needed.
         */
        private void emitScatterAddRows(Node node, IndexOp.ScatterAddRows op) {
            Node g = node.input(0);
            Node index = node.input(1);
            int width = node.shape().dim(1);
            openElements(node.ref() + " = zeros for scatter_add_rows", node.shape());
            line(value(node) + "[i] = 0.0f;");
            close();
            openElements(node.ref() + " = " + op.text() + " " + g.ref() + ", " + index.ref(), Shape.of(width));
            line("for (long r = 0; r < " + elements(index.shape()) + "; r++) {");
            line("    const float v = (float) " + value(index) + "[r];");
            line("    if (v >= 0.0f && v < " + op.rows() + ".0f && v == floor(v)) " + value(node) + "[(long) v * " + width
                    + " + i] += " + value(g) + "[r * " + width + " + i];");
            line("}");
            close();
        }

        /** Dropout with the counter-based mask of {@link Dropout}, whose keys are hyperparameters of the call. */
        private void emitDropout(Node node, Dropout op) {
            openElements(node.ref() + " = " + op.text() + " " + node.input(0).ref(), node.shape());
            line("const uint32_t seed = (uint32_t) " + scalar(node.input(1)) + ";");
            line("const uint32_t step = (uint32_t) " + scalar(node.input(2)) + ";");
            line(value(node) + "[i] = " + value(node.input(0)) + "[i] * (kiln_dropped(seed, step, " + op.stream()
                    + "U, (uint32_t) i, " + op.threshold() + "U) ? 0.0f : " + floatLiteral(op.scale()) + ");");
            close();
        }

        private void emitCopy(Kernel.Copy copy) {
            Node node = copy.value();
            String target = render(copy.target(), null);
            if (node.shape().isScalar()) {
                String name = open("copy " + node.ref());
                line(target + "[0] = " + scalar(node) + ";");
                close();
                launches.add(Launch.single(name));
                return;
            }
            openElements("copy " + node.ref(), node.shape());
            line(target + "[i] = " + value(node) + "[i];");
            close();
        }
    }

    static String[] dims(Shape shape) {
        String[] dims = new String[shape.rank()];
        for (int i = 0; i < dims.length; i++) {
            dims[i] = shape.dim(i) == Shape.BATCH ? "batch" : Integer.toString(shape.dim(i));
        }
        return dims;
    }

    static String elements(Shape shape) {
        String[] dims = dims(shape);
        return dims.length == 0 ? "1" : "(" + String.join(" * ", dims) + ")";
    }

    static String floatLiteral(double value) {
        if (Double.isNaN(value)) {
            return "NAN";
        }
        if (Double.isInfinite(value)) {
            return value > 0 ? "INFINITY" : "(-INFINITY)";
        }
        String text = Float.toString((float) value) + "f";
        return value < 0 ? "(" + text + ")" : text;
    }
}
