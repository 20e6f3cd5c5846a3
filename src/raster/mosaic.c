/* mosaic.c - several rasters opened as one dataset: every file is opened
 * and checked (same CRS, band count, data type and resolution, north-up),
 * then GDAL builds a VRT of them in memory, which is opened like any file,
 * so everything that takes a dataset works on a mosaic unchanged. */
#include "raster_int.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cpl_vsi.h>
#include <gdal_utils.h>

static bool same_crs(eo_ctx *ctx, const char *a, const char *b) {
    if (strcmp(a, b) == 0)
        return true;
    PJ *pa = proj_create(ctx->pj, a), *pb = proj_create(ctx->pj, b);
    bool same = pa && pb && proj_is_equivalent_to(pa, pb, PJ_COMP_EQUIVALENT);
    proj_destroy(pa);
    proj_destroy(pb);
    return same;
}

static void crs_name(eo_ctx *ctx, char *buf, size_t cap, const char *wkt) {
    int epsg = eoi_crs_epsg(ctx, wkt);
    if (epsg)
        snprintf(buf, cap, "EPSG:%d", epsg);
    else
        snprintf(buf, cap, "%s", *wkt ? "a custom CRS" : "no CRS");
}

static bool close_enough(double a, double b) { return fabs(a - b) <= 1e-9 * fabs(a); }

/* First difference between file i and file 0, as a message. */
static eo_status compare(eo_ctx *ctx, eo_dataset *const *d, int32_t i, const char *const *paths) {
    const eo_dataset *a = d[0], *b = d[i];
    char ca[64], cb[64];
    if (a->band_count != b->band_count)
        return eoi_fail(ctx, EO_E_SOURCE_MISMATCH,
                        "mosaic: %s has %d bands, %s has %d: the files must share the band count",
                        paths[i], (int)b->band_count, paths[0], (int)a->band_count);
    for (int32_t k = 0; k < a->band_count; k++)
        if (a->dtypes[k] != b->dtypes[k])
            return eoi_fail(ctx, EO_E_SOURCE_MISMATCH,
                            "mosaic: band %d of %s is %s, of %s %s: the files must share the data "
                            "type",
                            (int)k + 1, paths[i], eo_dtype_name(b->dtypes[k]), paths[0],
                            eo_dtype_name(a->dtypes[k]));
    if (!same_crs(ctx, a->wkt, b->wkt)) {
        crs_name(ctx, ca, sizeof ca, a->wkt);
        crs_name(ctx, cb, sizeof cb, b->wkt);
        return eoi_fail(ctx, EO_E_SOURCE_MISMATCH,
                        "mosaic: %s is in %s, %s in %s: the files must share the CRS", paths[i], cb,
                        paths[0], ca);
    }
    if (!close_enough(a->gt[1], b->gt[1]) || !close_enough(a->gt[5], b->gt[5]))
        return eoi_fail(ctx, EO_E_SOURCE_MISMATCH,
                        "mosaic: %s has %.12g x %.12g pixels, %s %.12g x %.12g: the files must "
                        "share the resolution",
                        paths[i], b->gt[1], fabs(b->gt[5]), paths[0], a->gt[1], fabs(a->gt[5]));
    return EO_OK;
}

static eo_status build(eo_ctx *ctx, eo_dataset *ds, eo_dataset *const *parts,
                       const char *const *paths, int32_t count) {
    /* absolute names, since the VRT lives in /vsimem */
    char **abs = eoi_calloc(ctx, (size_t)count + 1, sizeof *abs);
    GDALDatasetH vrt = NULL;
    GDALBuildVRTOptions *o = NULL;
    eo_status st = EO_OK;
    if (!abs)
        return EO_E_NOMEM;
    for (int32_t i = 0; i < count; i++) {
        char *r = strncmp(paths[i], "/vsi", 4) == 0 ? NULL : realpath(paths[i], NULL);
        abs[i] = eoi_strdup(ctx, r ? r : paths[i]);
        free(r);
        if (!abs[i]) {
            st = EO_E_NOMEM;
            goto done;
        }
    }
    char name[64];
    eoi_vsimem_name(name, sizeof name, "mosaic", ".vrt");
    if (!(ds->source = eoi_strdup(ctx, name))) {
        st = EO_E_NOMEM;
        goto done;
    }
    ds->owns_source = true;
    char *argv[] = {"-q", NULL};
    o = GDALBuildVRTOptionsNew(argv, NULL);
    int usage = 0;
    vrt = o ? GDALBuildVRT(name, count, NULL, (const char *const *)abs, o, &usage) : NULL;
    if (!vrt) {
        st = eoi_fail(ctx, EO_E_SOURCE, "mosaic: cannot build a VRT of the files: %s",
                      eoi_gdal_msg(ctx, "GDAL error"));
        goto done;
    }
    GDALClose(vrt); /* writes the VRT into /vsimem */
    vrt = NULL;
    st = eoi_dataset_open_source(ctx, ds, false);
done:
    if (o)
        GDALBuildVRTOptionsFree(o);
    for (int32_t i = 0; abs && i < count; i++)
        eoi_free(abs[i]);
    eoi_free(abs);
    return st;
}

eo_status eo_dataset_open_mosaic(eo_ctx *ctx, eo_dataset **out, const char *const *paths,
                                 int32_t count) {
    EOI_CHECK_ARG(ctx, out);
    *out = NULL;
    EOI_CHECK_ARG(ctx, paths && count > 0);
    for (int32_t i = 0; i < count; i++)
        EOI_CHECK_ARG(ctx, paths[i] && *paths[i]);
    if (count == 1)
        return eo_dataset_open(ctx, out, paths[0]);
    eo_dataset **parts = eoi_calloc(ctx, (size_t)count, sizeof *parts);
    eo_dataset *ds = NULL;
    eo_status st = EO_OK;
    if (!parts)
        return EO_E_NOMEM;
    for (int32_t i = 0; i < count; i++) {
        EOI_TRY(st, eo_dataset_open(ctx, &parts[i], paths[i]));
        if (!parts[i]->has_gt || parts[i]->gt[2] != 0 || parts[i]->gt[4] != 0) {
            st = eoi_fail(ctx, EO_E_SOURCE_MISMATCH,
                          "mosaic: %s is %s: mosaics need north-up geotransforms", paths[i],
                          parts[i]->has_gt ? "rotated" : "not georeferenced");
            goto done;
        }
        if (i > 0)
            EOI_TRY(st, compare(ctx, parts, i, paths));
    }
    if (!(ds = eoi_calloc(ctx, 1, sizeof *ds))) {
        st = EO_E_NOMEM;
        goto done;
    }
    char label[512];
    int w = snprintf(label, sizeof label, "mosaic of %d files (%s, ...)", (int)count, paths[0]);
    if (w < 0 || (size_t)w >= sizeof label)
        snprintf(label, sizeof label, "mosaic of %d files", (int)count);
    if (!(ds->path = eoi_strdup(ctx, label))) {
        st = EO_E_NOMEM;
        goto done;
    }
    eoi_gdal_begin(ctx);
    st = build(ctx, ds, parts, paths, count);
    eoi_gdal_end(ctx);
    if (st == EO_OK) {
        *out = ds;
        ds = NULL;
    }
done:
    eo_dataset_close(ds);
    for (int32_t i = 0; i < count; i++)
        eo_dataset_close(parts[i]);
    eoi_free(parts);
    return st;
}
