package dev.kiln.runtime.opencl;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The OpenCL ICD loader, opened once per JVM. The library comes from the environment variable
 * {@value #LIBRARY_VARIABLE} (a file path or a library name) when set, otherwise from
 * {@code libOpenCL.so.1} and then {@code libOpenCL.so} on the system library path.
 */
public final class OpenClLibrary {
    /** Environment variable that names the OpenCL library to load instead of the system's. */
    public static final String LIBRARY_VARIABLE = "KILN_OPENCL_LIBRARY";

    private static final List<String> DEFAULT_NAMES = List.of("libOpenCL.so.1", "libOpenCL.so");

    private static SymbolLookup symbols;
    private static OpenClUnavailableException failure;

    private OpenClLibrary() {
    }

    /**
     * Returns whether the OpenCL library could be loaded. It does not check drivers or
     * devices; {@link OpenClDevice#list()} checks those.
     */
    public static boolean isLoadable() {
        try {
            symbols();
            return true;
        } catch (OpenClUnavailableException e) {
            return false;
        }
    }

    /** Returns the loaded library's symbols; the outcome of the first attempt is kept for the JVM's life. */
    static synchronized SymbolLookup symbols() {
        if (symbols == null && failure == null) {
            try {
                symbols = load(System.getenv(LIBRARY_VARIABLE));
            } catch (OpenClUnavailableException e) {
                failure = e;
            }
        }
        if (failure != null) {
            throw new OpenClUnavailableException(failure.getMessage(), failure);
        }
        return symbols;
    }

    private static SymbolLookup load(String override) {
        // The bindings pass size_t as a Java long, which holds only on 64-bit platforms.
        if (ValueLayout.ADDRESS.byteSize() != Long.BYTES) {
            throw new OpenClUnavailableException("Kiln's OpenCL bindings need a 64-bit JVM; this one has "
                    + ValueLayout.ADDRESS.byteSize() * 8 + "-bit pointers.");
        }
        if (override != null && !override.isBlank()) {
            try {
                return open(override.strip());
            } catch (IllegalArgumentException e) {
                throw new OpenClUnavailableException("cannot load the OpenCL library '" + override + "' named by "
                        + LIBRARY_VARIABLE + ": " + e.getMessage() + ". Point " + LIBRARY_VARIABLE
                        + " at an existing libOpenCL.so, or unset it to use the system's.", e);
            }
        }
        List<String> errors = new ArrayList<>();
        for (String name : DEFAULT_NAMES) {
            try {
                return open(name);
            } catch (IllegalArgumentException e) {
                errors.add(name + ": " + e.getMessage());
            }
        }
        throw new OpenClUnavailableException("no OpenCL library found (tried " + String.join("; ", errors) + "). "
                + OpenClUnavailableException.INSTALL_HINT + " Or set " + LIBRARY_VARIABLE
                + " to the path of a libOpenCL.so.");
    }

    private static SymbolLookup open(String nameOrPath) {
        if (nameOrPath.contains("/")) {
            return SymbolLookup.libraryLookup(Path.of(nameOrPath), Arena.global());
        }
        return SymbolLookup.libraryLookup(nameOrPath, Arena.global());
    }

    /** Binds one OpenCL function; fails with {@link OpenClUnavailableException} if the library lacks it. */
    static MethodHandle downcall(String name, FunctionDescriptor descriptor) {
        MemorySegment address = symbols().find(name).orElseThrow(() -> new OpenClUnavailableException(
                "the OpenCL library has no function " + name + "; Kiln needs an OpenCL 1.2 or newer ICD loader. "
                        + OpenClUnavailableException.INSTALL_HINT));
        return Linker.nativeLinker().downcallHandle(address, descriptor);
    }

    /** Throws {@link OpenClException} unless {@code status} is {@code CL_SUCCESS}. */
    static void check(int status, String call) {
        if (status != ClErrors.CL_SUCCESS) {
            throw new OpenClException(call, status, null);
        }
    }

    /** Rethrows what a downcall handle threw; only unchecked exceptions can arise from a bound C function. */
    static RuntimeException rethrow(Throwable thrown, String call) {
        if (thrown instanceof RuntimeException runtime) {
            return runtime;
        }
        if (thrown instanceof Error error) {
            throw error;
        }
        return new IllegalStateException("unexpected exception from " + call, thrown);
    }
}
