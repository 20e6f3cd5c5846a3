/* sgemm.c - OpenBLAS sgemm GFLOP/s on an N x N x N product (median of
 * RUNS), the reference ceiling for bench/infer.sh.  sgemm N RUNS */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 2048, runs = argc > 2 ? atoi(argv[2]) : 5;
    float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n),
          *c = malloc(sizeof(float) * n * n);
    double t[64];
    if (!a || !b || !c || runs < 1 || runs > 64)
        return 1;
    for (long i = 0; i < (long)n * n; i++) {
        a[i] = (float)(i % 7) * 0.1f;
        b[i] = (float)(i % 5) * 0.2f;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
    for (int r = 0; r < runs; r++) {
        double t0 = now();
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
        t[r] = now() - t0;
    }
    qsort(t, runs, sizeof *t, cmp);
    printf("sgemm %d: %.1f GFLOP/s (core %s, %d threads)\n", n, 2.0 * n * n * n / t[runs / 2] / 1e9,
           openblas_get_corename(), openblas_get_num_threads());
    free(a);
    free(b);
    free(c);
    return 0;
}
