/*
 * Times Kiln's generated matmul against OpenBLAS's cblas_sgemm on square float32 matrices, and
 * measures the memory bandwidth of a streaming triad, in one process so both run under the same
 * conditions. Writes one JSON object to standard output.
 *
 * Build (run.sh does this): the prelude of a generated Kiln source, everything before its first
 * exported entry, is saved as kiln_prelude.h, and this file is compiled with Kiln's own flags:
 *
 *   cc -O2 -std=c11 -fPIC -I DIR_WITH_PRELUDE matmul_bench.c -lopenblas -lm
 *
 * Run: OPENBLAS_NUM_THREADS=1 matmul_bench SIZE [SIZE...]
 *
 * Before timing, each size is multiplied in all four transpose combinations by both libraries,
 * and the run stops with exit status 1 when the results differ by more than MAX_RELATIVE_ERROR.
 */
#define _POSIX_C_SOURCE 200112L

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include <cblas.h>

#include "kiln_prelude.h"

#define WARMUP_SECONDS 0.3
#define ROUND_SECONDS 0.3
#define ROUNDS 5
/* Largest accepted max|C_kiln - C_openblas| / max|C_openblas|. At size 1024 the two summation orders differed by 5e-7 on an AMD EPYC. */
#define MAX_RELATIVE_ERROR 1e-4
/* Each triad array is 64 MiB, so the triad streams from DRAM unless the last-level cache exceeds 192 MiB. */
#define TRIAD_LENGTH (16L * 1024 * 1024)

static double now_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double) t.tv_sec + 1e-9 * (double) t.tv_nsec;
}

typedef struct workload {
    int64_t n;
    const float *a;
    const float *b;
    float *c;
    float *triad_a;
    const float *triad_b;
    const float *triad_c;
} workload;

static void run_kiln(const workload *w) {
    kiln_matmul(w->n, w->n, w->n, w->a, 0, w->b, 0, w->c);
}

static void run_openblas(const workload *w) {
    int n = (int) w->n;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, w->a, n, w->b, n, 0.0f, w->c, n);
}

static void run_triad(const workload *w) {
    for (long i = 0; i < TRIAD_LENGTH; i++) {
        w->triad_a[i] = w->triad_b[i] + 3.0f * w->triad_c[i];
    }
}

typedef struct timing {
    double median;
    double min;
    double max;
    long calls_per_round;
} timing;

static int compare_doubles(const void *x, const void *y) {
    double a = *(const double *) x;
    double b = *(const double *) y;
    return (a > b) - (a < b);
}

/* Warms up, then returns the seconds per call of ROUNDS rounds of equal call counts. */
static timing time_calls(void (*function)(const workload *), const workload *w) {
    long calls = 0;
    double start = now_seconds();
    while (now_seconds() - start < WARMUP_SECONDS) {
        function(w);
        calls++;
    }
    double per_call = (now_seconds() - start) / (double) calls;
    long calls_per_round = (long) (ROUND_SECONDS / per_call);
    if (calls_per_round < 1) {
        calls_per_round = 1;
    }
    double means[ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {
        double begin = now_seconds();
        for (long i = 0; i < calls_per_round; i++) {
            function(w);
        }
        means[r] = (now_seconds() - begin) / (double) calls_per_round;
    }
    qsort(means, ROUNDS, sizeof means[0], compare_doubles);
    return (timing) {means[ROUNDS / 2], means[0], means[ROUNDS - 1], calls_per_round};
}

/* Uniform floats in [-1, 1) from a 64-bit linear congruential generator (Knuth's MMIX constants). */
static void fill_uniform(float *x, int64_t count, uint64_t seed) {
    uint64_t state = seed;
    for (int64_t i = 0; i < count; i++) {
        state = state * 6364136223846793005ULL + 1442695040888963407ULL;
        x[i] = (float) ((double) (state >> 40) / (double) (1ULL << 24) * 2.0 - 1.0);
    }
}

static float *allocate_floats(int64_t count) {
    float *x = aligned_alloc(64, (size_t) ((count * 4 + 63) / 64 * 64));
    if (x == NULL) {
        fprintf(stderr, "matmul_bench: failed to allocate %lld floats\n", (long long) count);
        exit(2);
    }
    return x;
}

/* Returns max|C_kiln - C_openblas| / max|C_openblas| over the four transpose combinations. */
static double max_relative_error(int64_t n, const float *a, const float *b, float *c_kiln, float *c_openblas) {
    double worst = 0.0;
    for (int transpose_a = 0; transpose_a <= 1; transpose_a++) {
        for (int transpose_b = 0; transpose_b <= 1; transpose_b++) {
            kiln_matmul(n, n, n, a, transpose_a, b, transpose_b, c_kiln);
            cblas_sgemm(CblasRowMajor, transpose_a ? CblasTrans : CblasNoTrans, transpose_b ? CblasTrans : CblasNoTrans,
                        (int) n, (int) n, (int) n, 1.0f, a, (int) n, b, (int) n, 0.0f, c_openblas, (int) n);
            double largest = 0.0;
            double difference = 0.0;
            for (int64_t i = 0; i < n * n; i++) {
                double magnitude = fabs((double) c_openblas[i]);
                double delta = fabs((double) c_kiln[i] - (double) c_openblas[i]);
                largest = magnitude > largest ? magnitude : largest;
                difference = delta > difference ? delta : difference;
            }
            double relative = difference / largest;
            worst = relative > worst ? relative : worst;
        }
    }
    return worst;
}

static void print_timing(const char *engine, int64_t n, timing t, int last) {
    double flops = 2.0 * (double) n * (double) n * (double) n;
    printf("  {\"engine\": \"%s\", \"size\": %lld, \"seconds_per_call\": %.9e, \"min_seconds_per_call\": %.9e, "
           "\"max_seconds_per_call\": %.9e, \"calls_per_round\": %ld, \"rounds\": %d, \"gflops\": %.3f}%s\n",
           engine, (long long) n, t.median, t.min, t.max, t.calls_per_round, ROUNDS, flops / t.median * 1e-9,
           last ? "" : ",");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: OPENBLAS_NUM_THREADS=T %s SIZE [SIZE...]\n", argv[0]);
        return 2;
    }
    int64_t sizes[16];
    int count = argc - 1;
    if (count > 16) {
        fprintf(stderr, "matmul_bench: at most 16 sizes, got %d\n", count);
        return 2;
    }
    for (int s = 0; s < count; s++) {
        char *end;
        long value = strtol(argv[s + 1], &end, 10);
        if (*end != '\0' || value < 1 || value > 8192) {
            fprintf(stderr, "matmul_bench: size '%s' is not an integer in [1, 8192]\n", argv[s + 1]);
            return 2;
        }
        sizes[s] = value;
    }

    workload w = {0};
    float *triad_a = allocate_floats(TRIAD_LENGTH);
    float *triad_b = allocate_floats(TRIAD_LENGTH);
    float *triad_c = allocate_floats(TRIAD_LENGTH);
    fill_uniform(triad_a, TRIAD_LENGTH, 1);
    fill_uniform(triad_b, TRIAD_LENGTH, 2);
    fill_uniform(triad_c, TRIAD_LENGTH, 3);
    w.triad_a = triad_a;
    w.triad_b = triad_b;
    w.triad_c = triad_c;
    timing triad = time_calls(run_triad, &w);

    printf("{\"openblas_threads\": %d, \"openblas_config\": \"%s\", \"openblas_core\": \"%s\",\n",
           openblas_get_num_threads(), openblas_get_config(), openblas_get_corename());
    /* The triad reads two arrays and writes one: 12 bytes per element. The write-allocate read of the destination is not counted. */
    printf(" \"triad_bytes_per_second\": %.6e,\n", 12.0 * (double) TRIAD_LENGTH / triad.median);
    printf(" \"max_relative_error\": {");
    for (int s = 0; s < count; s++) {
        int64_t n = sizes[s];
        float *a = allocate_floats(n * n);
        float *b = allocate_floats(n * n);
        float *c_kiln = allocate_floats(n * n);
        float *c_openblas = allocate_floats(n * n);
        fill_uniform(a, n * n, 11);
        fill_uniform(b, n * n, 12);
        double error = max_relative_error(n, a, b, c_kiln, c_openblas);
        printf("\"%lld\": %.3e%s", (long long) n, error, s + 1 < count ? ", " : "");
        if (!(error <= MAX_RELATIVE_ERROR)) {
            printf("}}\n");
            fprintf(stderr, "matmul_bench: Kiln's matmul differs from cblas_sgemm at size %lld: "
                    "max relative error %.3e exceeds %.1e\n", (long long) n, error, MAX_RELATIVE_ERROR);
            return 1;
        }
        free(a);
        free(b);
        free(c_kiln);
        free(c_openblas);
    }
    printf("},\n \"results\": [\n");
    for (int s = 0; s < count; s++) {
        int64_t n = sizes[s];
        float *a = allocate_floats(n * n);
        float *b = allocate_floats(n * n);
        float *c = allocate_floats(n * n);
        fill_uniform(a, n * n, 11);
        fill_uniform(b, n * n, 12);
        w.n = n;
        w.a = a;
        w.b = b;
        w.c = c;
        print_timing("kiln", n, time_calls(run_kiln, &w), 0);
        print_timing("openblas", n, time_calls(run_openblas, &w), s + 1 == count);
        free(a);
        free(b);
        free(c);
    }
    printf(" ]}\n");
    free(triad_a);
    free(triad_b);
    free(triad_c);
    return 0;
}
