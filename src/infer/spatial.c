/* spatial.c - max / average pooling and resize (nearest and linear, the
 * coordinate modes PyTorch exports). Both split the work into a vertical
 * pass over whole rows (SIMD kernels: max, add, lerp) and a short
 * horizontal pass. */
#include "infer_int.h"

#include <math.h>
#include <string.h>

#define V(ex, id) ((ex)->g->values[(id)])

typedef struct pooljob {
    const eoi_node *n;
    const eoi_kernels *k;
    const float *in;
    float *out, *tmp; /* tmp: w + 16 floats per worker */
    int64_t h, w, oh, ow;
    int is_max, pool2; /* pool2: a 2 x 2 max pool of stride 2, no pads */
} pooljob;

static eo_status pool_plane(void *user, int64_t p, int32_t worker) {
    const pooljob *j = user;
    const eoi_node *n = j->n;
    int64_t h = j->h, w = j->w, oh = j->oh, ow = j->ow;
    int is_max = j->is_max;
    const float *src = j->in + p * h * w;
    float *dst = j->out + p * oh * ow, *tmp = j->tmp + (size_t)worker * (size_t)(w + 16);
    for (int64_t oy = 0; oy < oh; oy++) {
        int64_t y0 = oy * n->s[0] - n->pads[0], rows = 0;
        for (int64_t ky = 0; ky < n->k[0]; ky++) {
            int64_t iy = y0 + ky * n->d[0];
            if (iy < 0 || iy >= h)
                continue;
            if (rows++ == 0)
                memcpy(tmp, src + iy * w, (size_t)w * sizeof(float));
            else if (is_max)
                j->k->vmax(tmp, src + iy * w, (size_t)w);
            else
                j->k->vadd(tmp, src + iy * w, (size_t)w);
        }
        if (j->pool2 && rows) {
            j->k->pmax2(dst + oy * ow, tmp, (size_t)ow);
            continue;
        }
        /* rows of the window inside the padded input (count_include_pad) */
        int64_t ylo = y0 < -n->pads[0] ? -n->pads[0] : y0;
        int64_t yhi = y0 + (n->k[0] - 1) * n->d[0] + 1;
        yhi = yhi > h + n->pads[2] ? h + n->pads[2] : yhi;
        for (int64_t ox = 0; ox < ow; ox++) {
            int64_t x0 = ox * n->s[1] - n->pads[1], cnt = 0;
            float acc = is_max ? -INFINITY : 0.0f;
            for (int64_t kx = 0; kx < n->k[1] && rows; kx++) {
                int64_t ix = x0 + kx * n->d[1];
                if (ix < 0 || ix >= w)
                    continue;
                cnt++;
                acc = !is_max                        ? acc + tmp[ix]
                      : acc != acc || acc >= tmp[ix] ? acc
                                                     : tmp[ix]; /* NaN wins */
            }
            if (!is_max) {
                int64_t div = cnt * rows;
                if (n->count_pad) {
                    int64_t xlo = x0 < -n->pads[1] ? -n->pads[1] : x0;
                    int64_t xhi = x0 + n->k[1];
                    xhi = xhi > w + n->pads[3] ? w + n->pads[3] : xhi;
                    div = (yhi - ylo) * (xhi - xlo);
                }
                acc = div > 0 ? acc / (float)div : 0.0f;
            }
            dst[oy * ow + ox] = acc;
        }
    }
    return EO_OK;
}

/* Planes apart on the context's threads when the tensor is large (each
 * worker with its own row). */
eo_status eoi_run_pool(eo_ctx *ctx, const eoi_exec *ex, const eoi_node *n) {
    const eoi_value *x = &V(ex, n->in[0]), *o = &V(ex, n->out[0]);
    int four = x->ndim == 4;
    pooljob j = {n,
                 eoi_kernels_get(),
                 ex->buf[n->in[0]],
                 ex->buf[n->out[0]],
                 ex->scratch,
                 four ? x->dims[2] : 1,
                 x->dims[x->ndim - 1],
                 four ? o->dims[2] : 1,
                 o->dims[o->ndim - 1],
                 n->op == EOI_OP_MAXPOOL,
                 0};
    j.pool2 = j.is_max && n->k[0] == 2 && n->k[1] == 2 && n->s[1] == 2 && n->d[1] == 1 &&
              !n->pads[1] && !n->pads[3] && 2 * j.ow <= j.w;
    int64_t planes = x->dims[0] * x->dims[1];
    int32_t nt = ex->threads;
    if (nt > 1 && planes > 1 && x->n > (1 << 18)) {
        float *mem = eoi_malloc(ctx, (size_t)nt * (size_t)(j.w + 16) * sizeof(float));
        if (!mem)
            return EO_E_NOMEM;
        j.tmp = mem;
        eo_status st = eoi_parallel_for(ctx, planes, pool_plane, &j);
        eoi_free(mem);
        return st;
    }
    for (int64_t p = 0; p < planes; p++)
        pool_plane(&j, p, 0);
    return EO_OK;
}

/* Source coordinate of output index xo along an axis of in -> out samples. */
static double src_coord(int32_t mode, int64_t xo, int64_t in, int64_t out, double scale) {
    switch (mode) {
    case EOI_CT_HALF:
        return ((double)xo + 0.5) / scale - 0.5;
    case EOI_CT_PT_HALF:
        return out > 1 ? ((double)xo + 0.5) / scale - 0.5 : 0.0;
    case EOI_CT_ALIGN:
        /* ONNX: the resized length is in * scale, fractional when scales
         * are given (out - 1 when sizes are) */
        return (double)in * scale > 1.0 ? (double)xo * (double)(in - 1) / ((double)in * scale - 1.0)
                                        : 0.0;
    case EOI_CT_TF_NN:
        return ((double)xo + 0.5) / scale;
    default:
        return (double)xo / scale;
    }
}

/* Cubic: the 4 source indices (edge-clamped) and weights of output index
 * xo, ONNX's Keys kernel with coefficient a; with exclude_outside the
 * weights of taps outside the input are dropped and the rest rescaled. */
static void cubic_taps(const eoi_node *n, int64_t xo, int64_t in, int64_t out, double scale,
                       int64_t *idx, double *w) {
    double c = src_coord(n->coord, xo, in, out, scale), a = n->alpha;
    double base = floor(c), t = c - base, sum = 0.0;
    double d[4] = {t + 1.0, t, 1.0 - t, 2.0 - t};
    for (int i = 0; i < 4; i++) {
        double x = d[i];
        w[i] = x <= 1.0 ? ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0
                        : ((a * x - 5.0 * a) * x + 8.0 * a) * x - 4.0 * a;
        int64_t k = (int64_t)base - 1 + i;
        if (n->starts[0] && (k < 0 || k >= in))
            w[i] = 0.0;
        sum += w[i];
        idx[i] = k < 0 ? 0 : k >= in ? in - 1 : k;
    }
    if (n->starts[0] && sum != 0.0)
        for (int i = 0; i < 4; i++)
            w[i] /= sum;
}

static eo_status run_cubic(eo_ctx *ctx, const eoi_exec *ex, const eoi_node *n) {
    const eoi_value *x = &V(ex, n->in[0]), *o = &V(ex, n->out[0]);
    int64_t h = x->dims[2], w = x->dims[3], oh = o->dims[2], ow = o->dims[3];
    int64_t planes = x->dims[0] * x->dims[1];
    int64_t *xi = eoi_malloc(ctx, (size_t)(ow + 1) * 4 * (sizeof(int64_t) + sizeof(double)));
    if (!xi)
        return EO_E_NOMEM;
    double *xw = (double *)(void *)(xi + 4 * (ow + 1));
    for (int64_t ox = 0; ox < ow; ox++)
        cubic_taps(n, ox, w, ow, n->scale[1], xi + 4 * ox, xw + 4 * ox);
    const float *in = ex->buf[n->in[0]];
    float *out = ex->buf[n->out[0]];
    for (int64_t oy = 0; oy < oh; oy++) {
        int64_t yi[4];
        double yw[4];
        cubic_taps(n, oy, h, oh, n->scale[0], yi, yw);
        for (int64_t p = 0; p < planes; p++) {
            const float *src = in + p * h * w;
            float *dst = out + (p * oh + oy) * ow;
            for (int64_t ox = 0; ox < ow; ox++) {
                double acc = 0.0;
                for (int i = 0; i < 4; i++) {
                    const float *row = src + yi[i] * w;
                    double r = 0.0;
                    for (int j = 0; j < 4; j++)
                        r += xw[4 * ox + j] * row[xi[4 * ox + j]];
                    acc += yw[i] * r;
                }
                dst[ox] = (float)acc;
            }
        }
    }
    eoi_free(xi);
    return EO_OK;
}

static int64_t nearest_index(int32_t mode, double c, int64_t in) {
    double f = floor(c);
    int64_t i;
    switch (mode) {
    case EOI_NR_FLOOR:
        i = (int64_t)f;
        break;
    case EOI_NR_CEIL:
        i = (int64_t)ceil(c);
        break;
    case EOI_NR_PREFER_CEIL:
        i = c - f == 0.5 ? (int64_t)f + 1 : (int64_t)floor(c + 0.5);
        break;
    default:
        i = c - f == 0.5 ? (int64_t)f : (int64_t)floor(c + 0.5);
        break;
    }
    return i < 0 ? 0 : i >= in ? in - 1 : i;
}

/* Linear: lower index, upper index and weight of the upper sample. */
static void linear_coord(double c, int64_t in, int64_t *i0, int64_t *i1, float *wt) {
    if (c < 0.0)
        c = 0.0;
    if (c > (double)(in - 1))
        c = (double)(in - 1);
    *i0 = (int64_t)c;
    *i1 = *i0 + 1 < in ? *i0 + 1 : *i0;
    *wt = (float)(c - (double)*i0);
}

eo_status eoi_run_resize(eo_ctx *ctx, const eoi_exec *ex, const eoi_node *n) {
    if (n->linear == 2)
        return run_cubic(ctx, ex, n);
    const eoi_value *x = &V(ex, n->in[0]), *o = &V(ex, n->out[0]);
    const eoi_kernels *k = eoi_kernels_get();
    int64_t h = x->dims[2], w = x->dims[3], oh = o->dims[2], ow = o->dims[3];
    int64_t planes = x->dims[0] * x->dims[1];
    int64_t *xi0 = (int64_t *)(void *)ex->scratch, *xi1 = xi0 + ow;
    float *xw = (float *)(void *)(xi1 + ow), *tmp = xw + ow;
    for (int64_t ox = 0; ox < ow; ox++) {
        double c = src_coord(n->coord, ox, w, ow, n->scale[1]);
        if (n->linear)
            linear_coord(c, w, &xi0[ox], &xi1[ox], &xw[ox]);
        else
            xi0[ox] = nearest_index(n->nearest, c, w);
    }
    const float *in = ex->buf[n->in[0]];
    float *out = ex->buf[n->out[0]];
    for (int64_t oy = 0; oy < oh; oy++) {
        double c = src_coord(n->coord, oy, h, oh, n->scale[0]);
        int64_t y0 = 0, y1 = 0;
        float wy = 0.0f;
        if (n->linear)
            linear_coord(c, h, &y0, &y1, &wy);
        else
            y0 = nearest_index(n->nearest, c, h);
        for (int64_t p = 0; p < planes; p++) {
            const float *src = in + p * h * w;
            float *dst = out + (p * oh + oy) * ow;
            if (!n->linear) {
                const float *row = src + y0 * w;
                for (int64_t ox = 0; ox < ow; ox++)
                    dst[ox] = row[xi0[ox]];
                continue;
            }
            k->lerp(tmp, src + y0 * w, src + y1 * w, wy, (size_t)w);
            for (int64_t ox = 0; ox < ow; ox++) {
                float a = tmp[xi0[ox]], b = tmp[xi1[ox]];
                dst[ox] = a + xw[ox] * (b - a);
            }
        }
    }
    (void)ctx;
    return EO_OK;
}
