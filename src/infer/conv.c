/* conv.c - convolution (im2col + OpenBLAS sgemm; 1x1 as a plain GEMM; a
 * direct SIMD kernel for depthwise), transposed convolution (GEMM +
 * col2im), Gemm and MatMul. Bias and activation are applied in the
 * epilogue, tile by tile while the output is still in cache. */
#include "infer_int.h"

#include <cblas.h>
#include <string.h>

#define V(ex, id) ((ex)->g->values[(id)])

typedef struct convgeom {
    int64_t c, h, w, m, oh, ow, g, cg, mg, kk;
} convgeom;

static void geom_of(const eoi_exec *ex, const eoi_node *n, convgeom *q) {
    const eoi_value *x = &V(ex, n->in[0]), *o = &V(ex, n->out[0]);
    int four = x->ndim == 4;
    q->c = x->dims[1];
    q->h = four ? x->dims[2] : 1;
    q->w = x->dims[x->ndim - 1];
    q->m = o->dims[1];
    q->oh = four ? o->dims[2] : 1;
    q->ow = o->dims[o->ndim - 1];
    q->g = n->group;
    q->cg = q->c / q->g;
    q->mg = q->m / q->g;
    q->kk = n->k[0] * n->k[1];
}

/* Columns of output rows [r0, r0 + nr) of one group: col[K][nr * OW]. */
static void im2col(float *col, const float *in, const eoi_node *n, const convgeom *q, int64_t r0,
                   int64_t nr) {
    int64_t ncol = nr * q->ow;
    for (int64_t c = 0; c < q->cg; c++)
        for (int64_t ky = 0; ky < n->k[0]; ky++)
            for (int64_t kx = 0; kx < n->k[1]; kx++) {
                float *dst = col + ((c * n->k[0] + ky) * n->k[1] + kx) * ncol;
                const float *src = in + c * q->h * q->w;
                int64_t xoff = kx * n->d[1] - n->pads[1];
                /* ox range whose ix = ox * sw + xoff lies inside [0, W) */
                int64_t lo = xoff >= 0 ? 0 : (-xoff + n->s[1] - 1) / n->s[1];
                int64_t hi = q->w - xoff <= 0 ? 0 : (q->w - xoff + n->s[1] - 1) / n->s[1];
                if (hi > q->ow)
                    hi = q->ow;
                if (lo > hi)
                    lo = hi;
                for (int64_t r = 0; r < nr; r++, dst += q->ow) {
                    int64_t iy = (r0 + r) * n->s[0] - n->pads[0] + ky * n->d[0];
                    if (iy < 0 || iy >= q->h) {
                        memset(dst, 0, (size_t)q->ow * sizeof(float));
                        continue;
                    }
                    const float *row = src + iy * q->w;
                    for (int64_t ox = 0; ox < lo; ox++)
                        dst[ox] = 0.0f;
                    if (n->s[1] == 1) {
                        if (hi > lo)
                            memcpy(dst + lo, row + lo + xoff, (size_t)(hi - lo) * sizeof(float));
                    } else {
                        for (int64_t ox = lo; ox < hi; ox++)
                            dst[ox] = row[ox * n->s[1] + xoff];
                    }
                    for (int64_t ox = hi; ox < q->ow; ox++)
                        dst[ox] = 0.0f;
                }
            }
}

typedef struct dwjob {
    const eoi_node *n;
    const convgeom *q;
    const float *in;
    float *out;
    eoi_dwgeom dg;
    const eoi_kernels *k;
} dwjob;

static eo_status dw_plane(void *user, int64_t i, int32_t worker) {
    const dwjob *j = user;
    int64_t ch = i % j->q->c;
    j->k->dwconv(j->out + i * j->q->oh * j->q->ow, j->in + i * j->q->h * j->q->w,
                 j->n->w + ch * j->q->kk, j->n->bias[ch], &j->dg, &j->n->act);
    (void)worker;
    return EO_OK;
}

eo_status eoi_run_conv(eo_ctx *ctx, const eoi_exec *ex, const eoi_node *n) {
    convgeom q;
    geom_of(ex, n, &q);
    const eoi_value *x = &V(ex, n->in[0]);
    const float *in = ex->buf[n->in[0]];
    float *out = ex->buf[n->out[0]];
    const eoi_kernels *k = eoi_kernels_get();
    int64_t batch = x->dims[0], ohw = q.oh * q.ow, hw = q.h * q.w;
    if (q.cg == 1 && q.mg == 1) { /* depthwise */
        dwjob j = {n,
                   &q,
                   in,
                   out,
                   {q.h, q.w, q.oh, q.ow, n->k[0], n->k[1], n->s[0], n->s[1], n->d[0], n->d[1],
                    n->pads[0], n->pads[1]},
                   k};
        if (ex->threads > 1 && ohw * q.kk * q.c > 1 << 18)
            return eoi_parallel_for(ctx, batch * q.c, dw_plane, &j);
        for (int64_t i = 0; i < batch * q.c; i++)
            dw_plane(&j, i, 0);
        return EO_OK;
    }
    int pointwise = q.kk == 1 && n->s[0] == 1 && n->s[1] == 1 && n->pads[0] == 0 &&
                    n->pads[1] == 0 && n->pads[2] == 0 && n->pads[3] == 0;
    int64_t kdim = q.cg * q.kk;
    int64_t rows = EOI_IM2COL_FLOATS / (kdim * q.ow);
    rows = pointwise ? q.oh : rows < 1 ? 1 : rows > q.oh ? q.oh : rows;
    for (int64_t b = 0; b < batch; b++)
        for (int64_t grp = 0; grp < q.g; grp++) {
            const float *gin = in + (b * q.c + grp * q.cg) * hw;
            float *gout = out + (b * q.m + grp * q.mg) * ohw;
            const float *w = n->w + grp * q.mg * kdim;
            for (int64_t r0 = 0; r0 < q.oh; r0 += rows) {
                int64_t nr = q.oh - r0 < rows ? q.oh - r0 : rows, ncol = nr * q.ow;
                const float *col = gin;
                if (!pointwise) {
                    im2col(ex->scratch, gin, n, &q, r0, nr);
                    col = ex->scratch;
                }
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)q.mg, (int)ncol,
                            (int)kdim, 1.0f, w, (int)kdim, col, (int)ncol, 0.0f, gout + r0 * q.ow,
                            (int)ohw);
                for (int64_t m = 0; m < q.mg; m++)
                    k->act(gout + m * ohw + r0 * q.ow, (size_t)ncol, n->bias[grp * q.mg + m],
                           &n->act);
            }
            if (eoi_check_cancel(ctx) != EO_OK)
                return EO_E_CANCELLED;
        }
    return EO_OK;
}

eo_status eoi_run_convt(eo_ctx *ctx, const eoi_exec *ex, const eoi_node *n) {
    convgeom q;
    geom_of(ex, n, &q);
    const eoi_value *x = &V(ex, n->in[0]);
    const float *in = ex->buf[n->in[0]];
    float *out = ex->buf[n->out[0]];
    const eoi_kernels *k = eoi_kernels_get();
    int64_t hw = q.h * q.w, ohw = q.oh * q.ow, rows = q.mg * q.kk;
    float *col = ex->scratch;
    for (int64_t b = 0; b < x->dims[0]; b++)
        for (int64_t grp = 0; grp < q.g; grp++) {
            const float *gin = in + (b * q.c + grp * q.cg) * hw;
            float *gout = out + (b * q.m + grp * q.mg) * ohw;
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)rows, (int)hw, (int)q.cg,
                        1.0f, n->w + grp * q.cg * rows, (int)rows, gin, (int)hw, 0.0f, col,
                        (int)hw);
            memset(gout, 0, (size_t)(q.mg * ohw) * sizeof(float));
            for (int64_t m = 0; m < q.mg; m++)
                for (int64_t ky = 0; ky < n->k[0]; ky++)
                    for (int64_t kx = 0; kx < n->k[1]; kx++) {
                        const float *crow = col + ((m * n->k[0] + ky) * n->k[1] + kx) * hw;
                        float *o = gout + m * ohw;
                        for (int64_t iy = 0; iy < q.h; iy++) {
                            int64_t oy = iy * n->s[0] - n->pads[0] + ky * n->d[0];
                            if (oy < 0 || oy >= q.oh)
                                continue;
                            for (int64_t ix = 0; ix < q.w; ix++) {
                                int64_t ox = ix * n->s[1] - n->pads[1] + kx * n->d[1];
                                if (ox >= 0 && ox < q.ow)
                                    o[oy * q.ow + ox] += crow[iy * q.w + ix];
                            }
                        }
                    }
            for (int64_t m = 0; m < q.mg; m++)
                k->act(gout + m * ohw, (size_t)ohw, n->bias[grp * q.mg + m], &n->act);
        }
    (void)ctx;
    return EO_OK;
}

eo_status eoi_run_gemm(eo_ctx *ctx, const eoi_exec *ex, const eoi_node *n) {
    const eoi_value *a = &V(ex, n->in[0]), *o = &V(ex, n->out[0]);
    const eoi_value *c = n->nin > 2 && n->in[2] >= 0 ? &V(ex, n->in[2]) : NULL;
    int64_t m = o->dims[0], nn = o->dims[1], kd = a->dims[n->transa ? 0 : 1];
    float *out = ex->buf[n->out[0]];
    float beta = 0.0f;
    if (c && c->n > 0) {
        const float *cd = ex->buf[n->in[2]];
        int64_t c1 = c->ndim >= 1 ? c->dims[c->ndim - 1] : 1;
        int64_t c0 = c->ndim == 2 ? c->dims[0] : 1;
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < nn; j++)
                out[i * nn + j] = n->beta * cd[(c0 > 1 ? i : 0) * c1 + (c1 > 1 ? j : 0)];
        beta = 1.0f;
    }
    if (m > 0 && nn > 0)
        cblas_sgemm(CblasRowMajor, n->transa ? CblasTrans : CblasNoTrans,
                    n->transb ? CblasTrans : CblasNoTrans, (int)m, (int)nn, (int)kd, n->alpha,
                    ex->buf[n->in[0]], (int)(n->transa ? m : kd), ex->buf[n->in[1]],
                    (int)(n->transb ? kd : nn), beta, out, (int)nn);
    (void)ctx;
    return EO_OK;
}

eo_status eoi_run_matmul(eo_ctx *ctx, const eoi_exec *ex, const eoi_node *n) {
    const eoi_value *a = &V(ex, n->in[0]), *b = &V(ex, n->in[1]), *o = &V(ex, n->out[0]);
    int64_t k = a->dims[a->ndim - 1];
    int64_t m = a->ndim >= 2 ? a->dims[a->ndim - 2] : 1;
    int64_t nn = b->ndim >= 2 ? b->dims[b->ndim - 1] : 1;
    int32_t ra = a->ndim > 2 ? a->ndim - 2 : 0, rb = b->ndim > 2 ? b->ndim - 2 : 0;
    int32_t r = ra > rb ? ra : rb;
    int64_t bd[EOI_MAXDIM], sa[EOI_MAXDIM], sb[EOI_MAXDIM], batches = 1;
    int64_t ta = m * k, tb = k * nn;
    for (int32_t i = r - 1; i >= 0; i--) {
        int32_t ia = i - (r - ra), ib = i - (r - rb);
        int64_t da = ia >= 0 ? a->dims[ia] : 1, db = ib >= 0 ? b->dims[ib] : 1;
        bd[i] = da > db ? da : db;
        sa[i] = da == 1 ? 0 : ta;
        sb[i] = db == 1 ? 0 : tb;
        ta *= da;
        tb *= db;
        batches *= bd[i];
    }
    const float *pa = ex->buf[n->in[0]], *pb = ex->buf[n->in[1]];
    float *out = ex->buf[n->out[0]];
    int64_t idx[EOI_MAXDIM] = {0};
    for (int64_t t = 0; t < batches; t++) {
        int64_t oa = 0, ob = 0;
        for (int32_t i = 0; i < r; i++) {
            oa += idx[i] * sa[i];
            ob += idx[i] * sb[i];
        }
        if (m > 0 && nn > 0)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)m, (int)nn, (int)k, 1.0f,
                        pa + oa, (int)k, pb + ob, (int)nn, 0.0f, out + t * m * nn, (int)nn);
        for (int32_t i = r - 1; i >= 0; i--) {
            if (++idx[i] < bd[i])
                break;
            idx[i] = 0;
        }
    }
    (void)o;
    (void)ctx;
    return EO_OK;
}
