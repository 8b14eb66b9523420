package dev.kiln.runtime.opencl;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * One OpenCL device and what Kiln needs to know about it. The two ids are the driver's handles
 * for the platform and the device, which stay valid for the life of the process.
 *
 * @param platformId        {@code cl_platform_id}
 * @param deviceId          {@code cl_device_id}
 * @param platform          platform name, such as {@code Portable Computing Language}
 * @param platformVersion   platform version string
 * @param name              device name
 * @param vendor            device vendor
 * @param type              kind of device
 * @param maxWorkGroupSize  largest work-group the device runs, in work-items
 * @param computeUnits      number of compute units
 * @param globalMemoryBytes size of global memory in bytes
 * @param localMemoryBytes  size of local memory per work-group in bytes
 * @param version           OpenCL version string of the device, such as {@code OpenCL 3.0 PoCL}
 * @param driverVersion     driver version string
 */
public record OpenClDevice(MemorySegment platformId, MemorySegment deviceId, String platform, String platformVersion,
        String name, String vendor, Type type, long maxWorkGroupSize, int computeUnits, long globalMemoryBytes,
        long localMemoryBytes, String version, String driverVersion) {

    /** Kind of device, from {@code CL_DEVICE_TYPE}. */
    public enum Type {
        GPU, ACCELERATOR, CPU, CUSTOM;

        static Type of(long bits) {
            if ((bits & Devices.CL_DEVICE_TYPE_GPU) != 0) {
                return GPU;
            }
            if ((bits & Devices.CL_DEVICE_TYPE_ACCELERATOR) != 0) {
                return ACCELERATOR;
            }
            if ((bits & Devices.CL_DEVICE_TYPE_CPU) != 0) {
                return CPU;
            }
            return CUSTOM;
        }
    }

    /** Order of preference: GPU, then accelerator, then CPU, then by more compute units. */
    private static final Comparator<OpenClDevice> PREFERENCE = Comparator.comparing(OpenClDevice::type)
            .thenComparing(Comparator.comparingInt(OpenClDevice::computeUnits).reversed());

    /**
     * Lists the available devices of every platform.
     *
     * @throws OpenClUnavailableException if no OpenCL library, no platform or no available device is found
     */
    public static List<OpenClDevice> list() {
        List<MemorySegment> platforms = Platforms.clGetPlatformIDs();
        if (platforms.isEmpty()) {
            throw new OpenClUnavailableException("the OpenCL library is installed, but no OpenCL platform (driver) is"
                    + " registered under /etc/OpenCL/vendors. " + OpenClUnavailableException.INSTALL_HINT);
        }
        List<OpenClDevice> devices = new ArrayList<>();
        for (MemorySegment platform : platforms) {
            for (MemorySegment device : Devices.clGetDeviceIDs(platform, Devices.CL_DEVICE_TYPE_ALL)) {
                if (Devices.clGetDeviceInfoInt(device, Devices.CL_DEVICE_AVAILABLE) != 0) {
                    devices.add(describe(platform, device));
                }
            }
        }
        if (devices.isEmpty()) {
            throw new OpenClUnavailableException("found " + platforms.size() + " OpenCL platform(s) but no available"
                    + " device. " + OpenClUnavailableException.INSTALL_HINT);
        }
        return List.copyOf(devices);
    }

    /** Returns the preferred device: a GPU, else an accelerator, else a CPU, then the one with most compute units. */
    public static OpenClDevice best() {
        return list().stream().min(PREFERENCE).orElseThrow();
    }

    /**
     * Returns the preferred device whose name contains {@code substring}, ignoring case.
     *
     * @throws OpenClUnavailableException if no device name matches; the message lists the devices found
     */
    public static OpenClDevice byName(String substring) {
        if (substring == null || substring.isBlank()) {
            throw new IllegalArgumentException("device name must not be null or blank");
        }
        String wanted = substring.toLowerCase(Locale.ROOT);
        List<OpenClDevice> devices = list();
        return devices.stream()
                .filter(device -> device.name().toLowerCase(Locale.ROOT).contains(wanted))
                .min(PREFERENCE)
                .orElseThrow(() -> new OpenClUnavailableException("no OpenCL device name contains '" + substring
                        + "'; devices found: " + summary(devices)));
    }

    /**
     * Returns the device of {@code type} with the most compute units.
     *
     * @throws OpenClUnavailableException if there is no device of that type; the message lists the devices found
     */
    public static OpenClDevice byType(Type type) {
        if (type == null) {
            throw new IllegalArgumentException("device type must not be null");
        }
        List<OpenClDevice> devices = list();
        return devices.stream()
                .filter(device -> device.type() == type)
                .min(PREFERENCE)
                .orElseThrow(() -> new OpenClUnavailableException("no OpenCL device of type " + type
                        + "; devices found: " + summary(devices)));
    }

    @Override
    public String toString() {
        return name + " (" + type + ", " + platform + ", " + computeUnits + " compute units, " + version + ")";
    }

    private static OpenClDevice describe(MemorySegment platform, MemorySegment device) {
        return new OpenClDevice(platform, device,
                Platforms.clGetPlatformInfo(platform, Platforms.CL_PLATFORM_NAME).strip(),
                Platforms.clGetPlatformInfo(platform, Platforms.CL_PLATFORM_VERSION).strip(),
                Devices.clGetDeviceInfoString(device, Devices.CL_DEVICE_NAME).strip(),
                Devices.clGetDeviceInfoString(device, Devices.CL_DEVICE_VENDOR).strip(),
                Type.of(Devices.clGetDeviceInfoLong(device, Devices.CL_DEVICE_TYPE)),
                Devices.clGetDeviceInfoLong(device, Devices.CL_DEVICE_MAX_WORK_GROUP_SIZE),
                Devices.clGetDeviceInfoInt(device, Devices.CL_DEVICE_MAX_COMPUTE_UNITS),
                Devices.clGetDeviceInfoLong(device, Devices.CL_DEVICE_GLOBAL_MEM_SIZE),
                Devices.clGetDeviceInfoLong(device, Devices.CL_DEVICE_LOCAL_MEM_SIZE),
                Devices.clGetDeviceInfoString(device, Devices.CL_DEVICE_VERSION).strip(),
                Devices.clGetDeviceInfoString(device, Devices.CL_DRIVER_VERSION).strip());
    }

    private static String summary(List<OpenClDevice> devices) {
        return devices.stream().map(OpenClDevice::toString).collect(Collectors.joining("; "));
    }
}
