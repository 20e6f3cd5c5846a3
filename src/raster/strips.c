/* strips.c - stream windows of one or more rasters through worker threads:
 * each worker opens its own GDAL handles (GDAL handles are not
 * thread-safe), reads whole blocks of the bands it needs as float32 with
 * nodata turned into NaN, and hands them to a callback. Also a GeoTIFF
 * output that workers write blocks into under a lock, created on a
 * temporary name and renamed into place at the end. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3") /* the conversion loops: vectorized at any -O */
#endif

#include "analytics_int.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cpl_conv.h>
#include <cpl_error.h>
#include <tiffio.h>

/* Pixels per window: bounds the memory of a worker. */
#define WINDOW_PIXELS (1 << 22)
#define MAX_SOURCES 8

/* ---- per-worker GDAL error capture -------------------------------------- */

typedef struct wstate {
    GDALDatasetH h[MAX_SOURCES];
    float *buf;
    void *native; /* integer samples before conversion, grown on demand */
    size_t native_cap;
    float **planes;
    char err[768];
    char gdal_msg[512];
} wstate;

static void CPL_STDCALL worker_handler(CPLErr cls, CPLErrorNum num, const char *msg) {
    (void)num;
    wstate *w = CPLGetErrorHandlerUserData();
    if (w && cls >= CE_Failure && !w->gdal_msg[0])
        snprintf(w->gdal_msg, sizeof w->gdal_msg, "%s", msg ? msg : "GDAL error");
}

static void werr(char *err, size_t cap, const char *fmt, ...) EOI_PRINTF(3, 4);
static void werr(char *err, size_t cap, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
}

/* ---- the runner ----------------------------------------------------------- */

typedef struct run {
    eo_ctx *ctx;
    const eoi_source *srcs;
    int32_t nsrc, nplanes;
    double (*nodata)[2]; /* per plane: value, has */
    GDALDataType *gdt;   /* per source: the bands' common small integer type, or unknown */
    eo_window area;
    int64_t bw, bh, ncols, nwin;
    eoi_strip_fn fn;
    void *user;
    wstate *ws;
    int32_t nworkers;
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

static eo_status read_sources(run *r, wstate *w, const eo_window *win) {
    size_t n = (size_t)win->width * (size_t)win->height;
    int32_t p = 0;
    for (int32_t s = 0; s < r->nsrc; s++) {
        const eoi_source *src = &r->srcs[s];
        if (!w->h[s]) {
            w->h[s] =
                GDALOpenEx(src->path, GDAL_OF_RASTER | GDAL_OF_READONLY | GDAL_OF_VERBOSE_ERROR,
                           NULL, NULL, NULL);
            if (!w->h[s]) {
                werr(w->err, sizeof w->err, "%s: cannot open: %s", src->path,
                     w->gdal_msg[0] ? w->gdal_msg : "GDAL error");
                return EO_E_IO_READ;
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
                    werr(w->err, sizeof w->err, "out of memory (read buffer)");
                    return EO_E_NOMEM;
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
            werr(w->err, sizeof w->err, "%s: cannot read window %lld,%lld %lldx%lld: %s", src->path,
                 (long long)win->x, (long long)win->y, (long long)win->width,
                 (long long)win->height, w->gdal_msg[0] ? w->gdal_msg : "read error");
            return EO_E_IO_READ;
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

static eo_status run_one(void *user, int64_t i, int32_t worker) {
    run *r = user;
    wstate *w = &r->ws[worker];
    eo_window win;
    window_of(r, i, &win);
    w->gdal_msg[0] = '\0';
    CPLPushErrorHandlerEx(worker_handler, w);
    CPLSetThreadLocalConfigOption("GDAL_PAM_ENABLED", "NO");
    /* uncompressed GeoTIFFs: read straight into our buffers, not through
     * GDAL's block cache (memory stays bounded by the windows) */
    CPLSetThreadLocalConfigOption("GTIFF_DIRECT_IO", "YES");
    eo_status st = read_sources(r, w, &win);
    CPLSetThreadLocalConfigOption("GTIFF_DIRECT_IO", NULL);
    if (st == EO_OK)
        st = r->fn(r->user, worker, &win, w->planes, w->err, sizeof w->err);
    CPLSetThreadLocalConfigOption("GDAL_PAM_ENABLED", NULL);
    CPLPopErrorHandler();
    long long done = atomic_fetch_add(&r->done, 1) + 1;
    if (st == EO_OK && worker == 0) { /* worker 0 is the calling thread */
        st = eoi_progress(r->ctx, (double)done / (double)r->nwin, r->stage);
        if (st != EO_OK)
            werr(w->err, sizeof w->err, "%s", eo_ctx_errmsg(r->ctx));
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
    if (t > 64)
        t = 64;
    return n < t ? (int32_t)(n > 0 ? n : 1) : t;
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
static eo_status read_nodata(eo_ctx *ctx, run *r) {
    int32_t p = 0;
    for (int32_t s = 0; s < r->nsrc; s++) {
        const eoi_source *src = &r->srcs[s];
        GDALDatasetH h = GDALOpenEx(src->path, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL, NULL, NULL);
        if (!h)
            return eoi_fail(ctx, EO_E_IO_READ, "%s: cannot open: %s", src->path,
                            eoi_gdal_msg(ctx, "GDAL error"));
        eo_status st = EO_OK;
        if (GDALGetRasterXSize(h) < r->area.x + r->area.width ||
            GDALGetRasterYSize(h) < r->area.y + r->area.height)
            st = eoi_fail(ctx, EO_E_INTERNAL, "%s: window outside the raster", src->path);
        for (int32_t k = 0; st == EO_OK && k < src->nbands; k++, p++) {
            GDALRasterBandH b = GDALGetRasterBand(h, src->bands[k]);
            if (!b) {
                st = eoi_fail(ctx, EO_E_ARG, "%s: band %d does not exist", src->path,
                              (int)src->bands[k]);
                break;
            }
            int has = 0;
            r->nodata[p][0] = GDALGetRasterNoDataValue(b, &has);
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

eo_status eoi_strips_run(eo_ctx *ctx, const eoi_source *srcs, int32_t nsrc, const eo_window *area,
                         int64_t strip_rows, eoi_strip_fn fn, void *user, const char *stage) {
    if (nsrc < 1 || nsrc > MAX_SOURCES || area->width < 1 || area->height < 1)
        return eoi_fail(ctx, EO_E_INTERNAL, "strips: bad arguments");
    run r = {.ctx = ctx,
             .srcs = srcs,
             .nsrc = nsrc,
             .area = *area,
             .fn = fn,
             .user = user,
             .stage = stage};
    atomic_init(&r.done, 0);
    for (int32_t s = 0; s < nsrc; s++)
        r.nplanes += srcs[s].nbands;
    plan(area, strip_rows, &r.bw, &r.bh);
    r.ncols = (area->width + r.bw - 1) / r.bw;
    r.nwin = r.ncols * ((area->height + r.bh - 1) / r.bh);
    r.nworkers = eoi_strips_workers(ctx, area, strip_rows);
    eo_status st = EO_OK;
    size_t per = 0;
    if (eoi_mul_size3(&per, (size_t)r.bw * (size_t)r.bh, (size_t)r.nplanes, sizeof(float)))
        return eoi_fail(ctx, EO_E_LIMIT, "strips: window too large");
    if (!(r.nodata = eoi_calloc(ctx, (size_t)r.nplanes, sizeof *r.nodata)) ||
        !(r.gdt = eoi_calloc(ctx, (size_t)nsrc, sizeof *r.gdt)) ||
        !(r.ws = eoi_calloc(ctx, (size_t)r.nworkers, sizeof *r.ws))) {
        st = EO_E_NOMEM;
        goto done;
    }
    for (int32_t k = 0; k < r.nworkers; k++) {
        if (!(r.ws[k].buf = eoi_malloc(ctx, per)) ||
            !(r.ws[k].planes = eoi_calloc(ctx, (size_t)r.nplanes, sizeof(float *)))) {
            st = EO_E_NOMEM;
            goto done;
        }
    }
    eoi_gdal_begin(ctx);
    st = read_nodata(ctx, &r);
    eoi_gdal_end(ctx);
    if (st != EO_OK)
        goto done;
    st = eoi_parallel_for(ctx, r.nwin, run_one, &r);
    if (st != EO_OK && st != EO_E_CANCELLED) {
        const char *msg = "worker failed";
        for (int32_t k = 0; k < r.nworkers; k++)
            if (r.ws[k].err[0]) {
                msg = r.ws[k].err;
                break;
            }
        eoi_fail(ctx, st, "%s", msg);
    }
done:
    for (int32_t k = 0; r.ws && k < r.nworkers; k++) {
        for (int32_t s = 0; s < nsrc; s++)
            close_quietly(r.ws[k].h[s]);
        eoi_free(r.ws[k].buf);
        eoi_free(r.ws[k].native);
        eoi_free(r.ws[k].planes);
    }
    eoi_free(r.ws);
    eoi_free(r.nodata);
    eoi_free(r.gdt);
    return st;
}

/* ---- a GeoTIFF written by workers ----------------------------------------- */

/* GDAL creates the file (tiled, uncompressed, sparse: georeferencing, CRS
 * and nodata, no pixels), then libtiff appends the tiles as workers finish
 * them, bypassing GDAL's block cache: memory stays at a few tiles per
 * worker and each tile is one write. */
#define TILE 256

struct eoi_out_tif {
    TIFF *t;
    pthread_mutex_t lock;
    char *path;
    char *tmp;
    eo_dtype dt;
    size_t esize;
    int64_t width, height;
    double nodata;
    char err[512]; /* first libtiff error */
};

static atomic_long tif_counter;

static int tif_error(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap) {
    (void)tif;
    (void)module;
    eoi_out_tif *t = user;
    if (t && !t->err[0])
        vsnprintf(t->err, sizeof t->err, fmt, ap);
    return 1; /* handled: libtiff's global handler stays silent */
}

static int tif_warning(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap) {
    (void)tif;
    (void)user;
    (void)module;
    (void)fmt;
    (void)ap;
    return 1;
}

static eo_status create_header(eo_ctx *ctx, eoi_out_tif *t, const double gt[6], const char *wkt) {
    eo_status st = EO_OK;
    GDALDatasetH h = NULL;
    eoi_gdal_begin(ctx);
    GDALDriverH drv = GDALGetDriverByName("GTiff");
    const char *copts[] = {"TILED=YES",
                           "BLOCKXSIZE=256",
                           "BLOCKYSIZE=256",
                           "BIGTIFF=IF_SAFER",
                           "COMPRESS=NONE",
                           "SPARSE_OK=TRUE",
                           NULL};
    if (!drv)
        st = eoi_fail(ctx, EO_E_UNSUPPORTED, "%s: the GDAL GTiff driver is not available", t->path);
    else if (!(h = GDALCreate(drv, t->tmp, (int)t->width, (int)t->height, 1,
                              eoi_dtype_to_gdal(t->dt), (char **)copts)))
        st = eoi_fail(ctx, EO_E_IO_WRITE, "%s: cannot create the file: %s", t->path,
                      eoi_gdal_msg(ctx, "GDAL could not create it"));
    if (st == EO_OK && gt && GDALSetGeoTransform(h, (double *)gt) != CE_None)
        st = eoi_fail(ctx, EO_E_IO_WRITE, "%s: cannot set the geotransform: %s", t->path,
                      eoi_gdal_msg(ctx, "GDAL error"));
    if (st == EO_OK && wkt && *wkt && GDALSetProjection(h, wkt) != CE_None)
        st = eoi_fail(ctx, EO_E_IO_WRITE, "%s: cannot set the CRS: %s", t->path,
                      eoi_gdal_msg(ctx, "GDAL error"));
    if (st == EO_OK && GDALSetRasterNoDataValue(GDALGetRasterBand(h, 1), t->nodata) != CE_None)
        st = eoi_fail(ctx, EO_E_IO_WRITE, "%s: cannot set nodata: %s", t->path,
                      eoi_gdal_msg(ctx, "GDAL error"));
    if (h) {
        ctx->gdal_err = 0;
        GDALClose(h);
        if (st == EO_OK && ctx->gdal_err)
            st = eoi_fail(ctx, EO_E_IO_WRITE, "%s: cannot write the header: %s", t->path,
                          eoi_gdal_msg(ctx, "GDAL error"));
    }
    eoi_gdal_end(ctx);
    return st;
}

eo_status eoi_out_tif_open(eo_ctx *ctx, eoi_out_tif **out, const char *path, int64_t width,
                           int64_t height, eo_dtype dt, const double gt[6], const char *wkt,
                           double nodata) {
    *out = NULL;
    if (width > INT32_MAX || height > INT32_MAX)
        return eoi_fail(ctx, EO_E_LIMIT, "%s: %lld x %lld pixels are too many for a GeoTIFF", path,
                        (long long)width, (long long)height);
    eoi_out_tif *t = eoi_calloc(ctx, 1, sizeof *t);
    if (!t)
        return EO_E_NOMEM;
    size_t n = strlen(path) + 64;
    if (!(t->path = eoi_strdup(ctx, path)) || !(t->tmp = eoi_malloc(ctx, n))) {
        eoi_free(t->path);
        eoi_free(t);
        return EO_E_NOMEM;
    }
    snprintf(t->tmp, n, "%s.tmp-%ld-%ld", path, (long)getpid(), atomic_fetch_add(&tif_counter, 1));
    pthread_mutex_init(&t->lock, NULL);
    t->dt = dt;
    t->esize = eo_dtype_size(dt);
    t->width = width;
    t->height = height;
    t->nodata = nodata;
    eo_status st = create_header(ctx, t, gt, wkt);
    if (st == EO_OK) {
        TIFFOpenOptions *oo = TIFFOpenOptionsAlloc();
        if (oo) {
            TIFFOpenOptionsSetErrorHandlerExtR(oo, tif_error, t);
            TIFFOpenOptionsSetWarningHandlerExtR(oo, tif_warning, t);
            t->t = TIFFOpenExt(t->tmp, "r+", oo);
            TIFFOpenOptionsFree(oo);
        }
        if (!t->t)
            st = eoi_fail(ctx, EO_E_IO_WRITE, "%s: cannot reopen the file for its tiles: %s", path,
                          t->err[0] ? t->err : "libtiff error");
    }
    if (st != EO_OK) {
        eoi_out_tif_finish(ctx, t, st);
        return st;
    }
    *out = t;
    return EO_OK;
}

/* Fill the nodata value into n samples. */
static void fill_nodata(void *buf, eo_dtype dt, size_t n, double v) {
    if (dt == EO_DT_F32) {
        float *f = buf, x = (float)v;
        for (size_t i = 0; i < n; i++)
            f[i] = x;
    } else {
        for (size_t i = 0; i < n; i++)
            eoi_dtype_store(buf, dt, i, v);
    }
}

eo_status eoi_out_tif_write(eoi_out_tif *t, const eo_window *win, const void *buf, char *err,
                            size_t errcap) {
    if (win->x % TILE || win->y % TILE) {
        werr(err, errcap, "%s: window %lld,%lld is not aligned on tiles", t->path,
             (long long)win->x, (long long)win->y);
        return EO_E_INTERNAL;
    }
    size_t tbytes = (size_t)TILE * TILE * t->esize;
    unsigned char *tile = eoi_malloc(NULL, tbytes);
    if (!tile) {
        werr(err, errcap, "out of memory (a tile)");
        return EO_E_NOMEM;
    }
    const unsigned char *src = buf;
    eo_status st = EO_OK;
    for (int64_t ty = 0; ty < win->height && st == EO_OK; ty += TILE)
        for (int64_t tx = 0; tx < win->width && st == EO_OK; tx += TILE) {
            int64_t w = win->width - tx < TILE ? win->width - tx : TILE;
            int64_t h = win->height - ty < TILE ? win->height - ty : TILE;
            if (w < TILE || h < TILE)
                fill_nodata(tile, t->dt, (size_t)TILE * TILE, t->nodata);
            for (int64_t y = 0; y < h; y++)
                memcpy(tile + (size_t)y * TILE * t->esize,
                       src + ((size_t)(ty + y) * (size_t)win->width + (size_t)tx) * t->esize,
                       (size_t)w * t->esize);
            pthread_mutex_lock(&t->lock);
            uint32_t index =
                TIFFComputeTile(t->t, (uint32_t)(win->x + tx), (uint32_t)(win->y + ty), 0, 0);
            tmsize_t wrote = TIFFWriteEncodedTile(t->t, index, tile, (tmsize_t)tbytes);
            if (wrote < 0) {
                werr(err, errcap, "%s: cannot write tile %u: %s", t->path, (unsigned)index,
                     t->err[0] ? t->err : "libtiff error");
                st = EO_E_IO_WRITE;
            }
            pthread_mutex_unlock(&t->lock);
        }
    eoi_free(tile);
    return st;
}

eo_status eoi_out_tif_finish(eo_ctx *ctx, eoi_out_tif *t, eo_status st) {
    if (!t)
        return st;
    if (t->t) {
        /* the directory is rewritten with the tiles' offsets */
        if (!TIFFFlush(t->t) && st == EO_OK)
            st = eoi_fail(ctx, EO_E_IO_WRITE, "%s: cannot finish the file: %s", t->path,
                          t->err[0] ? t->err : "libtiff error");
        TIFFClose(t->t);
    }
    if (st == EO_OK && rename(t->tmp, t->path) != 0)
        st = eoi_fail(ctx, EO_E_IO_WRITE, "%s: cannot move the finished file into place: %s",
                      t->path, strerror(errno));
    if (st != EO_OK)
        unlink(t->tmp);
    pthread_mutex_destroy(&t->lock);
    eoi_free(t->tmp);
    eoi_free(t->path);
    eoi_free(t);
    return st;
}
