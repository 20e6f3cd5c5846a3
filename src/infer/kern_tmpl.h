/* kern_tmpl.h - the hot kernels, written once over a small vector
 * vocabulary and instantiated by kern_portable.c (scalar "vectors"),
 * kern_avx2.c (8 floats) and kern_avx512.c (16 floats). The including file
 * defines VT, VL, VLOAD, VSTORE, VSET1, VADD, VSUB, VMUL, VDIV, VMAX, VMIN,
 * VMAXN (a max that is NaN when either operand is),
 * VFMA (a * b + c), KTARGET (a target attribute or nothing) and KFN(name). */
#include <math.h>

/* e^v, |rel err| < 2e-7: v clamped to [-87.3, 88.3] (NaN kept), v = n ln 2 + r
 * with |r| <= ln2 / 2, e^r by its Taylor series to r^6, times 2^n. */
static inline KTARGET VT KFN(vexp1)(VT v) {
    v = VMIN(VSET1(88.3f), VMAX(VSET1(-87.3f), v));
    VT n = VROUND(VMUL(v, VSET1(1.44269504f)));
    VT r = VFMA(n, VSET1(-0.693145752f), v);
    r = VFMA(n, VSET1(-1.42860677e-06f), r);
    VT p = VSET1(1.0f / 720.0f);
    p = VFMA(p, r, VSET1(1.0f / 120.0f));
    p = VFMA(p, r, VSET1(1.0f / 24.0f));
    p = VFMA(p, r, VSET1(1.0f / 6.0f));
    p = VFMA(p, r, VSET1(0.5f));
    p = VFMA(p, r, VSET1(1.0f));
    p = VFMA(p, r, VSET1(1.0f));
    return VSCALE2(p, n);
}

KTARGET static inline VT KFN(vact)(VT v, int32_t kind, VT a, VT b) {
    VT zero = VSET1(0.0f), one = VSET1(1.0f);
    switch (kind) {
    /* x86 max/min return their second operand when either is NaN: v goes
     * second so that NaN propagates as in PyTorch and ONNX Runtime */
    case EOI_ACT_RELU:
        return VMAX(zero, v);
    case EOI_ACT_LEAKY: /* exact: max(v, 0) + a * min(v, 0) */
        return VFMA(a, VMIN(zero, v), VMAX(zero, v));
    case EOI_ACT_CLIP:
        return VMIN(b, VMAX(a, v));
    case EOI_ACT_HSIGMOID:
        return VMIN(one, VMAX(zero, VFMA(a, v, b)));
    case EOI_ACT_HSWISH:
        return VMUL(v, VMIN(one, VMAX(zero, VADD(VDIV(v, VSET1(6.0f)), VSET1(0.5f)))));
    case EOI_ACT_SIGMOID: /* 1 / (1 + e^-v): e^-v within 2e-7, clamped (no inf) */
        return VDIV(one, VADD(one, KFN(vexp1)(VSUB(zero, v))));
    default:
        return v;
    }
}

static int KFN(has_vact)(int32_t kind) {
    return kind == EOI_ACT_NONE || kind == EOI_ACT_RELU || kind == EOI_ACT_LEAKY ||
           kind == EOI_ACT_CLIP || kind == EOI_ACT_HSIGMOID || kind == EOI_ACT_HSWISH ||
           kind == EOI_ACT_SIGMOID;
}

KTARGET static void KFN(act)(float *x, size_t n, float bias, const eoi_act *a) {
    size_t i = 0;
    if (!KFN(has_vact)(a->kind)) {
        for (; i < n; i++) {
            float v = x[i] + bias;
            switch (a->kind) {
            case EOI_ACT_SIGMOID:
                v = 1.0f / (1.0f + expf(-v));
                break;
            case EOI_ACT_TANH:
                v = tanhf(v);
                break;
            case EOI_ACT_FLOOR:
                v = floorf(v);
                break;
            case EOI_ACT_CEIL:
                v = ceilf(v);
                break;
            default:
                break;
            }
            x[i] = v;
        }
        return;
    }
    VT vb = VSET1(bias), va = VSET1(a->a), vbb = VSET1(a->b);
    for (; i + VL <= n; i += VL)
        VSTORE(x + i, KFN(vact)(VADD(VLOAD(x + i), vb), a->kind, va, vbb));
    for (; i < n; i++)
        x[i] = eoi_act1(x[i] + bias, a);
}

#define KBIN_LOOP(EXPR_V, EXPR_S)                                                                  \
    do {                                                                                           \
        for (; i + VL <= n; i += VL) {                                                             \
            VT va = VLOAD(a + i), vb = LOADB(i);                                                   \
            VSTORE(o + i, EXPR_V);                                                                 \
        }                                                                                          \
        for (; i < n; i++) {                                                                       \
            float sa = a[i], sb = SB(i);                                                           \
            o[i] = EXPR_S;                                                                         \
        }                                                                                          \
    } while (0)

#define KBIN_ALL()                                                                                 \
    do {                                                                                           \
        switch (op) {                                                                              \
        case EOI_BIN_ADD:                                                                          \
            KBIN_LOOP(VADD(va, vb), sa + sb);                                                      \
            break;                                                                                 \
        case EOI_BIN_SUB:                                                                          \
            KBIN_LOOP(VSUB(va, vb), sa - sb);                                                      \
            break;                                                                                 \
        case EOI_BIN_MUL:                                                                          \
            KBIN_LOOP(VMUL(va, vb), sa *sb);                                                       \
            break;                                                                                 \
        case EOI_BIN_DIV:                                                                          \
            KBIN_LOOP(VDIV(va, vb), sa / sb);                                                      \
            break;                                                                                 \
        default: /* PRelu: max(a, 0) + b * min(a, 0) */                                            \
            KBIN_LOOP(VFMA(vb, VMIN(zero, va), VMAX(zero, va)), sa < 0.0f ? sa * sb : sa);         \
            break;                                                                                 \
        }                                                                                          \
    } while (0)

KTARGET static void KFN(binop)(float *o, const float *a, const float *b, size_t n, int32_t op) {
    size_t i = 0;
    VT zero = VSET1(0.0f);
#define LOADB(i) VLOAD(b + (i))
#define SB(i) b[i]
    KBIN_ALL();
#undef LOADB
#undef SB
}

KTARGET static void KFN(binop_s)(float *o, const float *a, float s, size_t n, int32_t op,
                                 int32_t swap) {
    size_t i = 0;
    VT zero = VSET1(0.0f), vs = VSET1(s);
#define LOADB(i) vs
#define SB(i) s
    if (!swap) {
        KBIN_ALL();
    } else { /* o = s op a: only Sub and Div are not symmetric */
        switch (op) {
        case EOI_BIN_SUB:
            for (; i + VL <= n; i += VL)
                VSTORE(o + i, VSUB(vs, VLOAD(a + i)));
            for (; i < n; i++)
                o[i] = s - a[i];
            break;
        case EOI_BIN_DIV:
            for (; i + VL <= n; i += VL)
                VSTORE(o + i, VDIV(vs, VLOAD(a + i)));
            for (; i < n; i++)
                o[i] = s / a[i];
            break;
        default:
            KBIN_ALL();
            break;
        }
    }
#undef LOADB
#undef SB
}

KTARGET static void KFN(dwconv)(float *out, const float *in, const float *w, float bias,
                                const eoi_dwgeom *g, const eoi_act *a) {
    VT vbias = VSET1(bias);
    for (int64_t oy = 0; oy < g->oh; oy++) {
        float *o = out + oy * g->ow;
        int64_t i = 0;
        for (; i + VL <= g->ow; i += VL)
            VSTORE(o + i, vbias);
        for (; i < g->ow; i++)
            o[i] = bias;
        for (int64_t ky = 0; ky < g->kh; ky++) {
            int64_t iy = oy * g->sh - g->ph + ky * g->dh;
            if (iy < 0 || iy >= g->ih)
                continue;
            const float *row = in + iy * g->iw;
            for (int64_t kx = 0; kx < g->kw; kx++) {
                float wt = w[ky * g->kw + kx];
                int64_t xoff = kx * g->dw - g->pw;
                int64_t lo = xoff >= 0 ? 0 : (-xoff + g->sw - 1) / g->sw;
                int64_t hi = g->iw - xoff <= 0 ? 0 : (g->iw - xoff + g->sw - 1) / g->sw;
                hi = hi > g->ow ? g->ow : hi;
                if (g->sw == 1) {
                    VT vw = VSET1(wt);
                    int64_t x = lo;
                    for (; x + VL <= hi; x += VL)
                        VSTORE(o + x, VFMA(vw, VLOAD(row + x + xoff), VLOAD(o + x)));
                    for (; x < hi; x++)
                        o[x] += wt * row[x + xoff];
                } else {
                    for (int64_t x = lo; x < hi; x++)
                        o[x] += wt * row[x * g->sw + xoff];
                }
            }
        }
        KFN(act)(o, (size_t)g->ow, 0.0f, a);
    }
}

KTARGET static void KFN(vmax)(float *o, const float *a, size_t n) {
    size_t i = 0;
    for (; i + VL <= n; i += VL)
        VSTORE(o + i, VMAXN(VLOAD(o + i), VLOAD(a + i)));
    for (; i < n; i++) /* NaN wins, as in PyTorch's max_pool2d */
        o[i] = o[i] != o[i] || o[i] >= a[i] ? o[i] : a[i];
}

/* o[i] = max(a[2i], a[2i + 1]), NaN winning: a 2-wide, stride-2 max pool's
 * horizontal pass. */
KTARGET static void KFN(pmax2)(float *o, const float *a, size_t n) {
    size_t i = 0;
    for (; i + VL <= n; i += VL) {
        VT lo = VLOAD(a + 2 * i), hi = VLOAD(a + 2 * i + VL);
        VSTORE(o + i, VMAXN(VEVEN(lo, hi), VODD(lo, hi)));
    }
    for (; i < n; i++)
        o[i] = a[2 * i] != a[2 * i] || a[2 * i] >= a[2 * i + 1] ? a[2 * i] : a[2 * i + 1];
}

KTARGET static void KFN(vadd)(float *o, const float *a, size_t n) {
    size_t i = 0;
    for (; i + VL <= n; i += VL)
        VSTORE(o + i, VADD(VLOAD(o + i), VLOAD(a + i)));
    for (; i < n; i++)
        o[i] += a[i];
}

KTARGET static void KFN(lerp)(float *o, const float *a, const float *b, float w, size_t n) {
    size_t i = 0;
    VT vw = VSET1(w);
    for (; i + VL <= n; i += VL) {
        VT va = VLOAD(a + i);
        VSTORE(o + i, VFMA(vw, VSUB(VLOAD(b + i), va), va));
    }
    for (; i < n; i++)
        o[i] = a[i] + w * (b[i] - a[i]);
}

/* The GEMM micro-kernel: a GEMM_MR x (GEMM_NV * VL) tile of C, all of it in
 * registers through the k loop (the unrolled arrays become registers).
 * a holds EOI_GEMM_MRP weights per k (a packed panel, rows beyond ours
 * unused), b one row of GEMM_NV * VL floats per k, ldb apart. */
KTARGET static void KFN(gemm)(int64_t kc, const float *a, const float *b, int64_t ldb, float *c,
                              int64_t ldc, const float *bias, int32_t flags, const eoi_act *act) {
    VT acc[GEMM_MR][GEMM_NV];
    if (flags & EOI_GEMM_ACC) {
        _Pragma("GCC unroll 16") for (int r = 0; r < GEMM_MR; r++)
            _Pragma("GCC unroll 16") for (int v = 0; v < GEMM_NV; v++) acc[r][v] =
                VLOAD(c + r * ldc + v * VL);
    } else {
        _Pragma("GCC unroll 16") for (int r = 0; r < GEMM_MR; r++)
            _Pragma("GCC unroll 16") for (int v = 0; v < GEMM_NV; v++) acc[r][v] = VSET1(bias[r]);
    }
    for (int64_t k = 0; k < kc; k++, a += EOI_GEMM_MRP, b += ldb) {
        VT bv[GEMM_NV];
        _Pragma("GCC unroll 16") for (int v = 0; v < GEMM_NV; v++) bv[v] = VLOAD(b + v * VL);
        _Pragma("GCC unroll 16") for (int r = 0; r < GEMM_MR; r++) {
            VT ar = VSET1(a[r]);
            _Pragma("GCC unroll 16") for (int v = 0; v < GEMM_NV; v++) acc[r][v] =
                VFMA(ar, bv[v], acc[r][v]);
        }
    }
    int vec = (flags & EOI_GEMM_ACT) && KFN(has_vact)(act->kind);
    if (vec) {
        VT va = VSET1(act->a), vb = VSET1(act->b);
        _Pragma("GCC unroll 16") for (int r = 0; r < GEMM_MR; r++)
            _Pragma("GCC unroll 16") for (int v = 0; v < GEMM_NV; v++) acc[r][v] =
                KFN(vact)(acc[r][v], act->kind, va, vb);
    }
    _Pragma("GCC unroll 16") for (int r = 0; r < GEMM_MR; r++)
        _Pragma("GCC unroll 16") for (int v = 0; v < GEMM_NV; v++)
            VSTORE(c + r * ldc + v * VL, acc[r][v]);
    if ((flags & EOI_GEMM_ACT) && !vec)
        for (int r = 0; r < GEMM_MR; r++)
            KFN(act)(c + r * ldc, GEMM_NV * VL, 0.0f, act);
}

/* Winograd F(2x2, 3x3) transforms over VL tiles side by side in one tile
 * row. wino_in: r[i] points at input row i of the tiles' 4 x 4 patches
 * (r[i][2 * l + j] is element (i, j) of lane l's patch; 2 * VL + 2 floats
 * readable); writes V = B^T d B, element x = 4 * i + j at v + x * xs. */
KTARGET static void KFN(wino_in)(float *v, int64_t xs, const float *const *r) {
    VT d[4][4], t[4][4];
    _Pragma("GCC unroll 4") for (int i = 0; i < 4; i++) {
        VT a = VLOAD(r[i]), b = VLOAD(r[i] + VL), c = VLOAD(r[i] + 2), e = VLOAD(r[i] + 2 + VL);
        d[i][0] = VEVEN(a, b);
        d[i][1] = VODD(a, b);
        d[i][2] = VEVEN(c, e);
        d[i][3] = VODD(c, e);
    }
    _Pragma("GCC unroll 4") for (int j = 0; j < 4; j++) {
        t[0][j] = VSUB(d[0][j], d[2][j]);
        t[1][j] = VADD(d[1][j], d[2][j]);
        t[2][j] = VSUB(d[2][j], d[1][j]);
        t[3][j] = VSUB(d[1][j], d[3][j]);
    }
    _Pragma("GCC unroll 4") for (int i = 0; i < 4; i++) {
        VSTORE(v + (4 * i) * xs, VSUB(t[i][0], t[i][2]));
        VSTORE(v + (4 * i + 1) * xs, VADD(t[i][1], t[i][2]));
        VSTORE(v + (4 * i + 2) * xs, VSUB(t[i][2], t[i][1]));
        VSTORE(v + (4 * i + 3) * xs, VSUB(t[i][1], t[i][3]));
    }
}

/* wino_out: the 16 products of VL tiles (element x at y + x * ys) to their
 * 2 x 2 outputs A^T m A + bias, activated, as two rows out[0], out[1] of
 * 2 * VL floats. */
KTARGET static void KFN(wino_out)(float *const *out, const float *y, int64_t ys, float bias,
                                  const eoi_act *act) {
    float *o0 = out[0], *o1 = out[1];
    VT m[4][4], s[2][4], o[2][2], vb = VSET1(bias);
    _Pragma("GCC unroll 4") for (int i = 0; i < 4; i++)
        _Pragma("GCC unroll 4") for (int j = 0; j < 4; j++) m[i][j] = VLOAD(y + (4 * i + j) * ys);
    _Pragma("GCC unroll 4") for (int j = 0; j < 4; j++) {
        s[0][j] = VADD(VADD(m[0][j], m[1][j]), m[2][j]);
        s[1][j] = VSUB(VSUB(m[1][j], m[2][j]), m[3][j]);
    }
    int vec = KFN(has_vact)(act->kind);
    VT va = VSET1(act->a), vbb = VSET1(act->b);
    _Pragma("GCC unroll 2") for (int i = 0; i < 2; i++) {
        o[i][0] = VADD(VADD(VADD(s[i][0], s[i][1]), s[i][2]), vb);
        o[i][1] = VADD(VSUB(VSUB(s[i][1], s[i][2]), s[i][3]), vb);
        if (vec) {
            o[i][0] = KFN(vact)(o[i][0], act->kind, va, vbb);
            o[i][1] = KFN(vact)(o[i][1], act->kind, va, vbb);
        }
    }
    VSTORE(o0, VZIPLO(o[0][0], o[0][1]));
    VSTORE(o0 + VL, VZIPHI(o[0][0], o[0][1]));
    VSTORE(o1, VZIPLO(o[1][0], o[1][1]));
    VSTORE(o1 + VL, VZIPHI(o[1][0], o[1][1]));
    if (!vec) {
        KFN(act)(o0, 2 * VL, 0.0f, act);
        KFN(act)(o1, 2 * VL, 0.0f, act);
    }
}

/* Winograd F(4x4, 3x3): 6 x 6 input tiles, 4 apart; r[i][4 * l + j] is
 * element (i, j) of lane l (4 * VL + 4 floats readable per row); V = B^T d B,
 * element x = 6 * i + j at v + x * xs. */
#define KDEINT4(d, p)                                                                              \
    do {                                                                                           \
        VT q0_ = VLOAD(p), q1_ = VLOAD((p) + VL), q2_ = VLOAD((p) + 2 * VL);                       \
        VT q3_ = VLOAD((p) + 3 * VL);                                                              \
        VT e01_ = VEVEN(q0_, q1_), e23_ = VEVEN(q2_, q3_);                                         \
        VT o01_ = VODD(q0_, q1_), o23_ = VODD(q2_, q3_);                                           \
        (d)[0] = VEVEN(e01_, e23_);                                                                \
        (d)[1] = VEVEN(o01_, o23_);                                                                \
        (d)[2] = VODD(e01_, e23_);                                                                 \
        (d)[3] = VODD(o01_, o23_);                                                                 \
    } while (0)

/* t = B^T d over 6 values (F(4x4, 3x3)'s input transform, one axis) */
KTARGET static inline void KFN(bt6)(VT *t, const VT *d) {
    VT four = VSET1(4.0f), five = VSET1(-5.0f), two = VSET1(2.0f);
    t[0] = VFMA(four, d[0], VFMA(five, d[2], d[4]));
    t[1] = VFMA(VSET1(-4.0f), VADD(d[1], d[2]), VADD(d[3], d[4]));
    t[2] = VFMA(four, VSUB(d[1], d[2]), VSUB(d[4], d[3]));
    t[3] = VFMA(two, VSUB(d[3], d[1]), VSUB(d[4], d[2]));
    t[4] = VFMA(two, VSUB(d[1], d[3]), VSUB(d[4], d[2]));
    t[5] = VFMA(four, d[1], VFMA(five, d[3], d[5]));
}

/* o = A^T m over 6 values (the output transform, one axis) */
KTARGET static inline void KFN(at6)(VT *o, const VT *m) {
    VT a = VADD(m[1], m[2]), b = VSUB(m[1], m[2]), c = VADD(m[3], m[4]), d = VSUB(m[3], m[4]);
    o[0] = VADD(VADD(m[0], a), c);
    o[1] = VFMA(VSET1(2.0f), d, b);
    o[2] = VFMA(VSET1(4.0f), c, a);
    o[3] = VADD(VFMA(VSET1(8.0f), d, b), m[5]);
}

KTARGET static void KFN(wino4_in)(float *v, int64_t xs, const float *const *r) {
    VT s[6][6];
    _Pragma("GCC unroll 6") for (int i = 0; i < 6; i++) {
        VT d[8];
        KDEINT4(d, r[i]);
        KDEINT4(d + 4, r[i] + 4);
        KFN(bt6)(s[i], d);
    }
    _Pragma("GCC unroll 6") for (int j = 0; j < 6; j++) {
        VT c[6], t[6];
        _Pragma("GCC unroll 6") for (int i = 0; i < 6; i++) c[i] = s[i][j];
        KFN(bt6)(t, c);
        _Pragma("GCC unroll 6") for (int i = 0; i < 6; i++) VSTORE(v + (6 * i + j) * xs, t[i]);
    }
}

/* the 36 products of VL tiles to their 4 x 4 outputs A^T m A + bias,
 * activated, as four rows out[0..3] of 4 * VL floats */
KTARGET static void KFN(wino4_out)(float *const *out, const float *y, int64_t ys, float bias,
                                   const eoi_act *act) {
    VT u[6][4], o[4][4], vb = VSET1(bias);
    _Pragma("GCC unroll 6") for (int i = 0; i < 6; i++) {
        VT m[6];
        _Pragma("GCC unroll 6") for (int j = 0; j < 6; j++) m[j] = VLOAD(y + (6 * i + j) * ys);
        KFN(at6)(u[i], m);
    }
    int vec = KFN(has_vact)(act->kind);
    VT va = VSET1(act->a), vbb = VSET1(act->b);
    _Pragma("GCC unroll 4") for (int e = 0; e < 4; e++) {
        VT c[6], t[4];
        _Pragma("GCC unroll 6") for (int i = 0; i < 6; i++) c[i] = u[i][e];
        KFN(at6)(t, c);
        _Pragma("GCC unroll 4") for (int a = 0; a < 4; a++) {
            o[a][e] = VADD(t[a], vb);
            if (vec)
                o[a][e] = KFN(vact)(o[a][e], act->kind, va, vbb);
        }
    }
    _Pragma("GCC unroll 4") for (int a = 0; a < 4; a++) {
        VT lo02 = VZIPLO(o[a][0], o[a][2]), hi02 = VZIPHI(o[a][0], o[a][2]);
        VT lo13 = VZIPLO(o[a][1], o[a][3]), hi13 = VZIPHI(o[a][1], o[a][3]);
        VSTORE(out[a], VZIPLO(lo02, lo13));
        VSTORE(out[a] + VL, VZIPHI(lo02, lo13));
        VSTORE(out[a] + 2 * VL, VZIPLO(hi02, hi13));
        VSTORE(out[a] + 3 * VL, VZIPHI(hi02, hi13));
        if (!vec)
            KFN(act)(out[a], 4 * VL, 0.0f, act);
    }
}

/* o[i] = e^(a[i] - m); returns the sum of o. */
static KTARGET float KFN(vexp)(float *o, const float *a, size_t n, float m) {
    VT acc = VSET1(0.0f), vm = VSET1(m);
    size_t i = 0;
    for (; i + VL <= n; i += VL) {
        VT e = KFN(vexp1)(VSUB(VLOAD(a + i), vm));
        VSTORE(o + i, e);
        acc = VADD(acc, e);
    }
    float lanes[VL], s = 0.0f;
    VSTORE(lanes, acc);
    for (int k = 0; k < VL; k++)
        s += lanes[k];
    for (; i < n; i++) {
        o[i] = expf(a[i] - m);
        s += o[i];
    }
    return s;
}

/* o[2i] = a[i], o[2i + 1] = b[i]: a 2-wide, stride-2 scatter (ConvTranspose). */
KTARGET static void KFN(zip2)(float *o, const float *a, const float *b, size_t n) {
    size_t i = 0;
    for (; i + VL <= n; i += VL) {
        VT va = VLOAD(a + i), vb = VLOAD(b + i);
        VSTORE(o + 2 * i, VZIPLO(va, vb));
        VSTORE(o + 2 * i + VL, VZIPHI(va, vb));
    }
    for (; i < n; i++) {
        o[2 * i] = a[i];
        o[2 * i + 1] = b[i];
    }
}

#define KTABLE(NAME)                                                                               \
    {                                                                                              \
        NAME, KFN(act), KFN(binop), KFN(binop_s), KFN(dwconv), KFN(vmax), KFN(vadd), KFN(lerp),    \
            KFN(gemm), GEMM_MR, GEMM_NV *VL, {KFN(wino_in), KFN(wino4_in)},                        \
            {KFN(wino_out), KFN(wino4_out)}, VL, KFN(vexp), KFN(pmax2), KFN(zip2)                  \
    }
