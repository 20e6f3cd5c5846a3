/* dataset.c - datasets: files GDAL reads, opened read-only; getters; window
 * reads (with an explicit overview pick for reduced-resolution reads). */
#include "raster_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cpl_conv.h>
#include <cpl_error.h>
#include <ogr_srs_api.h>

static const double identity_gt[6] = {0, 1, 0, 0, 0, 1};

/* Largest raster side accepted from a file: GDAL sizes are int. */
#define MAX_SIDE INT32_MAX

/* Largest block accepted from a file. GDAL reads and caches whole blocks, so
 * any window read of a file stored as one huge block (a single compressed
 * strip, or a hostile header) allocates the whole block first: a 65288 x
 * 65288 UInt64 strip is 34 GB for a 1-pixel window. 2 GiB still admits a
 * single-strip 20000 x 20000 RGB image. */
#define MAX_BLOCK_BYTES ((int64_t)2 << 30)

/* ---- open / close ------------------------------------------------------ */

/* Close a GDAL dataset without printing and without writing side files:
 * used where no ctx is at hand. */
static void quiet_close(GDALDatasetH h) {
    if (!h)
        return;
    CPLPushErrorHandler(CPLQuietErrorHandler);
    const char *old = CPLGetThreadLocalConfigOption("GDAL_PAM_ENABLED", NULL);
    char *saved = old ? CPLStrdup(old) : NULL;
    CPLSetThreadLocalConfigOption("GDAL_PAM_ENABLED", "NO");
    GDALClose(h);
    CPLSetThreadLocalConfigOption("GDAL_PAM_ENABLED", saved);
    CPLFree(saved);
    CPLPopErrorHandler();
}

void eo_dataset_close(eo_dataset *ds) {
    if (!ds)
        return;
    if (ds->tiles)
        ds->tiles_free(ds->tiles);
    quiet_close(ds->h_full);
    quiet_close(ds->h);
    if (ds->owns_source && ds->source)
        VSIUnlink(ds->source);
    if (ds->tilesrc)
        ds->tilesrc_release(ds->tilesrc);
    eoi_free(ds->source);
    eoi_free(ds->dtypes);
    eoi_free(ds->wkt);
    eoi_free(ds->path);
    eoi_free(ds);
}

/* Check the path before GDAL sees it, for a precise message. Virtual file
 * systems (/vsi...) are left to GDAL. */
static eo_status check_path(eo_ctx *ctx, const char *path, bool *is_dir) {
    *is_dir = false;
    if (strncmp(path, "/vsi", 4) == 0)
        return EO_OK;
    struct stat sb;
    if (stat(path, &sb) != 0) {
        int e = errno;
        if (e == ENOENT || e == ENOTDIR)
            return eoi_fail(ctx, EO_E_IO_NOT_FOUND, "%s: no such file", path);
        return eoi_fail(ctx, EO_E_IO_READ, "%s: %s", path, strerror(e));
    }
    if (S_ISDIR(sb.st_mode)) {
        *is_dir = true; /* some formats are folders: GDAL decides */
        return EO_OK;
    }
    if (access(path, R_OK) != 0) {
        int e = errno;
        return eoi_fail(ctx, EO_E_IO_READ, "%s: %s", path, strerror(e));
    }
    if (S_ISREG(sb.st_mode) && sb.st_size == 0)
        return eoi_fail(ctx, EO_E_SOURCE, "%s: empty file (0 bytes), not a raster", path);
    return EO_OK;
}

/* Read the CRS as one-line WKT2:2019; "" when there is none. */
static eo_status read_crs(eo_ctx *ctx, eo_dataset *ds) {
    OGRSpatialReferenceH srs = GDALGetSpatialRef(ds->h);
    char *wkt = NULL;
    if (srs) {
        const char *opts[] = {"FORMAT=WKT2_2019", "MULTILINE=NO", NULL};
        if (OSRExportToWktEx(srs, &wkt, opts) != OGRERR_NONE) {
            CPLFree(wkt);
            wkt = NULL;
            /* fall back to what the driver reports */
            const char *ref = GDALGetProjectionRef(ds->h);
            ds->wkt = eoi_strdup(ctx, ref ? ref : "");
            return ds->wkt ? EO_OK : EO_E_NOMEM;
        }
    }
    ds->wkt = eoi_strdup(ctx, wkt ? wkt : "");
    CPLFree(wkt);
    return ds->wkt ? EO_OK : EO_E_NOMEM;
}

/* Blocks whose data lies past the end of the file: a TIFF cut short (an
 * interrupted download or copy) opens fine, since its directories come
 * first, and fails only when pixels are read. Checking every block's
 * offset + size against the file size catches it at open. Checked: every
 * block up to max_blocks per band and overview, then the last block row. */
static eo_status check_band_extent(eo_ctx *ctx, GDALRasterBandH band, const char *path,
                                   int64_t fsize, const char *what, int b) {
    enum { max_blocks = 1 << 20 };
    int bw = 0, bh = 0;
    GDALGetBlockSize(band, &bw, &bh);
    if (bw < 1 || bh < 1)
        return EO_OK;
    int64_t nbx = (GDALGetRasterBandXSize(band) + (int64_t)bw - 1) / bw;
    int64_t nby = (GDALGetRasterBandYSize(band) + (int64_t)bh - 1) / bh;
    int64_t y0 = nbx * nby > max_blocks ? nby - 1 : 0;
    char key[64];
    for (int64_t y = y0; y < nby; y++) {
        for (int64_t x = 0; x < nbx; x++) {
            snprintf(key, sizeof key, "BLOCK_OFFSET_%lld_%lld", (long long)x, (long long)y);
            const char *off = GDALGetMetadataItem(band, key, "TIFF");
            snprintf(key, sizeof key, "BLOCK_SIZE_%lld_%lld", (long long)x, (long long)y);
            const char *size = GDALGetMetadataItem(band, key, "TIFF");
            if (!off || !size)
                return EO_OK; /* not a TIFF block layout GDAL exposes */
            long long o = atoll(off), n = atoll(size);
            if (o > 0 && (o > fsize || n > fsize - o))
                return eoi_fail(ctx, EO_E_IO_READ,
                                "%s: truncated file: block (%lld, %lld) of band %d%s ends at byte "
                                "%lld, past the end of the file (%lld bytes)",
                                path, (long long)x, (long long)y, b, what, o + n, (long long)fsize);
        }
    }
    return EO_OK;
}

static eo_status check_tiff_extent(eo_ctx *ctx, eo_dataset *ds, const char *path) {
    if (strcmp(ds->driver, "GTiff") != 0 && strcmp(ds->driver, "COG") != 0)
        return EO_OK;
    VSIStatBufL sb;
    if (VSIStatL(path, &sb) != 0)
        return EO_OK;
    const char *il = GDALGetMetadataItem(ds->h, "INTERLEAVE", "IMAGE_STRUCTURE");
    int nb = il && strcmp(il, "PIXEL") == 0 ? 1 : ds->band_count; /* pixel: bands share blocks */
    for (int b = 1; b <= nb; b++) {
        GDALRasterBandH band = GDALGetRasterBand(ds->h, b);
        eo_status st = check_band_extent(ctx, band, path, (int64_t)sb.st_size, "", b);
        int no = GDALGetOverviewCount(band);
        for (int i = 0; i < no && st == EO_OK; i++) {
            char what[48];
            snprintf(what, sizeof what, " (overview %d)", i + 1);
            st = check_band_extent(ctx, GDALGetOverview(band, i), path, (int64_t)sb.st_size, what,
                                   b);
        }
        if (st != EO_OK)
            return st;
    }
    return EO_OK;
}

/* Refuse blocks over MAX_BLOCK_BYTES before any read allocates one. With
 * pixel interleaving one block holds every band. */
static eo_status check_block_size(eo_ctx *ctx, const eo_dataset *ds, const char *path) {
    const char *il = GDALGetMetadataItem(ds->h, "INTERLEAVE", "IMAGE_STRUCTURE");
    int64_t shared = il && strcmp(il, "PIXEL") == 0 ? ds->band_count : 1;
    for (int b = 1; b <= ds->band_count; b++) {
        int bw = 0, bh = 0;
        GDALGetBlockSize(GDALGetRasterBand(ds->h, b), &bw, &bh);
        int64_t dsize = (int64_t)eo_dtype_size(ds->dtypes[b - 1]);
        if (bw < 1 || bh < 1 || dsize < 1)
            continue;
        double bytes = (double)bw * bh * (double)dsize * (double)shared; /* exact below 2^53 */
        if (bytes > (double)MAX_BLOCK_BYTES)
            return eoi_fail(ctx, EO_E_SOURCE,
                            "%s: band %d is stored in blocks of %d x %d %s pixels%s (%.1f GiB "
                            "each); blocks over %d GiB are refused, since any read holds a whole "
                            "block in memory (rewrite the file tiled, e.g. gdal_translate -co "
                            "TILED=YES)",
                            path, b, bw, bh, eo_dtype_name(ds->dtypes[b - 1]),
                            shared > 1 ? " of every band" : "", bytes / (1 << 30),
                            (int)(MAX_BLOCK_BYTES >> 30));
    }
    return EO_OK;
}

eo_status eoi_dataset_open_source(eo_ctx *ctx, eo_dataset *ds, bool is_dir) {
    const char *path = ds->path;
    ds->h = GDALOpenEx(ds->source, GDAL_OF_RASTER | GDAL_OF_READONLY | GDAL_OF_VERBOSE_ERROR, NULL,
                       NULL, NULL);
    if (!ds->h) {
        if (is_dir)
            return eoi_fail(ctx, EO_E_IO_READ, "%s: is a directory, not a raster GDAL can read",
                            path);
        return eoi_fail(ctx, EO_E_SOURCE, "%s: not a raster GDAL can read: %s", path,
                        eoi_gdal_msg(ctx, "format not recognized"));
    }
    GDALDriverH drv = GDALGetDatasetDriver(ds->h);
    ds->driver = drv ? GDALGetDriverShortName(drv) : "";
    const char *dot = strrchr(path, '.');
    if (dot && (strcasecmp(dot, ".tif") == 0 || strcasecmp(dot, ".tiff") == 0) &&
        strcmp(ds->driver, "GTiff") != 0 && strcmp(ds->driver, "COG") != 0 && ds->driver[0])
        snprintf(ds->kind_note, sizeof ds->kind_note, " (a %.20s file, though named %.6s)",
                 ds->driver, dot);
    int w = GDALGetRasterXSize(ds->h), h = GDALGetRasterYSize(ds->h);
    int nb = GDALGetRasterCount(ds->h);
    if (nb < 1)
        return eoi_fail(ctx, EO_E_SOURCE, "%s: the %s file has no raster bands", path, ds->driver);
    if (w < 1 || h < 1 || w > MAX_SIDE || h > MAX_SIDE)
        return eoi_fail(ctx, EO_E_SOURCE, "%s: invalid raster size %d x %d", path, w, h);
    ds->width = w;
    ds->height = h;
    ds->band_count = nb;
    if (!(ds->dtypes = eoi_calloc(ctx, (size_t)nb, sizeof *ds->dtypes)))
        return EO_E_NOMEM;
    for (int b = 1; b <= nb; b++) {
        GDALRasterBandH band = GDALGetRasterBand(ds->h, b);
        if (!band)
            return eoi_fail(ctx, EO_E_SOURCE, "%s: band %d cannot be opened: %s", path, b,
                            eoi_gdal_msg(ctx, "GDAL error"));
        int bw = GDALGetRasterBandXSize(band), bh = GDALGetRasterBandYSize(band);
        if (bw != w || bh != h)
            return eoi_fail(ctx, EO_E_SOURCE, "%s: band %d is %d x %d, the raster %d x %d", path, b,
                            bw, bh, w, h);
        ds->dtypes[b - 1] = eoi_dtype_of_band(band);
    }
    eo_status st = check_block_size(ctx, ds, path);
    if (st != EO_OK)
        return st;
    ds->overview_count = GDALGetOverviewCount(GDALGetRasterBand(ds->h, 1));
    if (GDALGetGeoTransform(ds->h, ds->gt) == CE_None) {
        ds->has_gt = 1;
        for (int i = 0; i < 6; i++)
            if (!isfinite(ds->gt[i]))
                ds->has_gt = 0;
    }
    if (!ds->has_gt)
        memcpy(ds->gt, identity_gt, sizeof ds->gt);
    st = check_tiff_extent(ctx, ds, ds->source);
    return st != EO_OK ? st : read_crs(ctx, ds);
}

eo_status eo_dataset_open(eo_ctx *ctx, eo_dataset **out, const char *path) {
    EOI_CHECK_ARG(ctx, out);
    *out = NULL;
    EOI_CHECK_ARG(ctx, path && *path);
    bool is_dir;
    eo_status st = check_path(ctx, path, &is_dir);
    if (st != EO_OK)
        return st;
    eo_dataset *ds = eoi_calloc(ctx, 1, sizeof *ds);
    if (!ds)
        return EO_E_NOMEM;
    if (!(ds->path = eoi_strdup(ctx, path)) || !(ds->source = eoi_strdup(ctx, path))) {
        eo_dataset_close(ds);
        return EO_E_NOMEM;
    }
    eoi_gdal_begin(ctx);
    st = eoi_dataset_open_source(ctx, ds, is_dir);
    eoi_gdal_end(ctx);
    if (st != EO_OK) {
        eo_dataset_close(ds);
        return st;
    }
    *out = ds;
    return EO_OK;
}

/* ---- getters ----------------------------------------------------------- */

int64_t eo_dataset_width(const eo_dataset *ds) { return ds ? ds->width : 0; }
int64_t eo_dataset_height(const eo_dataset *ds) { return ds ? ds->height : 0; }
int32_t eo_dataset_band_count(const eo_dataset *ds) { return ds ? ds->band_count : 0; }

eo_dtype eo_dataset_band_dtype(const eo_dataset *ds, int32_t band) {
    if (!ds || band < 1 || band > ds->band_count)
        return EO_DT_UNKNOWN;
    return ds->dtypes[band - 1];
}

int32_t eo_dataset_get_geotransform(const eo_dataset *ds, double gt[6]) {
    if (gt)
        memcpy(gt, ds ? ds->gt : identity_gt, 6 * sizeof(double));
    return ds ? ds->has_gt : 0;
}

const char *eo_dataset_crs_wkt(const eo_dataset *ds) { return ds && ds->wkt ? ds->wkt : ""; }

int32_t eo_dataset_overview_count(const eo_dataset *ds) { return ds ? ds->overview_count : 0; }

/* ---- read options ------------------------------------------------------ */

eo_status eo_read_opts_new(eo_ctx *ctx, eo_read_opts **out) {
    EOI_CHECK_ARG(ctx, out);
    *out = NULL;
    eo_read_opts *o = eoi_calloc(ctx, 1, sizeof *o);
    if (!o)
        return EO_E_NOMEM;
    o->resampling = EO_RESAMPLE_NEAREST;
    *out = o;
    return EO_OK;
}

void eo_read_opts_free(eo_read_opts *o) {
    if (!o)
        return;
    eoi_free(o->bands);
    eoi_free(o);
}

eo_status eo_read_opts_set_dtype(eo_ctx *ctx, eo_read_opts *o, eo_dtype dtype) {
    EOI_CHECK_ARG(ctx, o);
    if (dtype != EO_DT_UNKNOWN && !eo_dtype_size(dtype))
        return eoi_fail(ctx, EO_E_ARG, "read options: unknown data type %d", (int)dtype);
    o->dtype = dtype;
    return EO_OK;
}

eo_status eo_read_opts_set_bands(eo_ctx *ctx, eo_read_opts *o, const int32_t *bands,
                                 int32_t count) {
    EOI_CHECK_ARG(ctx, o);
    if (count == 0) { /* back to all bands */
        eoi_free(o->bands);
        o->bands = NULL;
        o->band_count = 0;
        return EO_OK;
    }
    EOI_CHECK_ARG(ctx, bands);
    if (count < 0 || count > EOI_READ_MAX_BANDS)
        return eoi_fail(ctx, EO_E_ARG, "read options: band count %d is out of range (1..%d)",
                        (int)count, EOI_READ_MAX_BANDS);
    int32_t bad = eoi_bands_bad(bands, count);
    if (bad >= 0)
        return eoi_fail(ctx, EO_E_ARG, "read options: band %d is invalid (bands are 1-based)",
                        (int)bands[bad]);
    return eoi_bands_assign(ctx, &o->bands, &o->band_count, bands, count);
}

eo_status eo_read_opts_set_out_size(eo_ctx *ctx, eo_read_opts *o, int64_t width, int64_t height) {
    EOI_CHECK_ARG(ctx, o);
    if (!(width == 0 && height == 0) && (width < 1 || height < 1))
        return eoi_fail(ctx, EO_E_ARG,
                        "read options: output size %lld x %lld must be positive (0 x 0 = the "
                        "window's size)",
                        (long long)width, (long long)height);
    o->out_width = width;
    o->out_height = height;
    return EO_OK;
}

eo_status eo_read_opts_set_resampling(eo_ctx *ctx, eo_read_opts *o, int32_t method) {
    EOI_CHECK_ARG(ctx, o);
    if (!eo_resampling_name(method))
        return eoi_fail(ctx, EO_E_ARG, "read options: unknown resampling method %d", (int)method);
    o->resampling = method;
    return EO_OK;
}

eo_status eo_read_opts_set_masks(eo_ctx *ctx, eo_read_opts *o, int32_t on) {
    EOI_CHECK_ARG(ctx, o);
    o->masks = on ? 1 : 0;
    return EO_OK;
}

/* ---- read -------------------------------------------------------------- */

struct read_progress {
    eo_ctx *ctx;
    double base;
    double span;
    eo_status st;
};

static int CPL_STDCALL on_gdal_progress(double f, const char *msg, void *user) {
    (void)msg;
    struct read_progress *p = user;
    p->st = eoi_progress(p->ctx, p->base + p->span * f, "read");
    return p->st == EO_OK;
}

/* The overview level to read from for a window of ww x wh source pixels
 * written to ow x oh: the coarsest level whose pixels are no larger than the
 * output's on both axes; -1 = full resolution. */
static int pick_overview(GDALRasterBandH band, int64_t dw, int64_t dh, int64_t ww, int64_t wh,
                         int64_t ow, int64_t oh) {
    if (ow >= ww && oh >= wh)
        return -1;
    double fx = (double)ww / (double)ow, fy = (double)wh / (double)oh;
    const double eps = 1e-9;
    int best = -1, best_w = INT32_MAX;
    int n = GDALGetOverviewCount(band);
    for (int i = 0; i < n; i++) {
        GDALRasterBandH ov = GDALGetOverview(band, i);
        if (!ov)
            continue;
        int w = GDALGetRasterBandXSize(ov), h = GDALGetRasterBandYSize(ov);
        if (w < 1 || h < 1)
            continue;
        double rx = (double)dw / w, ry = (double)dh / h;
        if (rx <= fx * (1 + eps) && ry <= fy * (1 + eps) && w < best_w) {
            best = i;
            best_w = w;
        }
    }
    return best;
}

struct read_plan {
    const char *path;
    int64_t ww, wh; /* window size in full-resolution pixels */
    int64_t ow, oh; /* output size */
    double ox, oy;  /* window on the chosen level's grid (fractional) */
    double osx, osy;
    int level; /* -1 = full resolution */
    GDALRIOResampleAlg alg;
    eo_dtype out_dt;
    int masks; /* read the mask bands */
};

/* Read one band into dst (ow x oh samples of out_dt); tmp, when needed for
 * a conversion GDAL cannot do (signed bytes), holds ow x oh doubles. */
static eo_status read_band(eo_ctx *ctx, const eo_dataset *ds, const struct read_plan *pl, int32_t b,
                           void *dst, void *tmp, struct read_progress *prog) {
    bool reduced = pl->ow < pl->ww || pl->oh < pl->wh;
    GDALRasterBandH band =
        GDALGetRasterBand(pl->level < 0 && reduced && ds->h_full ? ds->h_full : ds->h, b);
    if (band && pl->level >= 0)
        band = GDALGetOverview(band, pl->level);
    if (band && pl->masks)
        band = GDALGetMaskBand(band);
    if (!band)
        return eoi_fail(ctx, EO_E_IO_READ, "%s: band %d (overview %d) cannot be opened: %s",
                        pl->path, (int)b, pl->level, eoi_gdal_msg(ctx, "GDAL error"));
    eo_dtype src_dt = pl->masks ? EO_DT_U8 : ds->dtypes[b - 1];
    GDALDataType gdt;
    void *buf;
    bool convert = false;
    eo_dtype buf_dt;
    if (src_dt == EO_DT_I8) {
        /* GDAL 3.6 sees signed bytes as Byte: read the raw bytes, reinterpret */
        buf_dt = EO_DT_I8;
        gdt = GDT_Byte;
        convert = pl->out_dt != EO_DT_I8;
        buf = convert ? tmp : dst;
    } else if (pl->out_dt == EO_DT_I8) {
        /* no Int8 in GDAL 3.6: read as float64, round and saturate */
        buf_dt = EO_DT_F64;
        gdt = GDT_Float64;
        convert = true;
        buf = tmp;
    } else {
        buf_dt = pl->out_dt;
        gdt = eoi_dtype_to_gdal(pl->out_dt);
        buf = dst;
    }
    int lw = GDALGetRasterBandXSize(band), lh = GDALGetRasterBandYSize(band);
    int x0 = (int)floor(pl->ox + 1e-9), y0 = (int)floor(pl->oy + 1e-9);
    int x1 = (int)ceil(pl->ox + pl->osx - 1e-9), y1 = (int)ceil(pl->oy + pl->osy - 1e-9);
    if (x0 < 0)
        x0 = 0;
    if (y0 < 0)
        y0 = 0;
    if (x1 > lw)
        x1 = lw;
    if (y1 > lh)
        y1 = lh;
    if (x1 <= x0) { /* a sliver of a pixel: keep one whole pixel */
        x1 = x0 < lw ? x0 + 1 : lw;
        x0 = x1 - 1;
    }
    if (y1 <= y0) {
        y1 = y0 < lh ? y0 + 1 : lh;
        y0 = y1 - 1;
    }
    GDALRasterIOExtraArg extra;
    INIT_RASTERIO_EXTRA_ARG(extra);
    extra.eResampleAlg = pl->alg;
    extra.pfnProgress = on_gdal_progress;
    extra.pProgressData = prog;
    if (pl->level >= 0 || pl->ow != pl->ww || pl->oh != pl->wh) {
        extra.bFloatingPointWindowValidity = TRUE;
        extra.dfXOff = pl->ox;
        extra.dfYOff = pl->oy;
        extra.dfXSize = pl->osx;
        extra.dfYSize = pl->osy;
    }
    size_t esize = eo_dtype_size(buf_dt);
    prog->st = EO_OK;
    ctx->gdal_err = 0;
    ctx->gdal_msg[0] = '\0';
    CPLErr e =
        GDALRasterIOEx(band, GF_Read, x0, y0, x1 - x0, y1 - y0, buf, (int)pl->ow, (int)pl->oh, gdt,
                       (GSpacing)esize, (GSpacing)esize * (GSpacing)pl->ow, &extra);
    if (prog->st != EO_OK)
        return prog->st;
    if (e != CE_None)
        return eoi_fail(ctx, EO_E_IO_READ, "%s: cannot read band %d: %s", pl->path, (int)b,
                        eoi_gdal_msg(ctx, "read error"));
    if (convert) {
        size_t n = (size_t)pl->ow * (size_t)pl->oh;
        for (size_t i = 0; i < n; i++)
            eoi_dtype_store(dst, pl->out_dt, i, eoi_dtype_load(buf, buf_dt, i));
    }
    return EO_OK;
}

static eo_status read_window(eo_ctx *ctx, eo_raster **out, eo_dataset *ds, const eo_window *win,
                             const eo_read_opts *opts) {
    eo_status st = EO_OK;
    eo_raster *r = NULL;
    void *tmp = NULL;
    const int32_t *bands = opts ? opts->bands : NULL;
    int32_t nb = bands ? opts->band_count : ds->band_count;
    for (int32_t i = 0; bands && i < nb; i++)
        if (bands[i] < 1 || bands[i] > ds->band_count)
            return eoi_fail(ctx, EO_E_ARG, "%s: band %d does not exist (the raster has %d bands)",
                            ds->path, (int)bands[i], (int)ds->band_count);
    int32_t first = bands ? bands[0] : 1;
    struct read_plan pl = {.path = ds->path, .ww = win->width, .wh = win->height};
    pl.ow = opts && opts->out_width ? opts->out_width : win->width;
    pl.oh = opts && opts->out_height ? opts->out_height : win->height;
    pl.masks = opts && opts->masks;
    pl.out_dt = opts && opts->dtype ? opts->dtype : pl.masks ? EO_DT_U8 : ds->dtypes[first - 1];
    if (pl.out_dt == EO_DT_UNKNOWN)
        return eoi_fail(
            ctx, EO_E_UNSUPPORTED,
            "%s: band %d has the GDAL type %s, which eoproc does not read (ask for an "
            "output data type)",
            ds->path, (int)first,
            GDALGetDataTypeName(GDALGetRasterDataType(GDALGetRasterBand(ds->h, first))));
    int32_t method = opts ? opts->resampling : EO_RESAMPLE_NEAREST;
    pl.alg = eoi_resample_to_gdal(method);
    if (pl.ow > INT32_MAX || pl.oh > INT32_MAX)
        return eoi_fail(ctx, EO_E_LIMIT, "%s: output size %lld x %lld is too large", ds->path,
                        (long long)pl.ow, (long long)pl.oh);
    size_t esize = eo_dtype_size(pl.out_dt), nbytes;
    EOI_TRY(st, eoi_check_raster_size(ctx, &nbytes, pl.ow, pl.oh, nb, esize, ds->path));

    bool resampled = pl.ow != pl.ww || pl.oh != pl.wh;
    for (int32_t i = 0; resampled && !pl.masks && method != EO_RESAMPLE_NEAREST && i < nb; i++)
        if (ds->dtypes[(bands ? bands[i] : i + 1) - 1] == EO_DT_I8) {
            st = eoi_fail(ctx, EO_E_UNSUPPORTED,
                          "%s: band %d holds signed bytes, which GDAL %s resamples only with "
                          "'nearest' (asked: '%s')",
                          ds->path, (int)(bands ? bands[i] : i + 1),
                          GDALVersionInfo("RELEASE_NAME"), eo_resampling_name(method));
            goto done;
        }

    /* overview level and the window on its grid */
    GDALRasterBandH b1 = GDALGetRasterBand(ds->h, first);
    pl.level = pick_overview(b1, ds->width, ds->height, pl.ww, pl.wh, pl.ow, pl.oh);
    double kx = 1, ky = 1;
    if (pl.level >= 0) {
        GDALRasterBandH ov = GDALGetOverview(b1, pl.level);
        kx = (double)GDALGetRasterBandXSize(ov) / (double)ds->width;
        ky = (double)GDALGetRasterBandYSize(ov) / (double)ds->height;
        eoi_log(ctx, EO_LOG_DEBUG,
                "%s: reading window %lld,%lld %lldx%lld at %lldx%lld from overview %d (%dx%d)",
                ds->path, (long long)win->x, (long long)win->y, (long long)win->width,
                (long long)win->height, (long long)pl.ow, (long long)pl.oh, pl.level,
                GDALGetRasterBandXSize(ov), GDALGetRasterBandYSize(ov));
    } else {
        eoi_log(ctx, EO_LOG_DEBUG,
                "%s: reading window %lld,%lld %lldx%lld at %lldx%lld from full resolution",
                ds->path, (long long)win->x, (long long)win->y, (long long)win->width,
                (long long)win->height, (long long)pl.ow, (long long)pl.oh);
    }
    pl.ox = (double)win->x * kx;
    pl.oy = (double)win->y * ky;
    pl.osx = (double)win->width * kx;
    pl.osy = (double)win->height * ky;

    if (pl.level < 0 && (pl.ow < pl.ww || pl.oh < pl.wh) && !ds->h_full &&
        GDALGetOverviewCount(b1) > 0) {
        const char *oo[] = {"OVERVIEW_LEVEL=NONE", NULL};
        ds->h_full = GDALOpenEx(
            ds->source, GDAL_OF_RASTER | GDAL_OF_READONLY | GDAL_OF_VERBOSE_ERROR, NULL, oo, NULL);
        if (!ds->h_full) {
            st = eoi_fail(ctx, EO_E_IO_READ, "%s: cannot reopen at full resolution: %s", ds->path,
                          eoi_gdal_msg(ctx, "GDAL error"));
            goto done;
        }
    }
    EOI_TRY(st, eo_raster_new(ctx, &r, pl.ow, pl.oh, nb, pl.out_dt));
    bool need_tmp = pl.out_dt == EO_DT_I8;
    for (int32_t i = 0; i < nb && !need_tmp && !pl.masks; i++)
        need_tmp = ds->dtypes[(bands ? bands[i] : i + 1) - 1] == EO_DT_I8;
    if (need_tmp && !(tmp = eoi_malloc(ctx, (size_t)pl.ow * (size_t)pl.oh * sizeof(double)))) {
        st = eo_ctx_status(ctx) == EO_E_LIMIT ? EO_E_LIMIT : EO_E_NOMEM;
        goto done;
    }

    /* georeferencing of the window at the output resolution */
    if (ds->has_gt) {
        const double *g = ds->gt;
        double sx = (double)pl.ww / (double)pl.ow, sy = (double)pl.wh / (double)pl.oh;
        double gt[6] = {g[0] + (double)win->x * g[1] + (double)win->y * g[2], g[1] * sx, g[2] * sy,
                        g[3] + (double)win->x * g[4] + (double)win->y * g[5], g[4] * sx, g[5] * sy};
        memcpy(r->gt, gt, sizeof gt);
        r->has_gt = 1;
    }
    EOI_TRY(st, eoi_raster_set_wkt(ctx, r, ds->wkt));
    int has_nd = 0;
    uint64_t nd_bits = 0;
    double nd = eoi_band_nodata(b1, ds->dtypes[first - 1], &has_nd, &nd_bits);
    if (has_nd && !pl.masks) {
        r->nodata = nd;
        r->has_nodata = 1;
        if (r->dtype == ds->dtypes[first - 1])
            r->nodata_bits = nd_bits;
    }

    size_t plane = (size_t)pl.ow * (size_t)pl.oh * esize;
    if (ds->tilesrc && !resampled && pl.out_dt == EO_DT_U8) {
        /* a tile dataset: the tiles decoded in parallel straight into the raster */
        EOI_TRY(st, eoi_progress(ctx, 0.0, "read"));
        EOI_TRY(st, ds->tilesrc_read(ctx, ds->tilesrc, ds->path, win, bands, nb, r->data));
        EOI_TRY(st, eoi_progress(ctx, 1.0, "read"));
        *out = r;
        r = NULL;
        goto done;
    }
    struct read_progress prog = {.ctx = ctx, .span = 1.0 / nb};
    for (int32_t i = 0; i < nb; i++) {
        prog.base = (double)i / nb;
        EOI_TRY(st, eoi_progress(ctx, prog.base, "read"));
        int32_t b = bands ? bands[i] : i + 1;
        EOI_TRY(st, read_band(ctx, ds, &pl, b, (unsigned char *)r->data + (size_t)i * plane, tmp,
                              &prog));
    }
    EOI_TRY(st, eoi_progress(ctx, 1.0, "read"));
    *out = r;
    r = NULL;
done:
    eoi_free(tmp);
    eo_raster_free(r);
    return st;
}

eo_status eoi_dataset_check_window(eo_ctx *ctx, const eo_dataset *ds, const eo_window *w) {
    if (w->width < 1 || w->height < 1 || w->x < 0 || w->y < 0 || w->x > ds->width - w->width ||
        w->y > ds->height - w->height)
        return eoi_fail(ctx, EO_E_ARG,
                        "%s: window (x %lld, y %lld, %lld x %lld) does not lie inside the raster "
                        "(%lld x %lld)",
                        ds->path, (long long)w->x, (long long)w->y, (long long)w->width,
                        (long long)w->height, (long long)ds->width, (long long)ds->height);
    return EO_OK;
}

eo_status eo_dataset_read(eo_ctx *ctx, eo_raster **out, eo_dataset *ds, const eo_window *window,
                          const eo_read_opts *opts) {
    EOI_CHECK_ARG(ctx, out);
    *out = NULL;
    EOI_CHECK_ARG(ctx, ds && ds->h);
    eo_window all = {0, 0, ds->width, ds->height};
    const eo_window *w = window ? window : &all;
    eo_status st = eoi_dataset_check_window(ctx, ds, w);
    if (st != EO_OK)
        return st;
    st = eoi_check_cancel(ctx);
    if (st != EO_OK)
        return st;
    eoi_gdal_begin(ctx);
    st = read_window(ctx, out, ds, w, opts);
    eoi_gdal_end(ctx);
    return st;
}

eo_status eoi_dataset_read_f32(eo_ctx *ctx, const eo_dataset *ds, const eo_window *win,
                               const int32_t *bands, int32_t nb, float *dst) {
    size_t n = (size_t)win->width * (size_t)win->height * (size_t)nb;
    if (ds->tilesrc) {
        /* the tiles' bytes go to the buffer's last quarter and widen in
         * place: element i is read before any write reaches byte 3n + i */
        uint8_t *b = (uint8_t *)dst + 3 * n;
        EOI_TRY_RET(ds->tilesrc_read(ctx, ds->tilesrc, ds->path, win, bands, nb, b));
        for (size_t i = 0; i < n; i++)
            dst[i] = b[i];
        return EO_OK;
    }
    eo_status st = EO_OK;
    eoi_gdal_begin(ctx);
    CPLErr e = GDALDatasetRasterIO(ds->h, GF_Read, (int)win->x, (int)win->y, (int)win->width,
                                   (int)win->height, dst, (int)win->width, (int)win->height,
                                   GDT_Float32, nb, (int *)bands, 4, 4 * (int)win->width,
                                   (GSpacing)4 * (GSpacing)win->width * (GSpacing)win->height);
    if (e != CE_None)
        st = eoi_fail(ctx, EO_E_IO_READ, "%s: cannot read window %lld,%lld %lldx%lld: %s", ds->path,
                      (long long)win->x, (long long)win->y, (long long)win->width,
                      (long long)win->height, eoi_gdal_msg(ctx, "read error"));
    eoi_gdal_end(ctx);
    return st;
}
