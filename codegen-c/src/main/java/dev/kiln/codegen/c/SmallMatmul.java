package dev.kiln.codegen.c;

import dev.kiln.ir.Matmul;
import dev.kiln.ir.Shape;
import java.util.Optional;

/**
 * A matmul whose extents other than the batch are small and static, rendered as its own C
 * function with those extents as literals and the tile of C in named 8-float vector variables.
 * The generic kernel of the prelude packs both operands and dispatches on the CPU at every call,
 * which costs more than the multiply itself for a 20 x 20 layer.
 *
 * <p>Two forms cover the products that lowering emits:
 * <ul>
 *   <li>{@link Form#ROWS}: {@code C[m,n] = A[m,k] op(B)} with n and k static, m (usually the batch)
 *       given at run time. Blocks of rows of C stay in registers while the contraction runs. With
 *       {@code transposeB}, op(B) is first transposed into a zero-padded stack buffer, and rows
 *       left over after the blocks (every row when m is smaller than a block) take dot products
 *       over contiguous rows of B instead, so a batch of one pays for no transposition.</li>
 *   <li>{@link Form#OVER_BATCH}: {@code C[m,n] = A[k,m]^T B[k,n]} with m and n static and k
 *       (the batch of a weight gradient) given at run time: outer products accumulated over k.</li>
 * </ul>
 *
 * <p>Rows of C in a register block sum their products in order of k. The rows that the dot
 * products cover sum eight partial sums in a fixed tree instead, so with {@code transposeB} a sample's output can
 * differ in its last bits with its position in the batch. The thread pool therefore splits the
 * rows at multiples of the block height, which keeps every result unchanged. The sums round differently from
 * the generic kernel's, within float32 rounding of the same products.
 */
record SmallMatmul(Form form, boolean transposeB, int rows, int columns, int depth) {

    /** Largest static column count: 8 vectors of 8 floats per row of C. */
    static final int MAX_COLUMNS = 64;

    /** Largest static contraction depth of the rows form. */
    static final int MAX_DEPTH = 512;

    /** Largest transposed op(B) buffer, in floats (32 KiB on the stack). */
    static final int MAX_PACKED = 8192;

    /** Vector registers that the accumulators of one block may take. */
    private static final int ACCUMULATORS = 12;

    private static final int LANES = 8;

    /**
     * Maximum row length of A, in vectors, whose dot products are unrolled eight columns at a
     * time. Beyond it the unrolled code would grow with depth times columns, so a loop over
     * columns with one sum each keeps the code short.
     */
    private static final int TREE_MAX_VECTORS = 4;

    /** The two loop structures; see the class comment. */
    enum Form {
        ROWS, OVER_BATCH
    }

    /**
     * Returns the specialized form of a matmul of operands with shapes {@code a} and {@code b},
     * or empty where an extent that the form needs static is the batch or is too large.
     */
    static Optional<SmallMatmul> of(Matmul op, Shape a, Shape b) {
        int m = op.transposeA() ? a.dim(1) : a.dim(0);
        int k = op.transposeA() ? a.dim(0) : a.dim(1);
        int n = op.transposeB() ? b.dim(0) : b.dim(1);
        if (n == Shape.BATCH || n < 1 || n > MAX_COLUMNS) {
            return Optional.empty();
        }
        if (!op.transposeA()) {
            if (k == Shape.BATCH || k < 1 || k > MAX_DEPTH) {
                return Optional.empty();
            }
            if (op.transposeB() && k * vectors(n) * LANES > MAX_PACKED) {
                return Optional.empty();
            }
            return Optional.of(new SmallMatmul(Form.ROWS, op.transposeB(), -1, n, k));
        }
        if (op.transposeB() || m == Shape.BATCH || m < 1) {
            return Optional.empty();
        }
        return Optional.of(new SmallMatmul(Form.OVER_BATCH, false, m, n, -1));
    }

    /** Returns the C function name, unique per form, transposition and static extents. */
    String name() {
        return switch (form) {
            case ROWS -> "kiln_mm_rows" + (transposeB ? "_bt_" : "_") + columns + "x" + depth;
            case OVER_BATCH -> "kiln_mm_over_batch_" + rows + "x" + columns;
        };
    }

    /**
     * Returns the call: {@code dynamic} is m for the rows form and k for the over-batch form. The
     * rows form hands ranges of whole register blocks of rows to the thread pool when the product
     * is large enough, which leaves every row's result as on one thread.
     */
    String call(String dynamic, String a, String b, String c) {
        String serial = name() + "(" + dynamic + ", " + a + ", " + b + ", " + c + ");";
        if (form == Form.OVER_BATCH) {
            return serial;
        }
        return "{ kiln_rows_job job = {" + a + ", " + b + ", " + c + "}; if (!kiln_parallel(" + dynamic + ", " + block()
                + ", (double) " + dynamic + " * " + columns * depth + ", " + name() + "_task, &job)) " + serial + " }";
    }

    private static int vectors(int n) {
        return (n + LANES - 1) / LANES;
    }

    private int columnVectors() {
        return vectors(columns);
    }

    /** Returns the number of float lanes that vector v of a row of C holds. */
    private int count(int v) {
        return Math.min(LANES, columns - LANES * v);
    }

    /** Rows of C per register block, so that accumulators fit in {@link #ACCUMULATORS} registers. */
    private int block() {
        return Math.max(1, Math.min(8, ACCUMULATORS / columnVectors()));
    }

    /**
     * Renders the function. It is always inlined, so that each instruction-set clone of an entry
     * compiles it with that clone's vector width. Compilers without GCC vector extensions call the
     * generic kernel instead.
     */
    void render(CWriter out) {
        String dynamic = form == Form.ROWS ? "m" : "k";
        out.open("static inline KILN_INLINE void " + name() + "(int64_t " + dynamic
                + ", const float *restrict a, const float *restrict b, float *restrict c)");
        out.raw("#if defined(KILN_V8)\n");
        if (form == Form.ROWS) {
            renderRows(out);
        } else {
            renderOverBatch(out);
        }
        out.raw("#else\n");
        if (form == Form.ROWS) {
            out.line("kiln_matmul(m, " + columns + ", " + depth + ", a, 0, b, " + (transposeB ? 1 : 0) + ", c);");
        } else {
            out.line("kiln_matmul(" + rows + ", " + columns + ", k, a, 1, b, 0, c);");
        }
        out.raw("#endif\n");
        out.close();
        if (form == Form.ROWS) {
            out.blank();
            out.line("/* Rows [begin, end) for the thread pool, compiled for each instruction set as the entries are. */");
            out.open("static KILN_CLONES void " + name() + "_task(void *context, int64_t begin, int64_t end)");
            out.line("const kiln_rows_job *job = context;");
            out.line(name() + "(end - begin, job->a + begin * " + depth + ", job->b, job->c + begin * " + columns + ");");
            out.close();
        }
    }

    private void renderRows(CWriter out) {
        int block = block();
        int width = columnVectors() * LANES;
        out.line("int64_t i = 0;");
        if (!transposeB) {
            out.open("for (; i + " + block + " <= m; i += " + block + ")");
            rowBlock(out, block, "b", columns, true);
            out.close();
            out.open("for (; i < m; i++)");
            rowBlock(out, 1, "b", columns, true);
            out.close();
            return;
        }
        out.open("if (m >= " + block + ")");
        out.line("float bt[" + depth * width + "] __attribute__((aligned(32)));");
        packTransposed(out);
        out.open("for (; i + " + block + " <= m; i += " + block + ")");
        rowBlock(out, block, "bt", width, false);
        out.close();
        out.close();
        dotRows(out, "m");
    }

    private void packTransposed(CWriter out) {
        int width = columnVectors() * LANES;
        out.line("/* op(B) = B^T, rows of " + width + " floats, zero past column " + columns + ". */");
        out.open("for (int64_t p = 0; p < " + depth + "; p++)");
        out.open("for (int64_t j = 0; j < " + width + "; j++)");
        out.line("bt[p * " + width + " + j] = j < " + columns + " ? b[j * " + depth + " + p] : 0.0f;");
        out.close();
        out.close();
    }

    /**
     * Elementwise work fused after a rows-form product: it reads the rows of C that the product
     * has just written, while they are still in the first-level cache.
     */
    interface Epilogue {
        /** Emits statements run once per call before any row, such as tiles of row operands. */
        void prepare(CWriter out);

        /** Emits the elementwise work for the rows [start, end) of C, as C expressions. */
        void render(CWriter out, String start, String end);
    }

    /** Returns the number of rows of C that one register block computes; threads split at multiples of it. */
    int rowBlock() {
        return block();
    }

    /**
     * Renders the body of a fused kernel over rows [begin, end): C = A op(B) with A at {@code a},
     * B at {@code b} and C at {@code c}, in chunks of {@code chunkRows} rows (a multiple of the
     * register block), each followed at once by the epilogue over its rows. A transposed B is
     * packed once per call. Only the rows form takes an epilogue.
     */
    void renderFused(CWriter out, String a, String b, String c, int chunkRows, Epilogue epilogue) {
        if (form != Form.ROWS || chunkRows % block() != 0) {
            throw new IllegalStateException("an epilogue needs the rows form and chunks of whole register blocks");
        }
        int block = block();
        int width = columnVectors() * LANES;
        // Not restrict: the epilogue reads C and may write each row of A's memory once its chunk
        // has read it, through pointers of its own.
        out.line("const float *a = " + a + ";");
        out.line("const float *restrict b = " + b + ";");
        out.line("float *c = " + c + ";");
        epilogue.prepare(out);
        out.raw("#if defined(KILN_V8)\n");
        out.line("int64_t i = begin;");
        if (transposeB) {
            out.line("float bt[" + depth * width + "] __attribute__((aligned(32)));");
            out.open("if (end - begin >= " + block + ")");
            packTransposed(out);
            out.close();
        }
        out.open("while (i < end)");
        out.line("const int64_t chunk = i;");
        out.line("const int64_t chunk_end = end - i > " + chunkRows + " ? i + " + chunkRows + " : end;");
        out.open("for (; i + " + block + " <= chunk_end; i += " + block + ")");
        rowBlock(out, block, transposeB ? "bt" : "b", transposeB ? width : columns, !transposeB);
        out.close();
        if (transposeB) {
            dotRows(out, "chunk_end");
        } else {
            out.open("for (; i < chunk_end; i++)");
            rowBlock(out, 1, "b", columns, true);
            out.close();
        }
        epilogue.render(out, "chunk", "chunk_end");
        out.close();
        out.raw("#else\n");
        out.line("kiln_matmul(end - begin, " + columns + ", " + depth + ", a + begin * " + depth + ", 0, b, "
                + (transposeB ? 1 : 0) + ", c + begin * " + columns + ");");
        epilogue.render(out, "begin", "end");
        out.raw("#endif\n");
    }

    /**
     * Renders rows i .. i+count-1 of C = A op(B): op(B) row p starts at {@code source + p * stride};
     * {@code partial} loads its last vector partially where the row ends before the vector does.
     */
    private void rowBlock(CWriter out, int count, String source, int stride, boolean partial) {
        declareAccumulators(out, count);
        if (partial && columns % LANES != 0) {
            // Rows of B followed by enough of B to fill the last vector load whole: its extra
            // lanes hold the next row's values and go into lanes of C that are never stored.
            int whole = depth - overreadRows();
            if (whole > 0) {
                out.open("for (int64_t p = 0; p < " + whole + "; p++)");
                rowStep(out, count, source, stride, false);
                out.close();
            }
            out.open("for (int64_t p = " + Math.max(0, whole) + "; p < " + depth + "; p++)");
            rowStep(out, count, source, stride, true);
            out.close();
        } else {
            out.open("for (int64_t p = 0; p < " + depth + "; p++)");
            rowStep(out, count, source, stride, partial);
            out.close();
        }
        storeAccumulators(out, count);
    }

    /** Rows of B, after a row whose last vector is loaded whole, that the load reaches into. */
    private int overreadRows() {
        int overread = columnVectors() * LANES - columns;
        return (overread + columns - 1) / columns;
    }

    private void rowStep(CWriter out, int count, String source, int stride, boolean partial) {
        int nv = columnVectors();
        for (int v = 0; v < nv; v++) {
            out.line("kiln_v8sf b" + v + " = " + load(source + " + p * " + stride + " + " + LANES * v,
                    partial ? count(v) : LANES) + ";");
        }
        for (int r = 0; r < count; r++) {
            out.line("kiln_v8sf av" + r + " = kiln_v8_set1(a[(i + " + r + ") * " + depth + " + p]);");
            for (int v = 0; v < nv; v++) {
                out.line("c" + r + "_" + v + " += av" + r + " * b" + v + ";");
            }
        }
    }

    /**
     * Renders the leftover rows of C = A B^T as dot products of a row of A with rows of B, eight
     * columns of C at a time, whose partial sums one shuffle tree adds up.
     */
    private void dotRows(CWriter out, String end) {
        int kv = vectors(depth);
        out.open("for (; i < " + end + "; i++)");
        out.line("const float *restrict ar = a + i * " + depth + ";");
        for (int q = 0; q < kv; q++) {
            out.line("kiln_v8sf x" + q + " = " + load("ar + " + LANES * q, Math.min(LANES, depth - LANES * q)) + ";");
        }
        if (kv > TREE_MAX_VECTORS) {
            out.open("for (int64_t j = 0; j < " + columns + "; j++)");
            out.line("const float *restrict br = b + j * " + depth + ";");
            out.line("kiln_v8sf s = x0 * " + load("br", Math.min(LANES, depth)) + ";");
            for (int q = 1; q < kv; q++) {
                out.line("s += x" + q + " * " + load("br + " + LANES * q, Math.min(LANES, depth - LANES * q)) + ";");
            }
            out.line("c[i * " + columns + " + j] = kiln_v8_sum(s);");
            out.close();
            out.close();
            return;
        }
        for (int j0 = 0; j0 < columns; j0 += LANES) {
            int count = Math.min(LANES, columns - j0);
            out.open("");
            for (int j = 0; j < LANES; j++) {
                if (j >= count) {
                    out.line("kiln_v8sf s" + j + " = kiln_v8_set1(0.0f);");
                    continue;
                }
                String row = "b + " + (j0 + j) * depth;
                out.line("kiln_v8sf s" + j + " = x0 * " + load(row, Math.min(LANES, depth)) + ";");
                for (int q = 1; q < kv; q++) {
                    out.line("s" + j + " += x" + q + " * " + load(row + " + " + LANES * q, Math.min(LANES, depth - LANES * q)) + ";");
                }
            }
            String sums = "kiln_v8_sum8(s0, s1, s2, s3, s4, s5, s6, s7)";
            String target = "c + i * " + columns + " + " + j0;
            out.line(count == LANES ? "kiln_v8_store(" + target + ", " + sums + ");"
                    : "kiln_v8_store_n(" + target + ", " + sums + ", " + count + ");");
            out.close();
        }
        out.close();
    }

    private void renderOverBatch(CWriter out) {
        int block = Math.min(block(), rows);
        int full = rows / block * block;
        out.open("for (int64_t i = 0; i < " + full + "; i += " + block + ")");
        overBatchBlock(out, block);
        out.close();
        if (full < rows) {
            out.open("");
            out.line("const int64_t i = " + full + ";");
            overBatchBlock(out, rows - full);
            out.close();
        }
    }

    /** Renders rows i .. i+count-1 of C = A^T B, accumulated over the k rows of A and B. */
    private void overBatchBlock(CWriter out, int count) {
        declareAccumulators(out, count);
        out.line("int64_t p = 0;");
        if (columns % LANES != 0) {
            // As in rowBlock: whole loads while the rows of B that follow cover their extra lanes.
            out.open("for (; p < k - " + overreadRows() + "; p++)");
            overBatchStep(out, count, false);
            out.close();
        }
        out.open("for (; p < k; p++)");
        overBatchStep(out, count, true);
        out.close();
        storeAccumulators(out, count);
    }

    private void overBatchStep(CWriter out, int count, boolean partial) {
        int nv = columnVectors();
        for (int v = 0; v < nv; v++) {
            out.line("kiln_v8sf b" + v + " = " + load("b + p * " + columns + " + " + LANES * v, partial ? count(v) : LANES) + ";");
        }
        for (int r = 0; r < count; r++) {
            out.line("kiln_v8sf a" + r + " = kiln_v8_set1(a[p * " + rows + " + i + " + r + "]);");
            for (int v = 0; v < nv; v++) {
                out.line("c" + r + "_" + v + " += a" + r + " * b" + v + ";");
            }
        }
    }

    private void declareAccumulators(CWriter out, int count) {
        for (int r = 0; r < count; r++) {
            for (int v = 0; v < columnVectors(); v++) {
                out.line("kiln_v8sf c" + r + "_" + v + " = kiln_v8_set1(0.0f);");
            }
        }
    }

    private void storeAccumulators(CWriter out, int count) {
        for (int r = 0; r < count; r++) {
            for (int v = 0; v < columnVectors(); v++) {
                String target = "c + (i + " + r + ") * " + columns + " + " + LANES * v;
                out.line(count(v) == LANES
                        ? "kiln_v8_store(" + target + ", c" + r + "_" + v + ");"
                        : "kiln_v8_store_n(" + target + ", c" + r + "_" + v + ", " + count(v) + ");");
            }
        }
    }

    /**
     * Returns a vector of {@code count} floats from {@code pointer} and zeros. A partial vector is
     * loaded in registers, never copied through memory: the full-width load that would follow
     * waits for the narrower stores (a failed store-to-load forward).
     */
    private static String load(String pointer, int count) {
        return count == LANES
                ? "kiln_v8_load(" + pointer + ")"
                : "kiln_v8_load_n(" + pointer + ", " + count + ")";
    }
}
