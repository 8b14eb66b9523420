package dev.kiln.codegen.opencl;

import java.util.List;
import java.util.Map;

/**
 * The OpenCL rendering of a model library: the program source, and for every entry the launches
 * the host replays per call.
 *
 * @param source OpenCL C 1.2 source; it expects the build options {@code -DKILN_LOCAL=<items>},
 *     {@code -DKILN_TILE=<edge>} and {@code -DKILN_GROUPS=<groups>}
 * @param scalars number of scalar slots in the device's scalar buffer
 * @param launches launches per entry name, in call order
 * @param workspace floats of workspace per entry as {per batch row, fixed}
 * @param arguments per entry, each pointer argument as {@code name:r} (read) or {@code name:w} (written)
 */
public record OpenClProgram(String source, int scalars, Map<String, List<Launch>> launches,
                            Map<String, long[]> workspace, Map<String, List<String>> arguments) {

    /** Floats after the scalar slots that hold the partial sums of reductions. */
    public static final int MAX_GROUPS = 64;

    /**
     * Renders the launch list that the runtime reads from {@code META-INF/kiln/opencl/<lib>.launches}:
     * a header line, the scalar count, then per entry its workspace and arguments and one line per launch.
     */
    public String launchList() {
        StringBuilder text = new StringBuilder("kiln-opencl-launches 1\n");
        text.append("scalars ").append(scalars).append('\n');
        launches.forEach((entry, list) -> {
            long[] size = workspace.get(entry);
            text.append("entry ").append(entry).append(' ').append(size[0]).append(' ').append(size[1]);
            for (String argument : arguments.get(entry)) {
                text.append(' ').append(argument);
            }
            text.append('\n');
            for (Launch launch : list) {
                text.append("  ").append(launch.text()).append('\n');
            }
            text.append("end\n");
        });
        return text.toString();
    }
}
