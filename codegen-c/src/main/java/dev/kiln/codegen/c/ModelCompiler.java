package dev.kiln.codegen.c;

import dev.kiln.ir.Entries;
import dev.kiln.ir.Entry;
import dev.kiln.ir.ModelSpec;
import dev.kiln.ir.lower.Lowering;
import dev.kiln.ir.lower.Schedule;
import dev.kiln.ir.pass.Pipeline;
import dev.kiln.ir.pass.Verifier;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns a model into the C source of its library: builds the entries (predict, evaluate,
 * forward_backward, update and train per optimizer), runs the pass pipeline on each and renders
 * them as C.
 */
public final class ModelCompiler {
    private ModelCompiler() {
    }

    /**
     * The output of compiling one model.
     *
     * @param cSource the library's C source
     * @param signature hash of the model's IR, returned by the library's {@code _signature()}
     * @param entries the optimized entries
     * @param schedules the entries lowered to kernels, with their workspace plans
     * @param dumps IR text after each pass, keyed {@code <entry>.<pass>}, when requested
     */
    public record Result(String cSource, String signature, List<Entry> entries, List<Schedule> schedules,
                         Map<String, String> dumps) {
    }

    /**
     * Compiles a model.
     *
     * @param libraryName a C identifier, the prefix of every exported symbol
     * @param verify check the IR after every pass
     * @param dump keep the IR text of every stage
     */
    public static Result compile(ModelSpec model, String libraryName, boolean verify, boolean dump) {
        return compileEntries(Entries.build(model), libraryName, verify, dump);
    }

    /**
     * Compiles a differentiable function with its derivatives up to {@code order}: the entries
     * {@code derivative_0} to {@code derivative_<order>} of {@link Entries#derivatives}.
     */
    public static Result compileFunction(dev.kiln.ir.Graph function, int order, String libraryName, boolean verify,
                                         boolean dump) {
        return compileEntries(Entries.derivatives(function, order), libraryName, verify, dump);
    }

    /**
     * Compiles entries built by the caller into one library: each graph goes through the pass
     * pipeline, is lowered and rendered as the function {@code <libraryName>_<entry name>}.
     *
     * @param libraryName a C identifier, the prefix of every exported symbol
     * @param verify check the IR after every pass
     * @param dump keep the IR text of every stage
     */
    public static Result compileEntries(List<Entry> entries, String libraryName, boolean verify, boolean dump) {
        Pipeline pipeline = new Pipeline(verify, dump);
        List<Entry> optimized = new ArrayList<>();
        for (Entry entry : entries) {
            if (verify) {
                Verifier.verify(entry.graph(), "build");
            }
            optimized.add(new Entry(entry.name(), pipeline.run(entry.graph()), entry.args(), entry.bindings()));
        }
        List<Schedule> schedules = optimized.stream().map(Lowering::lower).toList();
        String signature = signature(libraryName, optimized);
        String source = CEmitter.emit(libraryName, signature, schedules);
        return new Result(source, signature, optimized, schedules, new LinkedHashMap<>(pipeline.dumps()));
    }

    private static String signature(String libraryName, List<Entry> entries) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            digest.update(libraryName.getBytes(StandardCharsets.UTF_8));
            for (Entry entry : entries) {
                digest.update(entry.graph().toString().getBytes(StandardCharsets.UTF_8));
                digest.update(entry.args().toString().getBytes(StandardCharsets.UTF_8));
            }
            return HexFormat.of().formatHex(digest.digest(), 0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JDK", e);
        }
    }
}
