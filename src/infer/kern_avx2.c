/* kern_avx2.c - the kernels on 8-float AVX2 + FMA vectors, compiled with a
 * target attribute so the rest of the library stays baseline x86-64;
 * chosen at run time when the CPU has AVX2 and FMA. */
#include "infer_int.h"

#if defined(__x86_64__)
#include <immintrin.h>

#define VT __m256
#define VL 8
#define VLOAD(p) _mm256_loadu_ps(p)
#define VSTORE(p, v) _mm256_storeu_ps((p), (v))
#define VSET1(x) _mm256_set1_ps(x)
#define VADD(a, b) _mm256_add_ps((a), (b))
#define VSUB(a, b) _mm256_sub_ps((a), (b))
#define VMUL(a, b) _mm256_mul_ps((a), (b))
#define VDIV(a, b) _mm256_div_ps((a), (b))
#define VMAX(a, b) _mm256_max_ps((a), (b))
#define VMIN(a, b) _mm256_min_ps((a), (b))
/* max that is NaN when either is (max_ps gives b when either is NaN) */
#define VMAXN(a, b)                                                                                \
    _mm256_blendv_ps(_mm256_max_ps((a), (b)), (a), _mm256_cmp_ps((a), (a), _CMP_UNORD_Q))
#define VFMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define VROUND(a) _mm256_round_ps((a), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define VSCALE2(p, n)                                                                              \
    _mm256_mul_ps((p), _mm256_castsi256_ps(_mm256_slli_epi32(                                      \
                           _mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23)))
#define KTARGET __attribute__((target("avx2,fma")))
#define KFN(name) name##_avx2
#define VEVEN(a, b)                                                                                \
    _mm256_castpd_ps(_mm256_permute4x64_pd(                                                        \
        _mm256_castps_pd(_mm256_shuffle_ps((a), (b), _MM_SHUFFLE(2, 0, 2, 0))), 0xD8))
#define VODD(a, b)                                                                                 \
    _mm256_castpd_ps(_mm256_permute4x64_pd(                                                        \
        _mm256_castps_pd(_mm256_shuffle_ps((a), (b), _MM_SHUFFLE(3, 1, 3, 1))), 0xD8))
#define VZIPLO(a, b)                                                                               \
    _mm256_permute2f128_ps(_mm256_unpacklo_ps((a), (b)), _mm256_unpackhi_ps((a), (b)), 0x20)
#define VZIPHI(a, b)                                                                               \
    _mm256_permute2f128_ps(_mm256_unpacklo_ps((a), (b)), _mm256_unpackhi_ps((a), (b)), 0x31)
#define GEMM_MR 4
#define GEMM_NV 3
#include "kern_tmpl.h"

const eoi_kernels eoi_kernels_avx2 = KTABLE("avx2");
#else
const eoi_kernels eoi_kernels_avx2 = {0};
#endif
