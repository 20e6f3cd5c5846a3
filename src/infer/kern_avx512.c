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
#define VFMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define KTARGET __attribute__((target("avx512f")))
#define KFN(name) name##_avx512
#include "kern_tmpl.h"

const eoi_kernels eoi_kernels_avx512 = KTABLE("avx512");
#else
const eoi_kernels eoi_kernels_avx512 = {0};
#endif
