/* polygonize.c - one scan from a band to polygons: the band is read stripe
 * by stripe; on the context's threads each stripe's pixels are labelled
 * (4-connected components, union-find), grouped into 8-connected regions
 * when asked, and every boundary is traced once along pixel edges, so each
 * component gives exactly one shell and its holes; the stripes' polygons
 * are then stitched across the seams (seams.c).
 *
 * Tracing walks pixel edges with the region on the right (in row-down
 * pixel coordinates), turning towards the region first: the region's pixels
 * are then 4-connected along a ring. Where a ring comes back to a vertex it
 * already passed (two corners of the region touch there), the loop is cut
 * off as a ring of its own, so every ring is simple and every polygon valid.
 * Shells come out with a positive shoelace area in pixel coordinates, holes
 * with a negative one. */
#include "../raster/raster_int.h"
#include "vector_int.h"

#include <math.h>
#include <stdio.h>

#include <cpl_conv.h>
#include <cpl_error.h>
#include <string.h>

struct eo_polygonize_opts {
    int32_t band;
    int32_t connectivity;
    bool use_mask;
    bool has_window;
    eo_window window;
    int64_t stripe_rows;
    eo_dataset *prob;
    int32_t prob_band;
};

eo_status eo_polygonize_opts_new(eo_ctx *ctx, eo_polygonize_opts **out) {
    if (!ctx)
        return EO_E_ARG;
    EOI_CHECK_ARG(ctx, out);
    eo_polygonize_opts *o = eoi_calloc(ctx, 1, sizeof *o);
    if (!(*out = o))
        return EO_E_NOMEM;
    o->band = 1;
    o->connectivity = 4;
    o->use_mask = true;
    return EO_OK;
}

void eo_polygonize_opts_free(eo_polygonize_opts *o) { eoi_free(o); }

eo_status eo_polygonize_opts_set_band(eo_ctx *ctx, eo_polygonize_opts *o, int32_t band) {
    if (!ctx)
        return EO_E_ARG;
    EOI_CHECK_ARG(ctx, o);
    if (band < 1)
        return eoi_fail(ctx, EO_E_ARG, "polygonize: band %d is invalid (bands are 1-based)",
                        (int)band);
    o->band = band;
    return EO_OK;
}

eo_status eo_polygonize_opts_set_connectivity(eo_ctx *ctx, eo_polygonize_opts *o,
                                              int32_t connectivity) {
    if (!ctx)
        return EO_E_ARG;
    EOI_CHECK_ARG(ctx, o);
    if (connectivity != 4 && connectivity != 8)
        return eoi_fail(ctx, EO_E_ARG, "polygonize: connectivity must be 4 or 8, got %d",
                        (int)connectivity);
    o->connectivity = connectivity;
    return EO_OK;
}

eo_status eo_polygonize_opts_set_use_mask(eo_ctx *ctx, eo_polygonize_opts *o, int32_t use_mask) {
    if (!ctx)
        return EO_E_ARG;
    EOI_CHECK_ARG(ctx, o);
    o->use_mask = use_mask != 0;
    return EO_OK;
}

eo_status eo_polygonize_opts_set_window(eo_ctx *ctx, eo_polygonize_opts *o,
                                        const eo_window *window) {
    if (!ctx)
        return EO_E_ARG;
    EOI_CHECK_ARG(ctx, o && window);
    if (window->width < 1 || window->height < 1 || window->x < 0 || window->y < 0)
        return eoi_fail(ctx, EO_E_ARG,
                        "polygonize: window %lld,%lld %lldx%lld is empty or negative",
                        (long long)window->x, (long long)window->y, (long long)window->width,
                        (long long)window->height);
    o->window = *window;
    o->has_window = true;
    return EO_OK;
}

eo_status eo_polygonize_opts_set_stripe_rows(eo_ctx *ctx, eo_polygonize_opts *o, int64_t rows) {
    if (!ctx)
        return EO_E_ARG;
    EOI_CHECK_ARG(ctx, o);
    if (rows < 0)
        return eoi_fail(ctx, EO_E_ARG, "polygonize: stripe rows must be >= 0, got %lld",
                        (long long)rows);
    o->stripe_rows = rows;
    return EO_OK;
}

eo_status eo_polygonize_opts_set_prob(eo_ctx *ctx, eo_polygonize_opts *o, eo_dataset *prob,
                                      int32_t band) {
    if (!ctx)
        return EO_E_ARG;
    EOI_CHECK_ARG(ctx, o);
    if (prob && (band < 1 || band > eo_dataset_band_count(prob)))
        return eoi_fail(ctx, EO_E_ARG, "polygonize: probability band %d is out of range (1..%d)",
                        (int)band, (int)eo_dataset_band_count(prob));
    o->prob = prob;
    o->prob_band = band;
    return EO_OK;
}

/* ------------------------------------------------------------------------ */
/* One stripe                                                                */
/* ------------------------------------------------------------------------ */

typedef struct comp {
    double cls;
    int64_t pixels;
    double psum;
    int32_t group;   /* 8-connected region (root comp), = own id for 4 */
    int32_t top;     /* first pixel, stripe-local index */
    int32_t ring0;   /* first ring, -1 = none; rings chain through next */
    int32_t ring1;   /* last ring (where the next is chained) */
    int32_t nshells; /* rings with a positive area */
} comp;

typedef struct ring {
    int64_t off; /* first vertex in pts (pairs) */
    int32_t n;   /* vertices (not closed) */
    int32_t next;
    int64_t area2; /* twice the signed area */
} ring;

/* Pinch vertices of the ring being traced: vertex index -> 1 + its index in
 * the ring (0: no longer pinned). Open addressing; a handful per ring, so
 * memory follows the pinches, not the stripe's area. */
typedef struct pinmap {
    int64_t *key; /* -1: empty */
    int32_t *val;
    int32_t cap, n; /* slots (a power of two), keys held */
    int32_t *used;  /* slots taken, to empty the map after a ring */
} pinmap;

typedef struct stripe {
    int64_t x0, y0, w, h;                          /* in the source's pixel grid */
    bool last_row, first_row, first_col, last_col; /* at the window's border */
    /* rows read from the source, a chunk at a time: row 0 of val / valid
     * holds the last row of the chunk before (labelling looks one row up) */
    int64_t ch;     /* rows per chunk */
    bool byte;      /* the classes are bytes, in val8; else doubles in val */
    double *val;    /* (ch + 1) x w */
    uint8_t *val8;  /* (ch + 1) x w */
    uint8_t *valid; /* NULL = all valid, else (ch + 1) x w */
    float *prob;    /* NULL = no score, else ch x w */
    /* work buffers, allocated once for the largest stripe and reused */
    int64_t cap_rows; /* rows they hold */
    uint8_t *visited; /* a bit per pixel */
    uint8_t *rowany;  /* per row: any valid pixel */
    pinmap pin;
    /* provisional labels: union-find parent, class value and first pixel */
    int32_t *parent, *ptop, plcap;
    double *pcls;
    /* results: labels (comp ids, -1 = none) in lab, or in lab16 as id + 1
     * (0 = none) while a stripe has fewer than 65535 provisional labels */
    int32_t *lab;
    uint16_t *lab16;
    bool wide; /* lab is in use */
    comp *comps;
    int32_t ncomps;
    ring *rings;
    int32_t nrings, rcap;
    int32_t *pts;
    int64_t npts, pcap;
    int32_t *row_top, *row_bot; /* comp ids of the first and last rows (w each) */
    size_t *cfeat;              /* comp -> index of its feature */
    int32_t *cur;               /* the ring being traced */
    int64_t ncur, ccap;
    eo_status st;
    char msg[128];
} stripe;

struct source;

/* GDAL handles of one worker thread (a dataset handle is used by one thread
 * at a time; worker 0 is the caller and uses the source's own). */
typedef struct whandles {
    GDALDatasetH h, hp;
} whandles;

typedef struct job {
    stripe *s;
    stripe *scratch; /* per worker: the work buffers, lent to its stripe */
    int32_t connectivity;
    const struct source *src;
    whandles *wh; /* one per worker */
} job;

static eo_status read_rows(const struct source *src, stripe *s, int64_t y, int64_t n, bool prob,
                           int32_t worker, whandles *wh);
static bool source_has_valid(const struct source *src);
static bool source_has_prob(const struct source *src);
static void source_uncache(const struct source *src, int32_t worker, whandles *wh);

#define ALWAYS_INLINE static inline __attribute__((always_inline))
#define NARROW_MAX 0xfffe /* provisional labels that lab16 holds */

/* Label of pixel i: wide is a constant where it is inlined, so each width
 * gets its own loops. */
ALWAYS_INLINE int32_t lab_get(const stripe *s, int64_t i, bool wide) {
    return wide ? s->lab[i] : (int32_t)s->lab16[i] - 1;
}

ALWAYS_INLINE void lab_set(stripe *s, int64_t i, int32_t v, bool wide) {
    if (wide)
        s->lab[i] = v;
    else
        s->lab16[i] = (uint16_t)(v + 1);
}

/* Pixels i .. i + n - 1 without a label. */
ALWAYS_INLINE void lab_clear(stripe *s, int64_t i, int64_t n, bool wide) {
    if (wide)
        memset(s->lab + i, 0xff, (size_t)n * sizeof *s->lab); /* -1 */
    else
        memset(s->lab16 + i, 0, (size_t)n * sizeof *s->lab16);
}

/* Room for one more provisional label. */
static bool grow_labels(stripe *s, int32_t next) {
    if (next < s->plcap)
        return true;
    int64_t c = s->plcap ? (int64_t)s->plcap * 2 : 65536;
    int64_t most = s->w * s->cap_rows; /* a label per pixel at most */
    if (c > most)
        c = most;
    int32_t *p = eoi_realloc(NULL, s->parent, (size_t)c * sizeof *p);
    if (p)
        s->parent = p;
    int32_t *t = p ? eoi_realloc(NULL, s->ptop, (size_t)c * sizeof *t) : NULL;
    if (t)
        s->ptop = t;
    double *v = t ? eoi_realloc(NULL, s->pcls, (size_t)c * sizeof *v) : NULL;
    if (!v)
        return false;
    s->pcls = v;
    s->plcap = (int32_t)c;
    return true;
}

/* 4-connected labels, compacted in raster order of first pixels. The
 * source's rows come in chunks of s->ch: only the labels span the stripe.
 * In lab16 (!wide), a stripe with more provisional labels than it holds
 * stops with *full set. */
ALWAYS_INLINE eo_status label_impl(stripe *s, const struct source *src, int32_t worker,
                                   whandles *wh, bool wide, bool byte, bool *full) {
    int64_t w = s->w, h = s->h, ch = s->ch;
    int32_t next = 0, *parent;
    eo_status st;
    for (int64_t y = 0; y < h; y++) {
        int64_t r = y % ch;
        if (r == 0) {
            if (y > 0) { /* the chunk's last row becomes row 0 */
                if (byte)
                    memcpy(s->val8, s->val8 + ch * w, (size_t)w);
                else
                    memcpy(s->val, s->val + ch * w, (size_t)w * sizeof *s->val);
                if (s->valid)
                    memcpy(s->valid, s->valid + ch * w, (size_t)w);
            }
            if ((st = read_rows(src, s, y, h - y < ch ? h - y : ch, false, worker, wh)) != EO_OK)
                return st;
        }
        const double *val = byte ? NULL : s->val + (r + 1) * w;
        const uint8_t *val8 = byte ? s->val8 + (r + 1) * w : NULL;
        const uint8_t *valid = s->valid ? s->valid + (r + 1) * w : NULL;
        int64_t rowi = y * w; /* the row's first pixel */
        s->rowany[y] = !valid || memchr(valid, 1, (size_t)w);
        if (!s->rowany[y]) { /* an empty row */
            lab_clear(s, rowi, w, wide);
            continue;
        }
        for (int64_t x = 0; x < w; x++) {
            if (valid && !valid[x]) { /* skip the whole invalid run at once */
                const uint8_t *nx = memchr(valid + x, 1, (size_t)(w - x));
                int64_t run = nx ? (int64_t)(nx - (valid + x)) : w - x;
                lab_clear(s, rowi + x, run, wide);
                x += run - 1;
                continue;
            }
            double v = byte ? val8[x] : val[x];
            bool same_l = x > 0 && (byte ? val8[x - 1] == val8[x] : val[x - 1] == v);
            bool same_u = y > 0 && (byte ? val8[x - w] == val8[x] : val[x - w] == v);
            int32_t l = same_l ? lab_get(s, rowi + x - 1, wide) : -1;
            int32_t u = same_u ? lab_get(s, rowi + x - w, wide) : -1;
            if (l < 0 && u < 0) {
                if (!wide && next == NARROW_MAX) {
                    *full = true;
                    return EO_OK;
                }
                if (!grow_labels(s, next)) {
                    snprintf(s->msg, sizeof s->msg,
                             "out of memory (%lld regions in a stripe of %lld x %lld pixels)",
                             (long long)next, (long long)w, (long long)h);
                    return EO_E_NOMEM;
                }
                s->parent[next] = next;
                s->pcls[next] = v;
                s->ptop[next] = (int32_t)(y * w + x);
                lab_set(s, rowi + x, next++, wide);
            } else if (l >= 0) {
                lab_set(s, rowi + x, l, wide);
                if (u >= 0 && u != l)
                    eoi_uf_union(s->parent, l, u);
            } else
                lab_set(s, rowi + x, u, wide);
        }
    }
    /* roots get compact ids in increasing order (a root is the smallest
     * provisional label of its set, created at the set's first pixel, so ids
     * follow the first pixels) */
    parent = s->parent;
    int32_t n = 0;
    for (int32_t l = 0; l < next; l++)
        n += (parent[l] = eoi_uf_find(parent, l)) == l;
    s->ncomps = n;
    s->comps = eoi_calloc(NULL, n > 0 ? (size_t)n : 1, sizeof *s->comps);
    if (!s->comps)
        return EO_E_NOMEM;
    n = 0;
    for (int32_t l = 0; l < next; l++) {
        if (parent[l] == l) {
            comp *k = &s->comps[n];
            k->cls = s->pcls[l];
            k->top = s->ptop[l];
            k->group = n;
            k->ring0 = -1;
            parent[l] = -(n++) - 1;
        } else
            parent[l] = parent[parent[l]];
    }
    for (int64_t y = 0; y < h; y++) {
        if (s->prob && y % ch == 0 &&
            (st = read_rows(src, s, y, h - y < ch ? h - y : ch, true, worker, wh)) != EO_OK)
            return st;
        if (!s->rowany[y])
            continue;
        int64_t rowi = y * w;
        const float *pr = s->prob ? s->prob + (y % ch) * w : NULL;
        for (int64_t x = 0; x < w; x++) {
            int32_t l = lab_get(s, rowi + x, wide);
            if (l < 0)
                continue;
            int32_t c = -parent[l] - 1;
            lab_set(s, rowi + x, c, wide);
            s->comps[c].pixels++;
            if (pr)
                s->comps[c].psum += pr[x];
        }
    }
    return EO_OK;
}

static eo_status label_narrow(stripe *s, const struct source *src, int32_t worker, whandles *wh,
                              bool *full) {
    return s->byte ? label_impl(s, src, worker, wh, false, true, full)
                   : label_impl(s, src, worker, wh, false, false, full);
}

static eo_status label_wide(stripe *s, const struct source *src, int32_t worker, whandles *wh) {
    bool full = false;
    return s->byte ? label_impl(s, src, worker, wh, true, true, &full)
                   : label_impl(s, src, worker, wh, true, false, &full);
}

/* 8-connected regions: union components touching at corners. */
static void group8(stripe *s) {
    int64_t w = s->w, h = s->h;
    for (int64_t y = 1; y < h; y++) {
        for (int64_t x = 0; x < w; x++) {
            int32_t a = lab_get(s, y * w + x, s->wide);
            if (a < 0)
                continue;
            for (int dx = -1; dx <= 1; dx += 2) {
                if (x + dx < 0 || x + dx >= w)
                    continue;
                int32_t b = lab_get(s, (y - 1) * w + x + dx, s->wide);
                if (b >= 0 && b != a && s->comps[b].cls == s->comps[a].cls) {
                    /* union on the group field */
                    int32_t ra = a, rb = b;
                    while (s->comps[ra].group != ra)
                        ra = s->comps[ra].group = s->comps[s->comps[ra].group].group;
                    while (s->comps[rb].group != rb)
                        rb = s->comps[rb].group = s->comps[s->comps[rb].group].group;
                    if (ra < rb)
                        s->comps[rb].group = ra;
                    else if (rb < ra)
                        s->comps[ra].group = rb;
                }
            }
        }
    }
    for (int32_t c = 0; c < s->ncomps; c++) {
        int32_t r = c;
        while (s->comps[r].group != r)
            r = s->comps[r].group;
        s->comps[c].group = r;
    }
}

/* directions: 0 E, 1 S, 2 W, 3 N (row-down pixel coordinates) */
static const int DX[4] = {1, 0, -1, 0};
static const int DY[4] = {0, 1, 0, -1};

ALWAYS_INLINE int32_t lab_at(const stripe *s, int64_t x, int64_t y, bool wide) {
    if (x < 0 || y < 0 || x >= s->w || y >= s->h)
        return -1;
    return lab_get(s, y * s->w + x, wide);
}

/* Can the ring of L leave vertex (x, y) heading d (L on the right)? */
ALWAYS_INLINE bool edge_ok(const stripe *s, int64_t x, int64_t y, int d, int32_t L, bool wide) {
    int32_t r, l;
    switch (d) {
    case 0: /* E: right = pixel (x, y), left = (x, y-1) */
        r = lab_at(s, x, y, wide), l = lab_at(s, x, y - 1, wide);
        break;
    case 1: /* S: right = (x-1, y), left = (x, y) */
        r = lab_at(s, x - 1, y, wide), l = lab_at(s, x, y, wide);
        break;
    case 2: /* W: right = (x-1, y-1), left = (x-1, y) */
        r = lab_at(s, x - 1, y - 1, wide), l = lab_at(s, x - 1, y, wide);
        break;
    default: /* N: right = (x, y-1), left = (x-1, y-1) */
        r = lab_at(s, x, y - 1, wide), l = lab_at(s, x - 1, y - 1, wide);
        break;
    }
    return r == L && l != L;
}

ALWAYS_INLINE bool is_pinch(const stripe *s, int64_t x, int64_t y, int32_t L, bool wide) {
    bool tl = lab_at(s, x - 1, y - 1, wide) == L, tr = lab_at(s, x, y - 1, wide) == L;
    bool bl = lab_at(s, x - 1, y, wide) == L, br = lab_at(s, x, y, wide) == L;
    return (tl && br && !tr && !bl) || (tr && bl && !tl && !br);
}

/* The value slot of vertex key, added (as 0) when add; NULL when absent,
 * or when out of memory (*oom set). */
static int32_t *pin_slot(pinmap *m, int64_t key, bool add, bool *oom) {
    if (add && 2 * (m->n + 1) > m->cap) { /* keep it at most half full */
        int32_t cap = m->cap ? m->cap * 2 : 64;
        int64_t *k = eoi_malloc(NULL, (size_t)cap * sizeof *k);
        int32_t *v = eoi_malloc(NULL, (size_t)cap * sizeof *v);
        int32_t *u = eoi_malloc(NULL, (size_t)cap / 2 * sizeof *u);
        if (!k || !v || !u) {
            eoi_free(k);
            eoi_free(v);
            eoi_free(u);
            *oom = true;
            return NULL;
        }
        memset(k, 0xff, (size_t)cap * sizeof *k);
        pinmap g = {k, v, cap, 0, u};
        for (int32_t i = 0; i < m->n; i++) { /* move the keys over */
            int32_t o = m->used[i];
            *pin_slot(&g, m->key[o], true, oom) = m->val[o];
        }
        eoi_free(m->key);
        eoi_free(m->val);
        eoi_free(m->used);
        *m = g;
    }
    if (!m->cap)
        return NULL;
    uint32_t mask = (uint32_t)m->cap - 1;
    uint32_t i = (uint32_t)(((uint64_t)key * 0x9E3779B97F4A7C15u) >> 32) & mask;
    for (; m->key[i] >= 0; i = (i + 1) & mask)
        if (m->key[i] == key)
            return &m->val[i];
    if (!add)
        return NULL;
    m->key[i] = key;
    m->val[i] = 0;
    m->used[m->n++] = (int32_t)i;
    return &m->val[i];
}

/* Empty the map for the next ring (its memory stays). */
static void pin_clear(pinmap *m) {
    for (int32_t i = 0; i < m->n; i++)
        m->key[m->used[i]] = -1;
    m->n = 0;
}

static void pin_free(pinmap *m) {
    eoi_free(m->key);
    eoi_free(m->val);
    eoi_free(m->used);
    memset(m, 0, sizeof *m);
}

/* Append the vertex (x, y) to a growable array of pairs. */
static bool push_xy(int32_t **buf, int64_t *n, int64_t *cap, int64_t x, int64_t y) {
    if (*n == *cap) {
        int64_t c = *cap ? *cap * 2 : 1024;
        int32_t *p = eoi_realloc(NULL, *buf, (size_t)c * 2 * sizeof *p);
        if (!p)
            return false;
        *buf = p;
        *cap = c;
    }
    (*buf)[2 * *n] = (int32_t)x;
    (*buf)[2 * *n + 1] = (int32_t)y;
    (*n)++;
    return true;
}

static bool push_pt(stripe *s, int64_t x, int64_t y) {
    return push_xy(&s->pts, &s->npts, &s->pcap, x, y);
}

/* Record the vertices [off, off + n) as a ring of comp L. */
static bool add_ring(stripe *s, int32_t L, int64_t off, int64_t n) {
    if (s->nrings == s->rcap) {
        int32_t cap = s->rcap ? s->rcap * 2 : 256;
        ring *r = eoi_realloc(NULL, s->rings, (size_t)cap * sizeof *r);
        if (!r)
            return false;
        s->rings = r;
        s->rcap = cap;
    }
    int64_t a2 = 0;
    const int32_t *p = s->pts + 2 * off;
    for (int64_t i = 0; i < n; i++) {
        int64_t j = (i + 1) % n;
        a2 += (int64_t)p[2 * i] * p[2 * j + 1] - (int64_t)p[2 * j] * p[2 * i + 1];
    }
    ring *r = &s->rings[s->nrings];
    r->off = off;
    r->n = (int32_t)n;
    r->area2 = a2;
    r->next = -1;
    /* append to the comp's chain, keeping the order of discovery */
    comp *c = &s->comps[L];
    if (c->ring0 < 0)
        c->ring0 = s->nrings;
    else
        s->rings[c->ring1].next = s->nrings;
    c->ring1 = s->nrings;
    if (a2 > 0)
        c->nshells++;
    s->nrings++;
    return true;
}

static bool push_cur(stripe *s, int64_t x, int64_t y) {
    return push_xy(&s->cur, &s->ncur, &s->ccap, x, y);
}

/* Move cur[from, ncur) into pts as a ring of L and truncate cur to from. */
static bool emit_ring(stripe *s, int32_t L, int64_t from) {
    int64_t off = s->npts;
    for (int64_t k = from; k < s->ncur; k++)
        if (!push_pt(s, s->cur[2 * k], s->cur[2 * k + 1]))
            return false;
    s->ncur = from;
    return add_ring(s, L, off, s->npts - off);
}

#define VISITED(s, i) ((s)->visited[(i) >> 3] & (1u << ((i)&7)))

/* Trace the ring of L starting at the top edge of pixel (x, y). The ring
 * is built in cur; s->pin maps a pinch vertex to 1 + its index in cur. */
ALWAYS_INLINE bool trace(stripe *s, int64_t x, int64_t y, int32_t L, bool wide) {
    int64_t W1 = s->w + 1;
    int64_t vx = x, vy = y;
    int d = 0;
    bool oom = false;
    s->ncur = 0;
    if (!push_cur(s, vx, vy))
        return false;
    if (is_pinch(s, vx, vy, L, wide)) {
        int32_t *p0 = pin_slot(&s->pin, vy * W1 + vx, true, &oom);
        if (!p0)
            return false;
        *p0 = 1;
    }
    for (;;) {
        if (d == 0) {
            int64_t i = vy * s->w + vx;
            s->visited[i >> 3] |= (uint8_t)(1u << (i & 7));
        }
        vx += DX[d];
        vy += DY[d];
        int nd = -1;
        static const int order[3] = {1, 0, 3}; /* right, straight, left */
        for (int t = 0; t < 3; t++) {
            int c = (d + order[t]) & 3;
            if (edge_ok(s, vx, vy, c, L, wide)) {
                nd = c;
                break;
            }
        }
        if (nd < 0)
            return false; /* cannot happen on a consistent label image */
        if (vx == x && vy == y && nd == 0)
            break; /* closed */
        if (nd != d) {
            int32_t *slot = NULL;
            if (is_pinch(s, vx, vy, L, wide) &&
                !(slot = pin_slot(&s->pin, vy * W1 + vx, true, &oom)))
                return false;
            if (slot && *slot > 0) {
                /* back at a vertex of this ring: the loop since is a ring */
                int64_t from = *slot - 1;
                for (int64_t k = from + 1; k < s->ncur; k++) {
                    int64_t px = s->cur[2 * k], py = s->cur[2 * k + 1];
                    int32_t *o = pin_slot(&s->pin, py * W1 + px, false, &oom);
                    if (o && *o == (int32_t)(k + 1))
                        *o = 0;
                }
                if (!emit_ring(s, L, from))
                    return false;
                if (!push_cur(s, vx, vy)) /* the vertex again, now ending the rest */
                    return false;
                *slot = (int32_t)s->ncur;
            } else {
                if (!push_cur(s, vx, vy))
                    return false;
                if (slot)
                    *slot = (int32_t)s->ncur;
            }
        }
        d = nd;
    }
    pin_clear(&s->pin); /* this ring's pinch marks */
    return emit_ring(s, L, 0);
}

/* Free the work buffers of a stripe (its results stay). */
/* Move the work buffers (labels and all, and whether the labels are wide) from one stripe to
 * another: a worker lends its own to the stripe it traces, which keeps only the results. */
static void move_buffers(stripe *to, stripe *from) {
    to->val = from->val;
    to->val8 = from->val8;
    to->valid = from->valid;
    to->prob = from->prob;
    to->lab = from->lab;
    to->lab16 = from->lab16;
    to->wide = from->wide;
    to->visited = from->visited;
    to->rowany = from->rowany;
    to->parent = from->parent;
    to->ptop = from->ptop;
    to->pcls = from->pcls;
    to->plcap = from->plcap;
    to->pin = from->pin;
    from->val = NULL;
    from->valid = from->visited = from->rowany = from->val8 = NULL;
    from->prob = NULL;
    from->lab = from->parent = from->ptop = NULL;
    from->lab16 = NULL;
    from->pcls = NULL;
    from->plcap = 0;
    from->wide = false;
    memset(&from->pin, 0, sizeof from->pin);
}

static void stripe_free_buffers(stripe *s) {
    stripe b;
    memset(&b, 0, sizeof b);
    move_buffers(&b, s);
    eoi_free(b.val);
    eoi_free(b.val8);
    eoi_free(b.valid);
    eoi_free(b.prob);
    eoi_free(b.lab);
    eoi_free(b.lab16);
    eoi_free(b.visited);
    eoi_free(b.rowany);
    eoi_free(b.parent);
    eoi_free(b.ptop);
    eoi_free(b.pcls);
    pin_free(&b.pin);
}

/* Trace every ring of the stripe, in raster order of their first edges. */
ALWAYS_INLINE bool trace_all(stripe *s, bool wide) {
    for (int64_t y = 0; y < s->h; y++) {
        if (!s->rowany[y])
            continue; /* an empty row starts no ring */
        int64_t rowi = y * s->w;
        for (int64_t x = 0; x < s->w; x++) {
            int32_t L = lab_get(s, rowi + x, wide);
            if (L < 0 || (y > 0 && lab_get(s, rowi + x - s->w, wide) == L) || VISITED(s, rowi + x))
                continue;
            if (!trace(s, x, y, L, wide))
                return false;
        }
    }
    return true;
}

static bool trace_all_narrow(stripe *s) { return trace_all(s, false); }

static bool trace_all_wide(stripe *s) { return trace_all(s, true); }

static eo_status trace_stripe(job *j, int32_t worker);

static eo_status run_stripe(void *user, int64_t i, int32_t worker) {
    job *j = &((job *)user)[i];
    move_buffers(j->s, &j->scratch[worker]);
    eo_status st = trace_stripe(j, worker);
    move_buffers(&j->scratch[worker], j->s);
    return st;
}

static eo_status trace_stripe(job *j, int32_t worker) {
    stripe *s = j->s;
    int64_t cap = s->w * s->cap_rows, cw = s->w * s->ch;
    s->st = EO_E_NOMEM;
    snprintf(s->msg, sizeof s->msg, "out of memory (stripe of %lld x %lld pixels)", (long long)s->w,
             (long long)s->h);
    if ((!s->visited && !(s->visited = eoi_malloc(NULL, (size_t)(cap + 7) / 8))) ||
        (!s->rowany && !(s->rowany = eoi_malloc(NULL, (size_t)s->cap_rows))) ||
        (s->byte && !s->val8 && !(s->val8 = eoi_malloc(NULL, (size_t)(cw + s->w)))) ||
        (!s->byte && !s->val &&
         !(s->val = eoi_malloc(NULL, (size_t)(cw + s->w) * sizeof *s->val))) ||
        (source_has_valid(j->src) && !s->valid &&
         !(s->valid = eoi_malloc(NULL, (size_t)(cw + s->w)))) ||
        (source_has_prob(j->src) && !s->prob &&
         !(s->prob = eoi_malloc(NULL, (size_t)cw * sizeof *s->prob))))
        return s->st;
    bool full = false;
    if (!s->wide) {
        if (!s->lab16 && !(s->lab16 = eoi_malloc(NULL, (size_t)cap * sizeof *s->lab16)))
            return s->st;
        if ((s->st = label_narrow(s, j->src, worker, j->wh, &full)) != EO_OK)
            return s->st;
        if (full) { /* too many labels for 16 bits: this slot goes wide */
            eoi_free(s->lab16);
            s->lab16 = NULL;
            s->wide = true;
            s->st = EO_E_NOMEM;
        }
    }
    if (s->wide) {
        if (!s->lab && !(s->lab = eoi_malloc(NULL, (size_t)cap * sizeof *s->lab)))
            return s->st;
        if ((s->st = label_wide(s, j->src, worker, j->wh)) != EO_OK)
            return s->st;
    }
    source_uncache(j->src, worker, j->wh);
    s->st = EO_E_NOMEM;
    if ((!s->row_top && !(s->row_top = eoi_malloc(NULL, (size_t)s->w * sizeof *s->row_top))) ||
        (!s->row_bot && !(s->row_bot = eoi_malloc(NULL, (size_t)s->w * sizeof *s->row_bot))))
        return s->st;
    for (int64_t x = 0; x < s->w; x++) {
        s->row_top[x] = lab_get(s, x, s->wide);
        s->row_bot[x] = lab_get(s, (s->h - 1) * s->w + x, s->wide);
    }
    if (j->connectivity == 8)
        group8(s);
    memset(s->visited, 0, (size_t)(s->w * s->h + 7) / 8);
    if (!(s->wide ? trace_all_wide(s) : trace_all_narrow(s)))
        return s->st;
    s->st = EO_OK;
    s->msg[0] = 0;
    return s->st;
}

/* Drop a stripe's results, keeping its buffers for the next one. */
static void stripe_reset(stripe *s) {
    eoi_free(s->cfeat);
    s->cfeat = NULL;
    eoi_free(s->comps);
    eoi_free(s->rings);
    eoi_free(s->pts);
    eoi_free(s->cur);
    s->comps = NULL;
    s->rings = NULL;
    s->pts = s->cur = NULL;
    s->ncomps = s->nrings = s->rcap = 0;
    s->npts = s->pcap = s->ncur = s->ccap = 0;
}

static void stripe_clear(stripe *s) {
    stripe_reset(s);
    eoi_free(s->row_top);
    eoi_free(s->row_bot);
    stripe_free_buffers(s);
    memset(s, 0, sizeof *s);
}

/* ---- stripe results -> features (on the caller's thread: GEOS handle) --- */

static GEOSGeometry *make_ring(GEOSContextHandle_t h, const stripe *s, const ring *r) {
    GEOSCoordSequence *cs = GEOSCoordSeq_create_r(h, (unsigned)r->n + 1, 2);
    if (!cs)
        return NULL;
    const int32_t *p = s->pts + 2 * r->off;
    for (int32_t k = 0; k <= r->n; k++) {
        int32_t m = k % r->n;
        GEOSCoordSeq_setXY_r(h, cs, (unsigned)k, (double)(s->x0 + p[2 * m]),
                             (double)(s->y0 + p[2 * m + 1]));
    }
    return GEOSGeom_createLinearRing_r(h, cs);
}

/* Whether g (pixel grid) reaches the border of window win. */
static bool edge_of(GEOSContextHandle_t h, const GEOSGeometry *g, const eo_window *win) {
    double x0, y0, x1, y1;
    GEOSGeom_getXMin_r(h, g, &x0);
    GEOSGeom_getYMin_r(h, g, &y0);
    GEOSGeom_getXMax_r(h, g, &x1);
    GEOSGeom_getYMax_r(h, g, &y1);
    return x0 <= win->x || y0 <= win->y || x1 >= win->x + win->width || y1 >= win->y + win->height;
}

static eo_status make_polygon(eo_ctx *ctx, GEOSGeometry **out, const stripe *s, const comp *c) {
    GEOSContextHandle_t h = ctx->geos;
    *out = NULL;
    if (c->nshells != 1)
        return eoi_fail(ctx, EO_E_INTERNAL, "polygonize: a region has %d outer rings",
                        (int)c->nshells);
    int32_t nh = 0;
    for (int32_t k = c->ring0; k >= 0; k = s->rings[k].next)
        nh += s->rings[k].area2 < 0;
    GEOSGeometry **holes = eoi_calloc(ctx, (size_t)nh + 1, sizeof *holes);
    if (!holes)
        return EO_E_NOMEM;
    GEOSGeometry *shell = NULL;
    int32_t ih = 0;
    bool ok = true;
    for (int32_t k = c->ring0; ok && k >= 0; k = s->rings[k].next) {
        GEOSGeometry *g = make_ring(h, s, &s->rings[k]);
        if (!g)
            ok = false;
        else if (s->rings[k].area2 > 0)
            shell = g;
        else
            holes[ih++] = g;
    }
    if (ok)
        *out = GEOSGeom_createPolygon_r(h, shell, holes, (unsigned)nh);
    else {
        GEOSGeom_destroy_r(h, shell);
        for (int32_t k = 0; k < ih; k++)
            GEOSGeom_destroy_r(h, holes[k]);
    }
    eoi_free(holes);
    return *out ? EO_OK : eoi_fail(ctx, EO_E_NOMEM, "polygonize: cannot build a polygon");
}

/* The stripe's regions as features appended to f; s->cfeat maps each comp
 * to the index of its feature. */
static eo_status stripe_features(eo_ctx *ctx, eo_features *f, stripe *s, const eo_window *win) {
    GEOSContextHandle_t h = ctx->geos;
    eo_status st = EO_OK;
    int32_t *members = NULL, *count = NULL;
    int32_t n = s->ncomps;
    if (n == 0)
        return EO_OK;
    /* members of each group, in comp order */
    if (!(count = eoi_calloc(ctx, (size_t)n + 1, sizeof *count)) ||
        !(members = eoi_malloc(ctx, (size_t)n * sizeof *members)) ||
        !(s->cfeat = eoi_malloc(ctx, (size_t)n * sizeof *s->cfeat))) {
        st = EO_E_NOMEM;
        goto done;
    }
    for (int32_t c = 0; c < n; c++)
        count[s->comps[c].group + 1]++;
    for (int32_t c = 0; c < n; c++)
        count[c + 1] += count[c];
    for (int32_t c = 0; c < n; c++)
        members[count[s->comps[c].group]++] = c;
    /* count[g] is now the end of group g; its start is the previous end */
    int32_t start = 0;
    for (int32_t g = 0; g < n; g++) {
        int32_t end = count[g];
        if (end == start)
            continue;
        int32_t m = end - start;
        GEOSGeometry **parts = eoi_calloc(ctx, (size_t)m, sizeof *parts);
        if (!parts) {
            st = EO_E_NOMEM;
            goto done;
        }
        eoi_feature ft = {0};
        int32_t made = 0;
        for (; made < m; made++) {
            const comp *c = &s->comps[members[start + made]];
            if ((st = make_polygon(ctx, &parts[made], s, c)) != EO_OK)
                break;
            ft.pixels += c->pixels;
            ft.psum += c->psum;
        }
        if (st != EO_OK) {
            for (int32_t k = 0; k < made; k++)
                GEOSGeom_destroy_r(h, parts[k]);
            eoi_free(parts);
            goto done;
        }
        const comp *c0 = &s->comps[g]; /* the group's root: its first pixel */
        ft.cls = c0->cls;
        int64_t ty = s->y0 + c0->top / s->w, tx = s->x0 + c0->top % s->w;
        ft.top = ty * ((int64_t)1 << 31) + tx;
        ft.g = m == 1 ? parts[0]
                      : GEOSGeom_createCollection_r(h, GEOS_MULTIPOLYGON, parts, (unsigned)m);
        eoi_free(parts);
        if (!ft.g) {
            st = eoi_fail(ctx, EO_E_NOMEM, "polygonize: cannot build a multipolygon");
            goto done;
        }
        ft.edge = edge_of(h, ft.g, win);
        for (int32_t k = start; k < end; k++)
            s->cfeat[members[k]] = f->n;
        if ((st = eoi_features_push(ctx, f, &ft)) != EO_OK)
            goto done;
        start = end;
    }
done:
    eoi_free(count);
    eoi_free(members);
    return st;
}

/* Features touching across the seams between consecutive stripes, found in
 * the labels on both sides of each seam. */
typedef struct seams {
    size_t *v;     /* pairs of feature indices */
    size_t n, cap; /* pairs */
    size_t *prev;  /* feature of each pixel in the last row of the stripe above, SIZE_MAX = none */
} seams;

static eo_status seam_pair(eo_ctx *ctx, seams *sp, size_t a, size_t b) {
    if (sp->n && sp->v[2 * sp->n - 2] == a && sp->v[2 * sp->n - 1] == b)
        return EO_OK; /* along a run */
    if (sp->n == sp->cap) {
        size_t cap = sp->cap ? sp->cap * 2 : 1024;
        size_t *v = eoi_realloc(ctx, sp->v, cap * 2 * sizeof *v);
        if (!v)
            return EO_E_NOMEM;
        sp->v = v;
        sp->cap = cap;
    }
    sp->v[2 * sp->n] = a;
    sp->v[2 * sp->n + 1] = b;
    sp->n++;
    return EO_OK;
}

/* Pair the features of s's first row with those of the stripe above (when
 * above): same class, side by side (4) or also diagonal (8); then keep s's
 * last row for the next seam. */
static eo_status seam_pairs(eo_ctx *ctx, seams *sp, const eo_features *f, const stripe *s,
                            bool above, int32_t connectivity) {
    int64_t w = s->w;
    int d = connectivity == 8 ? 1 : 0;
    if (!sp->prev && !(sp->prev = eoi_malloc(ctx, (size_t)w * sizeof *sp->prev)))
        return EO_E_NOMEM;
    for (int64_t x = 0; above && x < w; x++) {
        int32_t c = s->row_top[x];
        if (c < 0)
            continue;
        size_t b = s->cfeat[c];
        for (int64_t x2 = x - d; x2 <= x + d; x2++) {
            if (x2 < 0 || x2 >= w || sp->prev[x2] == SIZE_MAX)
                continue;
            size_t a = sp->prev[x2];
            if (f->v[a].cls == f->v[b].cls) {
                eo_status st = seam_pair(ctx, sp, a, b);
                if (st != EO_OK)
                    return st;
            }
        }
    }
    for (int64_t x = 0; x < w; x++)
        sp->prev[x] = s->row_bot[x] < 0 ? SIZE_MAX : s->cfeat[s->row_bot[x]];
    return EO_OK;
}

/* Each feature's edge flag against the whole window. */
static void mark_edges(GEOSContextHandle_t h, eo_features *f, const eo_window *win) {
    for (size_t i = 0; i < f->n; i++)
        f->v[i].edge = edge_of(h, f->v[i].g, win);
}

/* The stream's step after a stripe: the features of f that the next stripe
 * cannot reach (all of them after the last) leave f, stitched along their seams,
 * sorted, and go to fn; the rest stay, with the pairs and the seam row
 * renumbered. A feature stays when it, or one joined to it by a pair, lies on
 * the seam row (sp->prev), unless this was the last stripe. */
static eo_status emit_closed(eo_ctx *ctx, eo_features *f, seams *sp, int64_t w, bool last,
                             eo_features_fn fn, void *user) {
    size_t n = f->n;
    eo_status st = EO_OK;
    int32_t *parent = NULL;
    size_t *to = NULL;
    bool *open = NULL;
    eo_features *e = NULL;
    size_t *ep = NULL, nep = 0, keep = 0, nsp = 0;
    if (n == 0 && !last)
        return EO_OK;
    if (n > INT32_MAX)
        return eoi_fail(ctx, EO_E_LIMIT, "polygonize: too many features open at a seam");
    EOI_TRY(st, eoi_features_new(ctx, &e, f->gt, f->wkt, f->connectivity));
    e->has_score = f->has_score;
    e->win = f->win;
    e->spool = f->spool;
    if (n && (!(parent = eoi_malloc(ctx, n * sizeof *parent)) ||
              !(to = eoi_malloc(ctx, n * sizeof *to)) || !(open = eoi_calloc(ctx, n, 1)) ||
              (sp->n && !(ep = eoi_malloc(ctx, 2 * sp->n * sizeof *ep))))) {
        st = EO_E_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        parent[i] = (int32_t)i;
    for (size_t k = 0; k < sp->n; k++)
        eoi_uf_union(parent, (int32_t)sp->v[2 * k], (int32_t)sp->v[2 * k + 1]);
    for (int64_t x = 0; !last && x < w; x++)
        if (sp->prev[x] != SIZE_MAX)
            open[eoi_uf_find(parent, (int32_t)sp->prev[x])] = true;
    /* closed features to e, open ones to the front of f, in order */
    for (size_t i = 0; i < n; i++) {
        if (open[eoi_uf_find(parent, (int32_t)i)]) {
            to[i] = keep;
            f->v[keep++] = f->v[i];
        } else {
            to[i] = e->n;
            eoi_feature ft = f->v[i];
            f->v[i].g = NULL;
            if ((st = eoi_features_push(ctx, e, &ft)) != EO_OK) {
                for (size_t j = i + 1; j < n; j++)
                    GEOSGeom_destroy_r(ctx->geos, f->v[j].g);
                f->n = keep;
                goto done;
            }
        }
    }
    f->n = keep;
    for (size_t i = 0; f->spool && i < keep; i++) /* a no-op once a part's holes are away */
        EOI_TRY(st, eoi_spool_put(ctx, f->spool, &f->v[i]));
    for (size_t k = 0; k < sp->n; k++) {
        size_t a = sp->v[2 * k], b = sp->v[2 * k + 1];
        if (open[eoi_uf_find(parent, (int32_t)a)]) {
            sp->v[2 * nsp] = to[a];
            sp->v[2 * nsp + 1] = to[b];
            nsp++;
        } else {
            ep[2 * nep] = to[a];
            ep[2 * nep + 1] = to[b];
            nep++;
        }
    }
    sp->n = nsp;
    for (int64_t x = 0; !last && x < w; x++)
        if (sp->prev[x] != SIZE_MAX)
            sp->prev[x] = to[sp->prev[x]];
    EOI_TRY(st, eoi_features_stitch_pairs(ctx, e, ep, nep));
    eoi_features_sort(e);
    mark_edges(ctx->geos, e, &e->win);
    if (e->n || last)
        st = fn(ctx, e, user);
done:
    eo_features_free(e);
    eoi_free(parent);
    eoi_free(to);
    eoi_free(open);
    eoi_free(ep);
    return st;
}

/* ------------------------------------------------------------------------ */
/* Sources and the driver                                                    */
/* ------------------------------------------------------------------------ */

typedef struct source {
    const char *name;
    int64_t width, height;
    /* a dataset band ... */
    GDALRasterBandH band, mask, prob;
    bool has_nodata; /* no mask band: pixels equal to nodata are skipped */
    double nodata;
    const char *path, *prob_path; /* for the workers' own handles */
    int32_t prob_band;
    /* ... or class and probability planes in memory covering marea of the grid */
    const uint8_t *mcls;
    const float *mprob;
    eo_window marea;
    /* ... or a raster in memory */
    const eo_raster *r;
    int32_t band_no;
    bool use_mask;
    bool byte; /* classes read as bytes (a Byte band, the planes in memory) */
} source;

static eo_status read_fail(stripe *s, eo_status st, const char *what) {
    const char *m = CPLGetLastErrorMsg();
    snprintf(s->msg, sizeof s->msg, "%s: %s", what, m && m[0] ? m : "read failed");
    return st;
}

static bool source_has_valid(const source *src) {
    if (src->mcls)
        return true;
    if (src->r)
        return src->use_mask && (src->r->has_nodata || eoi_dtype_is_float(src->r->dtype));
    return src->mask || src->has_nodata;
}

static bool source_has_prob(const source *src) { return src->prob || src->mprob; }

/* The GDAL bands a worker reads (worker 0: the source's own), its dataset
 * handles opened on first use; failures leave their message in s->msg. */
static eo_status worker_bands(const source *src, stripe *s, int32_t worker, whandles *wh,
                              GDALRasterBandH *band, GDALRasterBandH *mask, GDALRasterBandH *prob) {
    *band = src->band, *mask = src->mask, *prob = src->prob;
    if (worker == 0)
        return EO_OK;
    whandles *w = &wh[worker];
    if (!w->h &&
        !(w->h = GDALOpenEx(src->path, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL, NULL, NULL)))
        return read_fail(s, EO_E_IO_READ, src->name);
    if (src->prob && !w->hp &&
        !(w->hp = GDALOpenEx(src->prob_path, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL, NULL, NULL)))
        return read_fail(s, EO_E_IO_READ, "probability raster");
    *band = GDALGetRasterBand(w->h, src->band_no);
    *mask = src->mask ? GDALGetMaskBand(*band) : NULL;
    *prob = src->prob ? GDALGetRasterBand(w->hp, src->prob_band) : NULL;
    return EO_OK;
}

/* After a stripe: drop its decoded blocks from GDAL's cache, which would
 * otherwise keep up to the whole raster (stripes follow block rows, so
 * the next stripe needs none of them). */
static void source_uncache(const source *src, int32_t worker, whandles *wh) {
    if (!src->band)
        return;
    GDALRasterBandH b[3] = {src->band, src->mask, src->prob};
    if (worker > 0) {
        b[0] = wh[worker].h ? GDALGetRasterBand(wh[worker].h, src->band_no) : NULL;
        b[1] = b[0] && src->mask ? GDALGetMaskBand(b[0]) : NULL;
        b[2] = wh[worker].hp ? GDALGetRasterBand(wh[worker].hp, src->prob_band) : NULL;
    }
    for (int k = 0; k < 3; k++)
        if (b[k])
            GDALFlushRasterCache(b[k]);
}

/* Fill n rows from stripe row y on, on a worker (no ctx; failures leave
 * their message in s->msg): the classes in rows 1.. of s->val / valid, or
 * with prob the scores in rows 0.. of s->prob. */
static eo_status read_rows(const source *src, stripe *s, int64_t y, int64_t n, bool prob,
                           int32_t worker, whandles *wh) {
    int64_t w = s->w, gy = s->y0 + y; /* first row in the grid */
    double *val = s->byte ? NULL : s->val + w;
    uint8_t *val8 = s->byte ? s->val8 + w : NULL;
    uint8_t *valid = s->valid ? s->valid + w : NULL;
    size_t np = (size_t)(w * n);
    if (src->mcls) {
        size_t aw = (size_t)src->marea.width;
        for (int64_t r = 0; r < n; r++) {
            size_t base = (size_t)(gy + r - src->marea.y) * aw + (size_t)(s->x0 - src->marea.x);
            if (prob) {
                memcpy(s->prob + r * w, src->mprob + base, (size_t)w * sizeof *s->prob);
                continue;
            }
            const uint8_t *c = src->mcls + base;
            memcpy(val8 + r * w, c, (size_t)w);
            for (int64_t x = 0; x < w; x++)
                valid[r * w + x] = c[x] != 255;
        }
        return EO_OK;
    }
    if (src->r) {
        const eo_raster *r = src->r;
        double nd = r->nodata;
        bool use_nd = src->use_mask && r->has_nodata;
        for (int64_t k = 0; k < n; k++) {
            size_t base = ((size_t)(src->band_no - 1) * (size_t)r->height + (size_t)(gy + k)) *
                              (size_t)r->width +
                          (size_t)s->x0;
            for (int64_t x = 0; x < w; x++) {
                double v = eoi_dtype_load(r->data, r->dtype, base + (size_t)x);
                size_t i = (size_t)(k * w + x);
                val[i] = v;
                if (valid)
                    valid[i] = !(isnan(v) || (use_nd && v == nd));
            }
        }
        return EO_OK;
    }
    GDALRasterBandH band, mask, pband;
    eo_status st = worker_bands(src, s, worker, wh, &band, &mask, &pband);
    if (st != EO_OK)
        return st;
    if (prob)
        return GDALRasterIO(pband, GF_Read, (int)s->x0, (int)gy, (int)w, (int)n, s->prob, (int)w,
                            (int)n, GDT_Float32, 0, 0) == CE_None
                   ? EO_OK
                   : read_fail(s, EO_E_IO_READ, "probability raster");
    if (GDALRasterIO(band, GF_Read, (int)s->x0, (int)gy, (int)w, (int)n,
                     s->byte ? (void *)val8 : (void *)val, (int)w, (int)n,
                     s->byte ? GDT_Byte : GDT_Float64, 0, 0) != CE_None)
        return read_fail(s, EO_E_IO_READ, src->name);
    if (mask) {
        if (GDALRasterIO(mask, GF_Read, (int)s->x0, (int)gy, (int)w, (int)n, valid, (int)w, (int)n,
                         GDT_Byte, 0, 0) != CE_None)
            return read_fail(s, EO_E_IO_READ, src->name);
        for (size_t i = 0; !s->byte && i < np; i++) /* bytes are never NaN */
            valid[i] = valid[i] && !isnan(val[i]);
    }
    if (src->has_nodata) {
        double nd = src->nodata;
        if (s->byte)
            for (size_t i = 0; i < np; i++)
                valid[i] = val8[i] != nd;
        else
            for (size_t i = 0; i < np; i++)
                valid[i] = !(val[i] == nd || isnan(val[i]));
    }
    return EO_OK;
}

/* run_stripe on a worker: GDAL errors stay quiet on this thread, no side files */
static eo_status run_stripe_quiet(void *user, int64_t i, int32_t worker) {
    CPLPushErrorHandler(CPLQuietErrorHandler);
    const char *old = CPLGetThreadLocalConfigOption("GDAL_PAM_ENABLED", NULL);
    char *saved = old ? CPLStrdup(old) : NULL;
    CPLSetThreadLocalConfigOption("GDAL_PAM_ENABLED", "NO");
    CPLErrorReset();
    eo_status st = run_stripe(user, i, worker);
    CPLSetThreadLocalConfigOption("GDAL_PAM_ENABLED", saved);
    CPLFree(saved);
    CPLPopErrorHandler();
    return st;
}

/* The status of a round of m stripes traced with status st, its message
 * (the first failing stripe's) on ctx. */
static eo_status stripes_status(eo_ctx *ctx, const stripe *set, int32_t m, eo_status st) {
    if (st == EO_OK)
        return EO_OK;
    for (int32_t k = 0; k < m; k++)
        if (set[k].st != EO_OK && set[k].msg[0])
            return eoi_fail(ctx, set[k].st, "polygonize: %s", set[k].msg);
    if (st != EO_E_CANCELLED && !eo_ctx_errmsg(ctx)[0])
        eoi_fail(ctx, st, "polygonize: a stripe failed");
    return st;
}

/* Polygonize src into *out, or (fn set) hand the features to fn as they are
 * done (eo_polygonize_each). */
static eo_status polygonize(eo_ctx *ctx, eo_features **out, const source *src, const double gt[6],
                            const char *wkt, const eo_polygonize_opts *opts, eo_features_fn fn,
                            void *user, bool spool) {
    eo_polygonize_opts dflt = {.band = 1, .connectivity = 4, .use_mask = true};
    const eo_polygonize_opts *o = opts ? opts : &dflt;
    eo_window win = {0, 0, src->width, src->height};
    if (o->has_window) {
        win = o->window;
        if (win.x + win.width > src->width || win.y + win.height > src->height)
            return eoi_fail(ctx, EO_E_ARG,
                            "polygonize: window %lld,%lld %lldx%lld is outside the %lld x %lld "
                            "raster",
                            (long long)win.x, (long long)win.y, (long long)win.width,
                            (long long)win.height, (long long)src->width, (long long)src->height);
    }
    if (win.width > INT32_MAX - 1)
        return eoi_fail(ctx, EO_E_LIMIT, "polygonize: the window is too wide (%lld columns)",
                        (long long)win.width);
    int64_t rows = o->stripe_rows;
    if (rows <= 0) {
        /* 4 Mpx a stripe (8 MiB of 16-bit labels), and at least 512 rows,
         * and width / 32 rows up to 32 Mpx: features cut at a seam are
         * stitched with GEOS, which places each hole a seam closes by
         * scanning the region's shell, so a seam costs about the square of
         * the width; in thinner stripes a wide raster would cost more per
         * pixel than a narrow one (a 32768-wide building mask: 17.4-20.2 s
         * in 512-row stripes, 15.7-15.9 s in 1024-row ones, 16x an
         * 8192-wide one in 512-row stripes being 15.7-17.3 s) */
        rows = ((int64_t)4 << 20) / win.width;
        int64_t wide = win.width / 32, cap = ((int64_t)32 << 20) / win.width;
        if (wide > cap)
            wide = cap;
        if (rows < wide)
            rows = wide;
        if (rows < 512)
            rows = 512;
        /* whole block rows: each block is decoded once (the cache is emptied
         * after each stripe), also when a row of blocks is taller than the
         * stripe would be */
        int bw = 0, bh = 0;
        if (src->band)
            GDALGetBlockSize(src->band, &bw, &bh);
        if (bh > 1 && bh <= 4096 && win.y % bh == 0)
            rows = rows > bh ? rows - rows % bh : bh;
    }
    if (rows > win.height)
        rows = win.height;
    /* labels are int32 indices into a stripe */
    while (rows > 1 && (rows + 1) * (win.width + 1) > INT32_MAX)
        rows /= 2;
    /* rows read at a time: the source's values stay in a small chunk */
    int64_t chunk = ((int64_t)1 << 18) / win.width;
    chunk = chunk < 1 ? 1 : chunk > rows ? rows : chunk;
    size_t bytes;
    eo_status st = eoi_check_raster_size(ctx, &bytes, win.width, rows, 1, 5, "polygonize stripe");
    if (st != EO_OK)
        return st;
    int64_t nstripes = (win.height + rows - 1) / rows;
    int32_t nt = eoi_threads(ctx);
    eo_features *f = NULL;
    stripe *ss = NULL;
    job *jobs = NULL;
    whandles *wh = NULL;
    seams sp = {0};
    stripe *scratch = NULL;
    eoi_async *tracing = NULL;
    eoi_spool *held = NULL;
    EOI_TRY(st, eoi_features_new(ctx, &f, gt, wkt, o->connectivity));
    f->has_score = src->prob != NULL || src->mprob != NULL;
    f->win = win;
    if (spool && fn) {
        EOI_TRY(st, eoi_spool_open(ctx, &held));
        f->spool = held;
    }
    /* two sets of nt stripe slots: the threads trace one round of stripes
     * into one set while this thread turns the other's into features (the
     * work buffers, labels and all, are the workers': nt of them) */
    if (!(ss = eoi_calloc(ctx, 2 * (size_t)nt, sizeof *ss)) ||
        !(scratch = eoi_calloc(ctx, (size_t)nt, sizeof *scratch)) ||
        !(jobs = eoi_calloc(ctx, 2 * (size_t)nt, sizeof *jobs)) ||
        !(wh = eoi_calloc(ctx, (size_t)nt + 64, sizeof *wh))) {
        st = EO_E_NOMEM;
        goto done;
    }
    int64_t nrounds = (nstripes + nt - 1) / nt;
    for (int64_t r = 0; r <= nrounds; r++) {
        /* round r's tracing starts (round 0: on this thread too), then
         * round r - 1's stripes become features */
        if (r < nrounds) {
            int64_t b = r * nt;
            int32_t m = (int32_t)(nstripes - b < nt ? nstripes - b : nt);
            stripe *set = &ss[(r & 1) * nt];
            job *jset = &jobs[(r & 1) * nt];
            for (int32_t k = 0; k < m; k++) {
                stripe *s = &set[k];
                s->x0 = win.x;
                s->w = win.width;
                s->cap_rows = rows;
                s->ch = chunk;
                s->byte = src->byte;
                s->y0 = win.y + (b + k) * rows;
                s->h = win.y + win.height - s->y0 < rows ? win.y + win.height - s->y0 : rows;
                jset[k] = (job){.s = s,
                                .scratch = scratch,
                                .connectivity = o->connectivity,
                                .src = src,
                                .wh = wh};
            }
            if (r == 0 || nt == 1) { /* one thread: no overlap */
                st = eoi_parallel_for(ctx, m, run_stripe_quiet, jset);
                EOI_TRY(st, stripes_status(ctx, set, m, st));
            } else /* nt - 1 threads beside this one: nt in all */
                EOI_TRY(st, eoi_async_start(ctx, &tracing, m, nt - 1, run_stripe_quiet, jset));
        }
        if (r > 0) {
            int64_t b = (r - 1) * nt;
            int32_t m = (int32_t)(nstripes - b < nt ? nstripes - b : nt);
            stripe *set = &ss[((r - 1) & 1) * nt];
            for (int32_t k = 0; k < m; k++) {
                eo_window sw = {set[k].x0, set[k].y0, set[k].w, set[k].h};
                EOI_TRY(st, stripe_features(ctx, f, &set[k], &sw));
                EOI_TRY(st, seam_pairs(ctx, &sp, f, &set[k], b + k > 0, o->connectivity));
                stripe_reset(&set[k]);
                if (fn)
                    EOI_TRY(st,
                            emit_closed(ctx, f, &sp, win.width, b + k + 1 == nstripes, fn, user));
            }
            EOI_TRY(st, eoi_progress(ctx, (double)(b + m) / (double)nstripes * 0.9, "polygonize"));
        }
        if (tracing) {
            int64_t b = r * nt;
            int32_t m = (int32_t)(nstripes - b < nt ? nstripes - b : nt);
            st = eoi_async_wait(ctx, tracing);
            tracing = NULL;
            EOI_TRY(st, stripes_status(ctx, &ss[(r & 1) * nt], m, st));
        }
        if (r == nrounds - 1) /* all traced: the labels go before the last unions */
            for (int32_t k = 0; k < nt; k++)
                stripe_free_buffers(&scratch[k]);
    }
    if (!fn) {
        EOI_TRY(st, eoi_features_stitch_pairs(ctx, f, sp.v, sp.n));
        eoi_features_sort(f);
        mark_edges(ctx->geos, f, &win); /* relative to the whole window now */
    }
    EOI_TRY(st, eoi_progress(ctx, 1.0, "polygonize"));
    if (out) {
        *out = f;
        f = NULL;
    }
done:
    if (tracing) /* a failure here: the threads stop at their next stripe */
        (void)eoi_async_wait(NULL, tracing);
    eoi_free(sp.v);
    eoi_free(sp.prev);
    for (int32_t k = 0; ss && k < 2 * nt; k++)
        stripe_clear(&ss[k]);
    for (int32_t k = 0; scratch && k < nt; k++)
        stripe_clear(&scratch[k]);
    eoi_free(scratch);
    eoi_free(ss);
    eoi_free(jobs);
    if (wh) {
        CPLPushErrorHandler(CPLQuietErrorHandler);
        for (int32_t k = 0; k < nt + 64; k++) {
            if (wh[k].h)
                GDALClose(wh[k].h);
            if (wh[k].hp)
                GDALClose(wh[k].hp);
        }
        CPLPopErrorHandler();
        eoi_free(wh);
    }
    eo_features_free(f);
    eoi_spool_close(held);
    return st;
}

/* The source of a dataset's band, as opts ask. */
static eo_status dataset_source(eo_ctx *ctx, source *out, eo_dataset *src,
                                const eo_polygonize_opts *opts) {
    int32_t band = opts ? opts->band : 1;
    if (band < 1 || band > src->band_count)
        return eoi_fail(ctx, EO_E_ARG, "%s: band %d does not exist (the raster has %d)", src->path,
                        (int)band, (int)src->band_count);
    source s = {.name = src->path,
                .width = src->width,
                .height = src->height,
                .band_no = band,
                .use_mask = opts ? opts->use_mask : true};
    s.band = GDALGetRasterBand(src->h, band);
    s.byte = GDALGetRasterDataType(s.band) == GDT_Byte;
    s.path = src->source; /* what GDAL opens (a mosaic's VRT) */
    if (s.use_mask) {
        GDALRasterBandH b = s.band;
        int flags = GDALGetMaskFlags(b), has = 0;
        double nd = eoi_band_nodata(b, eoi_dtype_of_band(b), &has, NULL);
        if (flags == GMF_NODATA && has) { /* compared here: no second read */
            s.has_nodata = true;
            s.nodata = nd;
        } else if (!(flags & GMF_ALL_VALID))
            s.mask = GDALGetMaskBand(b);
    }
    if (opts && opts->prob) {
        eo_dataset *p = opts->prob;
        if (p->width != src->width || p->height != src->height)
            return eoi_fail(ctx, EO_E_SOURCE_MISMATCH,
                            "probability raster %s is %lld x %lld, the mask %lld x %lld", p->path,
                            (long long)p->width, (long long)p->height, (long long)src->width,
                            (long long)src->height);
        s.prob = GDALGetRasterBand(p->h, opts->prob_band);
        s.prob_path = p->source;
        s.prob_band = opts->prob_band;
    }
    *out = s;
    return EO_OK;
}

eo_status eo_polygonize(eo_ctx *ctx, eo_features **out, eo_dataset *src,
                        const eo_polygonize_opts *opts) {
    if (!ctx)
        return EO_E_ARG;
    EOI_CHECK_ARG(ctx, out);
    *out = NULL;
    EOI_CHECK_ARG(ctx, src);
    source s;
    EOI_TRY_RET(dataset_source(ctx, &s, src, opts));
    return polygonize(ctx, out, &s, src->gt, src->wkt, opts, NULL, NULL, false);
}

eo_status eo_polygonize_each(eo_ctx *ctx, eo_dataset *src, const eo_polygonize_opts *opts,
                             eo_features_fn fn, void *user) {
    if (!ctx)
        return EO_E_ARG;
    EOI_CHECK_ARG(ctx, src && fn);
    source s;
    EOI_TRY_RET(dataset_source(ctx, &s, src, opts));
    return polygonize(ctx, NULL, &s, src->gt, src->wkt, opts, fn, user, false);
}

/* eo_polygonize_write's consumer: the writer opens with the first batch. */
typedef struct file_out {
    const char *path;
    const eo_vector_write_opts *wo;
    eo_features_writer *w;
    int64_t count;
} file_out;

static eo_status put_file(eo_ctx *ctx, eo_features *batch, void *user) {
    file_out *fo = user;
    if (!fo->w)
        EOI_TRY_RET(eo_features_writer_open(ctx, &fo->w, fo->path, fo->wo, batch));
    EOI_TRY_RET(eo_features_writer_put(ctx, fo->w, batch));
    fo->count += (int64_t)batch->n;
    return EO_OK;
}

eo_status eo_polygonize_write(eo_ctx *ctx, eo_dataset *src, const eo_polygonize_opts *opts,
                              const char *path, const eo_vector_write_opts *wopts, int64_t *count) {
    if (!ctx)
        return EO_E_ARG;
    if (count)
        *count = 0;
    EOI_CHECK_ARG(ctx, src && path);
    source s;
    EOI_TRY_RET(dataset_source(ctx, &s, src, opts));
    file_out fo = {.path = path, .wo = wopts};
    eo_status st = polygonize(ctx, NULL, &s, src->gt, src->wkt, opts, put_file, &fo, true);
    if (st == EO_OK && !fo.w)
        st = eoi_fail(ctx, EO_E_INTERNAL, "polygonize: no features were handed over");
    if (st != EO_OK) {
        eo_features_writer_free(fo.w);
        return st;
    }
    EOI_TRY_RET(eo_features_writer_finish(ctx, fo.w));
    if (count)
        *count = fo.count;
    return EO_OK;
}

eo_status eo_polygonize_raster(eo_ctx *ctx, eo_features **out, const eo_raster *src,
                               const eo_polygonize_opts *opts) {
    if (!ctx)
        return EO_E_ARG;
    EOI_CHECK_ARG(ctx, out);
    *out = NULL;
    EOI_CHECK_ARG(ctx, src);
    int32_t band = opts ? opts->band : 1;
    if (band < 1 || band > src->bands)
        return eoi_fail(ctx, EO_E_ARG, "raster: band %d does not exist (the raster has %d)",
                        (int)band, (int)src->bands);
    if (opts && opts->prob)
        return eoi_fail(ctx, EO_E_ARG,
                        "a probability raster needs eo_polygonize on a dataset, not a raster");
    source s = {.name = "raster",
                .width = src->width,
                .height = src->height,
                .r = src,
                .band_no = band,
                .use_mask = opts ? opts->use_mask : true};
    return polygonize(ctx, out, &s, src->gt, src->wkt, opts, NULL, NULL, false);
}

eo_status eoi_polygonize_mem(eo_ctx *ctx, eo_features **out, const uint8_t *cls, const float *prob,
                             const eo_window *area, int64_t width, int64_t height,
                             const double gt[6], const char *wkt, int32_t connectivity) {
    *out = NULL;
    source s = {.name = "classes",
                .width = width,
                .height = height,
                .mcls = cls,
                .mprob = prob,
                .marea = *area,
                .band_no = 1,
                .use_mask = true,
                .byte = true};
    eo_polygonize_opts o = {.band = 1,
                            .connectivity = connectivity,
                            .use_mask = true,
                            .has_window = true,
                            .window = *area};
    return polygonize(ctx, out, &s, gt, wkt, &o, NULL, NULL, false);
}
