/* kern_avx512.c - the kernels on 16-float AVX-512F vectors (target
 * attribute; chosen at run time when the CPU has AVX-512). */
#include "infer_int.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define VT __m512
#define VL 16
#define VLOAD(p) _mm512_loadu_ps(p)
#define VSTORE(p, v) _mm512_storeu_ps((p), (v))
#define VSET1(x) _mm512_set1_ps(x)
#define VADD(a, b) _mm512_add_ps((a), (b))
#define VSUB(a, b) _mm512_sub_ps((a), (b))
#define VMUL(a, b) _mm512_mul_ps((a), (b))
#define VDIV(a, b) _mm512_div_ps((a), (b))
#define VMAX(a, b) _mm512_max_ps((a), (b))
#define VMIN(a, b) _mm512_min_ps((a), (b))
/* max that is NaN when either is (max_ps gives b when either is NaN) */
#define VMAXN(a, b)                                                                                \
    _mm512_mask_blend_ps(_mm512_cmp_ps_mask((a), (a), _CMP_UNORD_Q), _mm512_max_ps((a), (b)), (a))
#define VFMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define VROUND(a) _mm512_roundscale_ps((a), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define VSCALE2(p, n) _mm512_scalef_ps((p), (n))
#define KTARGET __attribute__((target("avx512f")))
#define KFN(name) name##_avx512
#define VEVEN(a, b)                                                                                \
    _mm512_permutex2var_ps(                                                                        \
        (a), _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0), (b))
#define VODD(a, b)                                                                                 \
    _mm512_permutex2var_ps(                                                                        \
        (a), _mm512_set_epi32(31, 29, 27, 25, 23, 21, 19, 17, 15, 13, 11, 9, 7, 5, 3, 1), (b))
#define VZIPLO(a, b)                                                                               \
    _mm512_permutex2var_ps(                                                                        \
        (a), _mm512_set_epi32(23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1, 16, 0), (b))
#define VZIPHI(a, b)                                                                               \
    _mm512_permutex2var_ps(                                                                        \
        (a), _mm512_set_epi32(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8), (b))
#define GEMM_MR 8
#define GEMM_NV 3
#include "kern_tmpl.h"

const eoi_kernels eoi_kernels_avx512 = KTABLE("avx512");
#else
const eoi_kernels eoi_kernels_avx512 = {0};
#endif
