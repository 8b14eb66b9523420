package dev.kiln.codegen.c;

import dev.kiln.ir.Platform;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Driver that runs the system C compiler to turn a C source file into a shared library.
 *
 * <p>The command line is {@code <command> <flags> -o <library> <source> <link flags>}.
 * Libraries are cached in a directory shared by all builds of the user. The cache key is
 * the SHA-256 of the source bytes, the flags, the link flags and the first line of
 * {@code <command> --version}, so a change of any of them compiles again. A cache hit copies
 * the cached library into place without running the compiler. Cache entries and output
 * libraries are written to a temporary file first and then renamed, so a concurrent build
 * or a running process never loads a half-written library.
 *
 * <p>Instances are immutable and safe to use from several threads.
 */
public final class CCompiler {

    /** Compile flags used unless {@link Builder#flags} replaces them. */
    // -O3 vectorizes the elementwise loops; -fno-trapping-math lets them select between computed
    // values without branches, and -fno-math-errno lets loops that call sqrtf vectorize, since sqrtf
    // no longer has to set errno. -ffp-contract=fast fuses a multiply and an add into one FMA where
    // the CPU has it (the x86-64-v3 and v4 clones): half the instructions of a small matmul and a
    // polynomial, and one rounding instead of two, so results differ in the last bit from a CPU
    // without FMA. -fopenmp-simd reads the code's `omp simd` loop hints, without OpenMP's
    // runtime. Nothing else departs from IEEE arithmetic: no fast-math. A call of an
    // undeclared function fails the build instead of leaving an undefined symbol that would end
    // the JVM. -pthread links the thread pool of the prelude. -Wno-psabi silences GCC's note that
    // the ABI for passing 32-byte vectors changed in GCC 4.6. The helpers that take such vectors
    // are always inlined, and GCC 12 printed the note for every model despite the prelude's pragma.
    public static final List<String> DEFAULT_FLAGS = List.of("-O3", "-fno-trapping-math", "-fno-math-errno",
            "-std=c11", "-ffp-contract=fast", "-fopenmp-simd", "-pthread", "-Wno-psabi",
            "-Werror=implicit-function-declaration", "-fPIC", "-shared");

    /** Flags placed after the source file, where the linker expects libraries. */
    public static final List<String> DEFAULT_LINK_FLAGS = List.of("-lm", "-pthread");

    /** Time limit of one compiler run unless {@link Builder#timeout} changes it. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMinutes(10);

    /** Number of compiler output lines that a {@link NativeBuildException} message shows. */
    public static final int MESSAGE_OUTPUT_LINES = 20;

    private static final System.Logger LOG = System.getLogger(CCompiler.class.getName());

    private static final Pattern C_IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    /** Time to wait for the output reader after the compiler process has exited. */
    private static final Duration READER_GRACE = Duration.ofSeconds(10);

    private final List<String> command;
    private final List<String> flags;
    private final List<String> linkFlags;
    private final Path cacheDirectory;
    private final Duration timeout;

    /** First line of {@code <command> --version}, computed on first use. */
    private volatile String versionLine;

    /**
     * Outcome of one {@link #compileLibrary} call.
     *
     * @param library the shared library that was written
     * @param fromCache whether the library was copied from the cache without running the compiler
     * @param compilerOutput stdout and stderr of the compiler run, such as warnings; "" on a cache hit
     */
    public record Compilation(Path library, boolean fromCache, String compilerOutput) {
    }

    private CCompiler(Builder builder) {
        this.command = splitCommand(builder.command);
        this.flags = List.copyOf(builder.flags);
        this.linkFlags = List.copyOf(builder.linkFlags);
        this.cacheDirectory = builder.cacheDirectory.toAbsolutePath();
        this.timeout = builder.timeout;
    }

    /** Returns a compiler with the default command, flags, cache directory and timeout. */
    public static CCompiler create() {
        return builder().build();
    }

    /** Returns a builder that starts from the defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** Returns the environment variable {@code CC} if it is set and not blank, else {@code cc}. */
    public static String defaultCommand() {
        String cc = System.getenv("CC");
        return cc == null || cc.isBlank() ? "cc" : cc.strip();
    }

    /**
     * Returns the environment variable {@code KILN_CACHE_DIR} if it is set and not blank, else
     * {@code ${user.home}/.cache/kiln/native}.
     */
    public static Path defaultCacheDirectory() {
        String dir = System.getenv("KILN_CACHE_DIR");
        if (dir != null && !dir.isBlank()) {
            return Path.of(dir.strip());
        }
        return Path.of(System.getProperty("user.home"), ".cache", "kiln", "native");
    }

    /** Returns the compiler command, split at whitespace (for example {@code [ccache, gcc]}). */
    public List<String> command() {
        return command;
    }

    /** Returns the flags placed before {@code -o}. */
    public List<String> flags() {
        return flags;
    }

    /** Returns the flags placed after the source file. */
    public List<String> linkFlags() {
        return linkFlags;
    }

    /** Returns the absolute path of the library cache directory. */
    public Path cacheDirectory() {
        return cacheDirectory;
    }

    /** Returns the time limit of one compiler run. */
    public Duration timeout() {
        return timeout;
    }

    /**
     * Compiles a C source file into a shared library, or copies it from the cache.
     *
     * @param source the C source file
     * @param outputLibrary the library file to write; missing parent folders are created
     * @return {@code outputLibrary}
     * @throws NativeBuildException if the compiler is missing, fails or times out, or a file
     *     cannot be read or written
     */
    public Path compile(Path source, Path outputLibrary) {
        return compileLibrary(source, outputLibrary).library();
    }

    /**
     * Compiles C source text into a shared library inside the cache directory, or finds it
     * there. The source is written next to the library, so compiler messages name a real file.
     *
     * @param cSource the C source text
     * @param libraryName the library name, a C identifier such as {@code dev_kiln_examples_WineNet}
     * @return the library in the cache, named by {@link Platform#libraryFileName} of the
     *     running platform; callers load it but must not modify it
     * @throws IllegalArgumentException if {@code libraryName} is not a C identifier
     * @throws NativeBuildException if the compiler is missing, fails or times out, or the cache
     *     cannot be written
     */
    public Path compile(String cSource, String libraryName) {
        if (!C_IDENTIFIER.matcher(libraryName).matches()) {
            throw new IllegalArgumentException("Invalid library name '" + libraryName
                    + "': expected a C identifier (letters, digits and '_', not starting with a digit)");
        }
        byte[] bytes = cSource.getBytes(StandardCharsets.UTF_8);
        Path entry = cacheEntry(cacheKey(bytes));
        Path source = entry.resolve(libraryName + ".c");
        if (!Files.isRegularFile(source)) {
            writeAtomically(bytes, source);
        }
        Path library = entry.resolve(Platform.current().libraryFileName(libraryName));
        return build(bytes, source, library).library();
    }

    /**
     * Compiles a C source file into a shared library, or copies it from the cache, and reports
     * which of the two happened.
     *
     * @param source the C source file
     * @param outputLibrary the library file to write; missing parent folders are created
     * @throws NativeBuildException if the compiler is missing, fails or times out, or a file
     *     cannot be read or written
     */
    public Compilation compileLibrary(Path source, Path outputLibrary) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(source);
        } catch (NoSuchFileException e) {
            throw new NativeBuildException("C source file not found: " + source, e);
        } catch (IOException e) {
            throw new NativeBuildException("Could not read C source file " + source + ": " + e, e);
        }
        return build(bytes, source, outputLibrary.toAbsolutePath());
    }

    /**
     * Returns the first line of {@code <command> --version}, which identifies the compiler in
     * the cache key. The line is kept, so the compiler normally runs once per instance.
     *
     * @throws NativeBuildException if the compiler is missing or prints nothing
     */
    public String versionLine() {
        String line = versionLine;
        if (line == null) {
            line = queryVersionLine();
            versionLine = line;
        }
        return line;
    }

    /** Returns the command line that compiles {@code source} into {@code library}. */
    public List<String> commandLine(Path source, Path library) {
        List<String> line = new ArrayList<>(command);
        line.addAll(flags);
        line.add("-o");
        line.add(library.toString());
        line.add(source.toString());
        line.addAll(linkFlags);
        return line;
    }

    private Compilation build(byte[] sourceBytes, Path source, Path outputLibrary) {
        Path entry = cacheEntry(cacheKey(sourceBytes));
        Path cached = entry.resolve(outputLibrary.getFileName().toString());

        if (Files.isRegularFile(cached)) {
            LOG.log(System.Logger.Level.DEBUG, "Cache hit for {0}: {1}", source, cached);
            copyAtomically(cached, outputLibrary);
            return new Compilation(outputLibrary, true, "");
        }

        String output = compileIntoCache(source, cached);
        copyAtomically(cached, outputLibrary);
        return new Compilation(outputLibrary, false, output);
    }

    /** Runs the compiler into a private temporary folder, then renames the library into place. */
    private String compileIntoCache(Path source, Path cached) {
        Path scratch;
        try {
            Files.createDirectories(cached.getParent());
            scratch = Files.createTempDirectory(cached.getParent(), ".tmp-");
        } catch (IOException e) {
            throw cacheFailure(cached.getParent(), e);
        }
        try {
            Path built = scratch.resolve(cached.getFileName().toString());
            List<String> line = commandLine(source.toAbsolutePath(), built);
            LOG.log(System.Logger.Level.DEBUG, "Running {0}", display(line));

            ProcessResult result = run(line);
            if (result.exitCode() != 0) {
                throw compileFailure(line, result);
            }
            if (!Files.isRegularFile(built)) {
                throw new NativeBuildException("C compiler exited with 0 but wrote no library: "
                        + display(line) + outputExcerpt(result.output()), line, result.output());
            }
            moveAtomically(built, cached);
            return result.output();
        } catch (IOException e) {
            throw cacheFailure(cached.getParent(), e);
        } finally {
            deleteRecursively(scratch);
        }
    }

    private String cacheKey(byte[] sourceBytes) {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is required of every Java platform", e);
        }
        // Each field is length-prefixed, so no two different inputs produce the same byte stream.
        updateField(digest, sourceBytes);
        updateField(digest, String.join("\0", flags).getBytes(StandardCharsets.UTF_8));
        updateField(digest, String.join("\0", linkFlags).getBytes(StandardCharsets.UTF_8));
        updateField(digest, versionLine().getBytes(StandardCharsets.UTF_8));
        return HexFormat.of().formatHex(digest.digest());
    }

    private static void updateField(MessageDigest digest, byte[] field) {
        long length = field.length;
        for (int shift = 56; shift >= 0; shift -= 8) {
            digest.update((byte) (length >>> shift));
        }
        digest.update(field);
    }

    private Path cacheEntry(String key) {
        return cacheDirectory.resolve(key);
    }

    private String queryVersionLine() {
        List<String> line = new ArrayList<>(command);
        line.add("--version");
        ProcessResult result = run(line);
        String first = result.output().lines().filter(s -> !s.isBlank()).findFirst().orElse("");
        if (first.isEmpty()) {
            throw new NativeBuildException("C compiler printed no version: '" + display(line)
                    + "' exited with " + result.exitCode() + " and no output. Install a C compiler"
                    + " (gcc or clang) or set CC to a compiler that supports --version.",
                    line, result.output());
        }
        return first.strip();
    }

    private record ProcessResult(int exitCode, String output) {
    }

    /**
     * Runs a command with stdout and stderr merged. A reader thread drains the output while the
     * process runs, so the process never blocks on a full pipe.
     */
    private ProcessResult run(List<String> line) {
        Process process;
        try {
            process = new ProcessBuilder(line).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw missingCompiler(e);
        }
        try {
            process.getOutputStream().close();
        } catch (IOException e) {
            // The process has already exited, and its exit code reports why.
        }

        ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        Thread reader = Thread.ofVirtual().name("cc-output").start(() -> drain(process.getInputStream(), buffer));
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                destroy(process);
                throw new NativeBuildException("C compiler timed out after " + describe(timeout)
                        + " and was stopped: " + display(line) + ". Check that the command is a C"
                        + " compiler; for a very large source, raise the compiler timeout.",
                        line, captured(buffer));
            }
            // Grandchildren that inherited the pipe can keep it open, so the wait is bounded.
            reader.join(READER_GRACE);
        } catch (InterruptedException e) {
            destroy(process);
            Thread.currentThread().interrupt();
            throw new NativeBuildException("Interrupted while running the C compiler: " + display(line), e);
        }
        return new ProcessResult(process.exitValue(), captured(buffer));
    }

    private static void drain(InputStream in, ByteArrayOutputStream buffer) {
        byte[] chunk = new byte[8192];
        try (in) {
            int n;
            while ((n = in.read(chunk)) >= 0) {
                synchronized (buffer) {
                    buffer.write(chunk, 0, n);
                }
            }
        } catch (IOException e) {
            // The stream closes when the process is destroyed; what was read so far is kept.
        }
    }

    private static String captured(ByteArrayOutputStream buffer) {
        synchronized (buffer) {
            return buffer.toString(Charset.defaultCharset());
        }
    }

    private static void destroy(Process process) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
    }

    private NativeBuildException missingCompiler(IOException cause) {
        return new NativeBuildException("C compiler '" + String.join(" ", command) + "' could not be"
                + " started (" + cause.getMessage() + "). Install a C compiler (gcc or clang), or set"
                + " the CC environment variable to the command of an installed C compiler.", cause);
    }

    private static NativeBuildException compileFailure(List<String> line, ProcessResult result) {
        return new NativeBuildException("C compiler failed with exit code " + result.exitCode() + ": "
                + display(line) + outputExcerpt(result.output()), line, result.output());
    }

    private static NativeBuildException cacheFailure(Path directory, IOException cause) {
        return new NativeBuildException("Could not write to the native library cache " + directory
                + ": " + cause + ". Make the folder writable, or point KILN_CACHE_DIR at a writable folder.",
                cause);
    }

    /** Returns the first {@link #MESSAGE_OUTPUT_LINES} lines of compiler output, indented. */
    private static String outputExcerpt(String output) {
        List<String> lines = output.lines().toList();
        if (lines.isEmpty()) {
            return "\n(the compiler printed nothing)";
        }
        StringBuilder text = new StringBuilder();
        lines.stream().limit(MESSAGE_OUTPUT_LINES).forEach(l -> text.append("\n  ").append(l));
        if (lines.size() > MESSAGE_OUTPUT_LINES) {
            text.append("\n  ... (").append(lines.size() - MESSAGE_OUTPUT_LINES).append(" more lines)");
        }
        return text.toString();
    }

    /** Joins a command line for messages, quoting arguments that a shell would split. */
    static String display(List<String> line) {
        return String.join(" ", line.stream().map(CCompiler::quote).toList());
    }

    private static String quote(String argument) {
        if (!argument.isEmpty() && argument.matches("[A-Za-z0-9_@%+=:,./-]+")) {
            return argument;
        }
        return "'" + argument.replace("'", "'\\''") + "'";
    }

    private static String describe(Duration duration) {
        long seconds = duration.toSeconds();
        return seconds % 60 == 0 && seconds > 0 ? seconds / 60 + " min" : duration.toMillis() + " ms";
    }

    private static List<String> splitCommand(String command) {
        List<String> parts = Arrays.stream(command.strip().split("\\s+")).filter(s -> !s.isEmpty()).toList();
        if (parts.isEmpty()) {
            throw new IllegalArgumentException("C compiler command is empty; expected a command such as 'gcc' or 'clang'");
        }
        return parts;
    }

    private static void writeAtomically(byte[] bytes, Path target) {
        Path temp = target.resolveSibling("." + target.getFileName() + ".tmp-" + UUID.randomUUID());
        try {
            Files.createDirectories(target.getParent());
            Files.write(temp, bytes);
            moveAtomically(temp, target);
        } catch (IOException e) {
            deleteQuietly(temp);
            throw cacheFailure(target.getParent(), e);
        }
    }

    /** Copies through a temporary file in the target folder, so the rename is atomic. */
    private static void copyAtomically(Path from, Path to) {
        if (from.equals(to)) {
            return;
        }
        Path temp = to.resolveSibling("." + to.getFileName() + ".tmp-" + UUID.randomUUID());
        try {
            Files.createDirectories(to.getParent());
            Files.copy(from, temp);
            moveAtomically(temp, to);
        } catch (IOException e) {
            deleteQuietly(temp);
            throw new NativeBuildException("Could not copy native library " + from + " to " + to + ": " + e, e);
        }
    }

    /**
     * Renames {@code from} to {@code to}, replacing it. On POSIX file systems the rename replaces
     * an existing target atomically, so a concurrent build that wrote the same entry is harmless.
     */
    private static void moveAtomically(Path from, Path to) throws IOException {
        try {
            Files.move(from, to, StandardCopyOption.ATOMIC_MOVE);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static void deleteQuietly(Path path) {
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            LOG.log(System.Logger.Level.DEBUG, "Could not delete temporary file " + path, e);
        }
    }

    private static void deleteRecursively(Path directory) {
        try (Stream<Path> paths = Files.walk(directory)) {
            paths.sorted(Comparator.reverseOrder()).forEach(CCompiler::deleteQuietly);
        } catch (NoSuchFileException e) {
            // Already gone.
        } catch (IOException | UncheckedIOException e) {
            LOG.log(System.Logger.Level.DEBUG, "Could not delete temporary folder " + directory, e);
        }
    }

    /** Settings of a {@link CCompiler}; every setter replaces the default. */
    public static final class Builder {

        private String command = defaultCommand();
        private List<String> flags = DEFAULT_FLAGS;
        private List<String> linkFlags = DEFAULT_LINK_FLAGS;
        private Path cacheDirectory = defaultCacheDirectory();
        private Duration timeout = DEFAULT_TIMEOUT;

        private Builder() {
        }

        /**
         * Sets the compiler command, such as {@code gcc}, {@code /usr/bin/clang} or
         * {@code ccache gcc}. The command is split at whitespace, so a path with spaces is not
         * supported.
         */
        public Builder command(String command) {
            this.command = Objects.requireNonNull(command, "command");
            return this;
        }

        /** Sets the flags placed before {@code -o}; they must produce a shared library. */
        public Builder flags(List<String> flags) {
            this.flags = List.copyOf(flags);
            return this;
        }

        /** Sets the flags placed after the source file, such as {@code -lm}. */
        public Builder linkFlags(List<String> linkFlags) {
            this.linkFlags = List.copyOf(linkFlags);
            return this;
        }

        /** Sets the library cache directory; it is created on first use. */
        public Builder cacheDirectory(Path cacheDirectory) {
            this.cacheDirectory = Objects.requireNonNull(cacheDirectory, "cacheDirectory");
            return this;
        }

        /** Sets the time limit of one compiler run; it must be positive. */
        public Builder timeout(Duration timeout) {
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("Compiler timeout must be positive, got " + timeout);
            }
            this.timeout = timeout;
            return this;
        }

        /**
         * Returns a compiler with these settings.
         *
         * @throws IllegalArgumentException if the command is blank
         */
        public CCompiler build() {
            return new CCompiler(this);
        }
    }
}
