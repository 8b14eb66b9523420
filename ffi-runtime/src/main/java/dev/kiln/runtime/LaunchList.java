package dev.kiln.runtime;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The host's list of OpenCL kernel launches per entry, parsed from the
 * {@code META-INF/kiln/opencl/<lib>.launches} resource that the Kiln processor writes.
 *
 * @param scalars number of scalar slots in the device's scalar buffer
 * @param entries launch plans by entry name
 */
record LaunchList(int scalars, Map<String, EntryPlan> entries) {

    /** How the host sizes a launch; mirrors the code generator's launch kinds. */
    enum Kind {
        ELEMENTS, MATMUL, REDUCE, SINGLE
    }

    /** One launch: sizes are {@code perRow * B + fixed}; matmul columns likewise. */
    record Launch(String kernel, Kind kind, long perRow, long fixed, long columnsPerRow, long columnsFixed) {
    }

    /**
     * The launches of one entry, its workspace in floats as {@code perRow * B + fixed}, and its
     * pointer arguments with whether each is written.
     */
    record EntryPlan(String name, long workspacePerRow, long workspaceFixed, List<String> argNames,
                     List<Boolean> written, List<Launch> launches) {
    }

    static LaunchList parse(String text, String source) {
        String[] lines = text.split("\n");
        if (lines.length < 2 || !lines[0].equals("kiln-opencl-launches 1") || !lines[1].startsWith("scalars ")) {
            throw new NativeLibraryException("launch list " + source + " is not a Kiln OpenCL launch list of version 1;"
                    + " rebuild the project with this version of Kiln");
        }
        int scalars = Integer.parseInt(lines[1].substring("scalars ".length()).trim());
        Map<String, EntryPlan> entries = new LinkedHashMap<>();
        for (int i = 2; i < lines.length; i++) {
            String[] header = lines[i].trim().split(" ");
            if (header.length < 4 || !header[0].equals("entry")) {
                throw new NativeLibraryException("invalid line " + (i + 1) + " in launch list " + source + ": " + lines[i]);
            }
            List<String> names = new ArrayList<>();
            List<Boolean> written = new ArrayList<>();
            for (int a = 4; a < header.length; a++) {
                String[] parts = header[a].split(":");
                names.add(parts[0]);
                written.add(parts[1].equals("w"));
            }
            List<Launch> launches = new ArrayList<>();
            for (i++; i < lines.length && !lines[i].equals("end"); i++) {
                launches.add(launch(lines[i].trim().split(" ")));
            }
            entries.put(header[1], new EntryPlan(header[1], Long.parseLong(header[2]), Long.parseLong(header[3]),
                    names, written, launches));
        }
        return new LaunchList(scalars, entries);
    }

    private static Launch launch(String[] parts) {
        return switch (parts[1]) {
            case "elements" -> new Launch(parts[0], Kind.ELEMENTS, Long.parseLong(parts[2]), Long.parseLong(parts[3]), 0, 0);
            case "matmul" -> new Launch(parts[0], Kind.MATMUL, Long.parseLong(parts[2]), Long.parseLong(parts[3]),
                    Long.parseLong(parts[4]), Long.parseLong(parts[5]));
            case "reduce" -> new Launch(parts[0], Kind.REDUCE, 0, 0, 0, 0);
            case "single" -> new Launch(parts[0], Kind.SINGLE, 0, 1, 0, 0);
            default -> throw new NativeLibraryException("unknown launch kind '" + parts[1] + "' for kernel " + parts[0]);
        };
    }
}
