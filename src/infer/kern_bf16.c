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
#include <immintrin.h>

#define BTARGET __attribute__((target("avx512f,avx512bf16")))
#define NV 3 /* 48 columns: the AVX-512 table's gemm_nr */
#define MR 8

/* The 16 pairs (b0[j], b1[j]) of two rows of 16 floats, as 32 bfloat16. */
BTARGET static inline __m512bh pairs(__m512 b0, __m512 b1) {
    const __m512i ilo = _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
    const __m512i ihi =
        _mm512_set_epi32(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8);
    return _mm512_cvtne2ps_pbh(_mm512_permutex2var_ps(b0, ihi, b1),
                               _mm512_permutex2var_ps(b0, ilo, b1));
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
#else
eoi_gemm_fn eoi_bf16_gemm(void) { return NULL; }
eoi_gemm_fn eoi_bf16_gemm_packed(void) { return NULL; }
void eoi_bf16_pack_b(float *dst, const float *b, int64_t ldb, int64_t kc) {
    (void)dst, (void)b, (void)ldb, (void)kc;
}
#endif
