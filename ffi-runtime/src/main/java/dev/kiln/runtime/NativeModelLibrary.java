package dev.kiln.runtime;

import dev.kiln.ir.Platform;
import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A model library loaded through the FFM API: found on the class path under
 * {@code META-INF/kiln/<os>-<arch>/}, extracted to a temporary file once per JVM, and bound
 * symbol by symbol. Libraries stay loaded until the JVM exits.
 */
public final class NativeModelLibrary {
    /** Signature of every entry: (batch, call, workspace, args) -> status. */
    static final FunctionDescriptor ENTRY = FunctionDescriptor.of(ValueLayout.JAVA_INT,
            ValueLayout.JAVA_LONG, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.ADDRESS);
    static final FunctionDescriptor WORKSPACE = FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG);
    static final int MINIMUM_JAVA = 22;

    private static final Map<String, NativeModelLibrary> LOADED = new ConcurrentHashMap<>();

    private final String libraryName;
    private final SymbolLookup symbols;

    private NativeModelLibrary(String libraryName, SymbolLookup symbols) {
        this.libraryName = libraryName;
        this.symbols = symbols;
    }

    /**
     * Loads the library of a model from the class path of {@code owner}, checking that it was built
     * from the same model source as the class.
     */
    public static NativeModelLibrary load(ModelDescriptor descriptor, Class<?> owner) {
        checkJavaVersion();
        NativeModelLibrary library = LOADED.computeIfAbsent(descriptor.libraryName(),
                name -> extractAndLoad(descriptor, owner));
        library.checkSignature(descriptor);
        return library;
    }

    /** Loads a library file directly, for tests and tools. */
    public static NativeModelLibrary loadFile(String libraryName, Path file) {
        checkJavaVersion();
        return new NativeModelLibrary(libraryName, SymbolLookup.libraryLookup(file, Arena.global()));
    }

    static void checkJavaVersion() {
        int feature = Runtime.version().feature();
        if (feature < MINIMUM_JAVA) {
            throw new NativeLibraryException("Kiln needs Java " + MINIMUM_JAVA + " or newer for the FFM API;"
                    + " this JVM is Java " + feature + ". Run with JDK 25.");
        }
    }

    private static NativeModelLibrary extractAndLoad(ModelDescriptor descriptor, Class<?> owner) {
        Platform platform = Platform.current();
        String resource = platform.libraryResource(descriptor.libraryName());
        ClassLoader loader = owner.getClassLoader();
        URL url = loader == null ? ClassLoader.getSystemResource(resource) : loader.getResource(resource);
        if (url == null) {
            throw new NativeLibraryException("no native library for " + platform.id() + " in the class path of "
                    + descriptor.modelName() + " (looked for " + resource + "). Build the project on "
                    + platform.id() + " with the Kiln Maven plugin, or add a jar built there.");
        }
        try (InputStream in = url.openStream()) {
            Path file = Files.createTempFile("kiln-" + descriptor.libraryName() + "-", "-" + platform.libraryFileName(descriptor.libraryName()));
            file.toFile().deleteOnExit();
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
            return new NativeModelLibrary(descriptor.libraryName(), SymbolLookup.libraryLookup(file, Arena.global()));
        } catch (IOException | IllegalArgumentException e) {
            throw new NativeLibraryException("cannot load native library " + resource + " of "
                    + descriptor.modelName() + ": " + e.getMessage(), e);
        }
    }

    private void checkSignature(ModelDescriptor descriptor) {
        MethodHandle signature = Linker.nativeLinker().downcallHandle(symbol("signature"),
                FunctionDescriptor.of(ValueLayout.ADDRESS));
        String actual;
        try {
            MemorySegment text = (MemorySegment) signature.invokeExact();
            actual = text.reinterpret(1 << 20).getString(0);
        } catch (Throwable e) {
            throw new NativeLibraryException("cannot read the signature of library " + libraryName, e);
        }
        if (!actual.equals(descriptor.signature())) {
            throw new NativeLibraryException("native library " + libraryName + " was built from another version of "
                    + descriptor.modelName() + " (library signature " + actual + ", class expects "
                    + descriptor.signature() + "). Rebuild the project so both come from the same source.");
        }
    }

    MemorySegment symbol(String suffix) {
        String name = libraryName + "_" + suffix;
        return symbols.find(name).orElseThrow(() -> new NativeLibraryException(
                "native library " + libraryName + " has no symbol " + name + "; rebuild the project"));
    }

    /**
     * Returns the number of threads that the library's kernels use, or 1 for a library built
     * before its C code had a thread pool.
     */
    public int threads() {
        Optional<MemorySegment> symbol = symbols.find("kiln_num_threads");
        if (symbol.isEmpty()) {
            return 1;
        }
        MethodHandle get = Linker.nativeLinker().downcallHandle(symbol.get(), FunctionDescriptor.of(ValueLayout.JAVA_INT));
        try {
            return (int) get.invokeExact();
        } catch (Throwable e) {
            throw new NativeLibraryException("reading the thread count of library " + libraryName + " failed", e);
        }
    }

    /**
     * Sets the number of threads that the library's kernels use, for every model instance of the
     * library, from the next entry call on; counts above 64 are capped. A library built before its
     * C code had a thread pool ignores the call and keeps one thread.
     *
     * @throws IllegalArgumentException if {@code threads} is below 1
     */
    public void setThreads(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("thread count must be at least 1, got " + threads);
        }
        Optional<MemorySegment> symbol = symbols.find("kiln_set_num_threads");
        if (symbol.isEmpty()) {
            return;
        }
        MethodHandle set = Linker.nativeLinker().downcallHandle(symbol.get(), FunctionDescriptor.ofVoid(ValueLayout.JAVA_INT));
        try {
            set.invokeExact(threads);
        } catch (Throwable e) {
            throw new NativeLibraryException("setting the thread count of library " + libraryName + " failed", e);
        }
    }

    /** Returns a handle of type (long, MemorySegment, MemorySegment, MemorySegment) -> int. */
    public MethodHandle entry(String entryName, boolean critical) {
        Linker.Option[] options = critical ? new Linker.Option[] {Linker.Option.critical(false)} : new Linker.Option[0];
        return Linker.nativeLinker().downcallHandle(symbol(entryName), ENTRY, options);
    }

    /** Returns a handle of type (long) -> long giving an entry's workspace bytes for a batch size. */
    public MethodHandle workspaceSize(String entryName) {
        return Linker.nativeLinker().downcallHandle(symbol(entryName + "_workspace"), WORKSPACE);
    }

    public String name() {
        return libraryName;
    }
}
