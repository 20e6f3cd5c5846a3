/* kern_bf16.c - the BF16 GEMM micro-kernel (AVX512_BF16 vdpbf16ps: pairs of
 * bfloat16 products summed into FP32), used for the convolutions of a model
 * loaded with precision "bf16" on a CPU that has it. Same tile and the same
 * contract as the AVX-512 table's gemm (infer_int.h), except that a holds
 * weights packed by eoi_bf16_pack_panel: for each pair of k, one 32-bit
 * word per row (k even in the low half, k + 1 in the high half) in the slot
 * of the even k; kc may be odd (the missing k + 1 weight is zero). */
#include "infer_int.h"

#include <string.h>

static uint16_t to_bf16(float f) { /* round to nearest even; NaN stays NaN */
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7f800000u) == 0x7f800000u && (u & 0x7fffffu))
        return (uint16_t)((u >> 16) | 0x40);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

void eoi_bf16_pack_panel(float *a, int64_t kdim) {
    for (int64_t k = 0; k < kdim; k += 2)
        for (int r = 0; r < EOI_GEMM_MRP; r++) {
            float lo = a[k * EOI_GEMM_MRP + r];
            float hi = k + 1 < kdim ? a[(k + 1) * EOI_GEMM_MRP + r] : 0.0f;
            uint32_t w = (uint32_t)to_bf16(lo) | (uint32_t)to_bf16(hi) << 16;
            memcpy(&a[k * EOI_GEMM_MRP + r], &w, 4);
            if (k + 1 < kdim)
                a[(k + 1) * EOI_GEMM_MRP + r] = 0.0f;
        }
}

#if defined(__x86_64__)
#include <cpuid.h>
#include <immintrin.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#define BTARGET __attribute__((target("avx512f,avx512bf16")))
#define NV 3 /* 48 columns: the AVX-512 table's gemm_nr */
#define MR 8

/* a0 b0 a1 b1 ... of the low (zip_lo) or high (zip_hi) 8 floats of a and b. */
__attribute__((target("avx512f"))) static inline __m512 zip_lo(__m512 a, __m512 b) {
    return _mm512_permutex2var_ps(
        a, _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0), b);
}

__attribute__((target("avx512f"))) static inline __m512 zip_hi(__m512 a, __m512 b) {
    return _mm512_permutex2var_ps(
        a, _mm512_set_epi32(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8), b);
}

/* The 16 pairs (b0[j], b1[j]) of two rows of 16 floats, as 32 bfloat16. */
BTARGET static inline __m512bh pairs(__m512 b0, __m512 b1) {
    return _mm512_cvtne2ps_pbh(zip_hi(b0, b1), zip_lo(b0, b1));
}

BTARGET static inline void gemm_body(int64_t kc, const float *a, const float *b, int64_t ldb,
                                     float *c, int64_t ldc, const float *bias, int32_t flags,
                                     const eoi_act *act, int packed) {
    __m512 acc[MR][NV];
    for (int r = 0; r < MR; r++)
        for (int v = 0; v < NV; v++)
            acc[r][v] = (flags & EOI_GEMM_ACC) ? _mm512_loadu_ps(c + r * ldc + v * 16)
                                               : _mm512_set1_ps(bias[r]);
    for (int64_t k = 0; k < kc; k += 2, a += 2 * EOI_GEMM_MRP) {
        __m512bh bv[NV];
        for (int v = 0; v < NV; v++) {
            if (packed) {
                bv[v] = (__m512bh)_mm512_loadu_ps(b + v * 16);
            } else {
                __m512 b1 = k + 1 < kc ? _mm512_loadu_ps(b + ldb + v * 16) : _mm512_setzero_ps();
                bv[v] = pairs(_mm512_loadu_ps(b + v * 16), b1);
            }
        }
        b += packed ? ldb : 2 * ldb;
        for (int r = 0; r < MR; r++) {
            int32_t w;
            memcpy(&w, a + r, 4);
            __m512bh av = (__m512bh)_mm512_set1_epi32(w);
            for (int v = 0; v < NV; v++)
                acc[r][v] = _mm512_dpbf16_ps(acc[r][v], bv[v], av);
        }
    }
    for (int r = 0; r < MR; r++)
        for (int v = 0; v < NV; v++)
            _mm512_storeu_ps(c + r * ldc + v * 16, acc[r][v]);
    if (flags & EOI_GEMM_ACT)
        for (int r = 0; r < MR; r++)
            eoi_kernels_avx512.act(c + r * ldc, NV * 16, 0.0f, act);
}

BTARGET static void gemm_bf16(int64_t kc, const float *a, const float *b, int64_t ldb, float *c,
                              int64_t ldc, const float *bias, int32_t flags, const eoi_act *act) {
    gemm_body(kc, a, b, ldb, c, ldc, bias, flags, act, 0);
}

BTARGET static void gemm_bf16_packed(int64_t kc, const float *a, const float *b, int64_t ldb,
                                     float *c, int64_t ldc, const float *bias, int32_t flags,
                                     const eoi_act *act) {
    gemm_body(kc, a, b, ldb, c, ldc, bias, flags, act, 1);
}

/* dst may be b (row p of pairs is written after rows 2p and 2p + 1 are read). */
BTARGET void eoi_bf16_pack_b(float *dst, const float *b, int64_t ldb, int64_t kc) {
    for (int64_t k = 0; k < kc; k += 2, b += 2 * ldb, dst += NV * 16)
        for (int v = 0; v < NV; v++) {
            __m512 b1 = k + 1 < kc ? _mm512_loadu_ps(b + ldb + v * 16) : _mm512_setzero_ps();
            _mm512_storeu_ps(dst + v * 16, (__m512)pairs(_mm512_loadu_ps(b + v * 16), b1));
        }
}

static int have_bf16(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bf16");
}

eoi_gemm_fn eoi_bf16_gemm_packed(void) { return have_bf16() ? gemm_bf16_packed : NULL; }

eoi_gemm_fn eoi_bf16_gemm(void) { return have_bf16() ? gemm_bf16 : NULL; }

/* ---- AMX ------------------------------------------------------------------
 * The same products on the CPU's tile unit (AMX-BF16 tdpbf16ps: a 16 x 32
 * bfloat16 tile times a 32 x 16 one in pairs, summed into 16 x 16 FP32),
 * an 8 x 48 block of c as three 8 x 16 tiles. Weights are packed by
 * eoi_amx_pack_panel: each whole group of 32 k as an 8 x 32 bfloat16 tile,
 * row-major, at float 256 * group of the panel (the panel's first half of
 * those 256 floats); a last group of t < 32 k as 8 rows of t, row-major, at
 * the same place. b is in pairs as for the packed BF16 kernel, rows ldb
 * floats apart.
 * Tile registers: 0-2 c, 3 a, 4-6 b. Each thread that runs the kernel loads
 * the configuration once and keeps it (eoproc's threads, and a caller's
 * thread that runs a model: a host that also uses AMX tiles on that thread
 * must reload its own configuration after a run). */
#define ATARGET __attribute__((target("avx512f,avx512bf16,amx-tile,amx-bf16")))
/* GCC's tile load and store intrinsics are asm statements that do not tell
 * the compiler they read or write memory: stores into a buffer about to be
 * loaded, and reads of c after it is stored, must not move across them. */
#define MEMORY_BARRIER() __asm__ __volatile__("" ::: "memory")

struct tilecfg {
    uint8_t palette, start_row, reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
};

/* Configuration 1: the GEMM kernel's (c and a 8 rows); 2: the direct
 * convolution's (every tile 16 rows). Each thread loads the one it needs. */
/* Which configuration this thread loaded last, in a pthread key: the
 * library keeps no ELF thread-local storage (it is loaded with dlopen by
 * Python and servers). */
static pthread_key_t cfg_key;
static pthread_once_t cfg_once = PTHREAD_ONCE_INIT;
static int cfg_key_ok;

static void cfg_key_make(void) { cfg_key_ok = pthread_key_create(&cfg_key, NULL) == 0; }

ATARGET static void amx_config(int id) {
    pthread_once(&cfg_once, cfg_key_make);
    if (cfg_key_ok && (intptr_t)pthread_getspecific(cfg_key) == id)
        return;
    struct tilecfg cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.palette = 1;
    for (int t = 0; t < 8; t++) {
        cfg.rows[t] = id == 1 ? (t < 4 ? MR : t < 7 ? 16 : 0) : 16;
        cfg.colsb[t] = cfg.rows[t] ? 64 : 0;
    }
    MEMORY_BARRIER();
    _tile_loadconfig(&cfg);
    if (cfg_key_ok)
        (void)pthread_setspecific(cfg_key, (void *)(intptr_t)id);
}

ATARGET static void gemm_amx(int64_t kc, const float *a, const float *b, int64_t ldb, float *c,
                             int64_t ldc, const float *bias, int32_t flags, const eoi_act *act) {
    amx_config(1);
    int64_t sb = ldb * (int64_t)sizeof(float), sc = ldc * (int64_t)sizeof(float);
    if (flags & EOI_GEMM_ACC) {
        _tile_loadd(0, c, sc);
        _tile_loadd(1, c + 16, sc);
        _tile_loadd(2, c + 32, sc);
    } else {
        float init[MR * 16] __attribute__((aligned(64)));
        for (int r = 0; r < MR; r++)
            _mm512_store_ps(init + r * 16, _mm512_set1_ps(bias[r]));
        MEMORY_BARRIER();
        _tile_loadd(0, init, 64);
        _tile_loadd(1, init, 64);
        _tile_loadd(2, init, 64);
    }
    int64_t full = kc & ~(int64_t)31;
    for (int64_t k = 0; k < full; k += 32, b += 16 * ldb) {
        _tile_loadd(3, a + k * EOI_GEMM_MRP, 64);
        _tile_loadd(4, b, sb);
        _tile_loadd(5, b + 16, sb);
        _tile_loadd(6, b + 32, sb);
        _tile_dpbf16ps(0, 3, 4);
        _tile_dpbf16ps(1, 3, 5);
        _tile_dpbf16ps(2, 3, 6);
    }
    int64_t t = kc - full;
    if (t) { /* the last group through zero-padded copies: padding must be 0, not stale data */
        uint16_t at[MR * 32] __attribute__((aligned(64)));
        float bt[16 * 48] __attribute__((aligned(64)));
        const uint16_t *src = (const uint16_t *)(a + full * EOI_GEMM_MRP);
        memset(at, 0, sizeof at);
        for (int r = 0; r < MR; r++)
            memcpy(at + r * 32, src + r * t, (size_t)t * sizeof(uint16_t));
        int64_t prow = (t + 1) / 2;
        for (int64_t p = 0; p < 16; p++)
            for (int v = 0; v < NV; v++)
                _mm512_store_ps(bt + p * 48 + v * 16, p < prow
                                                          ? _mm512_loadu_ps(b + p * ldb + v * 16)
                                                          : _mm512_setzero_ps());
        MEMORY_BARRIER();
        _tile_loadd(3, at, 64);
        _tile_loadd(4, bt, 192);
        _tile_loadd(5, bt + 16, 192);
        _tile_loadd(6, bt + 32, 192);
        _tile_dpbf16ps(0, 3, 4);
        _tile_dpbf16ps(1, 3, 5);
        _tile_dpbf16ps(2, 3, 6);
    }
    _tile_stored(0, c, sc);
    _tile_stored(1, c + 16, sc);
    _tile_stored(2, c + 32, sc);
    MEMORY_BARRIER();
    if (flags & EOI_GEMM_ACT)
        for (int r = 0; r < MR; r++)
            eoi_kernels_avx512.act(c + r * ldc, NV * 16, 0.0f, act);
}

/* ---- direct convolution on AMX tiles ----------------------------------------
 * Stride 1, any kernel size and dilation, one group: out[o][oy][ox] =
 * act(bias[o] + sum_(ky, kx, c) w[o][c][ky][kx] * x[c][oy + ky dh][ox + kx dw])
 * over the zero-padded input, without im2col: the input is converted once to
 * bfloat16 pairs of channels, row by row as the rows are needed (conv.c keeps
 * the last few in a ring; eoi_bf16_pair_rows; each padded row holds every
 * pair's run of pixels, one after the other), so that 16 pairs of channels of
 * 16 neighbouring pixels are a B tile (one row per pair, a run apart); the
 * weights are A tiles of 16 outputs x 32
 * channels per tap (eoi_amx_pack_conv). One call makes one output row of 32
 * channels, 32 pixels at a time in four accumulators: 4 tile loads per 4
 * products. */
ATARGET void eoi_amx_conv_row(const eoi_amx_conv *p, const uint32_t *const *rows, int64_t oy,
                              int64_t ob2) {
    amx_config(2);
    int64_t kk = p->kh * p->kw, ng = p->cp / 32, ohw = p->oh * p->ow;
    int64_t sb = p->wp * 4, o0 = ob2 * 32, mv = p->m - o0 < 32 ? p->m - o0 : 32;
    const uint16_t *w0 = p->w + 2 * ob2 * kk * ng * 512, *w1 = w0 + kk * ng * 512;
    float bt[2][16 * 16] __attribute__((aligned(64)));
    float cb[32 * 32] __attribute__((aligned(64)));
    for (int h = 0; h < 2; h++)
        for (int r = 0; r < 16; r++)
            _mm512_store_ps(bt[h] + r * 16, _mm512_set1_ps(p->bias[o0 + h * 16 + r]));
    MEMORY_BARRIER();
    float *orow = p->out + o0 * ohw + oy * p->ow;
    for (int64_t ox = 0; ox < p->ow; ox += 32) {
        _tile_loadd(0, bt[0], 64);
        _tile_loadd(1, bt[0], 64);
        _tile_loadd(2, bt[1], 64);
        _tile_loadd(3, bt[1], 64);
        for (int64_t t = 0; t < kk; t++) {
            const uint32_t *b = rows[t / p->kw] + ox + t % p->kw * p->dw;
            const uint16_t *a0 = w0 + t * ng * 512, *a1 = w1 + t * ng * 512;
            for (int64_t g = 0; g < ng; g++, b += 16 * p->wp) {
                _tile_loadd(4, a0 + g * 512, 64);
                _tile_loadd(5, a1 + g * 512, 64);
                _tile_loadd(6, b, sb);
                _tile_loadd(7, b + 16, sb);
                _tile_dpbf16ps(0, 4, 6);
                _tile_dpbf16ps(1, 4, 7);
                _tile_dpbf16ps(2, 5, 6);
                _tile_dpbf16ps(3, 5, 7);
            }
        }
        int64_t nv = p->ow - ox < 32 ? p->ow - ox : 32;
        /* through L1, activated there: the output is written once */
        _tile_stored(0, cb, 128);
        _tile_stored(1, cb + 16, 128);
        _tile_stored(2, cb + 16 * 32, 128);
        _tile_stored(3, cb + 16 * 32 + 16, 128);
        MEMORY_BARRIER();
        if (p->act->kind != EOI_ACT_NONE)
            eoi_kernels_avx512.act(cb, (size_t)mv * 32, 0.0f, p->act);
        if (nv == 32)
            for (int64_t r = 0; r < mv; r++) {
                _mm512_storeu_ps(orow + r * ohw + ox, _mm512_load_ps(cb + r * 32));
                _mm512_storeu_ps(orow + r * ohw + ox + 16, _mm512_load_ps(cb + r * 32 + 16));
            }
        else
            for (int64_t r = 0; r < mv; r++)
                memcpy(orow + r * ohw + ox, cb + r * 32, (size_t)nv * sizeof(float));
    }
}

/* dst[i] = the pair (r0[i], r1[i]) in bfloat16, r0 in the low half; r1 NULL: 0. */
BTARGET void eoi_bf16_pair_rows(uint32_t *dst, const float *r0, const float *r1, int64_t n) {
    int64_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512 b1 = r1 ? _mm512_loadu_ps(r1 + i) : _mm512_setzero_ps();
        _mm512_storeu_ps((float *)(dst + i), (__m512)pairs(_mm512_loadu_ps(r0 + i), b1));
    }
    for (; i < n; i++)
        dst[i] = (uint32_t)to_bf16(r0[i]) | (uint32_t)(r1 ? to_bf16(r1[i]) : 0) << 16;
}

void eoi_amx_pack_conv(uint16_t *dst, const float *w, int64_t m, int64_t c, int64_t kk, int64_t so,
                       int64_t sc) {
    int64_t mp = (m + 31) / 32 * 32, cp = (c + 31) / 32 * 32;
    for (int64_t ob = 0; ob < mp / 16; ob++)
        for (int64_t t = 0; t < kk; t++)
            for (int64_t g = 0; g < cp / 32; g++, dst += 512)
                for (int64_t r = 0; r < 16; r++)
                    for (int64_t k = 0; k < 32; k++) {
                        int64_t o = ob * 16 + r, ci = g * 32 + k;
                        dst[r * 32 + k] = o < m && ci < c ? to_bf16(w[o * so + ci * sc + t]) : 0;
                    }
}

void eoi_amx_pack_panel(float *a, int64_t kdim) {
    float grp[32 * EOI_GEMM_MRP];
    for (int64_t k0 = 0; k0 < kdim; k0 += 32) {
        int64_t t = kdim - k0 < 32 ? kdim - k0 : 32;
        float *p = a + k0 * EOI_GEMM_MRP;
        memcpy(grp, p, (size_t)(t * EOI_GEMM_MRP) * sizeof(float));
        memset(p, 0, (size_t)(t * EOI_GEMM_MRP) * sizeof(float));
        uint16_t *d = (uint16_t *)p;
        for (int r = 0; r < EOI_GEMM_MRP; r++)
            for (int64_t k = 0; k < t; k++)
                d[r * t + k] = to_bf16(grp[k * EOI_GEMM_MRP + r]);
    }
}

/* AMX needs the kernel's leave to use the tile data state (Linux 5.16 and
 * later: arch_prctl ARCH_REQ_XCOMP_PERM for XFEATURE_XTILEDATA), asked once
 * for the process; without it the first tile instruction would fault. */
#define ARCH_REQ_XCOMP_PERM 0x1023
#define XFEATURE_XTILEDATA 18
static pthread_once_t amx_once = PTHREAD_ONCE_INIT;
static int amx_ok;

static void amx_probe(void) {
    unsigned eax, ebx, ecx, edx;
    if (!have_bf16() || !__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx))
        return;
    if (!(edx & (1u << 22)) || !(edx & (1u << 24))) /* AMX-BF16, AMX-TILE */
        return;
    amx_ok = syscall(SYS_arch_prctl, ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA) == 0;
}

eoi_gemm_fn eoi_amx_gemm_packed(void) {
    pthread_once(&amx_once, amx_probe);
    return amx_ok ? gemm_amx : NULL;
}
#else
eoi_gemm_fn eoi_bf16_gemm(void) { return NULL; }
eoi_gemm_fn eoi_bf16_gemm_packed(void) { return NULL; }
eoi_gemm_fn eoi_amx_gemm_packed(void) { return NULL; }
void eoi_bf16_pack_b(float *dst, const float *b, int64_t ldb, int64_t kc) {
    (void)dst, (void)b, (void)ldb, (void)kc;
}
void eoi_amx_pack_panel(float *a, int64_t kdim) { (void)a, (void)kdim; }
void eoi_amx_conv_row(const eoi_amx_conv *p, const uint32_t *const *rows, int64_t oy, int64_t ob2) {
    (void)p, (void)rows, (void)oy, (void)ob2;
}
void eoi_bf16_pair_rows(uint32_t *dst, const float *r0, const float *r1, int64_t n) {
    (void)dst, (void)r0, (void)r1, (void)n;
}
void eoi_amx_pack_conv(uint16_t *dst, const float *w, int64_t m, int64_t c, int64_t kk, int64_t so,
                       int64_t sc) {
    (void)dst, (void)w, (void)m, (void)c, (void)kk, (void)so, (void)sc;
}
#endif
