#include <stdint.h>

int32_t kiln_test_broken(void) { return 1 }
