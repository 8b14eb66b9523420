package dev.kiln.runtime.opencl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.List;
import org.junit.jupiter.api.Test;

class OpenClBindingsTest {

    @Test
    void errorNamesFollowHeader() {
        assertEquals("CL_SUCCESS", ClErrors.name(0));
        assertEquals("CL_DEVICE_NOT_FOUND", ClErrors.name(-1));
        assertEquals("CL_BUILD_PROGRAM_FAILURE", ClErrors.name(-11));
        assertEquals("CL_INVALID_VALUE", ClErrors.name(-30));
        assertEquals("CL_INVALID_KERNEL_NAME", ClErrors.name(-46));
        assertEquals("CL_INVALID_WORK_GROUP_SIZE", ClErrors.name(-54));
        assertEquals("CL_MAX_SIZE_RESTRICTION_EXCEEDED", ClErrors.name(-72));
        assertEquals("CL_PLATFORM_NOT_FOUND_KHR", ClErrors.name(-1001));
        assertEquals("UNKNOWN_CL_ERROR(-9999)", ClErrors.name(-9999));
    }

    @Test
    void exceptionCarriesCodeNameAndCall() {
        OpenClException e = new OpenClException("clFinish", -36, null);
        assertEquals(-36, e.code());
        assertEquals("CL_INVALID_COMMAND_QUEUE", e.codeName());
        assertEquals("clFinish", e.call());
        assertTrue(e.getMessage().contains("clFinish failed with CL_INVALID_COMMAND_QUEUE (-36)"), e.getMessage());
    }

    @Test
    void platformAndDeviceQueries() {
        OpenClTestSupport.devicesOrSkip();
        List<MemorySegment> platforms = Platforms.clGetPlatformIDs();
        assertFalse(platforms.isEmpty());
        for (MemorySegment platform : platforms) {
            assertFalse(Platforms.clGetPlatformInfo(platform, Platforms.CL_PLATFORM_NAME).isBlank());
            assertTrue(Platforms.clGetPlatformInfo(platform, Platforms.CL_PLATFORM_VERSION).startsWith("OpenCL "));
            for (MemorySegment device : Devices.clGetDeviceIDs(platform, Devices.CL_DEVICE_TYPE_ALL)) {
                assertFalse(Devices.clGetDeviceInfoString(device, Devices.CL_DEVICE_NAME).isBlank());
                assertTrue(Devices.clGetDeviceInfoLong(device, Devices.CL_DEVICE_MAX_WORK_GROUP_SIZE) >= 1);
                assertTrue(Devices.clGetDeviceInfoInt(device, Devices.CL_DEVICE_MAX_COMPUTE_UNITS) >= 1);
                assertTrue(Devices.clGetDeviceInfoString(device, Devices.CL_DEVICE_OPENCL_C_VERSION)
                        .startsWith("OpenCL C "));
            }
        }
    }

    @Test
    void invalidParameterRaisesNamedError() {
        OpenClDevice device = OpenClTestSupport.deviceOrSkip();
        OpenClException e = assertThrows(OpenClException.class,
                () -> Devices.clGetDeviceInfoString(device.deviceId(), 0x7FFF));
        assertEquals("CL_INVALID_VALUE", e.codeName());
        assertEquals("clGetDeviceInfo", e.call());
    }

    @Test
    void nullHandlesRejectedBeforeNativeCall() {
        assertThrows(IllegalArgumentException.class, () -> Queues.clFinish(MemorySegment.NULL));
        assertThrows(IllegalArgumentException.class, () -> Contexts.clReleaseContext(null));
        assertThrows(IllegalArgumentException.class,
                () -> Kernels.clEnqueueNDRangeKernel(MemorySegment.NULL, MemorySegment.NULL, new long[] {1}, null));
    }

    @Test
    void enqueueRangeValidated() {
        assertThrows(IllegalArgumentException.class, () -> Kernels.checkRange(new long[0], null));
        assertThrows(IllegalArgumentException.class, () -> Kernels.checkRange(new long[] {1, 1, 1, 1}, null));
        assertThrows(IllegalArgumentException.class, () -> Kernels.checkRange(new long[] {0}, null));
        assertThrows(IllegalArgumentException.class, () -> Kernels.checkRange(new long[] {10}, new long[] {3}));
        assertThrows(IllegalArgumentException.class, () -> Kernels.checkRange(new long[] {10}, new long[] {5, 1}));
        Kernels.checkRange(new long[] {12, 4}, new long[] {3, 2});
    }
}
