/* peak.c - this CPU's FP32 and BF16 multiply-add peaks, GFLOP/s on THREADS
 * threads: 12 independent chains of 512-bit FMA (vfmadd231ps, 32 flop
 * each) and of AVX512_BF16 vdpbf16ps (64 flop each), and 4 independent
 * accumulators of AMX-BF16 tdpbf16ps (16 x 16 x 32 products, 16384 flop
 * each) on tiles held in registers: the ceilings beside which
 * bench/infer.sh prints eoproc's achieved rate.   peak [THREADS] */
#include <cpuid.h>
#include <immintrin.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define CHAINS 12
#define ITERS 20000000L

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

static volatile float sink;

__attribute__((target("avx512f"))) static void *fp32(void *arg) {
    (void)arg;
    __m512 acc[CHAINS], a = _mm512_set1_ps(0.999f), b = _mm512_set1_ps(1e-6f);
    for (int i = 0; i < CHAINS; i++)
        acc[i] = _mm512_set1_ps((float)i);
    for (long n = 0; n < ITERS; n++)
        for (int i = 0; i < CHAINS; i++)
            acc[i] = _mm512_fmadd_ps(acc[i], a, b);
    __m512 s = acc[0];
    for (int i = 1; i < CHAINS; i++)
        s = _mm512_add_ps(s, acc[i]);
    sink = _mm512_reduce_add_ps(s);
    return NULL;
}

__attribute__((target("avx512f,avx512bf16"))) static void *bf16(void *arg) {
    (void)arg;
    __m512 acc[CHAINS];
    __m512bh a = _mm512_cvtne2ps_pbh(_mm512_set1_ps(1e-3f), _mm512_set1_ps(2e-3f));
    for (int i = 0; i < CHAINS; i++)
        acc[i] = _mm512_set1_ps((float)i);
    for (long n = 0; n < ITERS; n++)
        for (int i = 0; i < CHAINS; i++)
            acc[i] = _mm512_dpbf16_ps(acc[i], a, a);
    __m512 s = acc[0];
    for (int i = 1; i < CHAINS; i++)
        s = _mm512_add_ps(s, acc[i]);
    sink = _mm512_reduce_add_ps(s);
    return NULL;
}

#define AMX_ITERS 2000000L

__attribute__((target("amx-tile,amx-bf16"))) static void *amx(void *arg) {
    (void)arg;
    struct {
        uint8_t palette, start, reserved[14];
        uint16_t colsb[16];
        uint8_t rows[16];
    } cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.palette = 1;
    for (int t = 0; t < 6; t++) {
        cfg.rows[t] = 16;
        cfg.colsb[t] = 64;
    }
    static const uint16_t one[16 * 32] = {0}; /* zeros: the rate does not depend on values */
    _tile_loadconfig(&cfg);
    _tile_loadd(4, one, 64);
    _tile_loadd(5, one, 64);
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    for (long n = 0; n < AMX_ITERS; n++) {
        _tile_dpbf16ps(0, 4, 5);
        _tile_dpbf16ps(1, 4, 5);
        _tile_dpbf16ps(2, 4, 5);
        _tile_dpbf16ps(3, 4, 5);
    }
    float out[256];
    _tile_stored(0, out, 64);
    sink = out[0];
    _tile_release();
    return NULL;
}

static int have_amx(void) {
    unsigned a, b, c, d;
    if (!__get_cpuid_count(7, 0, &a, &b, &c, &d) || !(d & (1u << 22)) || !(d & (1u << 24)))
        return 0;
    return syscall(SYS_arch_prctl, 0x1023 /* ARCH_REQ_XCOMP_PERM */, 18 /* XTILEDATA */) == 0;
}

static double rate(void *(*fn)(void *), int threads, double flop_per_op) {
    pthread_t t[64];
    double t0 = now();
    for (int i = 0; i < threads; i++)
        pthread_create(&t[i], NULL, fn, NULL);
    for (int i = 0; i < threads; i++)
        pthread_join(t[i], NULL);
    double ops = fn == amx ? (double)AMX_ITERS * 4 : (double)ITERS * CHAINS;
    return threads * ops * flop_per_op / (now() - t0) / 1e9;
}

int main(int argc, char **argv) {
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    if (threads < 1 || threads > 64)
        return 1;
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx512f")) {
        printf("peak_fp32 0 peak_bf16 0 peak_amx 0\n");
        return 0;
    }
    double f = rate(fp32, threads, 32.0);
    double b = __builtin_cpu_supports("avx512bf16") ? rate(bf16, threads, 64.0) : 0.0;
    double x = have_amx() ? rate(amx, threads, 16.0 * 16 * 32 * 2) : 0.0;
    printf("peak_fp32 %.1f peak_bf16 %.1f peak_amx %.1f\n", f, b, x);
    return 0;
}
