#include <math.h>
#include <stdint.h>

/* Uses libm, so the test also checks that -lm reaches the linker. */
double kiln_test_hypot(double a, double b) {
    return sqrt(a * a + b * b);
}

int32_t kiln_test_add(int32_t a, int32_t b) {
    return a + b;
}
