/* strips.c - the window reader of the window pipeline: windows of one or
 * more rasters read on worker threads, each worker with its own GDAL
 * handles (GDAL handles are not thread-safe) and its own buffers, made once
 * and reused for every window it reads: whole blocks of the bands it
 * needs, as float32 with nodata turned into NaN and the scale applied.
 *
 * Two drivers pull windows from it: the COG writer (src/cog), which asks
 * for one tile column of a row of tiles at a time and writes the result,
 * and eoi_strips_run below, for results that stay in memory (a raster, or
 * statistics), in windows of a few hundred thousand pixels (a worker's
 * buffers stay in the cache). */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3") /* the conversion loops: vectorized at any -O */
#endif

#include "raster_int.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cpl_conv.h>
#include <cpl_error.h>

/* Pixels per window of eoi_strips_run: the planes of a worker (a few
 * floats per pixel) stay within the L2/L3 caches. */
#define WINDOW_PIXELS (1 << 18)
#define MAX_SOURCES 8
#define MAX_WORKERS 64

/* ---- per-worker state ----------------------------------------------------- */

typedef struct wstate {
    GDALDatasetH h[MAX_SOURCES];
    float *buf; /* the planes, grown on demand and kept */
    size_t buf_cap;
    void *native; /* integer samples before conversion, grown on demand */
    size_t native_cap;
    float **planes;
    char gdal_msg[512];
} wstate;

struct eoi_reader {
    const eoi_source *srcs;
    int32_t nsrc, nplanes;
    double (*nodata)[2]; /* per plane: value, has */
    GDALDataType *gdt;   /* per source: the bands' common small integer type, or unknown */
    wstate ws[MAX_WORKERS];
};

static void CPL_STDCALL worker_handler(CPLErr cls, CPLErrorNum num, const char *msg) {
    (void)num;
    wstate *w = CPLGetErrorHandlerUserData();
    if (w && cls >= CE_Failure && !w->gdal_msg[0])
        snprintf(w->gdal_msg, sizeof w->gdal_msg, "%s", msg ? msg : "GDAL error");
}

/* Samples to float32: the nodata value (NaN when there is none, which no
 * sample equals) becomes NaN, then value * sc + of. Plain loops the
 * compiler vectorizes. */
#define CONVERT(name, T)                                                                           \
    static void name(float *restrict x, const T *restrict v, size_t n, float nd, float sc,         \
                     float of) {                                                                   \
        if (sc == 1.0f && of == 0.0f) /* exact, -0 included */                                     \
            for (size_t i = 0; i < n; i++) {                                                       \
                float f = (float)v[i];                                                             \
                x[i] = f == nd ? NAN : f;                                                          \
            }                                                                                      \
        else                                                                                       \
            for (size_t i = 0; i < n; i++) {                                                       \
                float f = (float)v[i];                                                             \
                x[i] = f == nd ? NAN : f * sc + of;                                                \
            }                                                                                      \
    }
CONVERT(convert_u16, uint16_t)
CONVERT(convert_i16, int16_t)
CONVERT(convert_u8, uint8_t)

static void convert_f32(float *restrict x, size_t n, float nd, float sc, float of) {
    if (!isnan(nd))
        for (size_t i = 0; i < n; i++)
            x[i] = x[i] == nd ? NAN : x[i];
    if (sc != 1.0f || of != 0.0f)
        for (size_t i = 0; i < n; i++)
            x[i] = x[i] * sc + of;
}

static eo_status read_sources(const eoi_reader *r, wstate *w, const eo_window *win, eoi_werr *err) {
    size_t n = (size_t)win->width * (size_t)win->height;
    int32_t p = 0;
    for (int32_t s = 0; s < r->nsrc; s++) {
        const eoi_source *src = &r->srcs[s];
        if (!w->h[s]) {
            w->h[s] =
                GDALOpenEx(src->path, GDAL_OF_RASTER | GDAL_OF_READONLY | GDAL_OF_VERBOSE_ERROR,
                           NULL, NULL, NULL);
            if (!w->h[s]) {
                return eoi_werr_set(err, EO_E_IO_READ, "%s: cannot open: %s", src->path,
                                    w->gdal_msg[0] ? w->gdal_msg : "GDAL error");
            }
        }
        for (int32_t k = 0; k < src->nbands; k++)
            w->planes[p + k] = w->buf + (size_t)(p + k) * n;
        /* small integers are read as they are and converted here, in one
         * vectorized pass with the nodata test and the scale */
        GDALDataType gt = r->gdt[s];
        int esz = gt == GDT_Unknown ? 4 : GDALGetDataTypeSizeBytes(gt);
        void *dst = w->planes[p];
        if (gt != GDT_Unknown) {
            size_t need = n * (size_t)esz * (size_t)src->nbands;
            if (need > w->native_cap) {
                eoi_free(w->native);
                if (!(w->native = eoi_malloc(NULL, need))) {
                    w->native_cap = 0;
                    return eoi_werr_set(err, EO_E_NOMEM, "out of memory (read buffer)");
                }
                w->native_cap = need;
            }
            dst = w->native;
        }
        GDALRasterIOExtraArg extra;
        INIT_RASTERIO_EXTRA_ARG(extra);
        CPLErr e = GDALDatasetRasterIOEx(
            w->h[s], GF_Read, (int)win->x, (int)win->y, (int)win->width, (int)win->height, dst,
            (int)win->width, (int)win->height, gt == GDT_Unknown ? GDT_Float32 : gt, src->nbands,
            (int *)src->bands, esz, esz * (GSpacing)win->width, esz * (GSpacing)n, &extra);
        if (e != CE_None) {
            return eoi_werr_set(err, EO_E_IO_READ, "%s: cannot read window %lld,%lld %lldx%lld: %s",
                                src->path, (long long)win->x, (long long)win->y,
                                (long long)win->width, (long long)win->height,
                                w->gdal_msg[0] ? w->gdal_msg : "read error");
        }
        float sc = src->scale, of = src->offset;
        for (int32_t k = 0; k < src->nbands; k++, p++) {
            float *restrict x = w->planes[p];
            float nd = r->nodata[p][1] != 0 ? (float)r->nodata[p][0] : NAN;
            if (gt == GDT_UInt16)
                convert_u16(x, (const uint16_t *)w->native + (size_t)k * n, n, nd, sc, of);
            else if (gt == GDT_Int16)
                convert_i16(x, (const int16_t *)w->native + (size_t)k * n, n, nd, sc, of);
            else if (gt == GDT_Byte)
                convert_u8(x, (const uint8_t *)w->native + (size_t)k * n, n, nd, sc, of);
            else
                convert_f32(x, n, nd, sc, of);
        }
    }
    return EO_OK;
}

static void close_quietly(GDALDatasetH h) {
    if (!h)
        return;
    CPLPushErrorHandler(CPLQuietErrorHandler);
    CPLSetThreadLocalConfigOption("GDAL_PAM_ENABLED", "NO");
    GDALClose(h);
    CPLSetThreadLocalConfigOption("GDAL_PAM_ENABLED", NULL);
    CPLPopErrorHandler();
}

/* Nodata of each plane, from a handle opened by the caller. */
static eo_status read_nodata(eo_ctx *ctx, eoi_reader *r, const eo_window *area) {
    int32_t p = 0;
    for (int32_t s = 0; s < r->nsrc; s++) {
        const eoi_source *src = &r->srcs[s];
        GDALDatasetH h = GDALOpenEx(src->path, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL, NULL, NULL);
        if (!h)
            return eoi_fail(ctx, EO_E_IO_READ, "%s: cannot open: %s", src->path,
                            eoi_gdal_msg(ctx, "GDAL error"));
        eo_status st = EO_OK;
        if (GDALGetRasterXSize(h) < area->x + area->width ||
            GDALGetRasterYSize(h) < area->y + area->height)
            st = eoi_fail(ctx, EO_E_INTERNAL, "%s: window outside the raster", src->path);
        for (int32_t k = 0; st == EO_OK && k < src->nbands; k++, p++) {
            GDALRasterBandH b = GDALGetRasterBand(h, src->bands[k]);
            if (!b) {
                st = eoi_fail(ctx, EO_E_ARG, "%s: band %d does not exist", src->path,
                              (int)src->bands[k]);
                break;
            }
            int has = 0;
            r->nodata[p][0] = eoi_band_nodata(b, eoi_dtype_of_band(b), &has, NULL);
            r->nodata[p][1] = has;
            GDALDataType t = GDALGetRasterDataType(b);
            if (t != GDT_Byte && t != GDT_UInt16 && t != GDT_Int16)
                t = GDT_Unknown;
            if (k == 0)
                r->gdt[s] = t;
            else if (r->gdt[s] != t)
                r->gdt[s] = GDT_Unknown;
        }
        close_quietly(h);
        if (st != EO_OK)
            return st;
    }
    return EO_OK;
}

/* ---- the reader ------------------------------------------------------------ */

eo_status eoi_reader_new(eo_ctx *ctx, eoi_reader **out, const eoi_source *srcs, int32_t nsrc,
                         const eo_window *area) {
    *out = NULL;
    if (nsrc < 1 || nsrc > MAX_SOURCES || area->width < 1 || area->height < 1)
        return eoi_fail(ctx, EO_E_INTERNAL, "window reader: bad arguments");
    eoi_reader *r = eoi_calloc(ctx, 1, sizeof *r);
    if (!r)
        return EO_E_NOMEM;
    r->srcs = srcs;
    r->nsrc = nsrc;
    for (int32_t s = 0; s < nsrc; s++)
        r->nplanes += srcs[s].nbands;
    eo_status st = EO_OK;
    if (!(r->nodata = eoi_calloc(ctx, (size_t)r->nplanes, sizeof *r->nodata)) ||
        !(r->gdt = eoi_calloc(ctx, (size_t)nsrc, sizeof *r->gdt)))
        st = EO_E_NOMEM;
    if (st == EO_OK) {
        eoi_gdal_begin(ctx);
        st = read_nodata(ctx, r, area);
        eoi_gdal_end(ctx);
    }
    if (st != EO_OK) {
        eoi_reader_free(r);
        return st;
    }
    *out = r;
    return EO_OK;
}

void eoi_reader_free(eoi_reader *r) {
    if (!r)
        return;
    for (int32_t k = 0; k < MAX_WORKERS; k++) {
        for (int32_t s = 0; s < r->nsrc; s++)
            close_quietly(r->ws[k].h[s]);
        eoi_free(r->ws[k].buf);
        eoi_free(r->ws[k].native);
        eoi_free(r->ws[k].planes);
    }
    eoi_free(r->nodata);
    eoi_free(r->gdt);
    eoi_free(r);
}

int32_t eoi_reader_planes(const eoi_reader *r) { return r->nplanes; }

eo_status eoi_reader_read(eoi_reader *r, int32_t worker, const eo_window *win,
                          float *const **planes, eoi_werr *err) {
    if (worker < 0 || worker >= MAX_WORKERS) {
        return eoi_werr_set(err, EO_E_INTERNAL, "window reader: worker %d out of range",
                            (int)worker);
    }
    wstate *w = &r->ws[worker];
    size_t n = (size_t)win->width * (size_t)win->height, need;
    if (eoi_mul_size3(&need, n, (size_t)r->nplanes, sizeof(float))) {
        return eoi_werr_set(err, EO_E_LIMIT, "window %lld x %lld is too large",
                            (long long)win->width, (long long)win->height);
    }
    if (!w->planes && !(w->planes = eoi_calloc(NULL, (size_t)r->nplanes, sizeof(float *)))) {
        return eoi_werr_set(err, EO_E_NOMEM, "out of memory (window planes)");
    }
    if (need > w->buf_cap) { /* once per worker: windows have one size but the last ones */
        eoi_free(w->buf);
        if (!(w->buf = eoi_malloc(NULL, need))) {
            w->buf_cap = 0;
            return eoi_werr_set(err, EO_E_NOMEM, "out of memory (a window of %zu pixels)", n);
        }
        w->buf_cap = need;
    }
    w->gdal_msg[0] = '\0';
    CPLPushErrorHandlerEx(worker_handler, w);
    CPLSetThreadLocalConfigOption("GDAL_PAM_ENABLED", "NO");
    /* uncompressed GeoTIFFs: read straight into our buffers, not through
     * GDAL's block cache (memory stays bounded by the windows) */
    CPLSetThreadLocalConfigOption("GTIFF_DIRECT_IO", "YES");
    eo_status st = read_sources(r, w, win, err);
    CPLSetThreadLocalConfigOption("GTIFF_DIRECT_IO", NULL);
    CPLSetThreadLocalConfigOption("GDAL_PAM_ENABLED", NULL);
    CPLPopErrorHandler();
    *planes = w->planes;
    return st;
}

/* ---- windows of an area on the context's threads ----------------------------- */

typedef struct run {
    eo_ctx *ctx;
    eoi_reader *rd;
    eo_window area;
    int64_t bw, bh, ncols, nwin;
    eoi_strip_fn fn;
    void *user;
    eoi_werr *err; /* one per worker */
    atomic_llong done;
    const char *stage;
} run;

static void window_of(const run *r, int64_t i, eo_window *w) {
    int64_t row = i / r->ncols, col = i % r->ncols;
    w->x = r->area.x + col * r->bw;
    w->y = r->area.y + row * r->bh;
    w->width = r->area.x + r->area.width - w->x < r->bw ? r->area.x + r->area.width - w->x : r->bw;
    w->height =
        r->area.y + r->area.height - w->y < r->bh ? r->area.y + r->area.height - w->y : r->bh;
}

static eo_status run_one(void *user, int64_t i, int32_t worker) {
    run *r = user;
    eo_window win;
    window_of(r, i, &win);
    float *const *planes = NULL;
    eoi_werr *err = &r->err[worker];
    eo_status st = eoi_reader_read(r->rd, worker, &win, &planes, err);
    if (st == EO_OK)
        st = r->fn(r->user, worker, &win, planes, err);
    long long done = atomic_fetch_add(&r->done, 1) + 1;
    if (st == EO_OK && worker == 0) { /* worker 0 is the calling thread */
        st = eoi_progress(r->ctx, (double)done / (double)r->nwin, r->stage);
        if (st != EO_OK)
            eoi_werr_set(err, st, "%s", eo_ctx_errmsg(r->ctx));
    }
    return st;
}

static void plan(const eo_window *area, int64_t strip_rows, int64_t *bw, int64_t *bh) {
    int64_t h = strip_rows > 0 ? strip_rows : 256;
    if (h > area->height)
        h = area->height;
    int64_t w = WINDOW_PIXELS / h;
    if (w >= area->width)
        w = area->width;
    else if (w >= 256)
        w -= w % 256;
    if (w < 1)
        w = 1;
    *bw = w;
    *bh = h;
}

int32_t eoi_strips_workers(eo_ctx *ctx, const eo_window *area, int64_t strip_rows) {
    int64_t bw, bh;
    plan(area, strip_rows, &bw, &bh);
    int64_t n = ((area->width + bw - 1) / bw) * ((area->height + bh - 1) / bh);
    int32_t t = eoi_threads(ctx);
    if (t > MAX_WORKERS)
        t = MAX_WORKERS;
    return n < t ? (int32_t)(n > 0 ? n : 1) : t;
}

eo_status eoi_strips_run(eo_ctx *ctx, const eoi_source *srcs, int32_t nsrc, const eo_window *area,
                         int64_t strip_rows, eoi_strip_fn fn, void *user, const char *stage) {
    run r = {.ctx = ctx, .area = *area, .fn = fn, .user = user, .stage = stage};
    atomic_init(&r.done, 0);
    plan(area, strip_rows, &r.bw, &r.bh);
    r.ncols = (area->width + r.bw - 1) / r.bw;
    r.nwin = r.ncols * ((area->height + r.bh - 1) / r.bh);
    int32_t nworkers = eoi_strips_workers(ctx, area, strip_rows);
    eo_status st = eoi_reader_new(ctx, &r.rd, srcs, nsrc, area);
    if (st != EO_OK)
        return st;
    if (!(r.err = eoi_calloc(ctx, (size_t)nworkers, sizeof *r.err))) {
        eoi_reader_free(r.rd);
        return EO_E_NOMEM;
    }
    st = eoi_parallel_for(ctx, r.nwin, run_one, &r);
    eoi_werr_take(ctx, st, r.err, nworkers, "worker failed");
    eoi_free(r.err);
    eoi_reader_free(r.rd);
    return st;
}
