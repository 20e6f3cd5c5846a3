/* tile_render.c - web-mercator tiles out of any raster: the overview pick
 * of gdalwarp -ovr AUTO, then GDAL's warper into the tile's grid, with the
 * source-to-EPSG:3857 transformer built once per overview level and only
 * its destination geotransform changed from tile to tile. */
#include "geom_int.h"
#include "tiles_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <cpl_string.h>
#include <gdal_alg.h>
#include <gdalwarper.h>

#define MAX_LEVELS 32
#define MAX_TILE_SIZE 4096

struct level {
    GDALDatasetH h;  /* the source at this level (0: full resolution) */
    void *transform; /* GenImgProj: level pixels -> EPSG:3857 metres */
    double ratio;    /* full-resolution width / this level's width */
};

struct eoi_tile_renderer {
    char *path;   /* for messages */
    char *source; /* what GDAL opens */
    int32_t size, resampling;
    int32_t bands[4];
    int32_t nbands;
    int32_t src_alpha; /* band of the source's alpha channel, 0 = none */
    eo_dtype dtype;
    GDALDataType gdt;
    double src_res; /* the source's natural resolution in EPSG:3857 metres */
    int nlevels;
    struct level lv[MAX_LEVELS];
    char *dst_wkt;
};

/* ---- options --------------------------------------------------------- */

eo_status eo_tile_opts_new(eo_ctx *ctx, eo_tile_opts **out) {
    EOI_CHECK_ARG(ctx, out);
    *out = eoi_calloc(ctx, 1, sizeof **out);
    if (!*out)
        return EO_E_NOMEM;
    (*out)->size = 256;
    (*out)->resampling = EO_RESAMPLE_BILINEAR;
    return EO_OK;
}

void eo_tile_opts_free(eo_tile_opts *o) {
    if (!o)
        return;
    eoi_free(o->bands);
    eoi_free(o);
}

eo_status eo_tile_opts_set_size(eo_ctx *ctx, eo_tile_opts *o, int32_t size) {
    EOI_CHECK_ARG(ctx, o);
    if (size < 1 || size > MAX_TILE_SIZE)
        return eoi_fail(ctx, EO_E_ARG, "tile size %d is outside 1..%d", (int)size, MAX_TILE_SIZE);
    o->size = size;
    return EO_OK;
}

eo_status eo_tile_opts_set_resampling(eo_ctx *ctx, eo_tile_opts *o, int32_t method) {
    EOI_CHECK_ARG(ctx, o);
    if (!eo_resampling_name(method))
        return eoi_fail(ctx, EO_E_ARG, "unknown resampling method %d", (int)method);
    o->resampling = method;
    return EO_OK;
}

eo_status eo_tile_opts_set_bands(eo_ctx *ctx, eo_tile_opts *o, const int32_t *bands,
                                 int32_t count) {
    EOI_CHECK_ARG(ctx, o);
    if (count < 1 || count > 4 || !bands)
        return eoi_fail(ctx, EO_E_ARG, "a tile renders 1 to 4 bands, got %d", (int)count);
    EOI_TRY_RET(eoi_bands_check(ctx, bands, count));
    return eoi_bands_assign(ctx, &o->bands, &o->band_count, bands, count);
}

/* ---- renderer ------------------------------------------------------------ */

static GDALResampleAlg warp_alg(int32_t m) {
    switch (m) {
    case EO_RESAMPLE_BILINEAR:
        return GRA_Bilinear;
    case EO_RESAMPLE_CUBIC:
        return GRA_Cubic;
    case EO_RESAMPLE_AVERAGE:
        return GRA_Average;
    case EO_RESAMPLE_MODE:
        return GRA_Mode;
    case EO_RESAMPLE_LANCZOS:
        return GRA_Lanczos;
    default:
        return GRA_NearestNeighbour;
    }
}

void eoi_tile_renderer_free(eoi_tile_renderer *tr) {
    if (!tr)
        return;
    CPLPushErrorHandler(CPLQuietErrorHandler);
    for (int i = 0; i < tr->nlevels; i++) {
        if (tr->lv[i].transform)
            GDALDestroyGenImgProjTransformer(tr->lv[i].transform);
        if (tr->lv[i].h)
            GDALClose(tr->lv[i].h);
    }
    CPLPopErrorHandler();
    eoi_free(tr->path);
    eoi_free(tr->source);
    eoi_free(tr->dst_wkt);
    eoi_free(tr);
}

/* Open level i (0 = full resolution, i = overview i - 1) with its
 * transformer to EPSG:3857. */
static eo_status open_level(eo_ctx *ctx, eoi_tile_renderer *tr, int i) {
    struct level *l = &tr->lv[i];
    if (l->transform)
        return EO_OK;
    char opt[48];
    snprintf(opt, sizeof opt, "OVERVIEW_LEVEL=%d", i - 1);
    const char *oo[] = {opt, NULL};
    l->h = GDALOpenEx(tr->source, GDAL_OF_RASTER | GDAL_OF_READONLY | GDAL_OF_VERBOSE_ERROR, NULL,
                      i > 0 ? oo : NULL, NULL);
    if (!l->h)
        return eoi_fail(ctx, EO_E_IO_READ, "%s: cannot open %s%d: %s", tr->path,
                        i ? "overview " : "level ", i, eoi_gdal_msg(ctx, "GDAL error"));
    char **to = CSLSetNameValue(NULL, "DST_SRS", tr->dst_wkt);
    l->transform = GDALCreateGenImgProjTransformer2(l->h, NULL, to);
    CSLDestroy(to);
    if (!l->transform)
        return eoi_fail(ctx, EO_E_CRS_TRANSFORM, "%s: no transformation to EPSG:3857: %s", tr->path,
                        eoi_gdal_msg(ctx, "GDAL error"));
    return EO_OK;
}

static eo_status renderer_new(eo_ctx *ctx, eoi_tile_renderer *tr, const eo_dataset *ds,
                              const eo_tile_opts *opts) {
    if (!ds->has_gt || !ds->wkt || !*ds->wkt)
        return eoi_fail(ctx, EO_E_SOURCE,
                        "%s: tiles need a georeferenced raster (a CRS and a geotransform)",
                        ds->path);
    if (!(tr->path = eoi_strdup(ctx, ds->path)) || !(tr->source = eoi_strdup(ctx, ds->source)))
        return EO_E_NOMEM;
    tr->size = opts ? opts->size : 256;
    tr->resampling = opts ? opts->resampling : EO_RESAMPLE_BILINEAR;
    /* bands: as asked, else 1 for a source of 1-2 bands (2: gray + alpha), 1-3 otherwise */
    if (opts && opts->bands) {
        for (int32_t i = 0; i < opts->band_count; i++)
            if (opts->bands[i] > ds->band_count)
                return eoi_fail(ctx, EO_E_ARG, "%s: band %d does not exist (%d bands)", ds->path,
                                (int)opts->bands[i], (int)ds->band_count);
        memcpy(tr->bands, opts->bands, (size_t)opts->band_count * sizeof *tr->bands);
        tr->nbands = opts->band_count;
    } else {
        tr->nbands = ds->band_count >= 3 ? 3 : 1;
        for (int32_t i = 0; i < tr->nbands; i++)
            tr->bands[i] = i + 1;
    }
    GDALRasterBandH last = GDALGetRasterBand(ds->h, ds->band_count);
    if (ds->band_count > 1 && GDALGetRasterColorInterpretation(last) == GCI_AlphaBand)
        tr->src_alpha = ds->band_count;
    tr->dtype = ds->dtypes[tr->bands[0] - 1];
    tr->gdt = eoi_dtype_to_gdal(tr->dtype);
    bool geo;
    EOI_TRY_RET(eoi_crs_to_wkt(ctx, &tr->dst_wkt, "EPSG:3857", &geo));
    /* levels: the full resolution and every overview */
    GDALRasterBandH b1 = GDALGetRasterBand(ds->h, 1);
    int nov = GDALGetOverviewCount(b1);
    tr->nlevels = 1 + (nov < MAX_LEVELS - 1 ? nov : MAX_LEVELS - 1);
    tr->lv[0].ratio = 1;
    for (int i = 1; i < tr->nlevels; i++) {
        GDALRasterBandH ov = GDALGetOverview(b1, i - 1);
        int ow = ov ? GDALGetRasterBandXSize(ov) : 0;
        tr->lv[i].ratio = ow > 0 ? (double)ds->width / ow : 1e300;
    }
    /* the source's natural resolution in EPSG:3857 */
    EOI_TRY_RET(open_level(ctx, tr, 0));
    double gt[6], extent[4];
    int px = 0, ln = 0;
    if (GDALSuggestedWarpOutput2(tr->lv[0].h, GDALGenImgProjTransform, tr->lv[0].transform, gt, &px,
                                 &ln, extent, 0) != CE_None ||
        !(gt[1] > 0))
        return eoi_fail(ctx, EO_E_CRS_TRANSFORM, "%s: cannot place the raster in EPSG:3857: %s",
                        ds->path, eoi_gdal_msg(ctx, "GDAL error"));
    tr->src_res = gt[1];
    return EO_OK;
}

eo_status eoi_tile_renderer_new(eo_ctx *ctx, eoi_tile_renderer **out, const eo_dataset *ds,
                                const eo_tile_opts *opts) {
    EOI_CHECK_ARG(ctx, out);
    *out = NULL;
    EOI_CHECK_ARG(ctx, ds);
    eoi_tile_renderer *tr = eoi_calloc(ctx, 1, sizeof *tr);
    if (!tr)
        return EO_E_NOMEM;
    eoi_gdal_begin(ctx);
    eo_status st = renderer_new(ctx, tr, ds, opts);
    eoi_gdal_end(ctx);
    if (st != EO_OK) {
        eoi_tile_renderer_free(tr);
        return st;
    }
    *out = tr;
    return EO_OK;
}

/* The level gdalwarp -ovr AUTO would read for a target ratio (source
 * pixels per tile pixel): the last level whose ratio lies below the target
 * with the next above it, or within 0.1 of it; the coarsest otherwise. */
static int pick_level(const eoi_tile_renderer *tr, double target) {
    if (!(target > 1) || tr->nlevels < 2)
        return 0;
    for (int i = 0; i < tr->nlevels - 1; i++) {
        double r = tr->lv[i].ratio, next = tr->lv[i + 1].ratio;
        if ((r < target && next > target) || fabs(r - target) < 0.1)
            return i;
    }
    return tr->nlevels - 1;
}

static eo_status render(eo_ctx *ctx, eo_raster **out, bool *empty, eoi_tile_renderer *tr, int32_t z,
                        int32_t x, int32_t y) {
    eo_bbox m;
    EOI_TRY_RET(eo_tile_bounds(ctx, z, x, y, &m, NULL));
    int32_t n = tr->size;
    double res = (m.xmax - m.xmin) / n;
    int li = pick_level(tr, res / tr->src_res);
    EOI_TRY_RET(open_level(ctx, tr, li));
    struct level *l = &tr->lv[li];
    eoi_log(ctx, EO_LOG_DEBUG, "tile %d/%d/%d: level %d (ratio %.3g for %.3g)", (int)z, (int)x,
            (int)y, li, l->ratio, res / tr->src_res);

    eo_status st = EO_OK;
    eo_raster *r = NULL;
    GDALDatasetH mem = NULL;
    void *approx = NULL;
    GDALWarpOptions *wo = NULL;
    GDALWarpOperationH op = NULL;
    EOI_TRY(st, eo_raster_new(ctx, &r, n, n, tr->nbands + 1, tr->dtype));
    GDALDriverH memdrv = GDALGetDriverByName("MEM");
    if (!memdrv || !(mem = GDALCreate(memdrv, "", n, n, tr->nbands + 1, tr->gdt, NULL))) {
        st = eoi_fail(ctx, EO_E_INTERNAL, "cannot make an in-memory tile: %s",
                      eoi_gdal_msg(ctx, "GDAL error"));
        goto done;
    }
    double gt[6] = {m.xmin, res, 0, m.ymax, 0, -res};
    GDALSetGeoTransform(mem, gt);
    GDALSetProjection(mem, tr->dst_wkt);
    GDALSetGenImgProjTransformerDstGeoTransform(l->transform, gt);
    approx = GDALCreateApproxTransformer(GDALGenImgProjTransform, l->transform, 0.125);
    wo = GDALCreateWarpOptions();
    if (!approx || !wo) {
        st = eoi_fail(ctx, EO_E_NOMEM, "out of memory setting up a warp");
        goto done;
    }
    wo->hSrcDS = l->h;
    wo->hDstDS = mem;
    wo->eResampleAlg = warp_alg(tr->resampling);
    wo->eWorkingDataType = GDT_Unknown;
    wo->nBandCount = tr->nbands;
    wo->panSrcBands = CPLMalloc(sizeof(int) * (size_t)tr->nbands);
    wo->panDstBands = CPLMalloc(sizeof(int) * (size_t)tr->nbands);
    for (int32_t i = 0; i < tr->nbands; i++) {
        wo->panSrcBands[i] = tr->bands[i];
        wo->panDstBands[i] = i + 1;
    }
    wo->nDstAlphaBand = tr->nbands + 1;
    wo->nSrcAlphaBand = tr->src_alpha;
    int has_nd = 0;
    double nd =
        eoi_band_nodata(GDALGetRasterBand(l->h, tr->bands[0]),
                        eoi_dtype_of_band(GDALGetRasterBand(l->h, tr->bands[0])), &has_nd, NULL);
    if (has_nd) {
        wo->padfSrcNoDataReal = CPLMalloc(sizeof(double) * (size_t)tr->nbands);
        for (int32_t i = 0; i < tr->nbands; i++)
            wo->padfSrcNoDataReal[i] = nd;
        wo->papszWarpOptions = CSLSetNameValue(wo->papszWarpOptions, "UNIFIED_SRC_NODATA", "YES");
    }
    wo->papszWarpOptions = CSLSetNameValue(wo->papszWarpOptions, "INIT_DEST", "0");
    wo->pfnTransformer = GDALApproxTransform;
    wo->pTransformerArg = approx;
    if (!(op = GDALCreateWarpOperation(wo)) || GDALChunkAndWarpImage(op, 0, 0, n, n) != CE_None) {
        st = eoi_fail(ctx, EO_E_IO_READ, "%s: tile %d/%d/%d: %s", tr->path, (int)z, (int)x, (int)y,
                      eoi_gdal_msg(ctx, "warp failed"));
        goto done;
    }
    /* out of GDAL: bands then alpha, each n x n */
    size_t esz = eo_dtype_size(tr->dtype), plane = (size_t)n * (size_t)n * esz;
    uint8_t *data = eo_raster_data(r);
    for (int32_t b = 0; b < tr->nbands + 1; b++) {
        GDALRasterBandH band = GDALGetRasterBand(mem, b + 1);
        if (GDALRasterIO(band, GF_Read, 0, 0, n, n, data + (size_t)b * plane, n, n, tr->gdt, 0,
                         0) != CE_None) {
            st = eoi_fail(ctx, EO_E_INTERNAL, "cannot read an in-memory tile");
            goto done;
        }
    }
    /* the alpha band is the last plane, in the source type: make it 0/255
     * and note whether any pixel has data */
    bool any = false;
    const uint8_t *alpha = data + (size_t)tr->nbands * plane;
    for (size_t i = 0; i < (size_t)n * (size_t)n && !any; i++)
        for (size_t k = 0; k < esz; k++)
            if (alpha[i * esz + k]) {
                any = true;
                break;
            }
    *empty = !any;
    EOI_TRY(st, eoi_raster_set_wkt(ctx, r, tr->dst_wkt));
    EOI_TRY(st, eo_raster_set_geotransform(ctx, r, gt));
    *out = r;
    r = NULL;
done:
    if (op)
        GDALDestroyWarpOperation(op);
    if (wo) {
        wo->pTransformerArg = NULL;
        GDALDestroyWarpOptions(wo);
    }
    if (approx)
        GDALDestroyApproxTransformer(approx);
    if (mem)
        GDALClose(mem);
    eo_raster_free(r);
    return st;
}

eo_status eoi_tile_render(eo_ctx *ctx, eo_raster **out, bool *empty, eoi_tile_renderer *tr,
                          int32_t z, int32_t x, int32_t y) {
    EOI_CHECK_ARG(ctx, out && empty && tr);
    *out = NULL;
    *empty = true;
    eoi_gdal_begin(ctx);
    eo_status st = render(ctx, out, empty, tr, z, x, y);
    eoi_gdal_end(ctx);
    return st;
}

/* Whether tr renders what opts ask of ds (same size, resampling, bands). */
static bool renderer_matches(const eoi_tile_renderer *tr, const eo_dataset *ds,
                             const eo_tile_opts *o) {
    int32_t size = o ? o->size : 256, res = o ? o->resampling : EO_RESAMPLE_BILINEAR;
    if (tr->size != size || tr->resampling != res)
        return false;
    if (o && o->bands)
        return tr->nbands == o->band_count &&
               memcmp(tr->bands, o->bands, (size_t)o->band_count * sizeof *o->bands) == 0;
    int32_t n = ds->band_count >= 3 ? 3 : 1; /* the default: 1, or 1, 2, 3 */
    if (tr->nbands != n)
        return false;
    for (int32_t i = 0; i < n; i++)
        if (tr->bands[i] != i + 1)
            return false;
    return true;
}

eo_status eo_tile_read(eo_ctx *ctx, eo_raster **out, eo_dataset *ds, int32_t z, int32_t x,
                       int32_t y, const eo_tile_opts *opts) {
    EOI_CHECK_ARG(ctx, out);
    *out = NULL;
    EOI_CHECK_ARG(ctx, ds);
    /* the renderer (GDAL handles, transformers) is kept on the dataset, so a
     * tile server reading many tiles of one dataset builds it once */
    if (ds->tiles && !renderer_matches(ds->tiles, ds, opts)) {
        eoi_tile_renderer_free(ds->tiles);
        ds->tiles = NULL;
    }
    if (!ds->tiles) {
        EOI_TRY_RET(eoi_tile_renderer_new(ctx, &ds->tiles, ds, opts));
        ds->tiles_free = eoi_tile_renderer_free;
    }
    bool empty;
    return eoi_tile_render(ctx, out, &empty, ds->tiles, z, x, y);
}

eo_status eoi_dataset_outline(eo_ctx *ctx, eo_geom **out, const eo_dataset *ds) {
    *out = NULL;
    if (!ds->has_gt || !ds->wkt || !*ds->wkt)
        return eoi_fail(ctx, EO_E_SOURCE, "%s%s: the raster has no CRS or no geotransform",
                        ds->path, ds->kind_note);
    const double *g = ds->gt;
    double px[5] = {0, (double)ds->width, (double)ds->width, 0, 0};
    double ln[5] = {0, 0, (double)ds->height, (double)ds->height, 0};
    GEOSCoordSequence *cs = GEOSCoordSeq_create_r(ctx->geos, 5, 2);
    if (!cs)
        return eoi_geos_fail(ctx, "making the raster's outline");
    for (int i = 0; i < 5; i++)
        GEOSCoordSeq_setXY_r(ctx->geos, cs, (unsigned)i, g[0] + px[i] * g[1] + ln[i] * g[2],
                             g[3] + px[i] * g[4] + ln[i] * g[5]);
    GEOSGeometry *ring = GEOSGeom_createLinearRing_r(ctx->geos, cs);
    GEOSGeometry *poly = ring ? GEOSGeom_createPolygon_r(ctx->geos, ring, NULL, 0) : NULL;
    if (!poly)
        return eoi_geos_fail(ctx, "making the raster's outline");
    return eoi_geom_from_geos_take(ctx, out, poly, ds->wkt);
}
