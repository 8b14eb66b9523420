package dev.kiln.codegen.c;

import java.util.List;

/**
 * Failure to build a native library: the C compiler is missing, failed, timed out, or the
 * library cache could not be written. The message names the command and, for a failed
 * compile, shows the compiler's first lines of output.
 */
public class NativeBuildException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    /** Command line of the failed compiler run; empty when no compiler run failed. */
    private final List<String> commandLine;

    /** Complete output of the failed compiler run; empty when no compiler run failed. */
    private final String compilerOutput;

    /** Creates an exception for a failure that is not a compiler run, such as a cache error. */
    public NativeBuildException(String message, Throwable cause) {
        super(message, cause);
        this.commandLine = List.of();
        this.compilerOutput = "";
    }

    /** Creates an exception for a compiler run that failed with the given output. */
    public NativeBuildException(String message, List<String> commandLine, String compilerOutput) {
        super(message);
        this.commandLine = List.copyOf(commandLine);
        this.compilerOutput = compilerOutput;
    }

    /** Returns the command line of the failed compiler run, or an empty list. */
    public List<String> commandLine() {
        return commandLine;
    }

    /** Returns the full output (stdout and stderr) of the failed compiler run, or "". */
    public String compilerOutput() {
        return compilerOutput;
    }
}
