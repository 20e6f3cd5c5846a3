/* test_conv.c - the convolution kernels (own GEMM micro-kernels, implicit
 * im2col, Winograd F(2x2, 3x3), depthwise, transposed) against a naive
 * double-precision reference, on every SIMD path and on 1 and 2 threads:
 * odd sizes, strides, dilations, groups, asymmetric padding, channel counts
 * that are not multiples of the register blocks, K that spans several
 * k-blocks, and every fused activation with a vector form plus sigmoid. */
#include "eoi.h"
#include "tap.h"

#include "../../src/infer/infer_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct cfg {
    int transposed;
    int64_t b, c, h, w, m, g, kh, kw, sh, sw, dh, dw, pt, pl, pb, pr;
    int32_t act;
} cfg;

static uint64_t rng = 88172645463325252ull;

static float frand(void) { /* xorshift64, uniform in [-1, 1) */
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (float)((double)(rng >> 11) / 4503599627370496.0 - 1.0);
}

static double act_ref(double v, const eoi_act *a) {
    switch (a->kind) {
    case EOI_ACT_RELU:
        return v > 0 ? v : 0;
    case EOI_ACT_LEAKY:
        return v >= 0 ? v : v * a->a;
    case EOI_ACT_CLIP:
        return v < a->a ? a->a : v > a->b ? a->b : v;
    case EOI_ACT_SIGMOID:
        return 1.0 / (1.0 + exp(-v));
    default:
        return v;
    }
}

/* out[b][m][oy][ox] by the definition (ONNX Conv / ConvTranspose) */
static void reference(const cfg *t, const float *x, const float *w, const float *bias, double *out,
                      int64_t oh, int64_t ow, const eoi_act *a) {
    int64_t cg = t->c / t->g, mg = t->m / t->g;
    int64_t on = t->b * t->m * oh * ow;
    for (int64_t i = 0; i < on; i++)
        out[i] = bias[(i / (oh * ow)) % t->m];
    for (int64_t b = 0; b < t->b; b++)
        for (int64_t m = 0; m < t->m; m++) {
            int64_t grp = m / mg, mm = m % mg;
            double *o = out + (b * t->m + m) * oh * ow;
            for (int64_t ci = 0; ci < cg; ci++) {
                const float *xin = x + (b * t->c + grp * cg + ci) * t->h * t->w;
                for (int64_t ky = 0; ky < t->kh; ky++)
                    for (int64_t kx = 0; kx < t->kw; kx++) {
                        double wt = t->transposed
                                        ? w[(((grp * cg + ci) * mg + mm) * t->kh + ky) * t->kw + kx]
                                        : w[((m * cg + ci) * t->kh + ky) * t->kw + kx];
                        if (!t->transposed) {
                            for (int64_t oy = 0; oy < oh; oy++)
                                for (int64_t ox = 0; ox < ow; ox++) {
                                    int64_t iy = oy * t->sh - t->pt + ky * t->dh;
                                    int64_t ix = ox * t->sw - t->pl + kx * t->dw;
                                    if (iy >= 0 && iy < t->h && ix >= 0 && ix < t->w)
                                        o[oy * ow + ox] += wt * xin[iy * t->w + ix];
                                }
                        } else {
                            for (int64_t iy = 0; iy < t->h; iy++)
                                for (int64_t ix = 0; ix < t->w; ix++) {
                                    int64_t oy = iy * t->sh - t->pt + ky * t->dh;
                                    int64_t ox = ix * t->sw - t->pl + kx * t->dw;
                                    if (oy >= 0 && oy < oh && ox >= 0 && ox < ow)
                                        o[oy * ow + ox] += wt * xin[iy * t->w + ix];
                                }
                        }
                    }
            }
        }
    for (int64_t i = 0; i < on; i++)
        out[i] = act_ref(out[i], a);
}

/* Run one configuration through eoi_run_conv / eoi_run_convt on the kernel
 * table in use; returns the largest error relative to 1 + |reference|. */
static double run_one(eo_ctx *ctx, const cfg *t) {
    int64_t cg = t->c / t->g, mg = t->m / t->g, kk = t->kh * t->kw, oh, ow;
    if (t->transposed) {
        oh = (t->h - 1) * t->sh - t->pt - t->pb + t->dh * (t->kh - 1) + 1;
        ow = (t->w - 1) * t->sw - t->pl - t->pr + t->dw * (t->kw - 1) + 1;
    } else {
        oh = eoi_conv_out(t->h, t->kh, t->sh, t->dh, t->pt, t->pb, 0);
        ow = eoi_conv_out(t->w, t->kw, t->sw, t->dw, t->pl, t->pr, 0);
    }
    int64_t xn = t->b * t->c * t->h * t->w, on = t->b * t->m * oh * ow;
    int64_t wn = t->transposed ? t->c * mg * kk : t->m * cg * kk;
    float *x = malloc((size_t)xn * sizeof(float)), *w = malloc((size_t)wn * sizeof(float));
    float *bias = malloc((size_t)t->m * sizeof(float)), *out = malloc((size_t)on * sizeof(float));
    double *ref = malloc((size_t)on * sizeof(double));
    for (int64_t i = 0; i < xn; i++)
        x[i] = frand();
    for (int64_t i = 0; i < wn; i++)
        w[i] = frand() / sqrtf((float)(cg * kk));
    for (int64_t i = 0; i < t->m; i++)
        bias[i] = frand();
    eoi_act a = {t->act, t->act == EOI_ACT_CLIP ? -0.5f : 0.1f, 0.6f};
    eoi_value vals[2] = {
        {.name = "x", .dtype = EOI_F32, .ndim = 4, .dims = {t->b, t->c, t->h, t->w}},
        {.name = "y", .dtype = EOI_F32, .ndim = 4, .dims = {t->b, t->m, oh, ow}}};
    vals[0].n = xn;
    vals[1].n = on;
    int32_t in_id = 0, out_id = 1;
    eoi_node n = {.op = t->transposed ? EOI_OP_CONVT : EOI_OP_CONV,
                  .name = "conv",
                  .type = "Conv",
                  .nin = 1,
                  .nout = 1,
                  .in = &in_id,
                  .out = &out_id,
                  .act = a,
                  .group = t->g,
                  .k = {t->kh, t->kw},
                  .s = {t->sh, t->sw},
                  .d = {t->dh, t->dw},
                  .pads = {t->pt, t->pl, t->pb, t->pr},
                  .w = w,
                  .bias = bias};
    eoi_graph g = {.nvalues = 2, .nnodes = 1, .values = vals, .nodes = &n, .input = 0, .output = 1};
    size_t nbias = 0, nw = eoi_conv_packed_floats(&g, &n, &nbias);
    float *wp = calloc(nw ? nw : 1, sizeof(float)), *bp = calloc(nbias, sizeof(float));
    if (nw)
        eoi_conv_pack(&g, &n, wp, bp);
    size_t sb = eoi_node_scratch(&g, &n);
    float *scratch = malloc(sb ? sb : 1);
    void *buf[2] = {x, out};
    eoi_exec ex = {&g, buf, scratch, eoi_threads(ctx), NULL, 0};
    memset(out, 0xff, (size_t)on * sizeof(float)); /* NaN: every output must be written */
    eo_status st = t->transposed ? eoi_run_convt(ctx, &ex, &n) : eoi_run_conv(ctx, &ex, &n);
    CHECK_OK(ctx, st);
    reference(t, x, w, bias, ref, oh, ow, &a);
    double err = 0.0;
    for (int64_t i = 0; i < on; i++) {
        double e = fabs((double)out[i] - ref[i]) / (1.0 + fabs(ref[i]));
        if (!(e <= err))
            err = e;
    }
    free(x);
    free(w);
    free(bias);
    free(out);
    free(ref);
    free(wp);
    free(bp);
    free(scratch);
    return err;
}

static const cfg cases[] = {
    /* tr  b   c   h   w   m  g kh kw sh sw dh dw pt pl pb pr act */
    {0, 1, 3, 17, 19, 8, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, EOI_ACT_RELU},    /* few channels */
    {0, 1, 8, 9, 11, 13, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, EOI_ACT_NONE},    /* Winograd, odd */
    {0, 2, 33, 20, 37, 40, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, EOI_ACT_LEAKY}, /* K = 297 */
    {0, 1, 16, 35, 64, 9, 1, 3, 3, 1, 1, 1, 1, 0, 2, 1, 0, EOI_ACT_CLIP},   /* asymmetric pads */
    {0, 1, 16, 7, 5, 17, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, EOI_ACT_SIGMOID},
    {0, 1, 12, 23, 29, 7, 1, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, EOI_ACT_RELU},  /* stride 2 */
    {0, 1, 10, 31, 26, 11, 1, 3, 3, 1, 1, 2, 3, 2, 3, 2, 3, EOI_ACT_NONE}, /* dilation */
    {0, 1, 9, 19, 21, 6, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, EOI_ACT_RELU},   /* groups of 3 */
    {0, 2, 6, 13, 15, 6, 6, 3, 3, 1, 2, 1, 1, 1, 1, 1, 1, EOI_ACT_CLIP},   /* depthwise */
    {0, 1, 24, 10, 49, 19, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, EOI_ACT_NONE}, /* 1x1 */
    {0, 1, 24, 10, 49, 3, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, EOI_ACT_NONE},  /* 1x1, read in place */
    {0, 1, 5, 16, 16, 8, 1, 1, 1, 2, 3, 1, 1, 1, 0, 0, 1, EOI_ACT_RELU},   /* 1x1 strided */
    {0, 1, 7, 25, 18, 5, 1, 5, 3, 3, 2, 1, 2, 2, 1, 0, 2, EOI_ACT_LEAKY},  /* 5x3 */
    {0, 1, 70, 12, 12, 34, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, EOI_ACT_NONE}, /* K = 315 */
    {0, 1, 130, 6, 50, 3, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, EOI_ACT_RELU},  /* Winograd, K > kc */
    {1, 1, 16, 9, 13, 8, 1, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0, EOI_ACT_RELU},   /* up 2x */
    {1, 2, 12, 7, 6, 10, 2, 3, 3, 2, 2, 1, 1, 1, 1, 0, 1, EOI_ACT_NONE},   /* overlapping */
    {1, 1, 8, 48, 64, 6, 1, 2, 2, 2, 2, 1, 1, 0, 0, 0, 0,
     EOI_ACT_LEAKY}, /* threads split channels */
    {1, 1, 4, 50, 50, 8, 1, 3, 3, 2, 2, 1, 1, 1, 1, 0, 1, EOI_ACT_RELU},
};

/* A Conv of two constants runs at load (constant folding), before the
 * graph's weight packing: it must pack its own weights. */
static void test_folded_conv(eo_ctx *ctx) {
    static float c[8 * 6 * 6], w[4 * 8 * 9], zero[4];
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
        c[i] = frand();
    for (size_t i = 0; i < sizeof w / sizeof w[0]; i++)
        w[i] = frand();
    eoi_tensor inits[2] = {{"c", EOI_F32, 4, {1, 8, 6, 6}, 8 * 6 * 6, c},
                           {"w", EOI_F32, 4, {4, 8, 3, 3}, 4 * 8 * 9, w}};
    const char *cin[2] = {"c", "w"}, *cout[1] = {"y0"}, *ain[2] = {"y0", "x"}, *aout[1] = {"y"};
    eoi_onode nodes[2] = {{"conv", "Conv", "", 2, 1, 0, cin, cout, NULL},
                          {"add", "Add", "", 2, 1, 0, ain, aout, NULL}};
    eoi_vinfo in = {"x", 1, 4, {1, 1, 1, 1}}, out = {"y", 1, 4, {1, 4, 4, 4}};
    eoi_onnx m = {.ir_version = 8,
                  .opset = 13,
                  .nnodes = 2,
                  .ninit = 2,
                  .ninputs = 1,
                  .noutputs = 1,
                  .nodes = nodes,
                  .inits = inits,
                  .inputs = &in,
                  .outputs = &out};
    eoi_graph g;
    eo_status st = eoi_graph_build(ctx, &g, &m, NULL, 0);
    CHECKF(st == EO_OK, "graph build: %s", eo_ctx_errmsg(ctx));
    if (st != EO_OK)
        return;
    const float *y0 = NULL;
    for (int32_t i = 0; i < g.nvalues; i++)
        if (strcmp(g.values[i].name, "y0") == 0)
            y0 = g.values[i].cdata;
    CHECKF(y0 != NULL, "the folded convolution has no constant output");
    if (y0) {
        cfg t = {0, 1, 8, 6, 6, 4, 1, 3, 3, 1, 1, 1, 1, 0, 0, 0, 0, EOI_ACT_NONE};
        eoi_act a = {EOI_ACT_NONE, 0, 0};
        double ref[4 * 4 * 4], err = 0.0;
        reference(&t, c, w, zero, ref, 4, 4, &a);
        for (int i = 0; i < 64; i++)
            err = fmax(err, fabs((double)y0[i] - ref[i]));
        CHECKF(err <= 1e-5, "folded convolution: max error %.3g", err);
    }
    eoi_graph_free(&g);
}

int main(void) {
    eo_ctx *ctx = NULL;
    if (eo_ctx_new(&ctx) != EO_OK)
        return 1;
    const char *paths[] = {"avx512", "avx2", "portable"};
    for (int p = 0; p < 3; p++) {
        if (!eo_exp_force_kernels(paths[p])) {
            printf("# %s: not on this CPU\n", paths[p]);
            continue;
        }
        for (int32_t threads = 1; threads <= 2; threads++) {
            eo_ctx_set_threads(ctx, threads);
            for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
                double err = run_one(ctx, &cases[i]);
                CHECKF(err <= 1e-5, "%s, %d thread(s), case %zu: relative error %.3g", paths[p],
                       (int)threads, i, err);
            }
        }
    }
    eo_exp_force_kernels(NULL);
    test_folded_conv(ctx);
    eo_ctx_free(ctx);
    return tap_done();
}
