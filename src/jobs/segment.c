/* segment.c - sliding-window segmentation of a dataset: tiles on a fixed
 * grid (multiples of tile - overlap from the raster's origin, so an AOI run
 * gives the same pixels as a whole run), read, normalized and run through
 * the model by the context's worker threads (one tile per run unless a
 * batch is asked), their outputs blended in order by the calling thread
 * as they come (see "the pipeline") with separable weights into an accumulator of
 * tile + 256 rows across the output's width, and finished rows written
 * straight into the two COG writers (probabilities and classes), which
 * compress each row of tiles as it fills: every output is written once. */
#include "../infer/infer_int.h"
#include "jobs_int.h"

#include "../analytics/analytics_int.h"
#include "../cog/cog_int.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define BLOCK 256       /* rows of one written block of the outputs */
#define MIN_WEIGHT 1e-6 /* weight of a tile's pixels in the outer quarter of its overlap */
#define MAX_CLASSES 255 /* the class raster is uint8, 255 = nodata */
#define CLASS_NODATA 255

enum { ACT_AUTO, ACT_NONE, ACT_SIGMOID, ACT_SOFTMAX };

struct eo_segment_opts {
    int32_t tile, overlap, batch; /* 0 = default */
    int32_t *bands;
    int32_t nbands;
    double scale;
    double *mean, *std;
    int32_t nmean, nstd;
    double threshold;
    int32_t activation;
    char *classes_path;
    int32_t mask_band; /* 0, or a band whose 0 marks pixels without data (an alpha band) */
    eo_cog_opts *cog;  /* options of the two COGs, or NULL: defaults */
    uint32_t given;    /* GIVEN_* of the options set: the others come from the model's card */
};

enum {
    GIVEN_TILE = 1u << 0,
    GIVEN_OVERLAP = 1u << 1,
    GIVEN_BANDS = 1u << 2,
    GIVEN_SCALE = 1u << 3,
    GIVEN_MEAN = 1u << 4,
    GIVEN_STD = 1u << 5,
    GIVEN_THRESHOLD = 1u << 6,
    GIVEN_ACTIVATION = 1u << 7,
};

void eoi_segment_opts_set_mask_band(eo_segment_opts *o, int32_t band) { o->mask_band = band; }

eo_status eo_segment_opts_new(eo_ctx *ctx, eo_segment_opts **out) {
    EOI_CHECK_ARG(ctx, out);
    eo_segment_opts *o = eoi_calloc(ctx, 1, sizeof *o);
    if (!o)
        return EO_E_NOMEM;
    o->overlap = -1;
    o->scale = 1.0;
    o->threshold = 0.5;
    *out = o;
    return EO_OK;
}

void eo_segment_opts_free(eo_segment_opts *o) {
    if (!o)
        return;
    eoi_free(o->bands);
    eo_cog_opts_free(o->cog);
    eoi_free(o->mean);
    eoi_free(o->std);
    eoi_free(o->classes_path);
    eoi_free(o);
}

static eo_status set_int(eo_ctx *ctx, int32_t *dst, int32_t v, int32_t lo, int32_t hi,
                         const char *what) {
    return eoi_set_int_in(ctx, dst, v, lo, hi, "%s: %d (%d to %d)", what);
}

eo_status eo_segment_opts_set_tile(eo_ctx *ctx, eo_segment_opts *o, int32_t tile) {
    EOI_CHECK_ARG(ctx, o);
    EOI_TRY_RET(set_int(ctx, &o->tile, tile, 8, 8192, "tile (pixels)"));
    o->given |= GIVEN_TILE;
    return EO_OK;
}

eo_status eo_segment_opts_set_overlap(eo_ctx *ctx, eo_segment_opts *o, int32_t overlap) {
    EOI_CHECK_ARG(ctx, o);
    EOI_TRY_RET(set_int(ctx, &o->overlap, overlap, 0, 4096, "overlap (pixels)"));
    o->given |= GIVEN_OVERLAP;
    return EO_OK;
}

eo_status eo_segment_opts_set_batch(eo_ctx *ctx, eo_segment_opts *o, int32_t batch) {
    EOI_CHECK_ARG(ctx, o);
    return set_int(ctx, &o->batch, batch, 1, 256, "batch (tiles)");
}

/* Copy n values of size es into *dst (NULL for n == 0). */
static eo_status set_array(eo_ctx *ctx, void **dst, const void *src, int32_t n, size_t es) {
    void *copy = NULL;
    if (n > 0) {
        if (!(copy = eoi_malloc(ctx, (size_t)n * es)))
            return EO_E_NOMEM;
        memcpy(copy, src, (size_t)n * es);
    }
    eoi_free(*dst);
    *dst = copy;
    return EO_OK;
}

eo_status eo_segment_opts_set_bands(eo_ctx *ctx, eo_segment_opts *o, const int32_t *bands,
                                    int32_t count) {
    EOI_CHECK_ARG(ctx, o && (bands || count == 0));
    if (count < 0 || count > 4096)
        return eoi_fail(ctx, EO_E_ARG, "bands: %d bands (0 to 4096)", (int)count);
    int32_t bad = eoi_bands_bad(bands, count);
    if (bad >= 0)
        return eoi_fail(ctx, EO_E_ARG, "bands: band numbers start at 1, got %d", (int)bands[bad]);
    EOI_TRY_RET(eoi_bands_assign(ctx, &o->bands, &o->nbands, bands, count));
    o->given |= GIVEN_BANDS;
    return EO_OK;
}

eo_status eo_segment_opts_set_scale(eo_ctx *ctx, eo_segment_opts *o, double scale) {
    EOI_CHECK_ARG(ctx, o);
    if (!isfinite(scale) || scale == 0)
        return eoi_fail(ctx, EO_E_ARG, "scale: %g (a finite, non-zero number)", scale);
    o->scale = scale;
    o->given |= GIVEN_SCALE;
    return EO_OK;
}

static eo_status set_stat(eo_ctx *ctx, double **dst, int32_t *n, const double *v, int32_t count,
                          const char *what, bool positive) {
    EOI_CHECK_ARG(ctx, v || count == 0);
    if (count < 0 || count > 4096)
        return eoi_fail(ctx, EO_E_ARG, "%s: %d values (0 to 4096)", what, (int)count);
    for (int32_t i = 0; i < count; i++)
        if (!isfinite(v[i]) || (positive && !(v[i] > 0)))
            return eoi_fail(ctx, EO_E_ARG, "%s: value %d is %g (%s)", what, (int)i + 1, v[i],
                            positive ? "finite and > 0" : "finite");
    EOI_TRY_RET(set_array(ctx, (void **)dst, v, count, sizeof *v));
    *n = count;
    return EO_OK;
}

eo_status eo_segment_opts_set_mean(eo_ctx *ctx, eo_segment_opts *o, const double *mean,
                                   int32_t count) {
    EOI_CHECK_ARG(ctx, o);
    EOI_TRY_RET(set_stat(ctx, &o->mean, &o->nmean, mean, count, "mean", false));
    o->given |= GIVEN_MEAN;
    return EO_OK;
}

eo_status eo_segment_opts_set_std(eo_ctx *ctx, eo_segment_opts *o, const double *std,
                                  int32_t count) {
    EOI_CHECK_ARG(ctx, o);
    EOI_TRY_RET(set_stat(ctx, &o->std, &o->nstd, std, count, "std", true));
    o->given |= GIVEN_STD;
    return EO_OK;
}

eo_status eo_segment_opts_set_threshold(eo_ctx *ctx, eo_segment_opts *o, double threshold) {
    EOI_CHECK_ARG(ctx, o);
    if (!(threshold >= 0 && threshold <= 1))
        return eoi_fail(ctx, EO_E_ARG, "threshold: %g (0 to 1)", threshold);
    o->threshold = threshold;
    o->given |= GIVEN_THRESHOLD;
    return EO_OK;
}

eo_status eo_segment_opts_set_activation(eo_ctx *ctx, eo_segment_opts *o, const char *activation) {
    EOI_CHECK_ARG(ctx, o && activation);
    static const char *const names[] = {"auto", "none", "sigmoid", "softmax"};
    for (int32_t i = 0; i < 4; i++)
        if (strcasecmp(activation, names[i]) == 0) {
            o->activation = i;
            o->given |= GIVEN_ACTIVATION;
            return EO_OK;
        }
    return eoi_fail(ctx, EO_E_ARG, "activation: '%.40s' (auto, none, sigmoid or softmax)",
                    activation);
}

eo_status eo_segment_opts_set_classes_path(eo_ctx *ctx, eo_segment_opts *o, const char *path) {
    EOI_CHECK_ARG(ctx, o);
    char *copy = NULL;
    if (path && *path && !(copy = eoi_strdup(ctx, path)))
        return EO_E_NOMEM;
    eoi_free(o->classes_path);
    o->classes_path = copy;
    return EO_OK;
}

eo_status eo_segment_opts_set_cog_opts(eo_ctx *ctx, eo_segment_opts *o, const eo_cog_opts *cog) {
    EOI_CHECK_ARG(ctx, o);
    eo_status st = eoi_cog_opts_assign(ctx, &o->cog, cog);
    if (st == EO_OK && o->cog)
        o->cog->has_nodata = 0; /* the outputs' nodata values are fixed: NaN and 255 */
    return st;
}

/* ---- the plan ------------------------------------------------------------ */

typedef struct tiles1d {
    int64_t first, count; /* tiles k = first .. first + count - 1 at k * step */
} tiles1d;

/* A tile of the strip in work, in the order the probabilities are blended. */
typedef struct seg_ent {
    int64_t ky, kx;
    int64_t row;       /* its tile row: ky - ty.first */
    int64_t grid_done; /* tiles of the strip's grid up to and with it (progress) */
    int64_t run;       /* its model run, or -1: probabilities from the cache */
    int32_t pos;       /* its place in the run */
    const float *p;    /* with run -1 */
    const uint8_t *nod;
} seg_ent;

typedef struct seg {
    eo_ctx *ctx;
    const eo_model *model; /* the one run: the caller's or a re-planned one */
    const eo_dataset *ds;
    int32_t c, k, b;  /* input channels, output classes, batch */
    int64_t th, tw;   /* tile size */
    int64_t sy, sx;   /* steps */
    int64_t oy, ox;   /* overlaps */
    int32_t act;      /* ACT_NONE / ACT_SIGMOID / ACT_SOFTMAX after resolution */
    float thr;        /* threshold (one class) */
    int32_t *bands;   /* c entries (+ the mask band) */
    int32_t nread;    /* bands read: c, or c + 1 with a mask band */
    float *mul, *add; /* per band: x = v * mul + add */
    double *nd;       /* per band nodata value */
    int32_t *has_nd;
    eo_window area; /* output window of the raster */
    eo_window win;  /* the part of it in work (all of it) */
    int64_t sw;     /* its width */
    tiles1d ty, tx;
    eoi_coverage *cov; /* AOI in pixel coordinates, or NULL */
    double *cov_row;   /* max(sw, tw) + 2 doubles */
    float *cov_buf;    /* BLOCK x max(sw, tw) floats */
    float *wy, *wx;    /* tile weights along each axis for the three kinds of tile */
    /* accumulator: rows [acc_y0, acc_y0 + acc_h) of the window */
    int64_t acc_y0, acc_h;
    float *acc;                /* k x acc_h x win.width (allocated for sw) */
    float *wsum;               /* acc_h x win.width */
    uint8_t *bad;              /* acc_h x win.width: a band was nodata */
    float *read;               /* nworkers x nread x th x tw: a tile as read, per worker */
    pthread_mutex_t read_lock; /* one read of the dataset at a time */
    bool lock_made;
    int32_t nslot; /* output slots of the model runs, used in turn */
    float *in;     /* nworkers x b x c x th x tw: the input of a run, per worker */
    float *out;    /* nslot x b x k x th x tw */
    uint8_t *nod;  /* nslot x b x th x tw: input nodata */
    /* the strip in work: its tiles meeting the AOI in order and the model
     * runs that make their probabilities (see "the pipeline" below) */
    seg_ent *ents;
    int64_t nent;
    int64_t *run_ent; /* nruns x b: the entries of each run, the first run_n[r] */
    int32_t *run_n;
    uint8_t *run_done; /* nruns: its outputs are in its slot */
    int64_t nruns;
    pthread_mutex_t mu; /* guards the four below and run_done */
    pthread_cond_t cv;  /* a run done, an entry blended, or a failure */
    bool pipe_made;
    int64_t next_run, next_ent; /* the next run to start, the next entry to blend */
    eo_status pipe_st;          /* the first failure: the runs stop */
    int32_t pipe_worker;        /* whose (worker, or -1: the calling thread) */
    eoi_tile_cache *cache;      /* or NULL */
    eo_ctx **wctx;              /* per worker */
    int32_t nworkers;
    eoi_cog_push *push; /* the writers of the probabilities and the classes */
    int64_t tiles_total, tiles_run;
    eoi_seg_mem *mem; /* a partition in memory instead of the writers */
    float *mem_prob;  /* with mem: one row, k planes */
    uint8_t *mem_cls; /* with mem: one row of classes */
} seg;

/* Output channel activation the model needs: does its output come out of a
 * sigmoid or a softmax already? */
static bool ends_in_probability(const eoi_graph *g) {
    int32_t v = g->output;
    for (int32_t hop = 0; hop < 16; hop++) {
        const eoi_node *p = NULL;
        for (int32_t i = g->nnodes - 1; i >= 0 && !p; i--)
            for (int32_t j = 0; j < g->nodes[i].nout; j++)
                if (g->nodes[i].out[j] == v)
                    p = &g->nodes[i];
        if (!p)
            return false;
        if (p->op == EOI_OP_SOFTMAX)
            return true;
        if (p->act.kind == EOI_ACT_SIGMOID &&
            (p->op == EOI_OP_ACT || p->op == EOI_OP_CONV || p->op == EOI_OP_CONVT))
            return true;
        if (p->op != EOI_OP_COPY || p->nin < 1)
            return false;
        v = p->in[0];
    }
    return false;
}

static void dims_text(char *buf, size_t cap, const int64_t *d, int32_t n) {
    buf[0] = '\0';
    for (int32_t i = 0; i < n; i++) {
        size_t l = strlen(buf);
        if (d[i] > 0)
            snprintf(buf + l, cap - l, "%s%lld", i ? " x " : "", (long long)d[i]);
        else
            snprintf(buf + l, cap - l, "%s?", i ? " x " : "");
    }
}

/* Decide channels, tile size and batch, and get a model planned for them. */
static eo_status plan_model(eo_ctx *ctx, seg *s, eo_model **replanned, const eo_model *model,
                            const eo_segment_opts *o, int32_t nsel) {
    const eoi_graph *g = eoi_model_graph(model);
    if (!g)
        return eoi_fail(ctx, EO_E_ARG,
                        "the model needs input values to be planned (shapes or "
                        "weights given as inputs): segmentation needs one image "
                        "input");
    const eoi_value *iv = &g->values[g->input];
    const eoi_vinfo *dv = eoi_model_declared_input(model);
    int64_t decl[4] = {-1, -1, -1, -1};
    char text[128];
    if (iv->ndim != 4) {
        dims_text(text, sizeof text, iv->dims, iv->ndim);
        return eoi_fail(ctx, EO_E_ARG,
                        "model input of shape %s: segmentation needs N x C x H x W images", text);
    }
    if (dv && dv->ndim == 4)
        memcpy(decl, dv->dims, sizeof decl);
    int64_t c = decl[1] > 0 ? decl[1] : iv->dims[1];
    if (dv && decl[1] <= 0) /* dynamic channels: the bands decide */
        c = nsel;
    if (c != nsel)
        return eoi_fail(ctx, EO_E_MODEL_INPUT_MISMATCH,
                        "%s takes %lld input channels but %d bands of %s are selected (choose "
                        "%lld with bands, or give the model a card that names them)",
                        eoi_model_name(model), (long long)c, (int)nsel, s->ds->path, (long long)c);
    int64_t th = o && o->tile ? o->tile : decl[2] > 0 ? decl[2] : 512;
    int64_t tw = o && o->tile ? o->tile : decl[3] > 0 ? decl[3] : 512;
    if ((decl[2] > 0 && decl[2] != th) || (decl[3] > 0 && decl[3] != tw)) {
        dims_text(text, sizeof text, decl, 4);
        return eoi_fail(ctx, EO_E_ARG, "tile %lld x %lld: the model's input is fixed at %s",
                        (long long)th, (long long)tw, text);
    }
    int64_t ov = o && o->overlap >= 0 ? o->overlap : 64;
    if (th < 2 * ov || tw < 2 * ov)
        return eoi_fail(ctx, EO_E_ARG,
                        "tile %lld x %lld is smaller than twice the overlap (%lld): use a "
                        "larger tile or a smaller overlap",
                        (long long)th, (long long)tw, (long long)ov);
    /* one tile per run unless asked: a run of batch 1 is the fastest per
     * tile (the plan writes a channel Concat's inputs in place), and the
     * tiles run in parallel anyway */
    int64_t b = decl[0] > 0 ? decl[0] : 1;
    if (o && o->batch) {
        if (decl[0] > 0 && decl[0] != o->batch)
            return eoi_fail(ctx, EO_E_ARG, "batch %d: the model's batch size is fixed at %lld",
                            (int)o->batch, (long long)decl[0]);
        b = o->batch;
    }
    int64_t want[4] = {b, c, th, tw};
    s->model = model;
    if (memcmp(want, iv->dims, sizeof want) != 0) {
        eo_status st = eoi_model_replan(ctx, replanned, model, want, 4);
        if (st != EO_OK) {
            char msg[EOI_MSG_MAX];
            snprintf(msg, sizeof msg, "%s", eo_ctx_errmsg(ctx));
            dims_text(text, sizeof text, want, 4);
            return eoi_fail(ctx, st, "model planned for tiles of %s: %s", text, msg);
        }
        s->model = *replanned;
        g = eoi_model_graph(s->model);
    }
    const eoi_value *ov_ = &g->values[g->output];
    if (ov_->ndim != 4 || ov_->dims[0] != b || ov_->dims[2] != th || ov_->dims[3] != tw) {
        char got[128];
        dims_text(text, sizeof text, want, 4);
        dims_text(got, sizeof got, ov_->dims, ov_->ndim);
        return eoi_fail(ctx, EO_E_ARG,
                        "model output of shape %s for an input of %s: segmentation needs "
                        "N x classes x H x W of the input's size",
                        got, text);
    }
    if (ov_->dims[1] < 1 || ov_->dims[1] > MAX_CLASSES)
        return eoi_fail(ctx, EO_E_ARG, "model output has %lld channels (1 to %d)",
                        (long long)ov_->dims[1], MAX_CLASSES);
    s->c = (int32_t)c;
    s->k = (int32_t)ov_->dims[1];
    s->b = (int32_t)b;
    s->th = th;
    s->tw = tw;
    s->oy = s->ox = ov;
    s->sy = th - ov;
    s->sx = tw - ov;
    int32_t act = o ? o->activation : ACT_AUTO;
    if (act == ACT_AUTO)
        act = ends_in_probability(g) ? ACT_NONE : s->k == 1 ? ACT_SIGMOID : ACT_SOFTMAX;
    s->act = act;
    return EO_OK;
}

/* Bands, normalization and nodata of the source. */
static eo_status plan_input(eo_ctx *ctx, seg *s, const eo_dataset *ds, const eo_segment_opts *o,
                            int32_t nsel) {
    s->bands = eoi_malloc(ctx, (size_t)(nsel + 1) * sizeof *s->bands);
    s->nread = nsel;
    s->mul = eoi_malloc(ctx, (size_t)nsel * sizeof *s->mul);
    s->add = eoi_malloc(ctx, (size_t)nsel * sizeof *s->add);
    s->nd = eoi_malloc(ctx, (size_t)nsel * sizeof *s->nd);
    s->has_nd = eoi_malloc(ctx, (size_t)nsel * sizeof *s->has_nd);
    if (!s->bands || !s->mul || !s->add || !s->nd || !s->has_nd)
        return EO_E_NOMEM;
    const char *what[2] = {"mean", "std"};
    int32_t counts[2] = {o ? o->nmean : 0, o ? o->nstd : 0};
    for (int32_t i = 0; i < 2; i++)
        if (counts[i] > 1 && counts[i] != nsel)
            return eoi_fail(ctx, EO_E_ARG,
                            "%s: %d values for %d selected bands (give one value, or one per "
                            "band)",
                            what[i], (int)counts[i], (int)nsel);
    for (int32_t i = 0; i < nsel; i++) {
        int32_t b = o && o->nbands ? o->bands[i] : i + 1;
        if (b > ds->band_count)
            return eoi_fail(ctx, EO_E_ARG, "%s: band %d does not exist (the raster has %d)",
                            ds->path, (int)b, (int)ds->band_count);
        s->bands[i] = b;
        double mean = counts[0] ? o->mean[counts[0] > 1 ? i : 0] : 0.0;
        double sd = counts[1] ? o->std[counts[1] > 1 ? i : 0] : 1.0;
        double scale = o ? o->scale : 1.0;
        s->mul[i] = (float)(scale / sd);
        s->add[i] = (float)(-mean / sd);
        int has = 0;
        s->nd[i] = eoi_band_nodata(GDALGetRasterBand(ds->h, b),
                                   eoi_dtype_of_band(GDALGetRasterBand(ds->h, b)), &has, NULL);
        s->has_nd[i] = has;
    }
    if (o && o->mask_band) {
        if (o->mask_band > ds->band_count)
            return eoi_fail(ctx, EO_E_ARG, "%s: mask band %d does not exist (the raster has %d)",
                            ds->path, (int)o->mask_band, (int)ds->band_count);
        s->bands[nsel] = o->mask_band;
        s->nread = nsel + 1;
    }
    return EO_OK;
}

/* Tiles k (at k * step, size t) that meet [x0, x0 + n), up to the first
 * one that reaches the end of the raster (size): every pixel then lies in
 * some tile away from that tile's ramped (zero-padded) edges. */
static tiles1d tiles_over(int64_t x0, int64_t n, int64_t t, int64_t step, int64_t size) {
    int64_t first = x0 - t < 0 ? 0 : (x0 - t) / step + 1;
    int64_t last = (x0 + n + step - 1) / step - 1;
    int64_t end = size - t <= 0 ? 0 : (size - t + step - 1) / step;
    last = last < end ? last : end;
    return (tiles1d){first, last - first + 1};
}

/* Weight of pixel i of a tile of size t along one axis: a raised-cosine
 * ramp across the middle half of the overlap o on each side that is not on
 * the raster's edge, MIN_WEIGHT in the outer quarter. */
static float ramp(int64_t d, int64_t o) {
    double q = (double)o / 4.0, x = (double)d + 0.5 - q;
    if (o == 0 || x >= (double)o / 2.0)
        return 1.0f;
    if (x <= 0)
        return 0.0f;
    return (float)(0.5 - 0.5 * cos(3.14159265358979323846 * x / ((double)o / 2.0)));
}

static void axis_weights(float *w, int64_t t, int64_t o, bool ramp_lo, bool ramp_hi) {
    for (int64_t i = 0; i < t; i++) {
        float v = (ramp_lo ? ramp(i, o) : 1.0f) * (ramp_hi ? ramp(t - 1 - i, o) : 1.0f);
        w[i] = v > (float)MIN_WEIGHT ? v : (float)MIN_WEIGHT;
    }
}

/* The weights of tile k along an axis (raster size n). */
static const float *weights_of(const float *w3, int64_t t, int64_t k, int64_t step, int64_t n) {
    bool lo = k > 0, hi = k * step + t < n;
    return w3 + (size_t)t * (size_t)(lo && hi ? 0 : lo ? 1 : 2);
}

/* Does tile (ky, kx) hold a pixel centre of the AOI inside the window? */
static bool tile_meets_aoi(seg *s, int64_t ky, int64_t kx) {
    if (!s->cov)
        return true;
    int64_t x0 = kx * s->sx, y0 = ky * s->sy;
    int64_t xa = x0 > s->win.x ? x0 : s->win.x, ya = y0 > s->win.y ? y0 : s->win.y;
    int64_t xb = x0 + s->tw < s->win.x + s->win.width ? x0 + s->tw : s->win.x + s->win.width;
    int64_t yb = y0 + s->th < s->win.y + s->win.height ? y0 + s->th : s->win.y + s->win.height;
    for (int64_t y = ya; y < yb; y += BLOCK) {
        eo_window w = {xa, y, xb - xa, yb - y < BLOCK ? yb - y : BLOCK};
        eoi_coverage_compute(s->cov, &w, EO_COVERAGE_CENTER, s->cov_buf, s->cov_row);
        for (size_t i = 0; i < (size_t)w.width * (size_t)w.height; i++)
            if (s->cov_buf[i] != 0.0f)
                return true;
    }
    return false;
}

/* Index i >= n mirrored into [0, n) about the last sample (n - 2, n - 3,
 * ...; back and forth when the padding is longer than n). */
static int64_t reflect(int64_t i, int64_t n) {
    if (n < 2)
        return 0;
    int64_t p = 2 * (n - 1), r = i % p;
    return r < n ? r : p - r;
}

/* Read tile (ky, kx) into slot position: normalized input, nodata flags;
 * beyond the raster's end the tile is mirrored (no dark border for the
 * model to see). */
static eo_status read_tile(seg *s, eo_ctx *ctx, float *rbuf, int64_t ky, int64_t kx, float *in,
                           uint8_t *nod) {
    const eo_dataset *ds = s->ds;
    int64_t x0 = kx * s->sx, y0 = ky * s->sy;
    int64_t rw = ds->width - x0 < s->tw ? ds->width - x0 : s->tw;
    int64_t rh = ds->height - y0 < s->th ? ds->height - y0 : s->th;
    size_t plane = (size_t)s->th * (size_t)s->tw, rplane = (size_t)rw * (size_t)rh;
    memset(in, 0, plane * (size_t)s->c * sizeof *in);
    memset(nod, 0, plane);
    if (rw < 1 || rh < 1)
        return EO_OK;
    eo_window w = {x0, y0, rw, rh};
    EOI_TRY_RET(eoi_dataset_read_f32(ctx, ds, &w, s->bands, s->nread, rbuf));
    /* the mask band, when read: 0 = no data */
    const float *mk = s->nread > s->c ? rbuf + (size_t)s->c * rplane : NULL;
    for (int32_t c = 0; c < s->c; c++) {
        const float *src = rbuf + (size_t)c * rplane;
        float *dst = in + (size_t)c * plane;
        float mul = s->mul[c], add = s->add[c];
        bool has = s->has_nd[c] != 0 && !isnan(s->nd[c]);
        float nd = (float)s->nd[c];
        for (int64_t y = 0; y < rh; y++) {
            const float *sr = src + (size_t)y * (size_t)rw;
            float *dr = dst + (size_t)y * (size_t)s->tw;
            uint8_t *nr = nod + (size_t)y * (size_t)s->tw;
            const float *mr = mk ? mk + (size_t)y * (size_t)rw : NULL;
            for (int64_t x = 0; x < rw; x++) {
                float v = sr[x];
                if (isnan(v) || (has && v == nd) || (mr && mr[x] == 0.0f)) { /* NaN: nodata */
                    nr[x] = 1;
                    dr[x] = 0.0f;
                } else {
                    dr[x] = v * mul + add;
                }
            }
            for (int64_t x = rw; x < s->tw; x++)
                dr[x] = dr[reflect(x, rw)];
        }
        for (int64_t y = rh; y < s->th; y++)
            memcpy(dst + (size_t)y * (size_t)s->tw, dst + (size_t)reflect(y, rh) * (size_t)s->tw,
                   (size_t)s->tw * sizeof *dst);
    }
    return EO_OK;
}

/* Model output to probabilities, in place: k planes of n pixels. */
static void activate(float *p, int32_t k, size_t n, int32_t act) {
    if (act == ACT_SIGMOID) { /* the SIMD sigmoid of the model's kernels */
        const eoi_act a = {.kind = EOI_ACT_SIGMOID};
        eoi_kernels_get()->act(p, n * (size_t)k, 0.0f, &a);
    } else if (act == ACT_SOFTMAX) {
        for (size_t i = 0; i < n; i++) {
            float m = p[i];
            for (int32_t c = 1; c < k; c++)
                m = p[(size_t)c * n + i] > m ? p[(size_t)c * n + i] : m;
            float sum = 0.0f;
            for (int32_t c = 0; c < k; c++) {
                float e = expf(p[(size_t)c * n + i] - m);
                p[(size_t)c * n + i] = e;
                sum += e;
            }
            for (int32_t c = 0; c < k; c++)
                p[(size_t)c * n + i] /= sum;
        }
    }
}

/* Blend one tile's probabilities (k planes of th x tw) into the accumulator. */
static void blend(seg *s, int64_t ky, int64_t kx, const float *p, const uint8_t *nod) {
    const eo_dataset *ds = s->ds;
    int64_t x0 = kx * s->sx, y0 = ky * s->sy;
    const float *wy = weights_of(s->wy, s->th, ky, s->sy, ds->height);
    const float *wx = weights_of(s->wx, s->tw, kx, s->sx, ds->width);
    int64_t xa = x0 > s->win.x ? x0 : s->win.x;
    int64_t xb = x0 + s->tw < s->win.x + s->win.width ? x0 + s->tw : s->win.x + s->win.width;
    int64_t ya = y0 > s->win.y ? y0 : s->win.y;
    int64_t yb = y0 + s->th < s->win.y + s->win.height ? y0 + s->th : s->win.y + s->win.height;
    size_t plane = (size_t)s->th * (size_t)s->tw, ww = (size_t)s->win.width;
    size_t aplane = (size_t)s->acc_h * ww;
    for (int64_t y = ya; y < yb; y++) {
        int64_t ty = y - y0, ay = y - s->win.y - s->acc_y0;
        float wr = wy[ty];
        size_t arow = (size_t)ay * ww + (size_t)(xa - s->win.x);
        size_t trow = (size_t)ty * (size_t)s->tw + (size_t)(xa - x0);
        int64_t n = xb - xa;
        const float *wxr = wx + (xa - x0);
        for (int64_t i = 0; i < n; i++) {
            float w = wr * wxr[i];
            s->wsum[arow + (size_t)i] += w;
            s->bad[arow + (size_t)i] |= nod[trow + (size_t)i];
        }
        for (int32_t c = 0; c < s->k; c++) {
            float *a = s->acc + (size_t)c * aplane + arow;
            const float *t = p + (size_t)c * plane + trow;
            for (int64_t i = 0; i < n; i++)
                a[i] += wr * wxr[i] * t[i];
        }
    }
}

/* The finished rows of a partition run in memory: rows n of prob (k
 * planes of stride pstride) and cls, at (xpos, ypos) of the area, with the
 * pixel counts. */
static void mem_rows(seg *s, const float *prob, size_t pstride, const uint8_t *cls, int64_t xpos,
                     int64_t ypos, int64_t n, size_t acc_row0) {
    eoi_seg_mem *m = s->mem;
    size_t ww = (size_t)s->win.width;
    size_t aw = (size_t)s->area.width, aplane = aw * (size_t)s->area.height;
    for (int64_t y = 0; y < n; y++) {
        size_t src = (size_t)y * ww, dst = (size_t)(ypos + y) * aw + (size_t)xpos;
        memcpy(m->cls + dst, cls + src, ww);
        for (size_t i = 0; i < ww; i++) {
            uint8_t c = cls[src + i];
            bool in = !s->cov || s->cov_buf[acc_row0 + src + i] != 0.0f;
            m->aoi_px += in;
            if (c == CLASS_NODATA) {
                m->prob[dst + i] = NAN;
                continue;
            }
            m->valid_px++;
            m->hist[c]++;
            float pr = prob[(size_t)(s->k == 1 ? 0 : c) * pstride + src + i];
            m->prob[dst + i] = s->k == 1 && c == 0 ? 1.0f - pr : pr;
        }
        if (m->probs)
            for (int32_t c = 0; c < s->k; c++)
                memcpy(m->probs + (size_t)c * aplane + dst, prob + (size_t)c * pstride + src,
                       ww * sizeof(float));
    }
}

/* Write the first n rows of the accumulator (window rows acc_y0 ...) into
 * the writers and shift the rest up. */
/* Row i0 / ww of the accumulator, final: the probabilities (k planes of
 * stride pstride) and the class of each pixel (NaN and CLASS_NODATA
 * without data or outside the AOI). */
static void final_row(const seg *s, size_t i0, float *prob, size_t pstride, uint8_t *cls) {
    size_t ww = (size_t)s->win.width, aplane = (size_t)s->acc_h * ww;
    for (size_t x = 0; x < ww; x++) {
        size_t i = i0 + x;
        float ws = s->wsum[i];
        bool ok = ws > 0 && !s->bad[i] && (!s->cov || s->cov_buf[i] != 0.0f);
        if (!ok) {
            for (int32_t c = 0; c < s->k; c++)
                prob[(size_t)c * pstride + x] = NAN;
            cls[x] = CLASS_NODATA;
            continue;
        }
        float best = -INFINITY;
        int32_t arg = 0;
        for (int32_t c = 0; c < s->k; c++) {
            float v = s->acc[(size_t)c * aplane + i] / ws;
            prob[(size_t)c * pstride + x] = v;
            if (v > best) {
                best = v;
                arg = c;
            }
        }
        cls[x] = s->k == 1 ? (uint8_t)(best >= s->thr) : (uint8_t)arg;
    }
}

/* Write the first n rows of the accumulator (window rows acc_y0 ...) into
 * the writers, or the partition's memory, and shift the rest up. */
static eo_status flush(seg *s, int64_t n) {
    size_t ww = (size_t)s->win.width, aplane = (size_t)s->acc_h * ww;
    if (s->cov) {
        eo_window w = {s->win.x, s->win.y + s->acc_y0, s->win.width, n};
        eoi_coverage_compute(s->cov, &w, EO_COVERAGE_CENTER, s->cov_buf, s->cov_row);
    }
    if (s->mem) {
        int64_t xpos = s->win.x - s->area.x, ypos = s->win.y - s->area.y + s->acc_y0;
        for (int64_t r = 0; r < n; r++) {
            final_row(s, (size_t)r * ww, s->mem_prob, ww, s->mem_cls);
            mem_rows(s, s->mem_prob, ww, s->mem_cls, xpos, ypos + r, 1, (size_t)r * ww);
        }
    }
    for (int64_t done = 0; !s->mem && done < n;) {
        eoi_cog_out outs[2];
        int64_t room = eoi_cog_push_room(s->push, outs);
        int64_t m = n - done < room ? n - done : room;
        for (int64_t r = 0; r < m; r++)
            final_row(
                s, (size_t)(done + r) * ww, (float *)(outs[0].buf + (size_t)r * outs[0].line_bytes),
                outs[0].band_bytes / sizeof(float), outs[1].buf + (size_t)r * outs[1].line_bytes);
        EOI_TRY_RET(eoi_cog_push_commit(s->push, m));
        done += m;
    }
    size_t bplane = (size_t)n * ww, keep = aplane - bplane;
    for (int32_t c = 0; c < s->k; c++) {
        float *a = s->acc + (size_t)c * aplane;
        memmove(a, a + bplane, keep * sizeof *a);
        memset(a + keep, 0, bplane * sizeof *a);
    }
    memmove(s->wsum, s->wsum + bplane, keep * sizeof *s->wsum);
    memset(s->wsum + keep, 0, bplane * sizeof *s->wsum);
    memmove(s->bad, s->bad + bplane, keep);
    memset(s->bad + keep, 0, bplane);
    s->acc_y0 += n;
    return EO_OK;
}

/* ---- the pipeline ------------------------------------------------------- */
/* A strip's tiles meeting the AOI are listed in rows (the entries) and
 * grouped into model runs of up to b tiles within one tile row. With more
 * than one thread, nworkers threads take the runs in order: each reads its
 * run's tiles (one reader of the dataset at a time, beside the others'
 * model runs) and runs the model on a context of its own, into the next of
 * nslot output slots. The calling thread (the lead) blends the entries in
 * their order as soon as each one's run is done, flushes the rows that
 * become final, keeps the seam tiles in the cache and reports progress.
 * Nothing waits for a round's slowest run, and the blending and writing go
 * on beside the model runs; the order of the sums is the entries' order,
 * so the output is the same bits with any number of threads. Run r takes
 * slot r % nslot once the entries of run r - nslot are blended. With one
 * thread the lead runs the runs too, on the calling context. */

/* Run r: its tiles read, the model over them, the outputs activated. */
static eo_status run_model(seg *s, eo_ctx *w, int32_t worker, int64_t r) {
    size_t plane = (size_t)s->th * (size_t)s->tw;
    size_t per_in = (size_t)s->b * (size_t)s->c * plane,
           per_out = (size_t)s->b * (size_t)s->k * plane;
    size_t slot = (size_t)(r % s->nslot);
    int64_t shape[4] = {s->b, s->c, s->th, s->tw};
    float *in = s->in + (size_t)worker * per_in, *out = s->out + slot * per_out;
    uint8_t *nod = s->nod + slot * (size_t)s->b * plane;
    int32_t n = s->run_n[r];
    eo_status st = EO_OK;
    pthread_mutex_lock(&s->read_lock);
    for (int32_t j = 0; j < n && st == EO_OK; j++) {
        const seg_ent *e = &s->ents[s->run_ent[r * s->b + j]];
        st = read_tile(s, w, s->read + (size_t)worker * (size_t)s->nread * plane, e->ky, e->kx,
                       in + (size_t)j * (size_t)s->c * plane, nod + (size_t)j * plane);
    }
    pthread_mutex_unlock(&s->read_lock);
    EOI_TRY_RET(st);
    if (n < s->b) /* a short run: the rest of the batch is zeros */
        memset(in + (size_t)n * (size_t)s->c * plane, 0,
               (size_t)(s->b - n) * (size_t)s->c * plane * sizeof *in);
    EOI_TRY_RET(eo_model_run(w, s->model, in, shape, 4, out, per_out));
    for (int32_t j = 0; j < n; j++)
        activate(out + (size_t)j * (size_t)s->k * plane, s->k, plane, s->act);
    return EO_OK;
}

/* May run r start: are the entries of the run before it in its slot
 * blended? (mu held) */
static bool slot_free(const seg *s, int64_t r) {
    if (r < s->nslot)
        return true;
    int64_t p = r - s->nslot;
    return s->next_ent > s->run_ent[p * s->b + s->run_n[p] - 1];
}

typedef struct seg_worker {
    seg *s;
    int32_t id;
} seg_worker;

static void *worker_main(void *arg) {
    const seg_worker *wk = arg;
    seg *s = wk->s;
    pthread_mutex_lock(&s->mu);
    while (s->pipe_st == EO_OK && s->next_run < s->nruns) {
        if (atomic_load(&s->ctx->cancelled)) {
            s->pipe_st = EO_E_CANCELLED;
            s->pipe_worker = -1;
            break;
        }
        int64_t r = s->next_run;
        if (!slot_free(s, r)) {
            pthread_cond_wait(&s->cv, &s->mu);
            continue;
        }
        s->next_run++;
        pthread_mutex_unlock(&s->mu);
        eo_status st = run_model(s, s->wctx[wk->id], wk->id, r);
        pthread_mutex_lock(&s->mu);
        if (st != EO_OK && s->pipe_st == EO_OK) {
            s->pipe_st = st;
            s->pipe_worker = wk->id;
        }
        s->run_done[r] = 1;
        pthread_cond_broadcast(&s->cv);
    }
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

/* Does tile (ky, kx) lie on the last row or column of the tiles this
 * call runs, which the partitions after this one (in rows, left to right)
 * meet too? */
static bool edge_tile(const seg *s, int64_t ky, int64_t kx) {
    return ky == s->ty.first + s->ty.count - 1 || kx == s->tx.first + s->tx.count - 1;
}

static eoi_tile_key tile_key(const seg *s, int64_t ky, int64_t kx) {
    return (eoi_tile_key){ky, kx, s->k, s->th, s->tw, s->sy, s->sx};
}

/* Flush the rows that are final once tile rows up to i (of ty) are
 * blended: those above the next tile row; *done is the last row flushed. */
static eo_status flush_rows(seg *s, int64_t *done, int64_t i) {
    eo_status st = EO_OK;
    int64_t h = s->win.height;
    for (; *done < i && st == EO_OK; ++*done) {
        int64_t row = *done + 1, ky = s->ty.first + row;
        int64_t next = row + 1 < s->ty.count ? (ky + 1) * s->sy - s->win.y : h;
        next = next < 0 ? 0 : next > h ? h : next;
        while (st == EO_OK && (s->acc_y0 + BLOCK <= next || (s->acc_y0 < next && next == h)))
            st = flush(s, next - s->acc_y0 < BLOCK ? next - s->acc_y0 : BLOCK);
    }
    return st;
}

/* Entry e's probabilities into the accumulator, and into the cache when
 * the next partitions meet its tile. */
static void blend_entry(seg *s, const seg_ent *e) {
    if (e->run < 0) {
        blend(s, e->ky, e->kx, e->p, e->nod);
        return;
    }
    size_t plane = (size_t)s->th * (size_t)s->tw;
    size_t t = (size_t)(e->run % s->nslot) * (size_t)s->b + (size_t)e->pos;
    const float *p = s->out + t * (size_t)s->k * plane;
    blend(s, e->ky, e->kx, p, s->nod + t * plane);
    if (s->cache && edge_tile(s, e->ky, e->kx)) {
        eoi_tile_key key = tile_key(s, e->ky, e->kx);
        eoi_tile_cache_put(s->ctx, s->cache, &key, p, s->nod + t * plane);
    }
}

/* The lead's part: blend the entries in order as their runs finish (and
 * run the runs itself when no worker thread does). */
static eo_status lead(seg *s, bool runs_too) {
    eo_status st = EO_OK;
    int64_t flushed = -1;
    pthread_mutex_lock(&s->mu);
    while (s->pipe_st == EO_OK && s->next_ent < s->nent) {
        const seg_ent *e = &s->ents[s->next_ent];
        if (e->run < 0 || s->run_done[e->run]) {
            pthread_mutex_unlock(&s->mu);
            st = flush_rows(s, &flushed, e->row - 1);
            if (st == EO_OK) {
                blend_entry(s, e);
                st = eoi_progress(s->ctx, 0.9 * (double)e->grid_done / (double)s->tiles_total,
                                  "segment");
            }
            pthread_mutex_lock(&s->mu);
        } else if (runs_too) {
            int64_t r = s->next_run++; /* its slot is free: the runs before it are blended */
            pthread_mutex_unlock(&s->mu);
            st = run_model(s, s->ctx, 0, r);
            pthread_mutex_lock(&s->mu);
            s->run_done[r] = 1;
            if (st != EO_OK) {
                s->pipe_st = st;
                s->pipe_worker = -1;
            }
            continue;
        } else {
            pthread_cond_wait(&s->cv, &s->mu);
            continue;
        }
        if (st != EO_OK && s->pipe_st == EO_OK) {
            s->pipe_st = st;
            s->pipe_worker = -1;
        }
        s->next_ent++;
        pthread_cond_broadcast(&s->cv);
    }
    st = s->pipe_st;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return st == EO_OK ? flush_rows(s, &flushed, s->ty.count - 1) : st;
}

/* List the strip's entries and runs: the tiles meeting the AOI, in rows,
 * those the cache holds taken from it (and kept there until the strip is
 * done). */
static eo_status plan_strip(seg *s) {
    size_t grid = (size_t)s->ty.count * (size_t)s->tx.count;
    grid = grid ? grid : 1; /* no tiles: still a valid allocation */
    void *old[] = {s->ents, s->run_ent, s->run_n, s->run_done};
    for (size_t i = 0; i < sizeof old / sizeof old[0]; i++)
        eoi_free(old[i]);
    s->run_ent = NULL;
    s->run_n = NULL;
    s->run_done = NULL;
    if (!(s->ents = eoi_malloc(s->ctx, grid * sizeof *s->ents)) ||
        !(s->run_ent = eoi_malloc(s->ctx, grid * (size_t)s->b * sizeof *s->run_ent)) ||
        !(s->run_n = eoi_calloc(s->ctx, grid, sizeof *s->run_n)) ||
        !(s->run_done = eoi_calloc(s->ctx, grid, 1)))
        return EO_E_NOMEM;
    int64_t n = 0, runs = 0;
    for (int64_t i = 0; i < s->ty.count; i++) {
        int64_t ky = s->ty.first + i;
        bool open = false; /* a run of this row has room */
        for (int64_t j = 0; j < s->tx.count; j++) {
            int64_t kx = s->tx.first + j;
            if (!tile_meets_aoi(s, ky, kx))
                continue;
            seg_ent *e = &s->ents[n];
            *e = (seg_ent){.ky = ky, .kx = kx, .row = i, .grid_done = i * s->tx.count + j + 1};
            eoi_tile_key key = tile_key(s, ky, kx);
            if (eoi_tile_cache_get(s->cache, &key, &e->p, &e->nod)) {
                e->run = -1;
            } else {
                if (!open)
                    runs++;
                int64_t r = runs - 1;
                e->run = r;
                e->pos = s->run_n[r]++;
                s->run_ent[r * s->b + e->pos] = n;
                open = s->run_n[r] < s->b;
                s->tiles_run++;
            }
            n++;
        }
    }
    s->nent = n;
    s->nruns = runs;
    return EO_OK;
}

/* Segment s->win: its tile rows, flushing the rows above the next tile row
 * as they become final. The rows go to the COG writers in order, so the
 * window spans the output's width (memory: the accumulator of tile + 256
 * rows and the writers' row of tiles, both across the width). */
static eo_status run_strip(seg *s) {
    size_t cells = (size_t)s->acc_h * (size_t)s->sw;
    memset(s->acc, 0, (size_t)s->k * cells * sizeof *s->acc);
    memset(s->wsum, 0, cells * sizeof *s->wsum);
    memset(s->bad, 0, cells);
    s->acc_y0 = 0;
    eo_status st = plan_strip(s);
    if (st != EO_OK) {
        eoi_tile_cache_unpin(s->cache);
        return st;
    }
    s->next_run = s->next_ent = 0;
    s->pipe_st = EO_OK;
    s->pipe_worker = -1;
    seg_worker wk[64];
    pthread_t th[64];
    int32_t started = 0;
    if (s->nworkers > 1)
        for (; started < s->nworkers; started++) {
            wk[started] = (seg_worker){s, started};
            if (pthread_create(&th[started], NULL, worker_main, &wk[started]) != 0)
                break;
        }
    st = lead(s, started == 0);
    for (int32_t w = 0; w < started; w++)
        pthread_join(th[w], NULL);
    eoi_tile_cache_unpin(s->cache);
    if (st == EO_OK)
        return EO_OK;
    if (s->pipe_worker >= 0 && eo_ctx_status(s->wctx[s->pipe_worker]) != EO_OK)
        return eoi_ctx_take_error(s->ctx, s->wctx[s->pipe_worker]);
    if (eo_ctx_status(s->ctx) == EO_OK)
        return eoi_fail(s->ctx, st, st == EO_E_CANCELLED ? "cancelled" : "a model run failed");
    return st;
}

/* "out.tif" -> "out_classes.tif" */
static char *classes_name(eo_ctx *ctx, const char *path) {
    const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');
    size_t stem = dot && (!slash || dot > slash) ? (size_t)(dot - path) : strlen(path);
    size_t n = strlen(path) + 16;
    char *s = eoi_malloc(ctx, n);
    if (s)
        snprintf(s, n, "%.*s_classes%s", (int)stem, path, path + stem);
    return s;
}

/* The class raster's colours: a qualitative palette (class 0 grey),
 * nodata transparent. */
static GDALColorTableH class_colors(int32_t nclass) {
    static const GDALColorEntry pal[] = {
        {160, 160, 160, 255}, {228, 26, 28, 255},  {55, 126, 184, 255}, {77, 175, 74, 255},
        {152, 78, 163, 255},  {255, 127, 0, 255},  {255, 255, 51, 255}, {166, 86, 40, 255},
        {247, 129, 191, 255}, {102, 194, 165, 255}};
    GDALColorTableH t = GDALCreateColorTable(GPI_RGB);
    for (int32_t i = 0; t && i < nclass; i++)
        GDALSetColorEntry(t, i, &pal[i % (int32_t)(sizeof pal / sizeof pal[0])]);
    GDALColorEntry none = {0, 0, 0, 0};
    if (t)
        GDALSetColorEntry(t, CLASS_NODATA, &none);
    return t;
}

/* Band metadata items naming the classes ("CLASS_0=background", ...). */
static char **class_items(eo_ctx *ctx, int32_t k) {
    int32_t nclass = k == 1 ? 2 : k;
    char **items = eoi_calloc(ctx, (size_t)nclass + 1, sizeof *items);
    for (int32_t i = 0; items && i < nclass; i++) {
        char buf[64];
        if (k == 1)
            snprintf(buf, sizeof buf, "CLASS_%d=%s", (int)i, i ? "foreground" : "background");
        else
            snprintf(buf, sizeof buf, "CLASS_%d=class_%d", (int)i, (int)i);
        if (!(items[i] = eoi_strdup(ctx, buf))) {
            for (int32_t j = 0; j < i; j++)
                eoi_free(items[j]);
            eoi_free(items);
            return NULL;
        }
    }
    return items;
}

/* Open the two COG writers of the outputs. */
static eo_status open_outputs(eo_ctx *ctx, seg *s, const char *path, const char *cpath,
                              const eo_segment_opts *o) {
    const eo_dataset *ds = s->ds;
    eoi_cog_pull dp = {.width = s->area.width,
                       .height = s->area.height,
                       .bands = s->k,
                       .dtype = EO_DT_F32,
                       .has_gt = ds->has_gt,
                       .wkt = ds->wkt,
                       .nodata = NAN,
                       .has_nodata = 1};
    memcpy(dp.gt, ds->gt, sizeof dp.gt);
    dp.gt[0] += (double)s->area.x * dp.gt[1] + (double)s->area.y * dp.gt[2];
    dp.gt[3] += (double)s->area.x * dp.gt[4] + (double)s->area.y * dp.gt[5];
    eoi_cog_pull dc = dp;
    dc.bands = 1;
    dc.dtype = EO_DT_U8;
    dc.nodata = CLASS_NODATA;
    dc.categorical = true;
    char **items = class_items(ctx, s->k);
    if (!items)
        return EO_E_NOMEM;
    dc.band_items = (const char *const *)items;
    eoi_gdal_begin(ctx);
    dc.color_table = class_colors(s->k == 1 ? 2 : s->k);
    eoi_gdal_end(ctx);
    eo_status st = EO_OK;
    if (!dc.color_table)
        st = eoi_fail(ctx, EO_E_NOMEM, "out of memory (a colour table)");
    eo_cog_opts kbuf;
    const eo_cog_opts *co = o ? o->cog : NULL;
    const char *paths[2] = {path, cpath};
    const eoi_cog_pull *descs[2] = {&dp, &dc};
    const eo_cog_opts *os[2] = {co, eoi_cog_class_opts(co, &kbuf)};
    if (st == EO_OK)
        st = eoi_cog_push_open(ctx, &s->push, 2, paths, descs, os);
    eoi_gdal_begin(ctx);
    GDALDestroyColorTable(dc.color_table);
    eoi_gdal_end(ctx);
    for (size_t i = 0; items[i]; i++)
        eoi_free(items[i]);
    eoi_free(items);
    return st;
}

static eo_status summary(eo_ctx *ctx, char **out, const seg *s, const char *path,
                         const char *cpath) {
    json_object *o = json_object_new_object();
    if (!o)
        return eoi_fail(ctx, EO_E_NOMEM, "out of memory");
    static const char *const acts[] = {"auto", "none", "sigmoid", "softmax"};
    json_object_object_add(o, "probabilities", json_object_new_string(path));
    json_object_object_add(o, "classes", json_object_new_string(cpath));
    json_object_object_add(o, "width", json_object_new_int64(s->area.width));
    json_object_object_add(o, "height", json_object_new_int64(s->area.height));
    json_object *w = json_object_new_array();
    json_object_array_add(w, json_object_new_int64(s->area.x));
    json_object_array_add(w, json_object_new_int64(s->area.y));
    json_object_array_add(w, json_object_new_int64(s->area.width));
    json_object_array_add(w, json_object_new_int64(s->area.height));
    json_object_object_add(o, "window", w);
    json_object_object_add(o, "classes_count", json_object_new_int(s->k));
    json_object_object_add(o, "activation", json_object_new_string(acts[s->act]));
    json_object_object_add(o, "tile", json_object_new_int64(s->th));
    json_object_object_add(o, "overlap", json_object_new_int64(s->oy));
    json_object_object_add(o, "batch", json_object_new_int(s->b));
    json_object_object_add(o, "tiles", json_object_new_int64(s->tiles_total));
    json_object_object_add(o, "tiles_run", json_object_new_int64(s->tiles_run));
    eo_status st = eoi_json_dump(ctx, out, o, false);
    json_object_put(o);
    return st;
}

static eo_status alloc_buffers(eo_ctx *ctx, seg *s) {
    size_t ww = (size_t)s->sw, plane = (size_t)s->th * (size_t)s->tw, n;
    size_t wide = ww > (size_t)s->tw ? ww : (size_t)s->tw;
    int64_t acc_h = s->th + BLOCK;
    s->acc_h = acc_h;
    int32_t nt = eoi_threads(ctx);
    nt = nt < 1 ? 1 : nt > 64 ? 64 : nt;
    s->nworkers = nt;
    s->nslot = nt > 1 ? 2 * nt : 1; /* a worker goes on while the lead blends */
    size_t tiles = (size_t)s->nslot * (size_t)s->b, wtiles = (size_t)nt * (size_t)s->b;
    /* the largest buffers, checked against the context's limits */
    EOI_TRY_RET(eoi_check_raster_size(ctx, &n, (int64_t)ww, acc_h, s->k + 2, sizeof(float),
                                      "segmentation accumulator"));
    EOI_TRY_RET(eoi_check_raster_size(ctx, &n, s->tw, s->th,
                                      (int64_t)(tiles * (size_t)(s->k + 1) + wtiles * (size_t)s->c),
                                      sizeof(float), "segmentation tiles"));
    if (!(s->acc = eoi_calloc(ctx, (size_t)s->k * (size_t)acc_h * ww, sizeof(float))) ||
        !(s->wsum = eoi_calloc(ctx, (size_t)acc_h * ww, sizeof(float))) ||
        !(s->bad = eoi_calloc(ctx, (size_t)acc_h * ww, 1)) ||
        !(s->read = eoi_malloc(ctx, (size_t)nt * (size_t)s->nread * plane * sizeof(float))) ||
        !(s->in = eoi_malloc(ctx, wtiles * (size_t)s->c * plane * sizeof(float))) ||
        !(s->out = eoi_malloc(ctx, tiles * (size_t)s->k * plane * sizeof(float))) ||
        !(s->nod = eoi_malloc(ctx, tiles * plane)) ||
        !(s->cov_buf = eoi_malloc(ctx, BLOCK * wide * sizeof(float))) ||
        !(s->cov_row = eoi_malloc(ctx, (wide + 2) * sizeof(double))) ||
        !(s->wy = eoi_malloc(ctx, 3 * (size_t)s->th * sizeof(float))) ||
        !(s->wx = eoi_malloc(ctx, 3 * (size_t)s->tw * sizeof(float))) ||
        !(s->wctx = eoi_calloc(ctx, (size_t)nt, sizeof *s->wctx)))
        return EO_E_NOMEM;
    if (pthread_mutex_init(&s->read_lock, NULL) != 0)
        return eoi_fail(ctx, EO_E_INTERNAL, "cannot make a lock");
    s->lock_made = true;
    if (pthread_mutex_init(&s->mu, NULL) != 0)
        return eoi_fail(ctx, EO_E_INTERNAL, "cannot make a lock");
    if (pthread_cond_init(&s->cv, NULL) != 0) {
        pthread_mutex_destroy(&s->mu);
        return eoi_fail(ctx, EO_E_INTERNAL, "cannot make a condition variable");
    }
    s->pipe_made = true;
    for (int32_t w = 0; w < nt; w++) {
        EOI_TRY_RET(eoi_ctx_worker_new(ctx, &s->wctx[w]));
        if (nt > 1)
            s->wctx[w]->threads = 1; /* the tiles are the parallel work */
    }
    /* weights: [both sides ramped, only the low side, only the high side] */
    axis_weights(s->wy, s->th, s->oy, true, true);
    axis_weights(s->wy + s->th, s->th, s->oy, true, false);
    axis_weights(s->wy + 2 * s->th, s->th, s->oy, false, true);
    axis_weights(s->wx, s->tw, s->ox, true, true);
    axis_weights(s->wx + s->tw, s->tw, s->ox, true, false);
    axis_weights(s->wx + 2 * s->tw, s->tw, s->ox, false, true);
    return EO_OK;
}

static void seg_clear(seg *s) {
    for (int32_t w = 0; s->wctx && w < s->nworkers; w++)
        eo_ctx_free(s->wctx[w]);
    eoi_free(s->wctx);
    if (s->lock_made)
        pthread_mutex_destroy(&s->read_lock);
    if (s->pipe_made) {
        pthread_mutex_destroy(&s->mu);
        pthread_cond_destroy(&s->cv);
    }
    eoi_coverage_free(s->cov);
    void *bufs[] = {s->bands, s->mul,      s->add,      s->nd,      s->has_nd, s->acc,
                    s->wsum,  s->bad,      s->read,     s->in,      s->out,    s->nod,
                    s->wy,    s->wx,       s->cov_row,  s->cov_buf, s->ents,   s->run_ent,
                    s->run_n, s->run_done, s->mem_prob, s->mem_cls};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
        eoi_free(bufs[i]);
}

/* The AOI in pixel coordinates and the output window. */
static eo_status plan_window(eo_ctx *ctx, seg *s, const eo_dataset *ds, const eo_geom *aoi) {
    s->area = (eo_window){0, 0, ds->width, ds->height};
    if (!aoi)
        return EO_OK;
    eo_geom *g = NULL;
    eo_status st = eoi_aoi_to_raster_crs(ctx, &g, aoi, ds);
    if (st == EO_OK)
        st = eoi_coverage_new(ctx, &s->cov, g, ds->gt);
    eo_geom_free(g);
    if (st == EO_OK && !eoi_coverage_window(s->cov, ds->width, ds->height, &s->area))
        st = eoi_fail(ctx, EO_E_NODATA_IN_AOI, "%s: the AOI does not overlap the raster", ds->path);
    return st;
}

eo_status eoi_segment_model_load(eo_ctx *ctx, eo_model **out, const char *path,
                                 const int64_t want[4], const char *precision) {
    *out = NULL;
    uint8_t *data = NULL;
    size_t len = 0;
    eoi_onnx onnx = {0};
    eo_status st = eoi_read_file_bytes(ctx, &data, &len, path, SIZE_MAX - 1);
    if (st != EO_OK)
        return st;
    int64_t dims[4];
    memcpy(dims, want, sizeof dims);
    /* the dimensions the file fixes stay as they are (eo_segment names a
     * mismatch with the bands or the tile) */
    if (eoi_onnx_parse(ctx, &onnx, data, len) == EO_OK) {
        const eoi_vinfo *v = eoi_onnx_image_input(&onnx);
        for (int32_t d = 0; v && v->ndim == 4 && d < 4; d++)
            if (v->dims[d] > 0)
                dims[d] = v->dims[d];
        eoi_onnx_free(&onnx);
    }
    eoi_free(data);
    int32_t prec = !precision ? 0 : strcmp(precision, "bf16") == 0 ? EOI_PREC_BF16 : EOI_PREC_FP32;
    return eoi_model_load_path(ctx, out, path, dims, 4, prec);
}

/* o (or the defaults) with what the caller left unset taken from the
 * model's card. eff borrows o's arrays and options; the arrays taken from
 * the card go to own[] (release with eoi_free). */
static eo_status card_fill(eo_ctx *ctx, eo_segment_opts *eff, const eo_segment_opts *o,
                           const eo_model *m, void *own[3]) {
    if (o)
        *eff = *o;
    else {
        memset(eff, 0, sizeof *eff);
        eff->overlap = -1;
        eff->scale = 1.0;
        eff->threshold = 0.5;
    }
    const eo_model_card *c = eo_model_get_card(m);
    if (!c)
        return EO_OK;
    double d = NAN, v[EOI_CARD_MAX_BANDS];
    int32_t n = 0;
    const char *str = NULL;
    static const struct {
        const char *field;
        uint32_t bit;
    } nums[] = {{"input.tile", GIVEN_TILE},
                {"input.overlap", GIVEN_OVERLAP},
                {"input.scale", GIVEN_SCALE},
                {"output.threshold", GIVEN_THRESHOLD}};
    for (int i = 0; i < 4; i++) {
        if ((eff->given & nums[i].bit) ||
            eo_model_card_get_number(ctx, c, nums[i].field, &d) != EO_OK || isnan(d))
            continue;
        if (nums[i].bit == GIVEN_TILE)
            eff->tile = (int32_t)d;
        else if (nums[i].bit == GIVEN_OVERLAP)
            eff->overlap = (int32_t)d;
        else if (nums[i].bit == GIVEN_SCALE)
            eff->scale = d;
        else
            eff->threshold = d;
    }
    if (!(eff->given & GIVEN_ACTIVATION) &&
        eo_model_card_get_string(ctx, c, "output.activation", 0, &str) == EO_OK && str)
        EOI_TRY_RET(eo_segment_opts_set_activation(ctx, eff, str));
    static const char *const arrays[3] = {"input.bands", "input.mean", "input.std"};
    static const uint32_t bits[3] = {GIVEN_BANDS, GIVEN_MEAN, GIVEN_STD};
    for (int i = 0; i < 3; i++) {
        if ((eff->given & bits[i]) ||
            eo_model_card_get_numbers(ctx, c, arrays[i], v, EOI_CARD_MAX_BANDS, &n) != EO_OK ||
            n == 0)
            continue;
        if (i == 0) {
            int32_t *b = eoi_malloc(ctx, (size_t)n * sizeof *b);
            if (!(own[0] = b))
                return EO_E_NOMEM;
            for (int32_t k = 0; k < n; k++)
                b[k] = (int32_t)v[k];
            eff->bands = b;
            eff->nbands = n;
        } else {
            double *a = eoi_malloc(ctx, (size_t)n * sizeof *a);
            if (!(own[i] = a))
                return EO_E_NOMEM;
            memcpy(a, v, (size_t)n * sizeof *a);
            *(i == 1 ? &eff->mean : &eff->std) = a;
            *(i == 1 ? &eff->nmean : &eff->nstd) = n;
        }
    }
    return EO_OK;
}

static eo_status segment_run(eo_ctx *ctx, char **out_json, const char *path, const eo_model *model,
                             const eo_dataset *ds, const eo_geom *aoi, const eo_segment_opts *o);

eo_status eo_segment(eo_ctx *ctx, char **out_json, const char *path, const eo_model *model,
                     const eo_dataset *ds, const eo_geom *aoi, const eo_segment_opts *o) {
    EOI_CHECK_ARG(ctx, path && *path && model && ds);
    eo_segment_opts eff;
    void *own[3] = {NULL, NULL, NULL};
    eo_status st = card_fill(ctx, &eff, o, model, own);
    if (st == EO_OK)
        st = segment_run(ctx, out_json, path, model, ds, aoi, &eff);
    for (int i = 0; i < 3; i++)
        eoi_free(own[i]);
    return st;
}

static eo_status segment_run(eo_ctx *ctx, char **out_json, const char *path, const eo_model *model,
                             const eo_dataset *ds, const eo_geom *aoi, const eo_segment_opts *o) {
    EOI_CHECK_ARG(ctx, path && *path && model && ds);
    if (out_json)
        *out_json = NULL;
    seg s = {.ctx = ctx, .ds = ds, .thr = o ? (float)o->threshold : 0.5f};
    eo_model *replanned = NULL;
    char *cpath = NULL;
    eo_status st = EO_OK;
    int32_t nsel = o && o->nbands ? o->nbands : ds->band_count;
    if (!(cpath =
              o && o->classes_path ? eoi_strdup(ctx, o->classes_path) : classes_name(ctx, path))) {
        st = EO_E_NOMEM;
        goto done;
    }
    if (strcmp(cpath, path) == 0) {
        st = eoi_fail(ctx, EO_E_ARG, "%s: the class raster needs a path of its own", path);
        goto done;
    }
    EOI_TRY(st, plan_input(ctx, &s, ds, o, nsel));
    EOI_TRY(st, plan_model(ctx, &s, &replanned, model, o, nsel));
    EOI_TRY(st, plan_window(ctx, &s, ds, aoi));
    s.sw = s.area.width;
    s.ty = tiles_over(s.area.y, s.area.height, s.th, s.sy, ds->height);
    s.tiles_total = s.ty.count * tiles_over(s.area.x, s.area.width, s.tw, s.sx, ds->width).count;
    EOI_TRY(st, alloc_buffers(ctx, &s));
    EOI_TRY(st, open_outputs(ctx, &s, path, cpath, o));
    eoi_log(ctx, EO_LOG_INFO,
            "segment: %lld x %lld pixels, %lld tiles of %lld x %lld (overlap %lld), batch %d, %d "
            "classes",
            (long long)s.area.width, (long long)s.area.height, (long long)s.tiles_total,
            (long long)s.th, (long long)s.tw, (long long)s.oy, (int)s.b, (int)s.k);
    s.win = s.area;
    s.tx = tiles_over(s.win.x, s.win.width, s.tw, s.sx, ds->width);
    st = run_strip(&s);
    st = eoi_cog_push_close(s.push, st); /* both files in place, or neither */
    s.push = NULL;
    if (st != EO_OK)
        goto done;
    if ((st = eoi_progress(ctx, 1.0, "segment")) == EO_OK && out_json)
        st = summary(ctx, out_json, &s, path, cpath);
    if (st != EO_OK) {
        const char *made[2] = {path, cpath};
        eoi_out_discard(made, 2);
    }
done:
    eoi_cog_push_close(s.push, st == EO_OK ? EO_E_INTERNAL : st);
    seg_clear(&s);
    eo_model_free(replanned);
    eoi_free(cpath);
    return st;
}

void eoi_seg_mem_clear(eoi_seg_mem *m) {
    if (!m)
        return;
    eoi_free(m->cls);
    eoi_free(m->prob);
    eoi_free(m->probs);
    m->cls = NULL;
    m->prob = m->probs = NULL;
}

eo_status eoi_segment_mem(eo_ctx *ctx, eoi_seg_mem *m, const eo_model *model, const eo_dataset *ds,
                          const eo_geom *aoi, const eo_window *req, const eo_segment_opts *o) {
    EOI_CHECK_ARG(ctx, m && model && ds && req);
    bool want = m->want_probs;
    eoi_tile_cache *cache = m->cache;
    memset(m, 0, sizeof *m);
    m->want_probs = want;
    m->cache = cache;
    seg s = {.ctx = ctx, .ds = ds, .thr = o ? (float)o->threshold : 0.5f, .mem = m, .cache = cache};
    eo_model *replanned = NULL;
    eo_status st = EO_OK;
    int32_t nsel = o && o->nbands ? o->nbands : ds->band_count;
    EOI_TRY(st, plan_input(ctx, &s, ds, o, nsel));
    EOI_TRY(st, plan_model(ctx, &s, &replanned, model, o, nsel));
    m->classes = s.k;
    if (aoi) {
        st = plan_window(ctx, &s, ds, aoi);
        if (st == EO_E_NODATA_IN_AOI) { /* nothing of the AOI here */
            eo_ctx_clear_error(ctx);
            st = EO_OK;
            goto done;
        }
        EOI_TRY(st, st);
    } else {
        s.area = (eo_window){0, 0, ds->width, ds->height};
    }
    int64_t x0 = req->x > s.area.x ? req->x : s.area.x;
    int64_t y0 = req->y > s.area.y ? req->y : s.area.y;
    int64_t x1 = req->x + req->width < s.area.x + s.area.width ? req->x + req->width
                                                               : s.area.x + s.area.width;
    int64_t y1 = req->y + req->height < s.area.y + s.area.height ? req->y + req->height
                                                                 : s.area.y + s.area.height;
    if (x1 <= x0 || y1 <= y0)
        goto done;
    s.area = (eo_window){x0, y0, x1 - x0, y1 - y0};
    size_t n;
    EOI_TRY(st, eoi_check_raster_size(ctx, &n, s.area.width, s.area.height, want ? s.k + 2 : 2,
                                      sizeof(float), "partition"));
    n = (size_t)s.area.width * (size_t)s.area.height;
    if (!(m->cls = eoi_malloc(ctx, n)) || !(m->prob = eoi_malloc(ctx, n * sizeof *m->prob)) ||
        (want && !(m->probs = eoi_malloc(ctx, n * (size_t)s.k * sizeof *m->probs)))) {
        st = EO_E_NOMEM;
        goto done;
    }
    s.sw = s.area.width;
    s.ty = tiles_over(s.area.y, s.area.height, s.th, s.sy, ds->height);
    s.tiles_total = s.ty.count * tiles_over(s.area.x, s.area.width, s.tw, s.sx, ds->width).count;
    EOI_TRY(st, alloc_buffers(ctx, &s));
    if (!(s.mem_prob = eoi_malloc(ctx, (size_t)s.k * (size_t)s.sw * sizeof *s.mem_prob)) ||
        !(s.mem_cls = eoi_malloc(ctx, (size_t)s.sw))) {
        st = EO_E_NOMEM;
        goto done;
    }
    s.win = s.area;
    s.tx = tiles_over(s.win.x, s.win.width, s.tw, s.sx, ds->width);
    st = run_strip(&s);
    m->tiles_run = s.tiles_run;
done:
    m->area = s.area;
    if (st != EO_OK || !m->cls) {
        eoi_seg_mem_clear(m);
        m->area.width = m->area.height = 0;
    }
    seg_clear(&s);
    eo_model_free(replanned);
    return st;
}

/* ---- options from JSON parameters ------------------------------------- */

/* A number, or a string holding a number or a fraction "a/b". */
static eo_status scale_from_json(eo_ctx *ctx, json_object *v, double *out) {
    if (!json_object_is_type(v, json_type_string)) {
        *out = json_object_get_double(v);
        if (!isfinite(*out) || *out == 0)
            return eoi_fail(ctx, EO_E_PARAM, "scale: expected a non-zero number, got %g", *out);
        return EO_OK;
    }
    const char *s = json_object_get_string(v);
    char *end = NULL;
    double a = strtod(s, &end), b = 1.0;
    if (end != s && *end == '/') {
        const char *d = end + 1;
        b = strtod(d, &end);
        if (end == d)
            end = (char *)s; /* "1/" */
    }
    if (end == s || *end || !isfinite(a) || !isfinite(b) || b == 0 || a == 0)
        return eoi_fail(ctx, EO_E_PARAM,
                        "scale: expected a non-zero number or a fraction such as 1/255, got "
                        "'%.50s'",
                        s);
    *out = a / b;
    return EO_OK;
}

/* A JSON array of numbers into a new double array (NULL for none). */
static eo_status numbers_from_json(eo_ctx *ctx, json_object *v, double **out, int32_t *n) {
    size_t len = v ? json_object_array_length(v) : 0;
    *out = NULL;
    *n = 0;
    if (!len)
        return EO_OK;
    if (len > 64)
        return eoi_fail(ctx, EO_E_PARAM, "at most 64 per-band values, got %zu", len);
    if (!(*out = eoi_malloc(ctx, len * sizeof **out)))
        return EO_E_NOMEM;
    for (size_t i = 0; i < len; i++)
        (*out)[i] = json_object_get_double(json_object_array_get_idx(v, i));
    *n = (int32_t)len;
    return EO_OK;
}

eo_status eoi_segment_opts_from_json(eo_ctx *ctx, eo_segment_opts *o, json_object *params,
                                     int32_t *nbands) {
    json_object *v = NULL;
    double *vals = NULL;
    int32_t n = 0, bands[64];
    eo_status st = EO_OK;
    *nbands = 0;
    if (json_object_object_get_ex(params, "threshold", &v) && v)
        EOI_TRY(st, eo_segment_opts_set_threshold(ctx, o, json_object_get_double(v)));
    if (json_object_object_get_ex(params, "activation", &v) && v)
        EOI_TRY(st, eo_segment_opts_set_activation(ctx, o, json_object_get_string(v)));
    if (json_object_object_get_ex(params, "scale", &v) && v) {
        double scale = 1;
        EOI_TRY(st, scale_from_json(ctx, v, &scale));
        EOI_TRY(st, eo_segment_opts_set_scale(ctx, o, scale));
    }
    static const char *const keys[2] = {"mean", "std"};
    for (int k = 0; k < 2; k++) {
        if (!json_object_object_get_ex(params, keys[k], &v) || !v)
            continue;
        EOI_TRY(st, numbers_from_json(ctx, v, &vals, &n));
        EOI_TRY(st, (k ? eo_segment_opts_set_std : eo_segment_opts_set_mean)(ctx, o, vals, n));
        eoi_free(vals);
        vals = NULL;
    }
    if (json_object_object_get_ex(params, "bands", &v) && v) {
        n = (int32_t)json_object_array_length(v);
        if (n < 1 || n > 64) {
            st = eoi_fail(ctx, EO_E_PARAM, "bands: 1 to 64 bands, got %d", (int)n);
            goto done;
        }
        for (int32_t i = 0; i < n; i++)
            bands[i] = (int32_t)json_object_get_int64(json_object_array_get_idx(v, (size_t)i));
        EOI_TRY(st, eo_segment_opts_set_bands(ctx, o, bands, n));
        *nbands = n;
    }
done:
    eoi_free(vals);
    return st;
}

/* ---- the public JSON and model-load forms (the segment operation's) ------ */

/* The JSON type a member of eo_segment_opts_set_json must have:
 * 'i' integer, 'n' number, 's' string, 'x' number or string, 'I' array of
 * integers, 'N' array of numbers. */
static const struct {
    const char *name;
    char type;
} json_opts[] = {{"tile", 'i'},       {"overlap", 'i'}, {"batch", 'i'}, {"bands", 'I'},
                 {"scale", 'x'},      {"mean", 'N'},    {"std", 'N'},   {"threshold", 'n'},
                 {"activation", 's'}, {"classes", 's'}};

static bool is_num(json_object *v) {
    return json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double);
}

static bool json_opt_ok(json_object *v, char type) {
    switch (type) {
    case 'i':
        return json_object_is_type(v, json_type_int);
    case 'n':
        return is_num(v);
    case 's':
        return json_object_is_type(v, json_type_string);
    case 'x':
        return is_num(v) || json_object_is_type(v, json_type_string);
    default: /* 'I', 'N' */
        if (!json_object_is_type(v, json_type_array))
            return false;
        for (size_t i = 0; i < json_object_array_length(v); i++) {
            json_object *e = json_object_array_get_idx(v, i);
            if (type == 'I' ? !json_object_is_type(e, json_type_int) : !is_num(e))
                return false;
        }
        return true;
    }
}

eo_status eo_segment_opts_set_json(eo_ctx *ctx, eo_segment_opts *o, const char *json) {
    EOI_CHECK_ARG(ctx, o && json);
    static const char *const what[] = {
        "an integer",           "a number",           "a string", "a number or a string",
        "an array of integers", "an array of numbers"};
    static const char types[] = "insxIN";
    json_object *all = NULL, *v = NULL;
    int32_t nbands = 0;
    eo_status st = EO_OK;
    EOI_TRY(st, eoi_json_parse(ctx, &all, json, "segment options", EO_E_PARAM));
    if (!json_object_is_type(all, json_type_object)) {
        st = eoi_fail(ctx, EO_E_PARAM, "segment options must be a JSON object");
        goto done;
    }
    json_object_object_foreach(all, name, val) {
        size_t k = 0;
        while (k < sizeof json_opts / sizeof json_opts[0] && strcmp(json_opts[k].name, name))
            k++;
        if (k == sizeof json_opts / sizeof json_opts[0]) {
            st = eoi_fail(ctx, EO_E_PARAM, "segment has no option '%.60s'", name);
            goto done;
        }
        if (!json_opt_ok(val, json_opts[k].type)) {
            st = eoi_fail(ctx, EO_E_PARAM, "segment option '%s': expected %s", name,
                          what[strchr(types, json_opts[k].type) - types]);
            goto done;
        }
    }
    if (json_object_object_get_ex(all, "tile", &v))
        EOI_TRY(st, eo_segment_opts_set_tile(ctx, o, (int32_t)json_object_get_int64(v)));
    if (json_object_object_get_ex(all, "overlap", &v))
        EOI_TRY(st, eo_segment_opts_set_overlap(ctx, o, (int32_t)json_object_get_int64(v)));
    if (json_object_object_get_ex(all, "batch", &v))
        EOI_TRY(st, eo_segment_opts_set_batch(ctx, o, (int32_t)json_object_get_int64(v)));
    EOI_TRY(st, eoi_segment_opts_from_json(ctx, o, all, &nbands));
    if (json_object_object_get_ex(all, "classes", &v))
        EOI_TRY(st, eo_segment_opts_set_classes_path(ctx, o, json_object_get_string(v)));
done:
    json_object_put(all);
    return st;
}

eo_status eo_segment_model_load(eo_ctx *ctx, eo_model **out, const char *path,
                                const eo_dataset *src, const eo_segment_opts *o,
                                const char *precision) {
    EOI_CHECK_ARG(ctx, out);
    *out = NULL;
    EOI_CHECK_ARG(ctx, path && src);
    if (precision && strcmp(precision, "fp32") != 0 && strcmp(precision, "bf16") != 0)
        return eoi_fail(ctx, EO_E_ARG, "precision '%.20s': expected fp32 or bf16", precision);
    eo_model_card *card = NULL;
    EOI_TRY_RET(eo_model_card_load(ctx, &card, path));
    double d = NAN, v[EOI_CARD_MAX_BANDS];
    int32_t n = 0;
    int64_t batch = o && o->batch ? o->batch : 1, channels = eo_dataset_band_count(src), tile = 512;
    if (o && (o->given & GIVEN_TILE))
        tile = o->tile;
    else if (card && eo_model_card_get_number(ctx, card, "input.tile", &d) == EO_OK && !isnan(d))
        tile = (int64_t)d;
    if (o && (o->given & GIVEN_BANDS))
        channels = o->nbands;
    else if (card &&
             eo_model_card_get_numbers(ctx, card, "input.bands", v, EOI_CARD_MAX_BANDS, &n) ==
                 EO_OK &&
             n > 0)
        channels = n;
    eo_model_card_free(card);
    const int64_t want[4] = {batch, channels, tile, tile};
    return eoi_segment_model_load(ctx, out, path, want, precision);
}
