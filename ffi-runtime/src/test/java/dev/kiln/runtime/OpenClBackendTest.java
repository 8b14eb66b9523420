package dev.kiln.runtime;

/** The OpenCL conformance checks with the work-group sizes that the device itself allows. */
class OpenClBackendTest extends OpenClConformance {
    @Override
    int workGroupCap() {
        return 0;
    }
}
