package dev.kiln.codegen.c;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * The prelude's thread pool in a child created by fork(): the parent's workers do not exist there,
 * so the child's pool must start workers of its own instead of waiting for the parent's.
 */
class ThreadPoolForkTest {
    private static final String HARNESS = """

            #include <sys/wait.h>

            static void kiln_test_fill(void *context, int64_t begin, int64_t end) {
                int *out = context;
                for (int64_t i = begin; i < end; i++) {
                    out[i] = (int) i + 1;
                }
            }

            /* Runs a parallel fill of n ints; returns 1 when every element was written. */
            static int kiln_test_fill_all(int n) {
                int *out = calloc((size_t) n, sizeof(int));
                if (!kiln_parallel(n, 64, 1e9, kiln_test_fill, out)) {
                    kiln_test_fill(out, 0, n);
                }
                int ok = 1;
                for (int i = 0; i < n; i++) {
                    ok &= out[i] == i + 1;
                }
                free(out);
                return ok;
            }

            /*
             * Fills in parallel, forks, fills in parallel in the child, and returns the child's
             * exit status: 0 when it finished in time, 2 for a wrong result, 3 when the parent's
             * fill failed, or 128 + the signal that ended it (SIGALRM after 20 s of waiting).
             */
            KILN_EXPORT int kiln_test_fork(void) {
                kiln_set_num_threads(2);
                if (!kiln_test_fill_all(1 << 16)) {
                    return 3;
                }
                pid_t child = fork();
                if (child == 0) {
                    alarm(20);
                    _exit(kiln_test_fill_all(1 << 16) ? 0 : 2);
                }
                int status = 0;
                waitpid(child, &status, 0);
                return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            }
            """;

    @Test
    void childOfForkRunsParallelKernels() throws Throwable {
        CCompiler compiler = CCompiler.builder().cacheDirectory(CCompiler.defaultCacheDirectory()).build();
        Path library = compiler.compile(CPrelude.text() + HARNESS, "kiln_thread_pool_fork_test");
        try (Arena arena = Arena.ofConfined()) {
            MethodHandle fork = Linker.nativeLinker().downcallHandle(
                    SymbolLookup.libraryLookup(library, arena).findOrThrow("kiln_test_fork"),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT));
            assertEquals(0, (int) fork.invokeExact(), "exit status of the forked child");
        }
    }
}
