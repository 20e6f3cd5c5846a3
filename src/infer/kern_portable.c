/* kern_portable.c - the kernels in plain C (one float per "vector"): the
 * path every CPU runs, forced with EOPROC_SIMD=portable. Also picks the
 * table in use at run time. */
#include "infer_int.h"

#include <math.h>

#include <string.h>

#define VT float
#define VL 1
#define VLOAD(p) (*(p))
#define VSTORE(p, v) (*(p) = (v))
#define VSET1(x) (x)
#define VADD(a, b) ((a) + (b))
#define VSUB(a, b) ((a) - (b))
#define VMUL(a, b) ((a) * (b))
#define VDIV(a, b) ((a) / (b))
#define VMAX(a, b) ((a) > (b) ? (a) : (b))
#define VMIN(a, b) ((a) < (b) ? (a) : (b))
/* max that is NaN when either is */
#define VMAXN(a, b) ((a) != (a) || (a) >= (b) ? (a) : (b))
#define VFMA(a, b, c) ((a) * (b) + (c))
#define VROUND(a) nearbyintf(a)
#define VSCALE2(p, n) ldexpf((p), (int)(n))
#define KTARGET
#define KFN(name) name##_portable
#define VEVEN(a, b) (a)
#define VODD(a, b) (b)
#define VZIPLO(a, b) (a)
#define VZIPHI(a, b) (b)
#define GEMM_MR 4
#define GEMM_NV 16
#include "kern_tmpl.h"

const eoi_kernels eoi_kernels_portable = KTABLE("portable");

static _Atomic(const eoi_kernels *) forced;

static const eoi_kernels *pick(void) {
    const char *p = eoi_simd_path();
#if defined(__x86_64__)
    if (strcmp(p, "avx512") == 0)
        return &eoi_kernels_avx512;
    if (strcmp(p, "avx2") == 0)
        return &eoi_kernels_avx2;
#endif
    (void)p;
    return &eoi_kernels_portable;
}

const eoi_kernels *eoi_kernels_get(void) {
    const eoi_kernels *k = atomic_load(&forced);
    if (k)
        return k;
    k = pick();
    return k;
}

int32_t eo_exp_force_kernels(const char *name) {
    if (!name) {
        atomic_store(&forced, NULL);
        return 1;
    }
    const eoi_kernels *k = NULL;
    if (strcmp(name, "portable") == 0)
        k = &eoi_kernels_portable;
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (strcmp(name, "avx2") == 0 && __builtin_cpu_supports("avx2") &&
        __builtin_cpu_supports("fma"))
        k = &eoi_kernels_avx2;
    if (strcmp(name, "avx512") == 0 && __builtin_cpu_supports("avx512f"))
        k = &eoi_kernels_avx512;
#endif
    if (!k)
        return 0;
    atomic_store(&forced, k);
    return 1;
}
