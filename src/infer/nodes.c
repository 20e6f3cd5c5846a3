/* nodes.c - running one node: element-wise ops with broadcasting, softmax,
 * batch norm, global pooling and the data-movement ops (concat, split,
 * slice, pad, transpose, gather, cast, reshapes). Data movement works on
 * 4-byte (float) and 8-byte (int64) elements, so constant folding of shape
 * computations runs through the same code. */
#include "infer_int.h"

#include <math.h>
#include <string.h>

#define V(ex, id) ((ex)->g->values[(id)])
#define BUF(ex, id) ((ex)->buf[(id)])

static size_t esize(const eoi_value *v) { return v->dtype == EOI_I64 ? 8 : 4; }

/* ---- element-wise ------------------------------------------------------ */
static int64_t bin_i64(int64_t a, int64_t b, int32_t op) {
    switch (op) {
    case EOI_BIN_ADD:
        return (int64_t)((uint64_t)a + (uint64_t)b);
    case EOI_BIN_SUB:
        return (int64_t)((uint64_t)a - (uint64_t)b);
    case EOI_BIN_MUL:
        return (int64_t)((uint64_t)a * (uint64_t)b);
    case EOI_BIN_DIV:
        if (b == 0 || (a == INT64_MIN && b == -1))
            return 0;
        return a / b;
    default:
        return a < 0 ? a * b : a;
    }
}

/* Broadcasting binary op. Dimensions are aligned to the output's rank and
 * neighbours with the same broadcast pattern merged; the innermost run is
 * then a plain vector op or a vector-scalar op. */
static eo_status run_binary(eo_ctx *ctx, const eoi_exec *ex, const eoi_node *n) {
    const eoi_value *va = &V(ex, n->in[0]), *vb = &V(ex, n->in[1]), *vo = &V(ex, n->out[0]);
    const eoi_kernels *k = eoi_kernels_get();
    int32_t r = vo->ndim;
    int64_t da[EOI_MAXDIM], db[EOI_MAXDIM], dout[EOI_MAXDIM];
    int32_t m = 0;
    for (int32_t i = 0; i < r; i++) {
        int32_t ia = i - (r - va->ndim), ib = i - (r - vb->ndim);
        int64_t a = ia >= 0 ? va->dims[ia] : 1, b = ib >= 0 ? vb->dims[ib] : 1, o = vo->dims[i];
        if (o == 1)
            continue; /* size-1 axes carry nothing */
        int pa = a == o, pb = b == o;
        if (m > 0 && (da[m - 1] == dout[m - 1]) == pa && (db[m - 1] == dout[m - 1]) == pb) {
            da[m - 1] *= a;
            db[m - 1] *= b;
            dout[m - 1] *= o;
        } else {
            da[m] = a;
            db[m] = b;
            dout[m] = o;
            m++;
        }
    }
    if (m == 0) {
        da[0] = db[0] = dout[0] = 1;
        m = 1;
    }
    /* strides of a and b in the merged space */
    int64_t sa[EOI_MAXDIM], sb[EOI_MAXDIM], ta = 1, tb = 1;
    for (int32_t i = m - 1; i >= 0; i--) {
        sa[i] = da[i] == 1 ? 0 : ta;
        sb[i] = db[i] == 1 ? 0 : tb;
        ta *= da[i];
        tb *= db[i];
    }
    int64_t inner = dout[m - 1], rows = vo->n / (inner ? inner : 1);
    int64_t idx[EOI_MAXDIM] = {0};
    for (int64_t row = 0; row < rows; row++) {
        int64_t oa = 0, ob = 0;
        for (int32_t i = 0; i < m - 1; i++) {
            oa += idx[i] * sa[i];
            ob += idx[i] * sb[i];
        }
        int64_t oo = row * inner;
        if (vo->dtype == EOI_F32) {
            const float *a = (const float *)BUF(ex, n->in[0]) + oa;
            const float *b = (const float *)BUF(ex, n->in[1]) + ob;
            float *o = (float *)BUF(ex, n->out[0]) + oo;
            if (sa[m - 1] && sb[m - 1])
                k->binop(o, a, b, (size_t)inner, n->binop);
            else if (sa[m - 1])
                k->binop_s(o, a, b[0], (size_t)inner, n->binop, 0);
            else if (n->binop != EOI_BIN_PRELU)
                k->binop_s(o, b, a[0], (size_t)inner, n->binop, 1);
            else
                for (int64_t j = 0; j < inner; j++)
                    o[j] = a[0] < 0.0f ? a[0] * b[j] : a[0];
        } else {
            const int64_t *a = (const int64_t *)BUF(ex, n->in[0]) + oa;
            const int64_t *b = (const int64_t *)BUF(ex, n->in[1]) + ob;
            int64_t *o = (int64_t *)BUF(ex, n->out[0]) + oo;
            for (int64_t j = 0; j < inner; j++)
                o[j] = bin_i64(a[sa[m - 1] ? j : 0], b[sb[m - 1] ? j : 0], n->binop);
        }
        for (int32_t i = m - 2; i >= 0; i--) {
            if (++idx[i] < dout[i])
                break;
            idx[i] = 0;
        }
    }
    (void)ctx;
    return EO_OK;
}

static eo_status run_act(const eoi_exec *ex, const eoi_node *n) {
    const eoi_value *x = &V(ex, n->in[0]);
    if (x->dtype == EOI_I64) { /* folding only: relu, floor, ceil */
        const int64_t *a = BUF(ex, n->in[0]);
        int64_t *o = BUF(ex, n->out[0]);
        for (int64_t i = 0; i < x->n; i++)
            o[i] = n->act.kind == EOI_ACT_RELU && a[i] < 0 ? 0 : a[i];
        return EO_OK;
    }
    float *o = BUF(ex, n->out[0]);
    memcpy(o, BUF(ex, n->in[0]), (size_t)x->n * sizeof(float));
    eoi_kernels_get()->act(o, (size_t)x->n, 0.0f, &n->act);
    return EO_OK;
}

static eo_status run_bn(const eoi_exec *ex, const eoi_node *n) {
    const eoi_value *x = &V(ex, n->in[0]);
    const eoi_kernels *k = eoi_kernels_get();
    int64_t c = x->dims[1], plane = x->n / (x->dims[0] * c);
    const float *in = BUF(ex, n->in[0]);
    float *out = BUF(ex, n->out[0]);
    for (int64_t b = 0; b < x->dims[0]; b++)
        for (int64_t ch = 0; ch < c; ch++) {
            size_t off = (size_t)((b * c + ch) * plane);
            k->binop_s(out + off, in + off, n->w[ch], (size_t)plane, EOI_BIN_MUL, 0);
            k->act(out + off, (size_t)plane, n->bias[ch], &n->act);
        }
    return EO_OK;
}

/* Softmax, LogSoftmax or Hardmax over rows of len elements inner apart; a job
 * takes rows [i rows, (i + 1) rows) of the outer x inner rows. */
typedef struct smjob {
    const eoi_node *n;
    const float *in;
    float *out;
    int64_t len, inner, nrows, rows;
} smjob;

static eo_status softmax_rows(void *user, int64_t jb, int32_t worker) {
    const smjob *s = user;
    const eoi_node *n = s->n;
    int64_t len = s->len, inner = s->inner, lo = jb * s->rows;
    int64_t hi = lo + s->rows < s->nrows ? lo + s->rows : s->nrows;
    for (int64_t r = lo; r < hi; r++) {
        const float *p = s->in + r / inner * len * inner + r % inner;
        float *q = s->out + r / inner * len * inner + r % inner;
        float mx = -INFINITY;
        int64_t arg = 0;
        for (int64_t i = 0; i < len; i++)
            if (p[i * inner] > mx) {
                mx = p[i * inner];
                arg = i;
            }
        if (n->binop == 2) { /* Hardmax: 1 at the first maximum */
            for (int64_t i = 0; i < len; i++)
                q[i * inner] = i == arg ? 1.0f : 0.0f;
            continue;
        }
        if (n->binop == 1) { /* LogSoftmax: x - max - log(sum(exp(x - max))) */
            double se = 0.0;
            for (int64_t i = 0; i < len; i++)
                se += exp((double)p[i * inner] - mx);
            double lse = (double)mx + log(se);
            for (int64_t i = 0; i < len; i++)
                q[i * inner] = (float)((double)p[i * inner] - lse);
            continue;
        }
        double sum = 0.0;
        if (inner == 1 && isfinite(mx)) { /* a contiguous row: vector exp */
            sum = eoi_kernels_get()->vexp(q, p, (size_t)len, mx);
        } else {
            for (int64_t i = 0; i < len; i++) {
                q[i * inner] = expf(p[i * inner] - mx);
                sum += q[i * inner];
            }
        }
        float inv = (float)(1.0 / sum);
        for (int64_t i = 0; i < len; i++)
            q[i * inner] *= inv;
    }
    (void)worker;
    return EO_OK;
}

static eo_status run_softmax(eo_ctx *ctx, const eoi_exec *ex, const eoi_node *n) {
    const eoi_value *x = &V(ex, n->in[0]);
    int64_t outer = 1, len = 1, inner = 1;
    for (int32_t i = 0; i < x->ndim; i++) {
        if (n->legacy_softmax)
            *(i < n->axis ? &outer : &len) *= x->dims[i];
        else
            *(i < n->axis ? &outer : i == n->axis ? &len : &inner) *= x->dims[i];
    }
    /* jobs of about EOI_SPAN elements on the threads (a SegFormer attention
     * map: 16384 rows of 256) */
    smjob s = {n, BUF(ex, n->in[0]), BUF(ex, n->out[0]), len, inner, outer * inner, 1};
    s.rows = len > 0 && EOI_SPAN / len > 1 ? EOI_SPAN / len : 1;
    int64_t jobs = s.nrows > 0 ? (s.nrows + s.rows - 1) / s.rows : 0;
    if (ex->threads < 2 || x->n < 4 * EOI_SPAN) {
        for (int64_t jb = 0; jb < jobs; jb++)
            softmax_rows(&s, jb, 0);
        return EO_OK;
    }
    return eoi_parallel_for(ctx, jobs, softmax_rows, &s);
}

static eo_status run_gap(const eoi_exec *ex, const eoi_node *n) {
    const eoi_value *x = &V(ex, n->in[0]);
    int64_t planes = x->dims[0] * x->dims[1], plane = x->n / (planes ? planes : 1);
    const float *in = BUF(ex, n->in[0]);
    float *out = BUF(ex, n->out[0]);
    for (int64_t p = 0; p < planes; p++) {
        double s = 0.0;
        for (int64_t i = 0; i < plane; i++)
            s += in[p * plane + i];
        out[p] = (float)(s / (double)plane);
    }
    return EO_OK;
}

/* ---- data movement ----------------------------------------------------- */
static void outer_inner(const eoi_value *v, int64_t axis, int64_t *outer, int64_t *inner) {
    *outer = *inner = 1;
    for (int32_t i = 0; i < v->ndim; i++) {
        if (i < axis)
            *outer *= v->dims[i];
        else if (i > axis)
            *inner *= v->dims[i];
    }
}

/* memcpy of large blocks in pieces on the context's threads (the copies of
 * Concat and Split are a tenth of a U-Net's time on one thread). */
typedef struct pcopy {
    char *dst;
    const char *src;
    size_t n;
} pcopy;

#define PCOPY_PIECE ((size_t)1 << 20)

static eo_status pcopy_piece(void *user, int64_t i, int32_t worker) {
    const pcopy *c = user;
    size_t at = (size_t)i * PCOPY_PIECE, len = c->n - at < PCOPY_PIECE ? c->n - at : PCOPY_PIECE;
    memcpy(c->dst + at, c->src + at, len);
    (void)worker;
    return EO_OK;
}

static eo_status copy_big(eo_ctx *ctx, const eoi_exec *ex, char *dst, const char *src, size_t n) {
    if (ex->threads < 2 || n < 4 * PCOPY_PIECE) {
        memcpy(dst, src, n);
        return EO_OK;
    }
    pcopy c = {dst, src, n};
    return eoi_parallel_for(ctx, (int64_t)((n + PCOPY_PIECE - 1) / PCOPY_PIECE), pcopy_piece, &c);
}

static eo_status run_concat_split(eo_ctx *ctx, const eoi_exec *ex, const eoi_node *n, int split) {
    const eoi_value *whole = &V(ex, split ? n->in[0] : n->out[0]);
    size_t es = esize(whole);
    int64_t outer, inner;
    outer_inner(whole, n->axis, &outer, &inner);
    char *w = BUF(ex, split ? n->in[0] : n->out[0]);
    size_t wrow = (size_t)(whole->dims[n->axis] * inner) * es, at = 0;
    int32_t parts = split ? n->nout : n->nin;
    for (int32_t p = 0; p < parts; p++) {
        int32_t id = split ? n->out[p] : n->in[p];
        size_t row = (size_t)(V(ex, id).dims[n->axis] * inner) * es;
        char *part = BUF(ex, id);
        for (int64_t o = 0; o < outer; o++) {
            char *wp = w + (size_t)o * wrow + at, *pp = part + (size_t)o * row;
            if (row && wp != pp) { /* a part the plan put in place needs no copy */
                eo_status st = copy_big(ctx, ex, split ? pp : wp, split ? wp : pp, row);
                if (st != EO_OK)
                    return st;
            }
        }
        at += row;
    }
    return EO_OK;
}

/* Generic strided copy: out[i] = in[sum(idx[d] * stride[d]) + base] over
 * the output's shape (slice and transpose); runs along a contiguous last
 * axis are copied whole. */
static void strided_copy(char *out, const char *in, const int64_t *odims, int32_t nd,
                         const int64_t *stride, int64_t base, size_t es) {
    int64_t idx[EOI_MAXDIM] = {0}, total = 1;
    for (int32_t i = 0; i < nd; i++)
        total *= odims[i];
    int64_t off = base, run = 1;
    int32_t last = nd;
    if (nd > 0 && stride[nd - 1] == 1) { /* copy rows of the last axis at once */
        run = odims[nd - 1];
        last = nd - 1;
    }
    for (int64_t k = 0; k < total; k += run) {
        memcpy(out + (size_t)k * es, in + (size_t)off * es, (size_t)run * es);
        for (int32_t i = last - 1; i >= 0; i--) {
            off += stride[i];
            if (++idx[i] < odims[i])
                break;
            off -= stride[i] * odims[i];
            idx[i] = 0;
        }
    }
}

static void strides_of(const eoi_value *v, int64_t *s) {
    int64_t t = 1;
    for (int32_t i = v->ndim - 1; i >= 0; i--) {
        s[i] = t;
        t *= v->dims[i];
    }
}

static eo_status run_slice(const eoi_exec *ex, const eoi_node *n) {
    const eoi_value *x = &V(ex, n->in[0]), *o = &V(ex, n->out[0]);
    int64_t s[EOI_MAXDIM], st[EOI_MAXDIM], base = 0;
    strides_of(x, s);
    for (int32_t i = 0; i < x->ndim; i++) {
        st[i] = s[i] * n->steps[i];
        base += n->starts[i] * s[i];
    }
    if (o->n > 0)
        strided_copy(BUF(ex, n->out[0]), BUF(ex, n->in[0]), o->dims, o->ndim, st, base, esize(x));
    return EO_OK;
}

/* One 2-D plane of a transpose: out[i][j] = in[i * si + j * sj], i < ni,
 * j < nj, in tiles of 32 x 32 so that both sides stay in cache. */
#define TRANSPOSE_PLANE(T)                                                                         \
    static void plane_##T(T *out, const T *in, int64_t ni, int64_t nj, int64_t si, int64_t sj) {   \
        for (int64_t i0 = 0; i0 < ni; i0 += 32)                                                    \
            for (int64_t j0 = 0; j0 < nj; j0 += 32) {                                              \
                int64_t i1 = i0 + 32 < ni ? i0 + 32 : ni, j1 = j0 + 32 < nj ? j0 + 32 : nj;        \
                for (int64_t i = i0; i < i1; i++)                                                  \
                    for (int64_t j = j0; j < j1; j++)                                              \
                        out[i * nj + j] = in[i * si + j * sj];                                     \
            }                                                                                      \
    }
TRANSPOSE_PLANE(uint32_t)
TRANSPOSE_PLANE(uint64_t)

/* A transpose's job: band i % bands of plane i / bands, the plane's input
 * offset found from its number through the outer axes' sizes and strides. */
#define TP_ROWS 64
typedef struct tpjob {
    char *out;
    const char *in;
    const int64_t *d, *st;
    int32_t nd;
    size_t es;
    int64_t ni, nj, bands, planes;
} tpjob;

static eo_status tp_band(void *user, int64_t i, int32_t worker) {
    const tpjob *j = user;
    int64_t p = i / j->bands, i0 = i % j->bands * TP_ROWS, off = 0, rest = p;
    int64_t rows = j->ni - i0 < TP_ROWS ? j->ni - i0 : TP_ROWS;
    for (int32_t a = j->nd - 3; a >= 0; a--) {
        off += rest % j->d[a] * j->st[a];
        rest /= j->d[a];
    }
    off += i0 * j->st[j->nd - 2];
    size_t at = (size_t)(p * j->ni + i0) * (size_t)j->nj;
    if (j->es == 4)
        plane_uint32_t((uint32_t *)(void *)j->out + at, (const uint32_t *)(const void *)j->in + off,
                       rows, j->nj, j->st[j->nd - 2], j->st[j->nd - 1]);
    else
        plane_uint64_t((uint64_t *)(void *)j->out + at, (const uint64_t *)(const void *)j->in + off,
                       rows, j->nj, j->st[j->nd - 2], j->st[j->nd - 1]);
    (void)worker;
    return EO_OK;
}

static eo_status run_transpose(eo_ctx *ctx, const eoi_exec *ex, const eoi_node *n) {
    const eoi_value *x = &V(ex, n->in[0]), *o = &V(ex, n->out[0]);
    int64_t s[EOI_MAXDIM], st[EOI_MAXDIM], d[EOI_MAXDIM];
    strides_of(x, s);
    /* output axes with their input strides; neighbours that stay
     * contiguous merged, size-1 axes dropped */
    int32_t nd = 0;
    for (int32_t i = 0; i < x->ndim; i++) {
        int64_t len = o->dims[i], str = s[n->perm[i]];
        if (len == 1)
            continue;
        if (nd > 0 && st[nd - 1] == str * len) {
            d[nd - 1] *= len;
            st[nd - 1] = str;
        } else {
            d[nd] = len;
            st[nd] = str;
            nd++;
        }
    }
    if (o->n == 0)
        return EO_OK;
    char *out = BUF(ex, n->out[0]);
    const char *in = BUF(ex, n->in[0]);
    size_t es = esize(x);
    if (nd < 2 || st[nd - 1] == 1) {
        if (nd == 0) {
            d[0] = 1;
            st[0] = 1;
            nd = 1;
        }
        strided_copy(out, in, d, nd, st, 0, es);
        return EO_OK;
    }
    /* planes of the last two axes in bands of TP_ROWS rows, on the threads */
    tpjob j = {out, in, d, st, nd, es, d[nd - 2], d[nd - 1], 0, 0};
    j.bands = (j.ni + TP_ROWS - 1) / TP_ROWS;
    j.planes = o->n / (j.ni * j.nj);
    int64_t jobs = j.planes * j.bands;
    if (ex->threads < 2 || o->n < 4 * EOI_SPAN) {
        for (int64_t i = 0; i < jobs; i++)
            tp_band(&j, i, 0);
        return EO_OK;
    }
    return eoi_parallel_for(ctx, jobs, tp_band, &j);
}

static eo_status run_gather(const eoi_exec *ex, const eoi_node *n) {
    const eoi_value *x = &V(ex, n->in[0]), *iv = &V(ex, n->in[1]);
    size_t es = esize(x);
    int64_t outer, inner, len = x->dims[n->axis];
    outer_inner(x, n->axis, &outer, &inner);
    const int64_t *idx = BUF(ex, n->in[1]);
    const char *in = BUF(ex, n->in[0]);
    char *out = BUF(ex, n->out[0]);
    size_t blk = (size_t)inner * es;
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < iv->n; j++) {
            int64_t k = idx[j] < 0 ? idx[j] + len : idx[j];
            memcpy(out + (size_t)(o * iv->n + j) * blk, in + (size_t)(o * len + k) * blk, blk);
        }
    return EO_OK;
}

/* v rounded to the nearest float16 (ties to even; overflow to infinity,
 * subnormals kept), as a float. */
static float round_half(float v) {
    if (!isfinite(v) || v == 0.0f)
        return v;
    float a = fabsf(v);
    if (a >= 65520.0f) /* half of the last step above 65504 rounds up */
        return copysignf(INFINITY, v);
    int e;
    frexpf(a, &e);                       /* a = f * 2^e, f in [0.5, 1) */
    int q = e - 11 < -24 ? -24 : e - 11; /* 11 significant bits, down to 2^-24 */
    return copysignf(ldexpf(nearbyintf(ldexpf(a, -q)), q), v);
}

/* v rounded to the nearest bfloat16 (ties to even), as a float. */
static float round_bf16(float v) {
    uint32_t u;
    memcpy(&u, &v, 4);
    if (isnan(v))
        u |= 0x00400000u;
    else
        u += 0x7fffu + ((u >> 16) & 1u);
    u &= 0xffff0000u;
    memcpy(&v, &u, 4);
    return v;
}

static eo_status run_cast(const eoi_exec *ex, const eoi_node *n) {
    const eoi_value *x = &V(ex, n->in[0]);
    const void *in = BUF(ex, n->in[0]);
    void *out = BUF(ex, n->out[0]);
    for (int64_t i = 0; i < x->n; i++) {
        double v = x->dtype == EOI_F32 ? ((const float *)in)[i] : (double)((const int64_t *)in)[i];
        if (n->binop) /* to bool */
            v = v != 0.0;
        if (n->to_float) {
            float f = (float)v;
            ((float *)out)[i] = n->to_float == 10   ? round_half(f)
                                : n->to_float == 16 ? round_bf16(f)
                                                    : f;
        } else if (x->dtype == EOI_I64)
            ((int64_t *)out)[i] = n->binop ? (int64_t)v : ((const int64_t *)in)[i];
        else
            ((int64_t *)out)[i] = isfinite(v) && fabs(v) < 9.2e18 ? (int64_t)v : 0;
    }
    return EO_OK;
}

/* Source index of padded position j along an axis of d samples; -1 for
 * the constant value. */
static int64_t pad_src(int64_t j, int64_t d, int32_t mode) {
    if (j >= 0 && j < d)
        return j;
    if (mode == EOI_PAD_CONSTANT)
        return -1;
    if (mode == EOI_PAD_EDGE)
        return j < 0 ? 0 : d - 1;
    return j < 0 ? -j : 2 * (d - 1) - j; /* reflect: pads < d checked at load */
}

/* Row by row over the last axis: the middle of each row is one memcpy. */
static eo_status run_pad(const eoi_exec *ex, const eoi_node *n) {
    const eoi_value *x = &V(ex, n->in[0]), *o = &V(ex, n->out[0]);
    size_t es = esize(x);
    int64_t s[EOI_MAXDIM], idx[EOI_MAXDIM] = {0};
    strides_of(x, s);
    const char *in = BUF(ex, n->in[0]);
    char *out = BUF(ex, n->out[0]);
    int64_t ival = (int64_t)n->pad_value;
    const void *cval = es == 8 ? (const void *)&ival : (const void *)&n->pad_value;
    int32_t last = x->ndim - 1;
    int64_t len = o->dims[last], d = x->dims[last], p0 = n->pads_nd[last];
    if (len == 0)
        return EO_OK;
    int64_t lo = p0 < 0 ? 0 : p0, hi = p0 + d < len ? p0 + d : len; /* inside [lo, hi) */
    for (int64_t row = 0; row < o->n / len; row++) {
        int64_t off = 0;
        int outside = 0;
        for (int32_t i = 0; i < last && !outside; i++) {
            int64_t j = pad_src(idx[i] - n->pads_nd[i], x->dims[i], n->pad_mode);
            outside = j < 0;
            off += outside ? 0 : j * s[i];
        }
        char *dst = out + (size_t)(row * len) * es;
        const char *src = in + (size_t)(outside ? 0 : off) * es;
        for (int64_t j = 0; j < len; j++) {
            if (j == lo && hi > lo && !outside) {
                memcpy(dst + (size_t)j * es, src + (size_t)(j - p0) * es, (size_t)(hi - lo) * es);
                j = hi - 1;
                continue;
            }
            int64_t k = outside ? -1 : pad_src(j - p0, d, n->pad_mode);
            memcpy(dst + (size_t)j * es, k < 0 ? cval : (const void *)(src + (size_t)k * es), es);
        }
        for (int32_t i = last - 1; i >= 0; i--) {
            if (++idx[i] < o->dims[i])
                break;
            idx[i] = 0;
        }
    }
    return EO_OK;
}

size_t eoi_node_scratch(const eoi_graph *g, const eoi_node *n) {
    const eoi_value *x = n->nin > 0 && n->in[0] >= 0 ? &g->values[n->in[0]] : NULL;
    const eoi_value *o = &g->values[n->out[0]];
    if (!x)
        return 0;
    switch (n->op) {
    case EOI_OP_CONVT: {
        int64_t mg = o->dims[1] / n->group, hw = x->n / (x->dims[0] * x->dims[1]);
        return (size_t)(mg * n->k[0] * n->k[1] * hw) * sizeof(float);
    }
    case EOI_OP_MAXPOOL:
    case EOI_OP_AVGPOOL:
        return (size_t)(x->dims[x->ndim - 1] + 16) * sizeof(float) * 2;
    case EOI_OP_RESIZE:
        return (size_t)(o->dims[3] * (2 * sizeof(int64_t) + sizeof(float)) +
                        (size_t)(o->dims[3] + x->dims[3] * 2 + 16) * sizeof(float));
    default:
        return 0;
    }
}

eo_status eoi_node_run(eo_ctx *ctx, const eoi_exec *ex, const eoi_node *n) {
    switch (n->op) {
    case EOI_OP_CONV:
        return eoi_run_conv(ctx, ex, n);
    case EOI_OP_CONVT:
        return eoi_run_convt(ctx, ex, n);
    case EOI_OP_BN:
        return run_bn(ex, n);
    case EOI_OP_ACT:
        return run_act(ex, n);
    case EOI_OP_BINARY:
        return run_binary(ctx, ex, n);
    case EOI_OP_SOFTMAX:
        return run_softmax(ctx, ex, n);
    case EOI_OP_CONCAT:
        return run_concat_split(ctx, ex, n, 0);
    case EOI_OP_SPLIT:
        return run_concat_split(ctx, ex, n, 1);
    case EOI_OP_SLICE:
        return run_slice(ex, n);
    case EOI_OP_MAXPOOL:
    case EOI_OP_AVGPOOL:
        return eoi_run_pool(ctx, ex, n);
    case EOI_OP_GAP:
        return run_gap(ex, n);
    case EOI_OP_RESIZE:
        return eoi_run_resize(ctx, ex, n);
    case EOI_OP_PAD:
        return run_pad(ex, n);
    case EOI_OP_COPY: {
        const eoi_value *x = &V(ex, n->in[0]);
        if (BUF(ex, n->out[0]) != BUF(ex, n->in[0])) /* else planned in place */
            memcpy(BUF(ex, n->out[0]), BUF(ex, n->in[0]), (size_t)x->n * esize(x));
        return EO_OK;
    }
    case EOI_OP_TRANSPOSE:
        return run_transpose(ctx, ex, n);
    case EOI_OP_GEMM:
        return eoi_run_gemm(ctx, ex, n);
    case EOI_OP_MATMUL:
        return eoi_run_matmul(ctx, ex, n);
    case EOI_OP_GATHER:
        return run_gather(ex, n);
    case EOI_OP_CAST:
        return run_cast(ex, n);
    case EOI_OP_CONSTOFSHAPE: {
        const eoi_value *o = &V(ex, n->out[0]);
        for (int64_t i = 0; i < o->n; i++) {
            if (o->dtype == EOI_F32)
                ((float *)BUF(ex, n->out[0]))[i] = n->pad_value;
            else
                ((int64_t *)BUF(ex, n->out[0]))[i] = n->starts[0];
        }
        return EO_OK;
    }
    default:
        return eoi_run_math(ctx, ex, n);
    }
}
