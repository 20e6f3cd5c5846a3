/* index.c - evaluating an expression (band math or a catalog index) over a
 * dataset: into a float32 raster in memory, or into a COG, the COG writer
 * pulling one tile column of a row of tiles at a time from the window
 * reader, on the context's threads. */
#include "analytics_int.h"

#include "../cog/cog_int.h"

#include <string.h>

#define MAX_WORKERS 64

/* Per-worker buffers of an evaluation, grown on first use. */
typedef struct eval_buf {
    float *scratch;
    float *out;
    size_t cap;
} eval_buf;

typedef struct eval_job {
    const eoi_prog *prog;
    eval_buf *bufs;
    int32_t nbufs;
    eo_raster *r; /* in-memory output */
    eo_window area;
} eval_job;

/* Evaluate the program on a window's planes into the worker's out buffer. */
static eo_status eval_window(const eoi_prog *prog, eval_buf *b, const eo_window *win,
                             float *const *planes, eoi_werr *err) {
    size_t n = (size_t)win->width * (size_t)win->height;
    if (!b->scratch) {
        if (!(b->scratch = eoi_malloc(NULL, eoi_prog_scratch_floats(prog) * sizeof(float)))) {
            return eoi_werr_set(err, EO_E_NOMEM, "out of memory (evaluation scratch)");
        }
        eoi_prog_scratch_init(prog, b->scratch);
    }
    if (n > b->cap) {
        eoi_free(b->out);
        if (!(b->out = eoi_malloc(NULL, n * sizeof(float)))) {
            b->cap = 0;
            return eoi_werr_set(err, EO_E_NOMEM, "out of memory (%zu output samples)", n);
        }
        b->cap = n;
    }
    eoi_prog_eval(prog, (const float *const *)planes, n, b->out, b->scratch);
    return EO_OK;
}

static eo_status eval_cb(void *user, int32_t worker, const eo_window *win, float *const *planes,
                         eoi_werr *err) {
    eval_job *j = user;
    eval_buf *b = &j->bufs[worker];
    eo_status st = eval_window(j->prog, b, win, planes, err);
    if (st != EO_OK)
        return st;
    float *dst = j->r->data;
    for (int64_t y = 0; y < win->height; y++)
        memcpy(dst + (size_t)(win->y - j->area.y + y) * (size_t)j->r->width +
                   (size_t)(win->x - j->area.x),
               b->out + (size_t)y * (size_t)win->width, (size_t)win->width * sizeof(float));
    return EO_OK;
}

static void free_bufs(eval_job *j) {
    for (int32_t k = 0; j->bufs && k < j->nbufs; k++) {
        eoi_free(j->bufs[k].scratch);
        eoi_free(j->bufs[k].out);
    }
    eoi_free(j->bufs);
    j->bufs = NULL;
}

/* Run prog over area of ds into j's output. */
static eo_status eval_run(eo_ctx *ctx, eval_job *j, eo_dataset *ds, const eoi_prog *prog,
                          const char *stage) {
    j->prog = prog;
    j->nbufs = eoi_strips_workers(ctx, &j->area, 256);
    if (!(j->bufs = eoi_calloc(ctx, (size_t)j->nbufs, sizeof *j->bufs)))
        return EO_E_NOMEM;
    eoi_source src = {.path = ds->source,
                      .nbands = prog->ninputs,
                      .bands = prog->bands,
                      .scale = prog->scale,
                      .offset = prog->offset};
    eo_status st = eoi_strips_run(ctx, &src, 1, &j->area, 256, eval_cb, j, stage);
    free_bufs(j);
    return st;
}

eo_status eo_expr_eval(eo_ctx *ctx, eo_raster **out, eo_dataset *ds, const eo_expr *e,
                       const eo_window *window, const eo_analytics_opts *opts) {
    EOI_CHECK_ARG(ctx, out);
    *out = NULL;
    EOI_CHECK_ARG(ctx, ds && ds->h && e);
    eval_job j = {0};
    j.area = window ? *window : (eo_window){0, 0, ds->width, ds->height};
    eo_status st = eoi_dataset_check_window(ctx, ds, &j.area);
    if (st != EO_OK)
        return st;
    if ((st = eoi_check_cancel(ctx)) != EO_OK)
        return st;
    eoi_prog prog;
    if ((st = eoi_prog_bind(ctx, &prog, e, ds, opts)) != EO_OK)
        return st;
    EOI_TRY(st, eo_raster_new(ctx, &j.r, j.area.width, j.area.height, 1, EO_DT_F32));
    if (ds->has_gt) {
        const double *g = ds->gt;
        double gt[6] = {g[0] + (double)j.area.x * g[1] + (double)j.area.y * g[2], g[1], g[2],
                        g[3] + (double)j.area.x * g[4] + (double)j.area.y * g[5], g[4], g[5]};
        EOI_TRY(st, eo_raster_set_geotransform(ctx, j.r, gt));
    }
    EOI_TRY(st, eoi_raster_set_wkt(ctx, j.r, ds->wkt));
    EOI_TRY(st, eo_raster_set_nodata(ctx, j.r, prog.nodata));
    EOI_TRY(st, eval_run(ctx, &j, ds, &prog, "index"));
    *out = j.r;
    j.r = NULL;
done:
    eo_raster_free(j.r);
    eoi_prog_clear(&prog);
    return st;
}

eo_status eo_analytics_opts_set_cog_opts(eo_ctx *ctx, eo_analytics_opts *o,
                                         const eo_cog_opts *cog) {
    EOI_CHECK_ARG(ctx, o);
    return eoi_cog_opts_assign(ctx, &o->cog, cog);
}

/* ---- into a COG ------------------------------------------------------------ */

/* Per-worker state of a COG fill, made on the worker's first window. */
typedef struct fill_worker {
    float *scratch;
    const float **rows; /* ninputs row pointers */
} fill_worker;

typedef struct fill_job {
    const eoi_prog *prog;
    eoi_reader *rd;
    eo_window area; /* of the dataset: the output's pixels */
    fill_worker w[MAX_WORKERS];
} fill_job;

/* Evaluate prog row by row over a window's planes into out (row stride
 * line_bytes). */
static eo_status eval_rows(const eoi_prog *prog, fill_worker *fw, const eo_window *win,
                           float *const *planes, uint8_t *out, size_t line_bytes, eoi_werr *err) {
    if (!fw->scratch) {
        if (!(fw->scratch = eoi_malloc(NULL, eoi_prog_scratch_floats(prog) * sizeof(float))) ||
            !(fw->rows = eoi_calloc(NULL, (size_t)prog->ninputs + 1, sizeof *fw->rows))) {
            return eoi_werr_set(err, EO_E_NOMEM, "out of memory (evaluation scratch)");
        }
        eoi_prog_scratch_init(prog, fw->scratch);
    }
    size_t wd = (size_t)win->width;
    for (int64_t y = 0; y < win->height; y++) {
        for (int32_t k = 0; k < prog->ninputs; k++)
            fw->rows[k] = planes[k] + (size_t)y * wd;
        eoi_prog_eval(prog, fw->rows, wd, (float *)(out + (size_t)y * line_bytes), fw->scratch);
    }
    return EO_OK;
}

static eo_status fill_cb(void *user, int32_t worker, const eo_window *win, uint8_t *buf,
                         size_t line_bytes, size_t band_bytes, eoi_werr *err) {
    (void)band_bytes;
    fill_job *j = user;
    eo_window src = {j->area.x + win->x, j->area.y + win->y, win->width, win->height};
    float *const *planes = NULL;
    eo_status st = eoi_reader_read(j->rd, worker, &src, &planes, err);
    if (st != EO_OK)
        return st;
    return eval_rows(j->prog, &j->w[worker], win, planes, buf, line_bytes, err);
}

/* The COG options of an analysis output: the caller's, without a nodata
 * of their own (the output's nodata is the analysis's). */
const eo_cog_opts *eoi_analytics_cog_opts(const eo_analytics_opts *opts, eo_cog_opts *buf) {
    if (!opts || !opts->cog)
        return NULL;
    *buf = *opts->cog;
    buf->has_nodata = 0;
    return buf;
}

eo_status eo_expr_write(eo_ctx *ctx, eo_dataset *ds, const eo_expr *e, const char *path,
                        const eo_analytics_opts *opts) {
    EOI_CHECK_ARG(ctx, ds && ds->h && e && path && *path);
    eo_status st = eoi_check_cancel(ctx);
    if (st != EO_OK)
        return st;
    eoi_prog prog;
    if ((st = eoi_prog_bind(ctx, &prog, e, ds, opts)) != EO_OK)
        return st;
    fill_job *j = eoi_calloc(ctx, 1, sizeof *j);
    if (!j) {
        eoi_prog_clear(&prog);
        return EO_E_NOMEM;
    }
    j->prog = &prog;
    j->area = (eo_window){0, 0, ds->width, ds->height};
    eoi_source src = {.path = ds->source,
                      .nbands = prog.ninputs,
                      .bands = prog.bands,
                      .scale = prog.scale,
                      .offset = prog.offset};
    char *desc[1] = {e->index ? (char *)e->index->name : e->text};
    eoi_cog_pull p = {.width = ds->width,
                      .height = ds->height,
                      .bands = 1,
                      .dtype = EO_DT_F32,
                      .has_gt = ds->has_gt,
                      .wkt = ds->wkt,
                      .nodata = prog.nodata,
                      .has_nodata = 1,
                      .descriptions = desc,
                      .fill = fill_cb,
                      .user = j};
    memcpy(p.gt, ds->gt, sizeof p.gt);
    eo_cog_opts cbuf;
    st = eoi_reader_new(ctx, &j->rd, &src, 1, &j->area);
    if (st == EO_OK)
        st = eoi_cog_write_pull(ctx, path, &p, eoi_analytics_cog_opts(opts, &cbuf));
    eoi_reader_free(j->rd);
    for (int k = 0; k < MAX_WORKERS; k++) {
        eoi_free(j->w[k].scratch);
        eoi_free(j->w[k].rows);
    }
    eoi_free(j);
    eoi_prog_clear(&prog);
    return st;
}
