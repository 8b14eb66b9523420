package dev.kiln.ir;

import java.util.Locale;

/**
 * Operating system and processor architecture of a native library, as the folder name under
 * {@code META-INF/kiln/} that contains libraries built for them, for example {@code linux-x86_64}.
 */
public record Platform(String os, String arch) {

    /** Returns the platform of the running JVM. */
    public static Platform current() {
        return of(System.getProperty("os.name"), System.getProperty("os.arch"));
    }

    /** Normalizes the values of the {@code os.name} and {@code os.arch} system properties. */
    public static Platform of(String osName, String osArch) {
        String name = osName.toLowerCase(Locale.ROOT);
        String os;
        if (name.startsWith("linux")) {
            os = "linux";
        } else if (name.startsWith("mac") || name.startsWith("darwin")) {
            os = "macos";
        } else if (name.startsWith("windows")) {
            os = "windows";
        } else {
            os = name.replaceAll("[^a-z0-9]", "");
        }
        String arch = switch (osArch.toLowerCase(Locale.ROOT)) {
            case "amd64", "x86_64", "x64" -> "x86_64";
            case "aarch64", "arm64" -> "aarch64";
            default -> osArch.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "");
        };
        return new Platform(os, arch);
    }

    /** Returns the folder name, {@code os-arch}. */
    public String id() {
        return os + "-" + arch;
    }

    /** Returns the file name of a shared library for this platform, e.g. {@code libWineNet.so}. */
    public String libraryFileName(String libraryName) {
        return switch (os) {
            case "macos" -> "lib" + libraryName + ".dylib";
            case "windows" -> libraryName + ".dll";
            default -> "lib" + libraryName + ".so";
        };
    }

    /** Returns the resource path of a library inside a jar or classes folder. */
    public String libraryResource(String libraryName) {
        return "META-INF/kiln/" + id() + "/" + libraryFileName(libraryName);
    }
}
