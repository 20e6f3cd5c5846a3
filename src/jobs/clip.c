/* clip.c - eo_clip: a raster clipped to an AOI, streamed into a COG.
 *
 * It lives in the cog layer because it writes through the COG writer's
 * pull source (eoi_cog_write_pull): the writer asks for one tile column of
 * a row of tiles at a time, on its worker threads, and this file fills it:
 * a window read on the worker's own GDAL handle (reopened from the
 * dataset's source, so mosaics work), the inclusion mask of the window from
 * the AOI coverage of the raster layer (src/raster/coverage.c), nodata
 * outside, and the alpha and coverage bands. Nothing is resampled: the
 * output is a window of the source's own grid.
 *
 * The pixels inside are those of GDAL's rasterization (centre rule, or all
 * touched), and the window is exactly their bounding box (choose_window),
 * limited to the raster. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3") /* the per-pixel loops: vectorized at any -O */
#endif

#include "../cog/cog_int.h"

#include "../analytics/analytics_int.h"
#include "geom_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <cpl_conv.h>
#include <cpl_error.h>

#define MAX_WORKERS 64

struct eo_clip_opts {
    bool crop, all_touched, alpha, coverage;
    bool has_nodata;
    double nodata;
    int32_t *bands;
    int32_t band_count;
    bool has_cog;
    eo_cog_opts cog;
};

/* ---- options ----------------------------------------------------------- */

eo_status eo_clip_opts_new(eo_ctx *ctx, eo_clip_opts **out) {
    EOI_CHECK_ARG(ctx, out);
    *out = NULL;
    eo_clip_opts *o = eoi_calloc(ctx, 1, sizeof *o);
    if (!o)
        return EO_E_NOMEM;
    o->crop = true;
    *out = o;
    return EO_OK;
}

void eo_clip_opts_free(eo_clip_opts *o) {
    if (!o)
        return;
    eoi_free(o->bands);
    eoi_free(o);
}

eo_status eo_clip_opts_set_crop(eo_ctx *ctx, eo_clip_opts *o, int32_t crop) {
    EOI_CHECK_ARG(ctx, o);
    o->crop = crop != 0;
    return EO_OK;
}

eo_status eo_clip_opts_set_all_touched(eo_ctx *ctx, eo_clip_opts *o, int32_t all_touched) {
    EOI_CHECK_ARG(ctx, o);
    o->all_touched = all_touched != 0;
    return EO_OK;
}

eo_status eo_clip_opts_set_nodata(eo_ctx *ctx, eo_clip_opts *o, double nodata) {
    EOI_CHECK_ARG(ctx, o);
    o->nodata = nodata;
    o->has_nodata = true;
    return EO_OK;
}

eo_status eo_clip_opts_set_alpha(eo_ctx *ctx, eo_clip_opts *o, int32_t alpha) {
    EOI_CHECK_ARG(ctx, o);
    o->alpha = alpha != 0;
    return EO_OK;
}

eo_status eo_clip_opts_set_coverage(eo_ctx *ctx, eo_clip_opts *o, int32_t coverage) {
    EOI_CHECK_ARG(ctx, o);
    o->coverage = coverage != 0;
    return EO_OK;
}

eo_status eo_clip_opts_set_bands(eo_ctx *ctx, eo_clip_opts *o, const int32_t *bands,
                                 int32_t count) {
    EOI_CHECK_ARG(ctx, o);
    EOI_CHECK_ARG(ctx, count >= 0 && count <= EOI_READ_MAX_BANDS && (count == 0 || bands));
    EOI_TRY_RET(eoi_bands_check(ctx, bands, count));
    return eoi_bands_assign(ctx, &o->bands, &o->band_count, bands, count);
}

eo_status eo_clip_opts_set_cog_opts(eo_ctx *ctx, eo_clip_opts *o, const eo_cog_opts *cog) {
    EOI_CHECK_ARG(ctx, o);
    o->has_cog = cog != NULL;
    if (cog)
        o->cog = *cog;
    return EO_OK;
}

/* ---- the pull source ---------------------------------------------------- */

typedef struct wstate {
    GDALDatasetH h; /* the worker's own */
    float *mask, *cov;
    uint8_t *keep; /* mask != 0 */
    double *row;
    uint8_t *native; /* source samples before conversion */
    size_t cap;      /* pixels the buffers hold */
    size_t native_cap;
    int64_t inside;
    double cov_sum;
    char gdal_msg[512];
} wstate;

typedef struct clip {
    const eo_dataset *ds;
    eoi_coverage *cov;
    eo_window win; /* of the source */
    int32_t nb;    /* data bands */
    int32_t *bands;
    eo_dtype src_dt, dt;
    size_t src_es, es;
    int32_t mode; /* EO_COVERAGE_CENTER / _ALL_TOUCHED */
    bool coverage, alpha, convert;
    double *src_nd;     /* per data band */
    uint64_t src_bits0; /* exact nodata of the first band of a 64-bit type */
    bool *src_has;
    bool fix_nd;       /* some band's source nodata differs from the output's */
    char warning[256]; /* for the result's "warnings", or "" */
    double fill;       /* the value outside */
    uint8_t fill_bytes[8];
    double alpha_max;
    wstate ws[MAX_WORKERS];
} clip;

static void CPL_STDCALL worker_handler(CPLErr cls, CPLErrorNum num, const char *msg) {
    (void)num;
    wstate *w = CPLGetErrorHandlerUserData();
    if (w && cls >= CE_Failure && !w->gdal_msg[0])
        snprintf(w->gdal_msg, sizeof w->gdal_msg, "%s", msg ? msg : "GDAL error");
}

static eo_status grow(wstate *w, size_t n, bool coverage, eoi_werr *err) {
    if (n <= w->cap)
        return EO_OK;
    eoi_free(w->mask);
    eoi_free(w->cov);
    eoi_free(w->keep);
    w->mask = w->cov = NULL;
    w->keep = NULL;
    w->cap = 0;
    if (!(w->mask = eoi_malloc(NULL, n * sizeof *w->mask)) || !(w->keep = eoi_malloc(NULL, n)) ||
        (coverage && !(w->cov = eoi_malloc(NULL, n * sizeof *w->cov)))) {
        return eoi_werr_set(err, EO_E_NOMEM, "out of memory (clip mask of %zu pixels)", n);
    }
    w->cap = n;
    return EO_OK;
}

/* Set sample i of a row of a band to v (bit pattern of es bytes) where
 * keep[i] is 0. Typed loops so that the compiler vectorizes them. */
#define BLEND(name, T)                                                                             \
    static void name(uint8_t *row, const uint8_t *keep, int64_t n, const uint8_t *v) {             \
        T f, *d = (T *)(void *)row;                                                                \
        memcpy(&f, v, sizeof f);                                                                   \
        for (int64_t i = 0; i < n; i++)                                                            \
            d[i] = keep[i] != 0 ? d[i] : f;                                                        \
    }
BLEND(blend8, uint8_t)
BLEND(blend16, uint16_t)
BLEND(blend32, uint32_t)
BLEND(blend64, uint64_t)

static void blend_row(uint8_t *row, const uint8_t *keep, int64_t n, size_t es, const uint8_t *v) {
    if (es == 1)
        blend8(row, keep, n, v);
    else if (es == 2)
        blend16(row, keep, n, v);
    else if (es == 4)
        blend32(row, keep, n, v);
    else
        blend64(row, keep, n, v);
}

static bool is_src_nodata(double v, double nd) { return isnan(nd) ? isnan(v) : v == nd; }

/* read the source window into the output buffer (as the output's type) */
static eo_status read_window(clip *c, wstate *w, const eo_window *sw, uint8_t *buf, size_t line,
                             size_t band, eoi_werr *err) {
    GDALRasterIOExtraArg extra;
    INIT_RASTERIO_EXTRA_ARG(extra);
    size_t n = (size_t)sw->width * (size_t)sw->height;
    void *dst = buf;
    GSpacing ps = (GSpacing)c->es, ls = (GSpacing)line, bsp = (GSpacing)band;
    if (c->convert) {
        size_t need = n * c->src_es * (size_t)c->nb;
        if (need > w->native_cap) {
            eoi_free(w->native);
            if (!(w->native = eoi_malloc(NULL, need))) {
                w->native_cap = 0;
                return eoi_werr_set(err, EO_E_NOMEM, "out of memory (clip read buffer)");
            }
            w->native_cap = need;
        }
        dst = w->native;
        ps = (GSpacing)c->src_es;
        ls = ps * (GSpacing)sw->width;
        bsp = ls * (GSpacing)sw->height;
    }
    CPLErr e = GDALDatasetRasterIOEx(w->h, GF_Read, (int)sw->x, (int)sw->y, (int)sw->width,
                                     (int)sw->height, dst, (int)sw->width, (int)sw->height,
                                     eoi_dtype_to_gdal(c->convert ? c->src_dt : c->dt), c->nb,
                                     c->bands, ps, ls, bsp, &extra);
    if (e != CE_None) {
        return eoi_werr_set(err, EO_E_IO_READ, "%s: cannot read window %lld,%lld %lldx%lld: %s",
                            c->ds->path, (long long)sw->x, (long long)sw->y, (long long)sw->width,
                            (long long)sw->height, w->gdal_msg[0] ? w->gdal_msg : "read error");
    }
    if (c->convert)
        for (int32_t b = 0; b < c->nb; b++)
            for (int64_t y = 0; y < sw->height; y++) {
                size_t s0 = ((size_t)b * (size_t)sw->height + (size_t)y) * (size_t)sw->width;
                uint8_t *d = buf + (size_t)b * band + (size_t)y * line;
                for (int64_t x = 0; x < sw->width; x++)
                    eoi_dtype_store(d, c->dt, (size_t)x,
                                    eoi_dtype_load(w->native, c->src_dt, s0 + (size_t)x));
            }
    return EO_OK;
}

static eo_status fill_window(void *user, int32_t worker, const eo_window *win, uint8_t *buf,
                             size_t line, size_t band, eoi_werr *err) {
    clip *c = user;
    wstate *w = &c->ws[worker];
    eo_window sw = {c->win.x + win->x, c->win.y + win->y, win->width, win->height};
    size_t n = (size_t)win->width * (size_t)win->height;
    eo_status st = grow(w, n, c->coverage, err);
    if (st != EO_OK)
        return st;
    /* the inclusion mask (and the exact coverage) */
    double *row = eoi_malloc(NULL, ((size_t)win->width + 2) * sizeof *row);
    if (!row) {
        return eoi_werr_set(err, EO_E_NOMEM, "out of memory (clip row)");
    }
    if (c->coverage)
        eoi_coverage_compute(c->cov, &sw, EO_COVERAGE_EXACT, w->cov, row);
    if (c->coverage && c->mode == EO_COVERAGE_ALL_TOUCHED)
        for (size_t i = 0; i < n; i++)
            w->mask[i] = w->cov[i] > 0 ? 1.0f : 0.0f;
    else
        eoi_coverage_compute(c->cov, &sw, c->mode, w->mask, row);
    eoi_free(row);
    /* the mask holds 0 or 1 */
    int64_t inside = 0;
    const float *restrict mk = w->mask;
    uint8_t *restrict kp = w->keep;
    for (size_t i0 = 0; i0 < n; i0 += 4096) {
        size_t i1 = n - i0 < 4096 ? n : i0 + 4096;
        int32_t cnt = 0;
        for (size_t i = i0; i < i1; i++) {
            uint8_t k = mk[i] > 0.5f;
            kp[i] = k;
            cnt += k;
        }
        inside += cnt;
    }
    w->inside += inside;
    if (c->coverage) {
        double s = 0;
        for (size_t i = 0; i < n; i++)
            s += w->cov[i];
        w->cov_sum += s;
    }
    /* the data bands */
    if (inside > 0) {
        if (!w->h) {
            w->h = GDALOpenEx(c->ds->source, GDAL_OF_RASTER | GDAL_OF_READONLY, NULL, NULL, NULL);
            if (!w->h) {
                return eoi_werr_set(err, EO_E_IO_READ, "%s: cannot open: %s", c->ds->path,
                                    w->gdal_msg[0] ? w->gdal_msg : "GDAL error");
            }
        }
        if ((st = read_window(c, w, &sw, buf, line, band, err)) != EO_OK)
            return st;
    }
    for (int64_t y = 0; y < win->height; y++) {
        const uint8_t *k = w->keep + (size_t)y * (size_t)win->width;
        /* rows wholly inside (the usual case) need no blending */
        bool all = inside > 0 && memchr(k, 0, (size_t)win->width) == NULL;
        for (int32_t b = 0; b < c->nb; b++) {
            uint8_t *d = buf + (size_t)b * band + (size_t)y * line;
            if (inside > 0 && c->fix_nd && c->src_has[b])
                for (int64_t x = 0; x < win->width; x++)
                    if (is_src_nodata(eoi_dtype_load(d, c->dt, (size_t)x), c->src_nd[b]))
                        memcpy(d + (size_t)x * c->es, c->fill_bytes, c->es);
            if (inside == 0)
                for (int64_t x = 0; x < win->width; x++)
                    memcpy(d + (size_t)x * c->es, c->fill_bytes, c->es);
            else if (!all)
                blend_row(d, k, win->width, c->es, c->fill_bytes);
        }
    }
    /* coverage, then alpha */
    int32_t b = c->nb;
    if (c->coverage) {
        for (int64_t y = 0; y < win->height; y++) {
            uint8_t *d = buf + (size_t)b * band + (size_t)y * line;
            const float *cv = w->cov + (size_t)y * (size_t)win->width;
            if (c->dt == EO_DT_F32)
                memcpy(d, cv, (size_t)win->width * sizeof *cv);
            else
                for (int64_t x = 0; x < win->width; x++)
                    eoi_dtype_store(d, c->dt, (size_t)x, cv[x]);
        }
        b++;
    }
    if (c->alpha)
        for (int64_t y = 0; y < win->height; y++) {
            uint8_t *d = buf + (size_t)b * band + (size_t)y * line;
            const uint8_t *k = w->keep + (size_t)y * (size_t)win->width;
            if (c->dt == EO_DT_U8)
                for (int64_t x = 0; x < win->width; x++)
                    d[x] = (uint8_t)(0 - k[x]); /* 0 or 255 */
            else
                for (int64_t x = 0; x < win->width; x++)
                    eoi_dtype_store(d, c->dt, (size_t)x, k[x] ? c->alpha_max : 0);
        }
    return EO_OK;
}

static eo_status fill_job(void *user, int32_t worker, const eo_window *win, uint8_t *buf,
                          size_t line, size_t band, eoi_werr *err) {
    clip *c = user;
    wstate *w = &c->ws[worker];
    w->gdal_msg[0] = '\0';
    CPLPushErrorHandlerEx(worker_handler, w);
    /* uncompressed GeoTIFFs: read straight into the buffer, not through
     * GDAL's block cache (GDAL reads the option when it opens the file:
     * every worker, the calling thread included, opens its own handle) */
    CPLSetThreadLocalConfigOption("GTIFF_DIRECT_IO", "YES");
    eo_status st = fill_window(user, worker, win, buf, line, band, err);
    CPLSetThreadLocalConfigOption("GTIFF_DIRECT_IO", NULL);
    CPLErrorReset(); /* kept in w->gdal_msg; none left on the thread */
    CPLPopErrorHandler();
    return st;
}

/* ---- the window --------------------------------------------------------- */

/* The AOI's bounding box in pixel coordinates (column, row). */
static eo_status pixel_bbox(eo_ctx *ctx, const eo_geom *aoi, const double gt[6], double b[4]) {
    GEOSContextHandle_t h = ctx->geos;
    const GEOSGeometry *g = eoi_geom_geos(aoi);
    double det = gt[1] * gt[5] - gt[2] * gt[4];
    b[0] = b[1] = INFINITY;
    b[2] = b[3] = -INFINITY;
    bool single = GEOSGeomTypeId_r(h, g) == GEOS_POLYGON;
    int np = single ? 1 : GEOSGetNumGeometries_r(h, g);
    for (int i = 0; i < np; i++) {
        const GEOSGeometry *poly = single ? g : GEOSGetGeometryN_r(h, g, i);
        const GEOSGeometry *ring = poly ? GEOSGetExteriorRing_r(h, poly) : NULL;
        const GEOSCoordSequence *cs = ring ? GEOSGeom_getCoordSeq_r(h, ring) : NULL;
        unsigned int n = 0;
        if (!cs || !GEOSCoordSeq_getSize_r(h, cs, &n))
            return eoi_geos_fail(ctx, "AOI ring");
        for (unsigned int k = 0; k < n; k++) {
            double X, Y;
            GEOSCoordSeq_getXY_r(h, cs, k, &X, &Y);
            double col = (gt[5] * (X - gt[0]) - gt[2] * (Y - gt[3])) / det;
            double row = (gt[1] * (Y - gt[3]) - gt[4] * (X - gt[0])) / det;
            if (gt[2] == 0 && gt[4] == 0) { /* as GDAL divides */
                col = (X - gt[0]) / gt[1];
                row = (Y - gt[3]) / gt[5];
            }
            b[0] = fmin(b[0], col);
            b[1] = fmin(b[1], row);
            b[2] = fmax(b[2], col);
            b[3] = fmax(b[3], row);
        }
    }
    return EO_OK;
}

/* The bounding box of the pixels the rule includes (the centre rule, or
 * every pixel the AOI touches), searched within c->win in bands of rows on
 * the context's threads, each band's box kept, then joined: for the centre
 * rule from each row's boundary crossings alone, for all-touched from the
 * mask (each worker with its own rows). *found is false when there is none. */
typedef struct bboxjob {
    const clip *c;
    int32_t mode;
    int64_t rows;
    float *m;            /* rows x width floats per worker (all-touched) */
    double *row;         /* width + 2 doubles per worker (all-touched) */
    eoi_crossing *cross; /* the AOI's segment count per worker (centre rule) */
    int64_t *bbox;       /* per band: x0, x1, y0, y1 (x1 < 0: none) */
} bboxjob;

static eo_status bbox_band(void *user, int64_t i, int32_t worker) {
    const bboxjob *j = user;
    const clip *c = j->c;
    int64_t y = i * j->rows, *b = j->bbox + 4 * i;
    eo_window w = {c->win.x, c->win.y + y, c->win.width,
                   c->win.height - y < j->rows ? c->win.height - y : j->rows};
    b[0] = INT64_MAX, b[1] = -1, b[2] = INT64_MAX, b[3] = -1;
    if (j->mode == EO_COVERAGE_CENTER) { /* from each row's crossings alone */
        eoi_crossing *cr = j->cross + (size_t)worker * eoi_coverage_segments(c->cov);
        for (int64_t r = 0; r < w.height; r++) {
            int64_t a, e;
            if (!eoi_coverage_centre_span(c->cov, w.x, w.width, w.y + r, cr, &a, &e))
                continue;
            b[0] = a < b[0] ? a : b[0];
            b[1] = e > b[1] ? e : b[1];
            b[2] = b[2] == INT64_MAX ? w.y + r : b[2];
            b[3] = w.y + r;
        }
        return EO_OK;
    }
    float *m = j->m + (size_t)worker * (size_t)j->rows * (size_t)c->win.width;
    double *row = j->row + (size_t)worker * ((size_t)c->win.width + 2);
    eoi_coverage_compute(c->cov, &w, j->mode, m, row);
    for (int64_t r = 0; r < w.height; r++) {
        const float *mr = m + (size_t)r * (size_t)w.width;
        int64_t a = 0, e = w.width - 1;
        while (a < w.width && mr[a] == 0)
            a++;
        if (a == w.width)
            continue;
        while (mr[e] == 0)
            e--;
        b[0] = a < b[0] ? a : b[0];
        b[1] = e > b[1] ? e : b[1];
        b[2] = b[2] == INT64_MAX ? w.y + r : b[2];
        b[3] = w.y + r;
    }
    return EO_OK;
}

static eo_status included_bbox(eo_ctx *ctx, const clip *c, int32_t mode, eo_window *box,
                               bool *found) {
    *found = false;
    int64_t rows = (1 << 18) / c->win.width;
    rows = rows < 1 ? 1 : rows > c->win.height ? c->win.height : rows;
    int64_t bands = (c->win.height + rows - 1) / rows;
    size_t nw = (size_t)eoi_threads(ctx) + 1; /* workers' indices are below this */
    bboxjob j = {c, mode, rows, NULL, NULL, NULL, NULL};
    bool centre = mode == EO_COVERAGE_CENTER;
    if (centre)
        j.cross = eoi_malloc(ctx, nw * (eoi_coverage_segments(c->cov) + 1) * sizeof *j.cross);
    else {
        j.m = eoi_malloc(ctx, nw * (size_t)rows * (size_t)c->win.width * sizeof *j.m);
        j.row = eoi_malloc(ctx, nw * ((size_t)c->win.width + 2) * sizeof *j.row);
    }
    j.bbox = eoi_malloc(ctx, (size_t)bands * 4 * sizeof *j.bbox);
    eo_status st = (centre ? j.cross != NULL : j.m && j.row) && j.bbox ? EO_OK : EO_E_NOMEM;
    if (st == EO_OK)
        st = eoi_parallel_for(ctx, bands, bbox_band, &j);
    int64_t x0 = INT64_MAX, x1 = -1, y0 = INT64_MAX, y1 = -1;
    for (int64_t i = 0; st == EO_OK && i < bands; i++) {
        const int64_t *b = j.bbox + 4 * i;
        if (b[1] < 0)
            continue;
        x0 = b[0] < x0 ? b[0] : x0;
        x1 = b[1] > x1 ? b[1] : x1;
        y0 = b[2] < y0 ? b[2] : y0;
        y1 = b[3] > y1 ? b[3] : y1;
    }
    eoi_free(j.m);
    eoi_free(j.row);
    eoi_free(j.cross);
    eoi_free(j.bbox);
    if (st == EO_OK && x1 >= 0) {
        *found = true;
        *box = (eo_window){c->win.x + x0, y0, x1 - x0 + 1, y1 - y0 + 1};
    }
    return st;
}

/* The window: as GDAL's rasterization (gdal.RasterizeLayer) decides which
 * pixels are in, the window is the bounding box of exactly those pixels
 * (with a coverage band, of every pixel the AOI touches, so that the
 * fractions add up to the AOI's area). gdalwarp -crop_to_cutline rounds
 * the AOI's bounding box inwards instead, and loses the boundary pixels
 * whose centre is inside: see the README. Without crop, the whole raster. */
static eo_status choose_window(eo_ctx *ctx, clip *c, const eo_geom *aoi_r, bool crop) {
    const eo_dataset *ds = c->ds;
    double b[4];
    eo_status st = pixel_bbox(ctx, aoi_r, ds->gt, b);
    if (st != EO_OK)
        return st;
    eo_window outer;
    if (!eoi_coverage_window(c->cov, ds->width, ds->height, &outer))
        return eoi_fail(ctx, EO_E_NODATA_IN_AOI,
                        "the AOI does not overlap %s (its pixel bounds %.6g,%.6g .. %.6g,%.6g; "
                        "the raster is %lld x %lld)",
                        ds->path, b[0], b[1], b[2], b[3], (long long)ds->width,
                        (long long)ds->height);
    c->win = outer;
    int32_t mode = c->coverage ? EO_COVERAGE_ALL_TOUCHED : c->mode;
    bool found;
    eo_window box;
    if ((st = included_bbox(ctx, c, mode, &box, &found)) != EO_OK)
        return st;
    if (!found && mode == EO_COVERAGE_CENTER)
        return eoi_fail(ctx, EO_E_NODATA_IN_AOI,
                        "the AOI contains no pixel centre of %s (all_touched includes the "
                        "pixels it only touches)",
                        ds->path);
    if (!found)
        return eoi_fail(ctx, EO_E_NODATA_IN_AOI, "the AOI covers no pixel of %s", ds->path);
    c->win = crop ? box : (eo_window){0, 0, ds->width, ds->height};
    return EO_OK;
}

/* ---- setup -------------------------------------------------------------- */

static eo_status check_bands(eo_ctx *ctx, clip *c, const eo_clip_opts *o) {
    const eo_dataset *ds = c->ds;
    c->nb = o->band_count > 0 ? o->band_count : ds->band_count;
    if (!(c->bands = eoi_malloc(ctx, (size_t)c->nb * sizeof *c->bands)) ||
        !(c->src_nd = eoi_calloc(ctx, (size_t)c->nb, sizeof *c->src_nd)) ||
        !(c->src_has = eoi_calloc(ctx, (size_t)c->nb, sizeof *c->src_has)))
        return EO_E_NOMEM;
    for (int32_t i = 0; i < c->nb; i++) {
        int32_t b = o->band_count > 0 ? o->bands[i] : i + 1;
        if (b < 1 || b > ds->band_count)
            return eoi_fail(ctx, EO_E_ARG, "band %d does not exist: %s has %d band%s", (int)b,
                            ds->path, (int)ds->band_count, ds->band_count == 1 ? "" : "s");
        c->bands[i] = b;
        if (ds->dtypes[b - 1] != ds->dtypes[c->bands[0] - 1])
            return eoi_fail(ctx, EO_E_UNSUPPORTED,
                            "%s: band %d is %s but band %d is %s: the output has one data type",
                            ds->path, (int)b, eo_dtype_name(ds->dtypes[b - 1]), (int)c->bands[0],
                            eo_dtype_name(ds->dtypes[c->bands[0] - 1]));
        int has = 0;
        uint64_t bits = 0;
        c->src_nd[i] = eoi_band_nodata(GDALGetRasterBand(ds->h, b), ds->dtypes[b - 1], &has, &bits);
        if (i == 0)
            c->src_bits0 = bits;
        c->src_has[i] = has != 0;
        /* a nodata value outside the band type's range marks no pixel, as
         * in GDAL (GDALNoDataMaskBand): ignored, and the result says so */
        uint8_t nb[8];
        double whole = trunc(c->src_nd[i]);
        eoi_dtype_store(nb, ds->dtypes[b - 1], 0, whole);
        double back = eoi_dtype_load(nb, ds->dtypes[b - 1], 0);
        if (has && !(back == whole ||
                     (isnan(back) && isnan(whole) && eoi_dtype_is_float(ds->dtypes[b - 1])))) {
            c->src_has[i] = false;
            if (!c->warning[0])
                snprintf(c->warning, sizeof c->warning,
                         "%.120s: band %d's nodata %.17g is outside the %s range: it marks no "
                         "pixel and was ignored",
                         ds->path, (int)b, c->src_nd[i], eo_dtype_name(ds->dtypes[b - 1]));
        }
    }
    c->src_dt = ds->dtypes[c->bands[0] - 1];
    if (c->src_dt == EO_DT_UNKNOWN)
        return eoi_fail(ctx, EO_E_UNSUPPORTED, "%s: the bands' data type cannot be clipped",
                        ds->path);
    return EO_OK;
}

/* Output type, nodata and fill value. */
static eo_status choose_values(eo_ctx *ctx, clip *c, const eo_clip_opts *o, eoi_cog_pull *p) {
    eo_dtype s = c->src_dt;
    c->dt = s;
    if (c->coverage)
        c->dt =
            (s == EO_DT_U8 || s == EO_DT_I8 || s == EO_DT_U16 || s == EO_DT_I16 || s == EO_DT_F32)
                ? EO_DT_F32
                : EO_DT_F64;
    c->src_es = eo_dtype_size(s);
    c->es = eo_dtype_size(c->dt);
    /* GDAL's Byte type is unsigned: int8 samples are converted by hand */
    c->convert = c->dt != s;
    bool has = true;
    uint64_t bits = 0;
    if (o->has_nodata)
        c->fill = o->nodata;
    else if (o->has_cog && o->cog.has_nodata)
        c->fill = o->cog.nodata;
    else if (c->src_has[0]) {
        c->fill = c->src_nd[0];
        bits = c->dt == s ? c->src_bits0 : 0;
    } else {
        c->fill = eoi_dtype_is_float(s) ? NAN : 0;
        has = !c->alpha; /* the alpha band says where the data is */
    }
    eoi_dtype_store(c->fill_bytes, c->dt, 0, c->fill);
    double back = eoi_dtype_load(c->fill_bytes, c->dt, 0);
    bits = eoi_nodata_bits(c->dt, c->fill, bits);
    if (eoi_dtype_is_64(c->dt))
        memcpy(c->fill_bytes, &bits, sizeof bits); /* exact, not the double's rounding */
    if (!(back == c->fill || (isnan(back) && isnan(c->fill))))
        return eoi_fail(ctx, EO_E_ARG, "nodata %.17g is not a %s value (the output's type)",
                        c->fill, eo_dtype_name(c->dt));
    for (int32_t b = 0; b < c->nb; b++)
        if (c->src_has[b] && !(c->src_nd[b] == c->fill || (isnan(c->src_nd[b]) && isnan(c->fill))))
            c->fix_nd = true;
    c->alpha_max = s == EO_DT_I8 && !c->coverage ? 127 : 255;
    p->has_nodata = has;
    p->nodata = c->fill;
    p->nodata_bits = bits;
    return EO_OK;
}

static void release(clip *c) {
    for (int i = 0; i < MAX_WORKERS; i++) {
        wstate *w = &c->ws[i];
        if (w->h)
            GDALClose(w->h);
        eoi_free(w->mask);
        eoi_free(w->cov);
        eoi_free(w->keep);
        eoi_free(w->native);
    }
    eoi_coverage_free(c->cov);
    eoi_free(c->bands);
    eoi_free(c->src_nd);
    eoi_free(c->src_has);
}

static eo_status result_json(eo_ctx *ctx, char **out, const clip *c, const char *path,
                             const eoi_cog_pull *p, const eo_geom *aoi_r) {
    int64_t inside = 0;
    double cov_sum = 0;
    for (int i = 0; i < MAX_WORKERS; i++) {
        inside += c->ws[i].inside;
        cov_sum += c->ws[i].cov_sum;
    }
    double area = 0;
    GEOSArea_r(ctx->geos, eoi_geom_geos(aoi_r), &area);
    struct stat sb;
    json_object *r = json_object_new_object(), *gt = json_object_new_array(),
                *win = json_object_new_array();
    if (!r || !gt || !win) {
        json_object_put(r);
        json_object_put(gt);
        json_object_put(win);
        return eoi_fail(ctx, EO_E_NOMEM, "out of memory");
    }
    for (int i = 0; i < 6; i++)
        json_object_array_add(gt, eoi_json_double(p->gt[i]));
    json_object_array_add(win, json_object_new_int64(c->win.x));
    json_object_array_add(win, json_object_new_int64(c->win.y));
    json_object_array_add(win, json_object_new_int64(c->win.width));
    json_object_array_add(win, json_object_new_int64(c->win.height));
    json_object_object_add(r, "path", json_object_new_string(path));
    json_object_object_add(r, "width", json_object_new_int64(p->width));
    json_object_object_add(r, "height", json_object_new_int64(p->height));
    json_object_object_add(r, "bands", json_object_new_int(p->bands));
    json_object_object_add(r, "dtype", json_object_new_string(eo_dtype_name(c->dt)));
    json_object_object_add(r, "geotransform", gt);
    json_object_object_add(r, "window", win);
    json_object *nd = NULL;
    if (p->has_nodata && eoi_dtype_is_64(c->dt)) {
        uint64_t b = eoi_nodata_bits(c->dt, p->nodata, p->nodata_bits);
        int64_t i;
        memcpy(&i, &b, sizeof i);
        nd = c->dt == EO_DT_U64 ? json_object_new_uint64(b) : json_object_new_int64(i);
    } else if (p->has_nodata)
        nd = isnan(p->nodata) ? json_object_new_string("nan") : eoi_json_double(p->nodata);
    json_object_object_add(r, "nodata", nd);
    json_object_object_add(r, "all_touched",
                           json_object_new_boolean(c->mode == EO_COVERAGE_ALL_TOUCHED));
    json_object_object_add(r, "pixels_inside", json_object_new_int64(inside));
    json_object_object_add(r, "pixels_total", json_object_new_int64(p->width * p->height));
    if (c->coverage)
        json_object_object_add(r, "coverage_sum", eoi_json_double(cov_sum));
    json_object_object_add(r, "aoi_area", eoi_json_double(area));
    json_object_object_add(r, "bytes",
                           json_object_new_int64(stat(path, &sb) == 0 ? (int64_t)sb.st_size : -1));
    if (c->warning[0]) {
        json_object *w = json_object_new_array();
        json_object_array_add(w, json_object_new_string(c->warning));
        json_object_object_add(r, "warnings", w);
    }
    eo_status st = eoi_json_dump(ctx, out, r, false);
    json_object_put(r);
    return st;
}

eo_status eo_clip(eo_ctx *ctx, char **result, const char *path, const eo_dataset *src,
                  const eo_geom *aoi, const eo_clip_opts *opts) {
    if (!ctx)
        return EO_E_ARG;
    if (result)
        *result = NULL;
    EOI_CHECK_ARG(ctx, path && *path);
    EOI_CHECK_ARG(ctx, src && src->h && aoi);
    eo_clip_opts defaults = {.crop = true};
    const eo_clip_opts *o = opts ? opts : &defaults;
    eo_status st = EO_OK;
    eo_geom *aoi_r = NULL;
    int32_t *ci = NULL;
    char **desc = NULL;
    clip *c = eoi_calloc(ctx, 1, sizeof *c);
    if (!c)
        return EO_E_NOMEM;
    c->ds = src;
    c->mode = o->all_touched ? EO_COVERAGE_ALL_TOUCHED : EO_COVERAGE_CENTER;
    c->coverage = o->coverage;
    c->alpha = o->alpha;
    eoi_gdal_begin(ctx);
    EOI_TRY(st, check_bands(ctx, c, o));
    EOI_TRY(st, eoi_aoi_to_raster_crs(ctx, &aoi_r, aoi, src));
    EOI_TRY(st, eoi_coverage_new(ctx, &c->cov, aoi_r, src->gt));
    EOI_TRY(st, choose_window(ctx, c, aoi_r, o->crop));

    eoi_cog_pull p = {.width = c->win.width,
                      .height = c->win.height,
                      .bands = c->nb + (c->coverage ? 1 : 0) + (c->alpha ? 1 : 0),
                      .has_gt = 1,
                      .wkt = src->wkt,
                      .fill = fill_job,
                      .user = c};
    EOI_TRY(st, choose_values(ctx, c, o, &p));
    p.dtype = c->dt;
    const double *g = src->gt;
    p.gt[0] = g[0] + (double)c->win.x * g[1] + (double)c->win.y * g[2];
    p.gt[1] = g[1];
    p.gt[2] = g[2];
    p.gt[3] = g[3] + (double)c->win.x * g[4] + (double)c->win.y * g[5];
    p.gt[4] = g[4];
    p.gt[5] = g[5];
    if (!(ci = eoi_calloc(ctx, (size_t)p.bands, sizeof *ci)) ||
        !(desc = eoi_calloc(ctx, (size_t)p.bands, sizeof *desc))) {
        st = EO_E_NOMEM;
        goto done;
    }
    for (int32_t b = 0; b < c->nb; b++) {
        GDALRasterBandH hb = GDALGetRasterBand(src->h, c->bands[b]);
        ci[b] = (int32_t)GDALGetRasterColorInterpretation(hb);
        desc[b] = (char *)GDALGetDescription(hb);
    }
    if (c->coverage)
        desc[c->nb] = "coverage";
    if (c->alpha)
        ci[p.bands - 1] = GCI_AlphaBand;
    p.color_interp = ci;
    p.descriptions = desc;
    if (c->nb == 1 && !c->coverage && !c->alpha) {
        GDALRasterBandH hb = GDALGetRasterBand(src->h, c->bands[0]);
        p.color_table = GDALGetRasterColorTable(hb);
        p.categorical = !eoi_dtype_is_float(c->dt) && (p.color_table || GDALGetDefaultRAT(hb));
    }
    eo_cog_opts cog;
    eo_cog_opts *co = NULL;
    if (o->has_cog) {
        cog = o->cog;
        cog.has_nodata = 0; /* decided above */
        co = &cog;
    }
    EOI_TRY(st, eoi_cog_write_pull(ctx, path, &p, co));
    if (result && (st = result_json(ctx, result, c, path, &p, aoi_r)) != EO_OK)
        eoi_out_discard(&path, 1);
done:
    eoi_gdal_end(ctx);
    release(c);
    eoi_free(c);
    eoi_free(ci);
    eoi_free(desc);
    eo_geom_free(aoi_r);
    return st;
}
