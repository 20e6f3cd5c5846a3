/* index.c - evaluating an expression (band math or a catalog index) over a
 * dataset: into a float32 raster in memory, or streamed window by window
 * into a tiled GeoTIFF, on the context's threads. */
#include "analytics_int.h"

#include <string.h>

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
    eo_raster *r;     /* in-memory output, or */
    eoi_out_tif *tif; /* streamed output */
    eo_window area;
} eval_job;

/* Evaluate the program on a window's planes into the worker's out buffer. */
static eo_status eval_window(const eoi_prog *prog, eval_buf *b, const eo_window *win,
                             float *const *planes, char *err, size_t errcap) {
    size_t n = (size_t)win->width * (size_t)win->height;
    if (!b->scratch) {
        if (!(b->scratch = eoi_malloc(NULL, eoi_prog_scratch_floats(prog) * sizeof(float)))) {
            snprintf(err, errcap, "out of memory (evaluation scratch)");
            return EO_E_NOMEM;
        }
        eoi_prog_scratch_init(prog, b->scratch);
    }
    if (n > b->cap) {
        eoi_free(b->out);
        if (!(b->out = eoi_malloc(NULL, n * sizeof(float)))) {
            b->cap = 0;
            snprintf(err, errcap, "out of memory (%zu output samples)", n);
            return EO_E_NOMEM;
        }
        b->cap = n;
    }
    eoi_prog_eval(prog, (const float *const *)planes, n, b->out, b->scratch);
    return EO_OK;
}

static eo_status eval_cb(void *user, int32_t worker, const eo_window *win, float *const *planes,
                         char *err, size_t errcap) {
    eval_job *j = user;
    eval_buf *b = &j->bufs[worker];
    eo_status st = eval_window(j->prog, b, win, planes, err, errcap);
    if (st != EO_OK)
        return st;
    if (j->tif)
        return eoi_out_tif_write(j->tif, win, b->out, err, errcap);
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

eo_status eo_expr_write(eo_ctx *ctx, eo_dataset *ds, const eo_expr *e, const char *path,
                        const eo_analytics_opts *opts) {
    EOI_CHECK_ARG(ctx, ds && ds->h && e && path && *path);
    eo_status st = eoi_check_cancel(ctx);
    if (st != EO_OK)
        return st;
    eoi_prog prog;
    if ((st = eoi_prog_bind(ctx, &prog, e, ds, opts)) != EO_OK)
        return st;
    eval_job j = {.area = {0, 0, ds->width, ds->height}};
    st = eoi_out_tif_open(ctx, &j.tif, path, ds->width, ds->height, EO_DT_F32,
                          ds->has_gt ? ds->gt : NULL, ds->wkt, prog.nodata);
    if (st == EO_OK) {
        st = eval_run(ctx, &j, ds, &prog, "index");
        st = eoi_out_tif_finish(ctx, j.tif, st);
    }
    eoi_prog_clear(&prog);
    return st;
}
