/* conv.c - convolution on our own kernels: Winograd F(4x4, 3x3) or
 * F(2x2, 3x3) for 3x3 stride-1 convolutions, a packed GEMM with implicit
 * im2col for the others, a direct SIMD kernel for depthwise ones;
 * transposed convolution (the same GEMM + col2im); Gemm and MatMul on the
 * same micro-kernel, their left operand packed per job. Bias and activation
 * are applied in the epilogue, tile by tile while the output is still in
 * cache. */
#include "infer_int.h"

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

/* ---- convolution as GEMM on our own micro-kernel ------------------------
 * out[m][p] = act(bias[m] + sum_k w[m][k] * col[k][p]) per group, with k =
 * (c, ky, kx) and p = (oy, ox). The weights are packed once at load in
 * panels of EOI_GEMM_MRP rows (k-major); the columns are gathered straight
 * from the input (implicit im2col) into a small panel of gemm_nr columns x kc
 * rows that stays in L1 while every weight panel passes over it. 1x1
 * convolutions read the input in place. The threads split the columns. */

static int is_pointwise(const eoi_node *n) {
    return n->k[0] == 1 && n->k[1] == 1 && n->s[0] == 1 && n->s[1] == 1 && n->pads[0] == 0 &&
           n->pads[1] == 0 && n->pads[2] == 0 && n->pads[3] == 0;
}

static int64_t npanels(int64_t rows) { return (rows + EOI_GEMM_MRP - 1) / EOI_GEMM_MRP; }

/* Whether a convolution of a BF16 graph runs in BF16: not those with few
 * input or output channels (the image's bands in, the class scores out),
 * where rounding costs the most accuracy and saves the least time. */
static int bf16_ok(const eoi_graph *g, const eoi_node *n) {
    const eoi_value *x = &g->values[n->in[0]], *o = &g->values[n->out[0]];
    if (!g->bf16 || x->dims[1] / n->group < 16 || o->dims[1] / n->group < 16 || !eoi_bf16_gemm())
        return 0;
    return g->bf16 == EOI_BF16_AMX && eoi_amx_gemm_packed() ? EOI_BF16_AMX : EOI_BF16_DOT;
}

/* Winograd for 3x3 convolutions of stride 1 over at least EOI_WINO_MIN_C
 * channels (fewer: the transforms cost more than they save): F(4x4, 3x3)
 * when the output is at least EOI_WINO4_MIN on both sides, else F(2x2, 3x3).
 * Returns the output tile size (0: not Winograd). */
#define EOI_WINO_MIN_C 8
#define EOI_WINO4_MIN 16
static int use_wino(const eoi_graph *g, const eoi_node *n) {
    const eoi_value *x = &g->values[n->in[0]], *o = &g->values[n->out[0]];
    if (!(n->group == 1 && n->k[0] == 3 && n->k[1] == 3 && n->s[0] == 1 && n->s[1] == 1 &&
          n->d[0] == 1 && n->d[1] == 1 && x->ndim == 4 && x->dims[1] >= EOI_WINO_MIN_C))
        return 0;
    return o->dims[2] >= EOI_WINO4_MIN && o->dims[3] >= EOI_WINO4_MIN ? 4 : 2;
}

#define AMX_KH_MAX 32 /* kernel rows of the direct convolution (taller: im2col) */

/* Whether a convolution runs as eoi_amx_conv_row's direct convolution: a
 * BF16 one on AMX, stride 1, one group, 2-D. */
static int amx_direct(const eoi_graph *g, const eoi_node *n) {
    return n->op == EOI_OP_CONV && n->group == 1 && n->s[0] == 1 && n->s[1] == 1 &&
           n->k[0] <= AMX_KH_MAX && g->values[n->in[0]].ndim == 4 && bf16_ok(g, n) == EOI_BF16_AMX;
}

/* Whether a transposed convolution's product (a 1x1 convolution to m kh kw
 * channels before col2im) runs as that direct convolution. */
static int amx_convt(const eoi_graph *g, const eoi_node *n) {
    return n->op == EOI_OP_CONVT && n->group == 1 && g->values[n->in[0]].ndim == 4 &&
           bf16_ok(g, n) == EOI_BF16_AMX;
}

static int64_t up32(int64_t v) { return (v + 31) / 32 * 32; }

/* The direct convolution's geometry from the graph's shapes. */
/* The ring's row pitch in words for rows of w pixels: an odd number of 64-byte
 * lines, so the 16 rows of a B tile (16 pairs of channels, a pitch apart) fall
 * in 16 different L1 sets; a pitch of a power of two lines (up32(512) = 2048 B)
 * put them all in two sets and the tile loads missed L1. */
static int64_t amx_pitch(int64_t w) { return ((w + 15) / 16 | 1) * 16; }

static void amx_geom(const eoi_graph *g, const eoi_node *n, eoi_amx_conv *p) {
    const eoi_value *x = &g->values[n->in[0]], *o = &g->values[n->out[0]];
    memset(p, 0, sizeof *p);
    p->m = o->dims[1];
    p->oh = o->dims[2];
    p->ow = o->dims[3];
    p->cp = up32(x->dims[1]);
    p->kh = n->k[0];
    p->kw = n->k[1];
    p->dh = n->d[0];
    p->dw = n->d[1];
    p->hp = p->oh + p->dh * (p->kh - 1);
    p->wp = amx_pitch(up32(p->ow) + p->dw * (p->kw - 1));
}

/* Output rows per step of the direct convolution: at least 16 tiles of 32
 * pixels for each block of weights. */
static int64_t amx_step_rows(int64_t ow) {
    int64_t seg = up32(ow) / 32;
    return (16 + seg - 1) / seg;
}

/* Words of a worker's ring of padded input rows in pairs. */
static size_t amx_ring_words(const eoi_amx_conv *p) {
    return (size_t)((amx_step_rows(p->ow) + (p->kh - 1) * p->dh) * (p->cp / 2) * p->wp);
}

/* The direct convolution's geometry for a transposed one's product. */
static void amx_geom_t(const eoi_graph *g, const eoi_node *n, eoi_amx_conv *p) {
    const eoi_value *x = &g->values[n->in[0]];
    memset(p, 0, sizeof *p);
    p->m = g->values[n->out[0]].dims[1] * n->k[0] * n->k[1];
    p->hp = p->oh = x->dims[2];
    p->ow = x->dims[3];
    p->cp = up32(x->dims[1]);
    p->kh = p->kw = p->dh = p->dw = 1;
    p->wp = amx_pitch(up32(p->ow));
}

size_t eoi_conv_packed_floats(const eoi_graph *g, const eoi_node *n, size_t *nbias) {
    const eoi_value *x = &g->values[n->in[0]], *o = &g->values[n->out[0]];
    int64_t cg = x->dims[1] / n->group, mg = o->dims[1] / n->group, kk = n->k[0] * n->k[1];
    if (amx_convt(g, n)) {
        *nbias = (size_t)up32(mg * kk);
        return (size_t)(up32(mg * kk) * up32(cg)) / 2;
    }
    if (n->op == EOI_OP_CONVT) { /* A = W^T: mg * kk rows of cg */
        *nbias = (size_t)(npanels(mg * kk) * EOI_GEMM_MRP);
        return (size_t)n->group * *nbias * (size_t)cg;
    }
    if (amx_direct(g, n)) { /* bfloat16 tiles, two to a float's space */
        *nbias = (size_t)up32(mg);
        return (size_t)(up32(mg) * n->k[0] * n->k[1] * up32(cg)) / 2;
    }
    *nbias = (size_t)(n->group * npanels(mg) * EOI_GEMM_MRP);
    if (cg == 1 && mg == 1)
        return 0; /* depthwise: a direct kernel */
    int t = use_wino(g, n);
    if (t)
        return (size_t)((t + 2) * (t + 2) * npanels(mg) * EOI_GEMM_MRP * cg);
    return *nbias * (size_t)(cg * kk);
}

size_t eoi_conv_work_floats(const eoi_graph *g, const eoi_node *n) {
    size_t nb = 0;
    if ((n->op != EOI_OP_CONV && n->op != EOI_OP_CONVT) || !eoi_conv_packed_floats(g, n, &nb))
        return 0;
    if (amx_direct(g, n) || amx_convt(g, n)) {
        eoi_amx_conv p;
        if (n->op == EOI_OP_CONV)
            amx_geom(g, n, &p);
        else
            amx_geom_t(g, n, &p);
        return amx_ring_words(&p) + 16;
    }
    if (n->op == EOI_OP_CONV && use_wino(g, n)) /* as conv_wino asks, for the widest table */
        return (size_t)(36 * g->values[n->in[0]].dims[1] * EOI_GEMM_NRMAX +
                        36 * EOI_GEMM_MRP * EOI_GEMM_NRMAX + 6 * (4 * 16 + 4) + 32);
    /* + the panel in bfloat16 pairs for the BF16 kernel (may be) */
    return (size_t)(EOI_GEMM_MRP * EOI_GEMM_NRMAX + EOI_GEMM_PANEL_FLOATS * 3 / 2 + 32);
}

/* U = G w G^T per (m, c) for tile size t, element x = (t + 2) * i + j in
 * panel order wp[x][panel][c][EOI_GEMM_MRP]. */
static void pack_wino(const eoi_node *n, int t, int64_t c, int64_t m, float *wp) {
    static const double G2[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
    static const double G4[6][3] = {{1.0 / 4, 0, 0},
                                    {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                    {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                    {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                    {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                    {0, 0, 1}};
    const double(*G)[3] = t == 4 ? G4 : G2;
    int p = t + 2;
    int64_t np = npanels(m);
    for (int64_t o = 0; o < m; o++)
        for (int64_t ci = 0; ci < c; ci++) {
            const float *w = n->w + (o * c + ci) * 9;
            double gw[6][3];
            for (int i = 0; i < p; i++)
                for (int b = 0; b < 3; b++)
                    gw[i][b] = G[i][0] * w[b] + G[i][1] * w[3 + b] + G[i][2] * w[6 + b];
            for (int i = 0; i < p; i++)
                for (int j = 0; j < p; j++) {
                    double u = gw[i][0] * G[j][0] + gw[i][1] * G[j][1] + gw[i][2] * G[j][2];
                    int64_t at = (((p * i + j) * np + o / EOI_GEMM_MRP) * c + ci) * EOI_GEMM_MRP;
                    wp[at + o % EOI_GEMM_MRP] = (float)u;
                }
        }
}

static void bf16_pack(const eoi_node *n, float *panel, int64_t kdim) {
    if (n->bf16 == EOI_BF16_AMX)
        eoi_amx_pack_panel(panel, kdim);
    else
        eoi_bf16_pack_panel(panel, kdim);
}

void eoi_conv_pack(const eoi_graph *g, eoi_node *n, float *wp, float *bp) {
    const eoi_value *x = &g->values[n->in[0]], *o = &g->values[n->out[0]];
    int64_t mg = o->dims[1] / n->group, kdim = x->dims[1] / n->group * n->k[0] * n->k[1];
    int64_t np = npanels(mg);
    if (amx_convt(g, n)) { /* W^T as tiles of a 1x1 convolution; a zero bias */
        int64_t rows = mg * n->k[0] * n->k[1];
        eoi_amx_pack_conv((uint16_t *)(void *)wp, n->w, rows, x->dims[1], 1, 1, rows);
        memset(bp, 0, (size_t)up32(rows) * sizeof(float));
        n->bf16 = EOI_BF16_AMXD;
        n->wp = wp;
        n->bp = bp;
        return;
    }
    if (n->op == EOI_OP_CONVT) { /* W^T in panels; a zero bias (col2im adds it) */
        int64_t cg = x->dims[1] / n->group, rows = mg * n->k[0] * n->k[1];
        np = npanels(rows);
        for (int64_t grp = 0; grp < n->group; grp++)
            for (int64_t r = 0; r < np * EOI_GEMM_MRP; r++)
                for (int64_t c = 0; c < cg; c++)
                    wp[((grp * np + r / EOI_GEMM_MRP) * cg + c) * EOI_GEMM_MRP + r % EOI_GEMM_MRP] =
                        r < rows ? n->w[(grp * cg + c) * rows + r] : 0.0f;
        memset(bp, 0, (size_t)(np * EOI_GEMM_MRP) * sizeof(float));
        n->wp = wp;
        n->bp = bp;
        return;
    }
    if (amx_direct(g, n)) {
        int64_t c = x->dims[1];
        eoi_amx_pack_conv((uint16_t *)(void *)wp, n->w, mg, c, n->k[0] * n->k[1],
                          c * n->k[0] * n->k[1], n->k[0] * n->k[1]);
        for (int64_t r = 0; r < up32(mg); r++)
            bp[r] = r < mg ? n->bias[r] : 0.0f;
        n->wino = 0;
        n->bf16 = EOI_BF16_AMXD;
        n->wp = wp;
        n->bp = bp;
        return;
    }
    n->wino = use_wino(g, n);
    if (n->wino) {
        pack_wino(n, n->wino, x->dims[1], mg, wp); /* the arena gave zeros for padding rows */
        for (int64_t r = 0; r < np * EOI_GEMM_MRP; r++)
            bp[r] = r < mg ? n->bias[r] : 0.0f;
        n->wp = wp;
        n->bp = bp;
        if ((n->bf16 = bf16_ok(g, n)))
            for (int64_t p = 0; p < (n->wino + 2) * (n->wino + 2) * np; p++)
                bf16_pack(n, wp + p * x->dims[1] * EOI_GEMM_MRP, x->dims[1]);
        return;
    }
    for (int64_t grp = 0; grp < n->group; grp++)
        for (int64_t p = 0; p < np; p++) {
            float *dst = wp + (grp * np + p) * EOI_GEMM_MRP * kdim;
            for (int64_t r = 0; r < EOI_GEMM_MRP; r++) {
                int64_t m = p * EOI_GEMM_MRP + r;
                bp[(grp * np + p) * EOI_GEMM_MRP + r] = m < mg ? n->bias[grp * mg + m] : 0.0f;
                for (int64_t kk = 0; kk < kdim; kk++)
                    dst[kk * EOI_GEMM_MRP + r] = m < mg ? n->w[(grp * mg + m) * kdim + kk] : 0.0f;
            }
        }
    n->wp = wp;
    n->bp = bp;
    if ((n->bf16 = bf16_ok(g, n)))
        for (int64_t p = 0; p < n->group * np; p++)
            bf16_pack(n, wp + p * EOI_GEMM_MRP * kdim, kdim);
}

/* Rows [k0, k0 + kc) of the column matrix, columns [p0, p0 + np) (np <= nr),
 * into dst[kc][nr], zeros beyond np. */
static void gather(float *dst, int64_t nr, const float *in, const eoi_node *n, const convgeom *q,
                   int64_t k0, int64_t kc, int64_t p0, int64_t np) {
    int64_t c = k0 / q->kk, t = k0 % q->kk, ky = t / n->k[1], kx = t % n->k[1];
    int64_t sy = n->s[0], sx = n->s[1], oy0 = p0 / q->ow, ox0 = p0 % q->ow;
    int fast = sx == 1 && np == nr && ox0 + nr <= q->ow && nr % 16 == 0;
    for (int64_t k = 0; k < kc; k++, dst += nr) {
        const float *src = in + c * q->h * q->w;
        int64_t xoff = kx * n->d[1] - n->pads[1];
        /* ox range whose ix = ox * sx + xoff lies inside [0, W) */
        int64_t lo, hi;
        if (sx == 1) {
            lo = xoff >= 0 ? 0 : -xoff;
            hi = q->w - xoff <= 0 ? 0 : q->w - xoff;
        } else {
            lo = xoff >= 0 ? 0 : (-xoff + sx - 1) / sx;
            hi = q->w - xoff <= 0 ? 0 : (q->w - xoff + sx - 1) / sx;
        }
        int64_t j = 0, oy = oy0, ox = ox0;
        int64_t iy0 = oy0 * sy - n->pads[0] + ky * n->d[0];
        if (fast && ox0 >= lo && ox0 + nr <= hi && iy0 >= 0 && iy0 < q->h) {
            /* the common case: one whole panel inside one input row */
            const float *row = src + iy0 * q->w + xoff + ox0;
            for (int64_t x = 0; x < nr; x += 16) {
                __builtin_prefetch(row + x + 2 * nr);
                memcpy(dst + x, row + x, 16 * sizeof(float));
            }
            j = nr;
        }
        while (j < np) {
            int64_t len = q->ow - ox < np - j ? q->ow - ox : np - j;
            int64_t iy = oy * sy - n->pads[0] + ky * n->d[0];
            float *d = dst + j; /* d[x - ox] is column (oy, x) */
            int64_t a = ox > lo ? ox : lo, e = ox + len < hi ? ox + len : hi;
            if (iy < 0 || iy >= q->h || a >= e) {
                memset(d, 0, (size_t)len * sizeof(float));
            } else {
                const float *row = src + iy * q->w; /* input x = ox * sx + xoff */
                for (int64_t x = ox; x < a; x++)
                    d[x - ox] = 0.0f;
                if (sx == 1)
                    memcpy(d + (a - ox), row + a + xoff, (size_t)(e - a) * sizeof(float));
                else
                    for (int64_t x = a; x < e; x++)
                        d[x - ox] = row[x * sx + xoff];
                for (int64_t x = e; x < ox + len; x++)
                    d[x - ox] = 0.0f;
            }
            j += len;
            ox = 0;
            oy++;
        }
        for (; j < nr; j++)
            dst[j] = 0.0f;
        if (++kx == n->k[1]) {
            kx = 0;
            if (++ky == n->k[0]) {
                ky = 0;
                c++;
            }
        }
    }
}

typedef struct gemmjob {
    const eoi_node *n;
    const convgeom *q;
    const eoi_kernels *k;
    const float *in;
    float *out, *panels; /* panels: one per worker, per floats apart */
    size_t per;
    int64_t kdim, kc, ohw, np, chunk, nchunks, mpan;
    int pointwise;
} gemmjob;

static eo_status gemm_job(void *user, int64_t i, int32_t worker) {
    const gemmjob *j = user;
    const convgeom *q = j->q;
    const eoi_kernels *k = j->k;
    int64_t nr = k->gemm_nr, mr = k->gemm_mr;
    int64_t ch = i % j->nchunks, bg = i / j->nchunks, grp = bg % q->g, b = bg / q->g;
    const float *gin = j->in + (b * q->c + grp * q->cg) * q->h * q->w;
    float *gout = j->out + (b * q->m + grp * q->mg) * j->ohw;
    const float *wp = j->n->wp + grp * j->mpan * EOI_GEMM_MRP * j->kdim;
    const float *bias = j->n->bp + grp * j->mpan * EOI_GEMM_MRP;
    float *panel = j->panels + (size_t)worker * j->per;
    float *tile = panel + j->kc * nr;
    float *bpk = tile + EOI_GEMM_MRP * EOI_GEMM_NRMAX; /* BF16: the panel in pairs */
    int64_t p_end = (ch + 1) * j->chunk * nr;
    p_end = p_end < j->ohw ? p_end : j->ohw;
    for (int64_t k0 = 0; k0 < j->kdim; k0 += j->kc) {
        int64_t kc = j->kdim - k0 < j->kc ? j->kdim - k0 : j->kc;
        int32_t flags = (k0 ? EOI_GEMM_ACC : 0) | (k0 + kc == j->kdim ? EOI_GEMM_ACT : 0);
        for (int64_t p0 = ch * j->chunk * nr; p0 < p_end; p0 += nr) {
            int64_t np = p_end - p0 < nr ? p_end - p0 : nr;
            const float *bsrc = panel;
            int64_t ldb = nr;
            if (j->pointwise && np == nr && q->mg <= mr) { /* read once: in place */
                bsrc = gin + k0 * j->ohw + p0;
                ldb = j->ohw;
            } else if (j->pointwise) { /* copied: in place, rows a power of two apart
                                          would fight over the same L1 sets */
                for (int64_t kk = 0; kk < kc; kk++) {
                    memcpy(panel + kk * nr, gin + (k0 + kk) * j->ohw + p0,
                           (size_t)np * sizeof(float));
                    memset(panel + kk * nr + np, 0, (size_t)(nr - np) * sizeof(float));
                }
            } else {
                gather(panel, nr, gin, j->n, q, k0, kc, p0, np);
            }
            if (j->n->bf16) { /* once per panel, for every row block */
                eoi_bf16_pack_b(bpk, bsrc, ldb, kc);
                bsrc = bpk;
                ldb = nr;
            }
            for (int64_t r0 = 0; r0 < q->mg; r0 += mr) {
                const float *a =
                    wp + (r0 / EOI_GEMM_MRP * j->kdim + k0) * EOI_GEMM_MRP + r0 % EOI_GEMM_MRP;
                float *c = gout + r0 * j->ohw + p0;
                int64_t m = q->mg - r0 < mr ? q->mg - r0 : mr;
                if (m == mr && np == nr) {
                    k->gemm(kc, a, bsrc, ldb, c, j->ohw, bias + r0, flags, &j->n->act);
                    continue;
                }
                /* an edge tile: through a full-size copy, activated after it on
                 * its m x np cells only (a 1-output head with a sigmoid spent
                 * 7 of its 8 ms on the kernel's padding rows) */
                if (flags & EOI_GEMM_ACC)
                    for (int64_t r = 0; r < m; r++)
                        memcpy(tile + r * nr, c + r * j->ohw, (size_t)np * sizeof(float));
                k->gemm(kc, a, bsrc, ldb, tile, nr, bias + r0, flags & ~EOI_GEMM_ACT, &j->n->act);
                for (int64_t r = 0; r < m; r++) {
                    memcpy(c + r * j->ohw, tile + r * nr, (size_t)np * sizeof(float));
                    if ((flags & EOI_GEMM_ACT) && j->n->act.kind != EOI_ACT_NONE)
                        k->act(c + r * j->ohw, (size_t)np, 0.0f, &j->n->act);
                }
            }
        }
    }
    return EO_OK;
}

/* Run fn over jobs on the context's threads (one when small is set), each
 * worker with per floats of 64-byte aligned work memory at *work (vector
 * loads that straddle cache lines cost twice). */
static eo_status run_jobs(eo_ctx *ctx, const eoi_exec *ex, int64_t jobs, int small, size_t per,
                          float **work, eoi_job_fn fn, void *user) {
    int32_t nt = ex->threads < 1 ? 1 : ex->threads > 64 ? 64 : ex->threads;
    if (jobs < 2 || small)
        nt = 1;
    per = (per + 15) & ~(size_t)15;
    float *mem = NULL;
    if (ex->work && (size_t)nt * per <= ex->work_cap) {
        *work = ex->work; /* the run state's: no fresh pages to fault in */
    } else {
        if (!(mem = eoi_malloc(ctx, ((size_t)nt * per + 16) * sizeof(float))))
            return EO_E_NOMEM;
        *work = (float *)(((uintptr_t)mem + 63) & ~(uintptr_t)63);
    }
    eo_status st = EO_OK;
    if (nt > 1) {
        st = eoi_parallel_for(ctx, jobs, fn, user);
    } else {
        for (int64_t i = 0; i < jobs && st == EO_OK; i++) {
            fn(user, i, 0);
            if (i % 16 == 15 && eoi_check_cancel(ctx) != EO_OK)
                st = EO_E_CANCELLED;
        }
    }
    eoi_free(mem);
    return st;
}

/* ---- Winograd F(T x T, 3x3), T = 2 or 4: each job takes gemm_nr tiles of
 * T x T outputs: input transform of all channels (V[X][C][nr], X = (T + 2)^2
 * elements per tile), then per panel of 8 output channels the X GEMMs into
 * Y[X][8][nr] and the output transform with bias and activation straight
 * into the output. */
typedef struct winojob {
    const eoi_node *n;
    const convgeom *q;
    const eoi_kernels *k;
    const float *in;
    float *out, *work;
    size_t per;
    int64_t t, tw, tiles, np;
} winojob;

static const float wzero[EOI_GEMM_MRP];
/* a row of zeros as long as any Winograd input row (T * VL + T floats) */
static const float wzero_row[4 * 64 + 4];

/* lane by lane: tiles that straddle tile rows or the image's edge */
static void wino_in_tile(float *v, int64_t xs, const float *src, const winojob *j, int64_t ty,
                         int64_t tx) {
    float d[6][8] = {{0}}; /* the portable transform reads T + T floats per row */
    const float *r[6] = {d[0], d[1], d[2], d[3], d[4], d[5]};
    int64_t t = j->t, h = j->q->h, w = j->q->w;
    for (int64_t i = 0; i < t + 2; i++)
        for (int64_t jx = 0; jx < t + 2; jx++) {
            int64_t iy = t * ty - j->n->pads[0] + i, ix = t * tx - j->n->pads[1] + jx;
            d[i][jx] = iy >= 0 && iy < h && ix >= 0 && ix < w ? src[iy * w + ix] : 0.0f;
        }
    eoi_kernels_portable.wino_in[t == 4](v, xs, r);
}

static void wino_out_tile(float *om, const float *yy, int64_t ys, float bias, const winojob *j,
                          int64_t ty, int64_t tx) {
    float o[4][4];
    float *rows[4] = {o[0], o[1], o[2], o[3]};
    int64_t t = j->t, oh = j->q->oh, ow = j->q->ow;
    eoi_kernels_portable.wino_out[t == 4](rows, yy, ys, bias, &j->n->act);
    for (int64_t a = 0; a < t && t * ty + a < oh; a++)
        for (int64_t e = 0; e < t && t * tx + e < ow; e++)
            om[(t * ty + a) * ow + t * tx + e] = o[a][e];
}

static void wino_input(const winojob *j, float *v, float *tmp, const float *bin, int64_t t0,
                       int64_t nt) {
    const convgeom *q = j->q;
    const eoi_kernels *k = j->k;
    int64_t nr = k->gemm_nr, vl = k->vl, t = j->t, p = t + 2, xs = q->c * nr;
    int64_t len = t * vl + t; /* floats the vector transform reads per row */
    for (int64_t ci = 0; ci < q->c; ci++) {
        const float *src = bin + ci * q->h * q->w;
        for (int64_t g = 0; g < nr; g += vl) {
            int64_t tile = t0 + g, ty = tile / j->tw, tx = tile % j->tw;
            int64_t x0 = t * tx - j->n->pads[1];
            float *vd = v + ci * nr + g;
            if (g + vl <= nt && tx + vl <= j->tw) { /* vl tiles in one tile row */
                const float *r[6];
                int64_t lo = x0 < 0 ? -x0 : 0, hi = q->w - x0;
                hi = hi > len ? len : hi;
                for (int64_t ii = 0; ii < p; ii++) {
                    int64_t iy = t * ty - j->n->pads[0] + ii;
                    int inside = iy >= 0 && iy < q->h;
                    if (inside && lo == 0 && hi == len) {
                        r[ii] = src + iy * q->w + x0;
                        continue;
                    }
                    if (!inside || hi <= lo) { /* a row of the padding */
                        r[ii] = wzero_row;
                        continue;
                    }
                    /* at the image's left or right edge: a zero-padded copy
                     * (only the padding zeroed: the calls cost more than the
                     * bytes on narrow layers, where every group is an edge) */
                    float *tr = tmp + ii * len;
                    for (int64_t x = 0; x < lo; x++)
                        tr[x] = 0.0f;
                    memcpy(tr + lo, src + iy * q->w + x0 + lo, (size_t)(hi - lo) * sizeof(float));
                    for (int64_t x = hi; x < len; x++)
                        tr[x] = 0.0f;
                    r[ii] = tr;
                }
                k->wino_in[t == 4](vd, xs, r);
                continue;
            }
            for (int64_t l = 0; l < vl; l++) {
                if (g + l < nt) {
                    wino_in_tile(vd + l, xs, src, j, (tile + l) / j->tw, (tile + l) % j->tw);
                } else {
                    for (int64_t x = 0; x < p * p; x++)
                        vd[l + x * xs] = 0.0f;
                }
            }
        }
    }
}

static eo_status wino_job(void *user, int64_t i, int32_t worker) {
    const winojob *j = user;
    const convgeom *q = j->q;
    const eoi_kernels *k = j->k;
    const eoi_node *n = j->n;
    int64_t nr = k->gemm_nr, vl = k->vl, t = j->t, nx = (t + 2) * (t + 2), xs = q->c * nr;
    int64_t b = i / j->np, t0 = i % j->np * nr;
    int64_t nt = j->tiles - t0 < nr ? j->tiles - t0 : nr;
    float *v = j->work + (size_t)worker * j->per, *y = v + nx * xs, *tmp = y + nx * 8 * nr;
    float *bout = j->out + b * q->m * q->oh * q->ow;
    wino_input(j, v, tmp, j->in + b * q->c * q->h * q->w, t0, nt);
    if (n->bf16) /* each element's channels to bfloat16 pairs, in place, once for every panel */
        for (int64_t x = 0; x < nx; x++)
            eoi_bf16_pack_b(v + x * xs, v + x * xs, nr, q->c);
    int64_t mr = k->gemm_mr, mpan = npanels(q->m), ys = EOI_GEMM_MRP * nr;
    for (int64_t mp = 0; mp < mpan; mp++) {
        for (int64_t x = 0; x < nx; x++)
            for (int64_t r0 = 0; r0 < EOI_GEMM_MRP && mp * EOI_GEMM_MRP + r0 < q->m; r0 += mr)
                k->gemm(q->c, n->wp + (x * mpan + mp) * q->c * EOI_GEMM_MRP + r0, v + x * xs, nr,
                        y + x * ys + r0 * nr, nr, wzero, 0, &n->act);
        for (int64_t r = 0; r < EOI_GEMM_MRP && mp * EOI_GEMM_MRP + r < q->m; r++) {
            int64_t m = mp * EOI_GEMM_MRP + r;
            float *om = bout + m * q->oh * q->ow, bias = n->bias[m];
            for (int64_t g = 0; g < nt; g += vl) {
                int64_t tile = t0 + g, ty = tile / j->tw, tx = tile % j->tw;
                const float *yy = y + r * nr + g;
                if (g + vl <= nt && tx + vl <= j->tw && t * (tx + vl) <= q->ow &&
                    t * ty + t <= q->oh) {
                    float *rows[4];
                    for (int64_t a = 0; a < t; a++)
                        rows[a] = om + (t * ty + a) * q->ow + t * tx;
                    k->wino_out[t == 4](rows, yy, ys, bias, &n->act);
                    continue;
                }
                for (int64_t l = 0; l < vl && g + l < nt; l++)
                    wino_out_tile(om, yy + l, ys, bias, j, (tile + l) / j->tw, (tile + l) % j->tw);
            }
        }
    }
    return EO_OK;
}

static eo_status conv_wino(eo_ctx *ctx, const eoi_exec *ex, const eoi_node *n, const convgeom *q,
                           const float *in, float *out, const eoi_kernels *k) {
    int64_t nr = k->gemm_nr, batch = V(ex, n->in[0]).dims[0], t = n->wino, nx = (t + 2) * (t + 2);
    winojob j = {n, q, k, in, out, NULL, 0, t, (q->ow + t - 1) / t, 0, 0};
    j.tiles = j.tw * ((q->oh + t - 1) / t);
    j.np = (j.tiles + nr - 1) / nr;
    j.per = (size_t)(nx * q->c * nr + nx * EOI_GEMM_MRP * nr + (t + 2) * (t * k->vl + t) + 15) &
            ~(size_t)15;
    return run_jobs(ctx, ex, batch * j.np, 0, j.per, &j.work, wino_job, &j);
}

static eo_status conv_gemm(eo_ctx *ctx, const eoi_exec *ex, const eoi_node *n, const convgeom *q,
                           const float *in, float *out, const eoi_kernels *k, int64_t batch) {
    int64_t nr = k->gemm_nr, kdim = q->cg * q->kk, ohw = q->oh * q->ow;
    int64_t kcmax = EOI_GEMM_PANEL_FLOATS / nr, nb = (kdim + kcmax - 1) / kcmax;
    int64_t kc = (kdim + nb - 1) / nb;
    if (n->bf16 == EOI_BF16_AMX) /* whole groups of 32 k per block (kcmax is a multiple of 32) */
        kc = (kc + 31) & ~(int64_t)31;
    else if (n->bf16) /* whole pairs of k per block (kcmax is even) */
        kc = (kc + 1) & ~(int64_t)1;
    gemmjob j = {n,
                 q,
                 k,
                 in,
                 out,
                 NULL,
                 0,
                 kdim,
                 kc,
                 ohw,
                 (ohw + nr - 1) / nr,
                 1,
                 0,
                 npanels(q->mg),
                 is_pointwise(n)};
    int32_t nt = ex->threads < 1 ? 1 : ex->threads > 64 ? 64 : ex->threads;
    /* about 8 column chunks per thread, each of 1 to 16 panels */
    j.chunk = j.np / (8 * nt);
    j.chunk = j.chunk < 1 ? 1 : j.chunk > 16 ? 16 : j.chunk;
    j.nchunks = (j.np + j.chunk - 1) / j.chunk;
    /* per worker: the column panel, then an edge tile */
    j.per =
        (size_t)(EOI_GEMM_MRP * EOI_GEMM_NRMAX + j.kc * nr + (n->bf16 ? j.kc * nr / 2 : 0) + 15) &
        ~(size_t)15;
    return run_jobs(ctx, ex, batch * q->g * j.nchunks,
                    (double)kdim * q->mg * ohw < (double)(1 << 20), j.per, &j.panels, gemm_job, &j);
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

/* ---- the direct convolution on AMX (kern_bf16.c) ---------------------------
 * The output rows are split in a few chunks per thread; each worker converts
 * the input rows its chunk needs to bfloat16 pairs, each once, into a ring of
 * rows small enough to stay in its L2 cache, and runs the kernel over them
 * step by step (amx_step_rows rows, every block of 32 channels). */
typedef struct amxjob {
    eoi_amx_conv p;
    const float *in; /* this batch item's [c][h][w] */
    float *work;
    size_t per;
    int64_t c, h, w, pt, pl, rows, chunk;
} amxjob;

/* Padded input row y as pairs of channels into dst ([cp / 2][wp]). */
static void amx_pair_row(const amxjob *j, int64_t y, uint32_t *dst) {
    const eoi_amx_conv *p = &j->p;
    int64_t iy = y - j->pt, hw = j->h * j->w;
    for (int64_t i = 0; i < p->cp / 2; i++, dst += p->wp) {
        if (2 * i >= j->c || iy < 0 || iy >= j->h) {
            memset(dst, 0, (size_t)p->wp * sizeof *dst);
            continue;
        }
        const float *r0 = j->in + 2 * i * hw + iy * j->w;
        memset(dst, 0, (size_t)j->pl * sizeof *dst);
        eoi_bf16_pair_rows(dst + j->pl, r0, 2 * i + 1 < j->c ? r0 + hw : NULL, j->w);
        memset(dst + j->pl + j->w, 0, (size_t)(p->wp - j->pl - j->w) * sizeof *dst);
    }
}

static eo_status amx_chunk(void *user, int64_t c, int32_t worker) {
    const amxjob *j = user;
    const eoi_amx_conv *p = &j->p;
    int64_t halo = (p->kh - 1) * p->dh, slots = j->rows + halo, ys = p->cp / 2 * p->wp;
    uint32_t *ring = (uint32_t *)(void *)(j->work + (size_t)worker * j->per);
    int64_t y0 = c * j->chunk, y1 = y0 + j->chunk < p->oh ? y0 + j->chunk : p->oh, have = y0;
    const uint32_t *rows[AMX_KH_MAX];
    for (int64_t y = y0; y < y1; y += j->rows) {
        int64_t ye = y + j->rows < y1 ? y + j->rows : y1;
        for (; have < ye + halo; have++) /* rows [y, ye + halo) are in the ring */
            amx_pair_row(j, have, ring + have % slots * ys);
        for (int64_t ob2 = 0; ob2 < up32(p->m) / 32; ob2++)
            for (int64_t oy = y; oy < ye; oy++) {
                for (int64_t ky = 0; ky < p->kh; ky++)
                    rows[ky] = ring + (oy + ky * p->dh) % slots * ys;
                eoi_amx_conv_row(p, rows, oy, ob2);
            }
    }
    (void)worker;
    return EO_OK;
}

/* One batch item (j->in, j->p.out set). */
static eo_status amx_run(eo_ctx *ctx, const eoi_exec *ex, amxjob *j) {
    int32_t nt = ex->threads < 1 ? 1 : ex->threads > 64 ? 64 : ex->threads;
    int64_t steps = (j->p.oh + j->rows - 1) / j->rows;
    int64_t nchunks = steps < 4 * nt ? steps : 4 * nt;
    j->chunk = (steps + nchunks - 1) / nchunks * j->rows;
    return run_jobs(ctx, ex, (j->p.oh + j->chunk - 1) / j->chunk, 0, j->per, &j->work, amx_chunk,
                    j);
}

static void amx_job_init(amxjob *j, const eoi_node *n, const convgeom *q) {
    j->p.w = (const uint16_t *)(const void *)n->wp;
    j->p.bias = n->bp;
    j->c = q->c;
    j->h = q->h;
    j->w = q->w;
    j->rows = amx_step_rows(j->p.ow);
    j->per = amx_ring_words(&j->p) + 16;
}

static eo_status conv_amx(eo_ctx *ctx, const eoi_exec *ex, const eoi_node *n, const convgeom *q,
                          const float *in, float *out, int64_t batch) {
    amxjob j;
    amx_geom(ex->g, n, &j.p);
    amx_job_init(&j, n, q);
    j.p.act = &n->act;
    j.pt = n->pads[0];
    j.pl = n->pads[1];
    eo_status st = EO_OK;
    for (int64_t b = 0; b < batch && st == EO_OK; b++) {
        j.in = in + b * q->c * q->h * q->w;
        j.p.out = out + b * q->m * q->oh * q->ow;
        st = amx_run(ctx, ex, &j);
    }
    return st;
}

eo_status eoi_run_conv(eo_ctx *ctx, const eoi_exec *ex, const eoi_node *n) {
    convgeom q;
    geom_of(ex, n, &q);
    const eoi_value *x = &V(ex, n->in[0]);
    const float *in = ex->buf[n->in[0]];
    float *out = ex->buf[n->out[0]];
    const eoi_kernels *k = eoi_kernels_get();
    int64_t batch = x->dims[0], ohw = q.oh * q.ow;
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
    if (n->bf16 == EOI_BF16_AMXD)
        return conv_amx(ctx, ex, n, &q, in, out, batch);
    eoi_kernels kb;
    if (n->bf16) { /* packed for the BF16 kernel at load: its tile is the AVX-512 table's */
        kb = eoi_kernels_avx512;
        /* b paired by the caller */
        kb.gemm = n->bf16 == EOI_BF16_AMX ? eoi_amx_gemm_packed() : eoi_bf16_gemm_packed();
        k = &kb;
    }
    if (n->wino)
        return conv_wino(ctx, ex, n, &q, in, out, k);
    return conv_gemm(ctx, ex, n, &q, in, out, k, batch);
}

/* One output row of a transposed convolution whose kernel equals its
 * stride: the k[1] GEMM rows (m, ky, kx) of one input row, cstride floats
 * apart, interleaved (each output pixel one term), then bias and
 * activation while the row is in L1. */
static void convt_scatter_row(const eoi_kernels *k, const eoi_node *n, float *orow, const float *c0,
                              int64_t cstride, int64_t w, float bias) {
    int64_t k1 = n->k[1];
    if (k1 == 2) {
        k->zip2(orow, c0, c0 + cstride, (size_t)w);
    } else {
        for (int64_t kx = 0; kx < k1; kx++)
            for (int64_t ix = 0; ix < w; ix++)
                orow[ix * k1 + kx] = c0[kx * cstride + ix];
    }
    k->act(orow, (size_t)(w * k1), bias, &n->act);
}

/* col2im of one output channel m of a group: the GEMM's rows (m, ky, kx)
 * added at their output pixels, then bias and activation. */
typedef struct col2im {
    const eoi_node *n;
    const convgeom *q;
    const eoi_kernels *k;
    const float *col, *bias;
    float *gout;
    int tiled;
} col2im;

static eo_status col2im_channel(void *user, int64_t m, int32_t worker) {
    const col2im *j = user;
    const eoi_node *n = j->n;
    const convgeom *q = j->q;
    int64_t hw = q->h * q->w, ohw = q->oh * q->ow;
    float *o = j->gout + m * ohw;
    if (j->tiled) { /* each output pixel has exactly one term: a plain scatter */
        for (int64_t ky = 0; ky < n->k[0]; ky++)
            for (int64_t iy = 0; iy < q->h; iy++)
                convt_scatter_row(j->k, n, o + (iy * n->k[0] + ky) * q->ow,
                                  j->col + ((m * n->k[0] + ky) * n->k[1]) * hw + iy * q->w, hw,
                                  q->w, j->bias[m]);
        (void)worker;
        return EO_OK;
    } else {
        memset(o, 0, (size_t)ohw * sizeof(float));
        for (int64_t ky = 0; ky < n->k[0]; ky++)
            for (int64_t kx = 0; kx < n->k[1]; kx++) {
                const float *crow = j->col + ((m * n->k[0] + ky) * n->k[1] + kx) * hw;
                for (int64_t iy = 0; iy < q->h; iy++) {
                    int64_t oy = iy * n->s[0] - n->pads[0] + ky * n->d[0];
                    if (oy < 0 || oy >= q->oh)
                        continue;
                    for (int64_t ix = 0; ix < q->w; ix++) {
                        int64_t ox = ix * n->s[1] - n->pads[1] + kx * n->d[1];
                        if (ox >= 0 && ox < q->ow)
                            o[oy * q->ow + ox] += crow[iy * q->w + ix];
                    }
                }
            }
    }
    j->k->act(o, (size_t)ohw, j->bias[m], &n->act);
    (void)worker;
    return EO_OK;
}

/* col[rows][hw] = W^T in for one group: a 1x1 convolution of cg to mg kh kw
 * channels, on AMX tiles (one group) or on the GEMM micro-kernel. */
static eo_status convt_col(eo_ctx *ctx, const eoi_exec *ex, const eoi_node *n, const convgeom *q,
                           const float *gin, int64_t grp, float *col, const eoi_kernels *k) {
    if (n->bf16 == EOI_BF16_AMXD) {
        eoi_act none = {EOI_ACT_NONE, 0.0f, 0.0f};
        amxjob j;
        amx_geom_t(ex->g, n, &j.p);
        amx_job_init(&j, n, q);
        j.p.act = &none;
        j.p.out = col;
        j.in = gin;
        j.pt = j.pl = 0;
        return amx_run(ctx, ex, &j);
    }
    int64_t rows = q->mg * q->kk;
    eoi_node pw = *n;
    pw.k[0] = pw.k[1] = pw.s[0] = pw.s[1] = pw.d[0] = pw.d[1] = 1;
    memset(pw.pads, 0, sizeof pw.pads);
    pw.act.kind = EOI_ACT_NONE;
    pw.wp = n->wp + grp * npanels(rows) * EOI_GEMM_MRP * q->cg;
    convgeom pq = {q->cg, q->h, q->w, rows, q->h, q->w, 1, q->cg, rows, 1};
    return conv_gemm(ctx, ex, &pw, &pq, gin, col, k, 1);
}

/* ---- a transposed convolution whose kernel equals its stride, in bands of
 * input rows: each band's GEMM rows (m, ky, kx) go to a small buffer of the
 * worker's and are scattered into the output while they are in L2 (the
 * whole GEMM result at once went through memory twice: 16 MB for the demo
 * U-Net's last upsampling). */
#define CONVT_BAND 8 /* input rows per band */
/* floats of GEMM work memory one band's 1 x 1 GEMM takes (conv_gemm's per) */
#define CONVT_GEMM_WORK                                                                            \
    (((size_t)EOI_GEMM_MRP * EOI_GEMM_NRMAX + EOI_GEMM_PANEL_FLOATS * 3 / 2 + 31) & ~(size_t)15)

typedef struct convtband {
    eo_ctx *ctx;
    const eoi_exec *ex;
    const eoi_node *n;
    const convgeom *q;
    const eoi_kernels *k;
    const float *in; /* one batch item's input */
    float *out;      /* its output */
    int64_t rows, per;
} convtband;

static eo_status convt_band(void *user, int64_t i, int32_t worker) {
    const convtband *j = user;
    const eoi_node *n = j->n;
    const convgeom *q = j->q;
    int64_t iy0 = i * CONVT_BAND, r = q->h - iy0 < CONVT_BAND ? q->h - iy0 : CONVT_BAND;
    int64_t bhw = r * q->w, hw = q->h * q->w, k0 = n->k[0], k1 = n->k[1];
    float *work = j->ex->scratch + (size_t)worker * (size_t)j->per;
    float *bin = work + CONVT_GEMM_WORK;
    float *col = bin + ((q->c * CONVT_BAND * q->w + 15) & ~(int64_t)15);
    for (int64_t c = 0; c < q->c; c++)
        memcpy(bin + c * bhw, j->in + c * hw + iy0 * q->w, (size_t)bhw * sizeof(float));
    eoi_node pw = *n;
    pw.k[0] = pw.k[1] = pw.s[0] = pw.s[1] = pw.d[0] = pw.d[1] = 1;
    memset(pw.pads, 0, sizeof pw.pads);
    pw.act.kind = EOI_ACT_NONE;
    convgeom pq = {q->c, r, q->w, j->rows, r, q->w, 1, q->c, j->rows, 1};
    /* one thread, work memory of its own (the bands are the parallel work):
     * conv_gemm allocates nothing, so it never touches the shared context */
    eoi_exec one = {j->ex->g, j->ex->buf, NULL, 1, work, CONVT_GEMM_WORK};
    EOI_TRY_RET(conv_gemm(j->ctx, &one, &pw, &pq, bin, col, j->k, 1));
    for (int64_t m = 0; m < q->m; m++)
        for (int64_t ky = 0; ky < k0; ky++)
            for (int64_t iy = 0; iy < r; iy++)
                convt_scatter_row(
                    j->k, n, j->out + m * q->oh * q->ow + ((iy0 + iy) * k0 + ky) * q->ow,
                    col + ((m * k0 + ky) * k1) * bhw + iy * q->w, bhw, q->w, n->bias[m]);
    return EO_OK;
}

eo_status eoi_run_convt(eo_ctx *ctx, const eoi_exec *ex, const eoi_node *n) {
    convgeom q;
    geom_of(ex, n, &q);
    const eoi_value *x = &V(ex, n->in[0]);
    const float *in = ex->buf[n->in[0]];
    float *out = ex->buf[n->out[0]];
    const eoi_kernels *k = eoi_kernels_get();
    int64_t hw = q.h * q.w, ohw = q.oh * q.ow;
    float *col = ex->scratch;
    int tiled = n->s[0] == n->k[0] && n->s[1] == n->k[1] && n->d[0] == 1 && n->d[1] == 1 &&
                !n->pads[0] && !n->pads[1] && !n->pads[2] && !n->pads[3] && q.oh == q.h * n->s[0] &&
                q.ow == q.w * n->s[1];
    int32_t nt = ex->threads < 1 ? 1 : ex->threads > 64 ? 64 : ex->threads;
    int64_t rows = q.mg * q.kk, nbands = (q.h + CONVT_BAND - 1) / CONVT_BAND;
    int64_t per = (int64_t)CONVT_GEMM_WORK + ((q.c * CONVT_BAND * q.w + 15) & ~(int64_t)15) +
                  rows * CONVT_BAND * q.w + 16;
    per &= ~(int64_t)15;
    if (tiled && q.g == 1 && n->bf16 != EOI_BF16_AMXD && nbands > 1 &&
        (size_t)nt * (size_t)per <= (size_t)(rows * hw)) { /* within the scratch of the whole */
        convtband j = {ctx, ex, n, &q, k, NULL, NULL, rows, per};
        for (int64_t b = 0; b < x->dims[0]; b++) {
            j.in = in + b * q.c * hw;
            j.out = out + b * q.m * ohw;
            eo_status st = EO_OK;
            if (nt > 1)
                st = eoi_parallel_for(ctx, nbands, convt_band, &j);
            else
                for (int64_t i = 0; i < nbands && st == EO_OK; i++)
                    st = convt_band(&j, i, 0);
            if (st != EO_OK)
                return st;
        }
        return EO_OK;
    }
    for (int64_t b = 0; b < x->dims[0]; b++)
        for (int64_t grp = 0; grp < q.g; grp++) {
            eo_status st = convt_col(ctx, ex, n, &q, in + (b * q.c + grp * q.cg) * hw, grp, col, k);
            if (st != EO_OK)
                return st;
            col2im j = {n,    &q, k, col, n->bias + grp * q.mg, out + (b * q.m + grp * q.mg) * ohw,
                        tiled};
            if (ex->threads > 1 && q.mg > 1 && q.mg * ohw > 1 << 16) {
                if ((st = eoi_parallel_for(ctx, q.mg, col2im_channel, &j)) != EO_OK)
                    return st;
            } else {
                for (int64_t m = 0; m < q.mg; m++)
                    col2im_channel(&j, m, 0);
            }
        }
    return EO_OK;
}

/* ---- MatMul on the GEMM micro-kernel ------------------------------------
 * C[m][n] = A[m][k] B[k][n] for one batch. A job takes a block of MM_ROWS rows
 * of A and a chunk of column panels: it packs its rows into panels of
 * EOI_GEMM_MRP, k-major (as convolution weights are packed at load), copies
 * each k block of a column panel once (zero-padded at the right edge, and no
 * rows a power of two apart in L1), and runs the kernel over its rows,
 * accumulating over k blocks. (OpenBLAS's cblas_sgemm, used before, takes its
 * SSE3 kernel on CPUs newer than it knows, Sapphire Rapids among them.) */
#define MM_ROWS 64

typedef struct mmjob {
    const eoi_kernels *k;
    const float *a, *b;
    float *c, *work;
    size_t per;
    int64_t m, n, kd, kc, ncc, cchunk;
    int32_t transa, transb; /* A stored k x m, B stored n x k (Gemm's transA, transB) */
} mmjob;

static eo_status mm_job(void *user, int64_t i, int32_t worker) {
    static const float zero_bias[EOI_GEMM_MRP];
    const mmjob *j = user;
    const eoi_kernels *k = j->k;
    const eoi_act none = {EOI_ACT_NONE, 0.0f, 0.0f};
    int64_t nr = k->gemm_nr, mr = k->gemm_mr, kd = j->kd;
    int64_t r_lo = i / j->ncc * MM_ROWS, cc = i % j->ncc;
    int64_t rows = j->m - r_lo < MM_ROWS ? j->m - r_lo : MM_ROWS;
    float *ap = j->work + (size_t)worker * j->per, *bp = ap + MM_ROWS * kd;
    float *tile = bp + j->kc * nr;
    for (int64_t p = 0; p * EOI_GEMM_MRP < rows; p++)
        for (int64_t r = 0; r < EOI_GEMM_MRP; r++) {
            int64_t row = p * EOI_GEMM_MRP + r;
            float *dst = ap + p * kd * EOI_GEMM_MRP + r;
            if (row >= rows) {
                for (int64_t kk = 0; kk < kd; kk++)
                    dst[kk * EOI_GEMM_MRP] = 0.0f;
            } else if (j->transa) {
                for (int64_t kk = 0; kk < kd; kk++)
                    dst[kk * EOI_GEMM_MRP] = j->a[kk * j->m + r_lo + row];
            } else {
                const float *src = j->a + (r_lo + row) * kd;
                for (int64_t kk = 0; kk < kd; kk++)
                    dst[kk * EOI_GEMM_MRP] = src[kk];
            }
        }
    int64_t c_lo = cc * j->cchunk * nr, c_hi = c_lo + j->cchunk * nr;
    c_hi = c_hi < j->n ? c_hi : j->n;
    for (int64_t k0 = 0; k0 < kd; k0 += j->kc) {
        int64_t kc = kd - k0 < j->kc ? kd - k0 : j->kc;
        int32_t flags = k0 ? EOI_GEMM_ACC : 0;
        for (int64_t p0 = c_lo; p0 < c_hi; p0 += nr) {
            int64_t np = c_hi - p0 < nr ? c_hi - p0 : nr;
            for (int64_t kk = 0; kk < kc; kk++) {
                if (j->transb)
                    for (int64_t q = 0; q < np; q++)
                        bp[kk * nr + q] = j->b[(p0 + q) * kd + k0 + kk];
                else
                    memcpy(bp + kk * nr, j->b + (k0 + kk) * j->n + p0, (size_t)np * sizeof(float));
                memset(bp + kk * nr + np, 0, (size_t)(nr - np) * sizeof(float));
            }
            for (int64_t r0 = 0; r0 < rows; r0 += mr) {
                const float *a =
                    ap + (r0 / EOI_GEMM_MRP * kd + k0) * EOI_GEMM_MRP + r0 % EOI_GEMM_MRP;
                float *c = j->c + (r_lo + r0) * j->n + p0;
                int64_t mm = rows - r0 < mr ? rows - r0 : mr;
                if (mm == mr && np == nr) {
                    k->gemm(kc, a, bp, nr, c, j->n, zero_bias, flags, &none);
                    continue;
                }
                if (flags & EOI_GEMM_ACC) /* an edge tile: through a full-size copy */
                    for (int64_t r = 0; r < mm; r++)
                        memcpy(tile + r * nr, c + r * j->n, (size_t)np * sizeof(float));
                k->gemm(kc, a, bp, nr, tile, nr, zero_bias, flags, &none);
                for (int64_t r = 0; r < mm; r++)
                    memcpy(c + r * j->n, tile + r * nr, (size_t)np * sizeof(float));
            }
        }
    }
    return EO_OK;
}

static eo_status matmul1(eo_ctx *ctx, const eoi_exec *ex, const float *a, const float *b, float *c,
                         int64_t m, int64_t n, int64_t kd, int32_t transa, int32_t transb) {
    const eoi_kernels *k = eoi_kernels_get();
    int64_t nr = k->gemm_nr, kcmax = EOI_GEMM_PANEL_FLOATS / nr;
    int64_t nb = (kd + kcmax - 1) / kcmax;
    mmjob j = {k, a, b, c, NULL, 0, m, n, kd, (kd + nb - 1) / nb, 1, 0, transa, transb};
    int32_t nt = ex->threads < 1 ? 1 : ex->threads > 64 ? 64 : ex->threads;
    int64_t nrb = (m + MM_ROWS - 1) / MM_ROWS, panels = (n + nr - 1) / nr;
    /* about 4 jobs per thread: row blocks first, then columns split */
    int64_t want = (4 * nt + nrb - 1) / nrb;
    j.ncc = want < panels ? want : panels;
    j.cchunk = (panels + j.ncc - 1) / j.ncc;
    j.ncc = (panels + j.cchunk - 1) / j.cchunk;
    j.per = (size_t)(MM_ROWS * kd + j.kc * nr + EOI_GEMM_MRP * EOI_GEMM_NRMAX + 16);
    return run_jobs(ctx, ex, nrb * j.ncc, (double)m * n * kd < (double)(1 << 18), j.per, &j.work,
                    mm_job, &j);
}

eo_status eoi_run_gemm(eo_ctx *ctx, const eoi_exec *ex, const eoi_node *n) {
    const eoi_value *a = &V(ex, n->in[0]), *o = &V(ex, n->out[0]);
    const eoi_value *c = n->nin > 2 && n->in[2] >= 0 ? &V(ex, n->in[2]) : NULL;
    int64_t m = o->dims[0], nn = o->dims[1], kd = a->dims[n->transa ? 0 : 1];
    float *out = ex->buf[n->out[0]];
    if (m == 0 || nn == 0)
        return EO_OK;
    if (kd == 0) {
        memset(out, 0, (size_t)(m * nn) * sizeof(float));
    } else {
        eo_status st = matmul1(ctx, ex, ex->buf[n->in[0]], ex->buf[n->in[1]], out, m, nn, kd,
                               n->transa, n->transb);
        if (st != EO_OK)
            return st;
    }
    /* Y = alpha A B + beta C, C broadcast (unidirectionally) to m x nn */
    const float *cd = c && c->n > 0 ? ex->buf[n->in[2]] : NULL;
    int64_t c1 = cd && c->ndim >= 1 ? c->dims[c->ndim - 1] : 1;
    int64_t c0 = cd && c->ndim == 2 ? c->dims[0] : 1;
    if (n->alpha != 1.0f || cd)
        for (int64_t i = 0; i < m; i++)
            for (int64_t jj = 0; jj < nn; jj++) {
                float v = n->alpha * out[i * nn + jj];
                out[i * nn + jj] =
                    cd ? v + n->beta * cd[(c0 > 1 ? i : 0) * c1 + (c1 > 1 ? jj : 0)] : v;
            }
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
        if (m > 0 && nn > 0 && k == 0) {
            memset(out + t * m * nn, 0, (size_t)(m * nn) * sizeof(float));
        } else if (m > 0 && nn > 0) {
            eo_status st = matmul1(ctx, ex, pa + oa, pb + ob, out + t * m * nn, m, nn, k, 0, 0);
            if (st != EO_OK)
                return st;
        }
        for (int32_t i = r - 1; i >= 0; i--) {
            if (++idx[i] < bd[i])
                break;
            idx[i] = 0;
        }
    }
    (void)o;
    return EO_OK;
}
