/* info.c - eo_dataset_info: a dataset's metadata as one JSON object, with a
 * footprint in EPSG:4326 made like gdalinfo's wgs84Extent (densified). */
#include "raster_int.h"

#include <ctype.h>
#include <math.h>
#include <string.h>

#include <cpl_conv.h>
#include <cpl_string.h>
#include <ogr_srs_api.h>

/* points inserted between two corners of the footprint */
#define FOOTPRINT_DENSIFY 20

static json_object *json_str(const char *s) { return json_object_new_string(s ? s : ""); }

static void put(json_object *o, const char *key, json_object *v) {
    json_object_object_add(o, key, v);
}

static json_object *lower_str(const char *s) {
    char buf[64];
    size_t i = 0;
    for (; s && s[i] && i < sizeof buf - 1; i++)
        buf[i] = (char)tolower((unsigned char)s[i]);
    buf[i] = '\0';
    return json_object_new_string(buf);
}

/* A number, or a string for the values JSON lacks ("nan", "inf", "-inf"). */
static json_object *json_num(double d) {
    if (isnan(d))
        return json_object_new_string("nan");
    if (isinf(d))
        return json_object_new_string(d > 0 ? "inf" : "-inf");
    return eoi_json_double(d);
}

static json_object *band_nodata(GDALRasterBandH band, eo_dtype dt) {
    int has = 0;
    if (dt == EO_DT_I64) {
        int64_t v = GDALGetRasterNoDataValueAsInt64(band, &has);
        return has ? json_object_new_int64(v) : NULL;
    }
    if (dt == EO_DT_U64) {
        uint64_t v = GDALGetRasterNoDataValueAsUInt64(band, &has);
        return has ? json_object_new_uint64(v) : NULL;
    }
    double v = GDALGetRasterNoDataValue(band, &has);
    return has ? json_num(v) : NULL;
}

/* The NAME=VALUE items of a metadata domain (NULL: the default one). */
static json_object *md_object(GDALMajorObjectH h, const char *domain) {
    json_object *o = json_object_new_object();
    char **md = GDALGetMetadata(h, domain);
    for (int i = 0; md && md[i]; i++) {
        char *key = NULL;
        const char *val = CPLParseNameValue(md[i], &key);
        if (key)
            put(o, key, json_str(val));
        CPLFree(key);
    }
    return o;
}

static json_object *band_info(const eo_dataset *ds, int b) {
    GDALRasterBandH band = GDALGetRasterBand(ds->h, b);
    json_object *o = json_object_new_object();
    eo_dtype dt = ds->dtypes[b - 1];
    put(o, "band", json_object_new_int(b));
    put(o, "dtype",
        dt != EO_DT_UNKNOWN ? json_str(eo_dtype_name(dt))
                            : lower_str(GDALGetDataTypeName(GDALGetRasterDataType(band))));
    put(o, "nodata", band_nodata(band, dt));
    put(o, "description", json_str(GDALGetDescription(band)));
    put(o, "color_interp",
        lower_str(GDALGetColorInterpretationName(GDALGetRasterColorInterpretation(band))));
    json_object *ovs = json_object_new_array();
    int n = GDALGetOverviewCount(band);
    for (int i = 0; i < n; i++) {
        GDALRasterBandH ov = GDALGetOverview(band, i);
        if (!ov)
            continue;
        json_object *e = json_object_new_object();
        put(e, "width", json_object_new_int(GDALGetRasterBandXSize(ov)));
        put(e, "height", json_object_new_int(GDALGetRasterBandYSize(ov)));
        json_object_array_add(ovs, e);
    }
    put(o, "overviews", ovs);
    int bw = 0, bh = 0;
    GDALGetBlockSize(band, &bw, &bh);
    json_object *blk = json_object_new_array();
    json_object_array_add(blk, json_object_new_int(bw));
    json_object_array_add(blk, json_object_new_int(bh));
    put(o, "block", blk);
    int has = 0;
    double scale = GDALGetRasterScale(band, &has);
    if (has)
        put(o, "scale", json_num(scale));
    double offset = GDALGetRasterOffset(band, &has);
    if (has)
        put(o, "offset", json_num(offset));
    /* GMF_ALL_VALID 1, GMF_PER_DATASET 2, GMF_ALPHA 4, GMF_NODATA 8 */
    put(o, "mask_flags", json_object_new_int(GDALGetMaskFlags(band)));
    put(o, "metadata", md_object(band, NULL));
    const char *unit = GDALGetRasterUnitType(band);
    put(o, "units", json_str(unit));
    return o;
}

static json_object *crs_info(eo_ctx *ctx, const eo_dataset *ds) {
    OGRSpatialReferenceH srs = GDALGetSpatialRef(ds->h);
    if (!srs || !ds->wkt[0])
        return NULL;
    json_object *o = json_object_new_object();
    int epsg = eoi_crs_epsg(ctx, ds->wkt);
    put(o, "epsg", epsg ? json_object_new_int(epsg) : NULL);
    put(o, "wkt", json_str(ds->wkt));
    put(o, "name", json_str(OSRGetName(srs)));
    bool geographic = OSRIsGeographic(srs) != 0;
    put(o, "geographic", json_object_new_boolean(geographic));
    char *units = NULL;
    if (geographic)
        OSRGetAngularUnits(srs, &units);
    else
        OSRGetLinearUnits(srs, &units);
    put(o, "units", units ? json_str(units) : NULL);
    /* WKT1 as GDAL writes it, with every authority id the file's CRS has
     * (the WKT2 above keeps only the top one): what rasterio's CRS holds */
    char *wkt1 = NULL;
    if (OSRExportToWktEx(srs, &wkt1, NULL) == OGRERR_NONE && wkt1)
        put(o, "wkt1", json_str(wkt1));
    CPLFree(wkt1);
    return o;
}

static json_object *number_array(const double *v, int n) {
    json_object *a = json_object_new_array();
    for (int i = 0; i < n; i++)
        json_object_array_add(a, eoi_json_double(v[i]));
    return a;
}

static void apply_gt(const double gt[6], double px, double py, double *x, double *y) {
    *x = gt[0] + px * gt[1] + py * gt[2];
    *y = gt[3] + px * gt[4] + py * gt[5];
}

/* Footprint polygon and bbox in EPSG:4326; both stay NULL when the raster
 * has no CRS or geotransform or the corners cannot be transformed. */
static void footprint(eo_ctx *ctx, const eo_dataset *ds, json_object **poly, json_object **bbox) {
    *poly = *bbox = NULL;
    if (!ds->has_gt || !ds->wkt[0])
        return;
    PJ *pj = NULL;
    if (eoi_crs_transformer(ctx, &pj, ds->wkt, "EPSG:4326") != EO_OK) {
        eoi_log(ctx, EO_LOG_DEBUG, "%s: no footprint: %s", ds->path, eo_ctx_errmsg(ctx));
        eo_ctx_clear_error(ctx);
        return;
    }
    double w = (double)ds->width, h = (double)ds->height;
    /* upper-left, lower-left, lower-right, upper-right, as gdalinfo does */
    const double corners[5][2] = {{0, 0}, {0, h}, {w, h}, {w, 0}, {0, 0}};
    json_object *ring = json_object_new_array();
    double xmin = HUGE_VAL, ymin = HUGE_VAL, xmax = -HUGE_VAL, ymax = -HUGE_VAL;
    bool ok = true;
    for (int c = 0; c < 4 && ok; c++) {
        for (int k = 0; k <= FOOTPRINT_DENSIFY; k++) {
            double t = (double)k / (FOOTPRINT_DENSIFY + 1);
            double px = corners[c][0] + t * (corners[c + 1][0] - corners[c][0]);
            double py = corners[c][1] + t * (corners[c + 1][1] - corners[c][1]);
            PJ_COORD in = {{0, 0, 0, 0}};
            apply_gt(ds->gt, px, py, &in.xy.x, &in.xy.y);
            PJ_COORD r = proj_trans(pj, PJ_FWD, in);
            bool good = isfinite(r.xy.x) && isfinite(r.xy.y) && r.xy.x != HUGE_VAL;
            if (!good) {
                if (k == 0)
                    ok = false; /* a corner: no footprint */
                continue;       /* an intermediate point: skip it */
            }
            json_object *pt = json_object_new_array();
            json_object_array_add(pt, eoi_json_double(r.xy.x));
            json_object_array_add(pt, eoi_json_double(r.xy.y));
            json_object_array_add(ring, pt);
            xmin = fmin(xmin, r.xy.x);
            xmax = fmax(xmax, r.xy.x);
            ymin = fmin(ymin, r.xy.y);
            ymax = fmax(ymax, r.xy.y);
        }
    }
    proj_destroy(pj);
    proj_errno_reset(NULL);
    if (!ok) {
        json_object_put(ring);
        return;
    }
    /* close the ring on the first point */
    json_object *first = json_object_array_get_idx(ring, 0);
    json_object *close = json_object_new_array();
    json_object_array_add(close, json_object_get(json_object_array_get_idx(first, 0)));
    json_object_array_add(close, json_object_get(json_object_array_get_idx(first, 1)));
    json_object_array_add(ring, close);
    json_object *rings = json_object_new_array();
    json_object_array_add(rings, ring);
    *poly = json_object_new_object();
    put(*poly, "type", json_object_new_string("Polygon"));
    put(*poly, "coordinates", rings);
    const double b[4] = {xmin, ymin, xmax, ymax};
    *bbox = number_array(b, 4);
}

static json_object *metadata(const eo_dataset *ds) { return md_object(ds->h, NULL); }

static eo_status build_info(eo_ctx *ctx, char **out_json, const eo_dataset *ds) {
    json_object *o = json_object_new_object();
    if (!o)
        return eoi_fail(ctx, EO_E_NOMEM, "out of memory building the info of %s", ds->path);
    put(o, "path", json_str(ds->path));
    put(o, "driver", json_str(ds->driver));
    put(o, "width", json_object_new_int64(ds->width));
    put(o, "height", json_object_new_int64(ds->height));
    put(o, "band_count", json_object_new_int(ds->band_count));
    json_object *bands = json_object_new_array();
    for (int b = 1; b <= ds->band_count; b++)
        json_object_array_add(bands, band_info(ds, b));
    put(o, "bands", bands);
    put(o, "crs", crs_info(ctx, ds));
    const double *gt = ds->gt;
    if (ds->has_gt) {
        put(o, "geotransform", number_array(gt, 6));
        const double ps[2] = {sqrt(gt[1] * gt[1] + gt[4] * gt[4]),
                              sqrt(gt[2] * gt[2] + gt[5] * gt[5])};
        put(o, "pixel_size", number_array(ps, 2));
        put(o, "rotated", json_object_new_boolean(gt[2] != 0 || gt[4] != 0));
        /* angle of the column axis from map east, counter-clockwise */
        double rot = atan2(gt[4], gt[1]) * 180.0 / M_PI;
        put(o, "rotation_deg", eoi_json_double(rot == 0 ? 0 : rot));
        double w = (double)ds->width, h = (double)ds->height;
        const double px[4][2] = {{0, 0}, {0, h}, {w, h}, {w, 0}};
        double bb[4] = {HUGE_VAL, HUGE_VAL, -HUGE_VAL, -HUGE_VAL};
        for (int i = 0; i < 4; i++) {
            double x, y;
            apply_gt(gt, px[i][0], px[i][1], &x, &y);
            bb[0] = fmin(bb[0], x);
            bb[1] = fmin(bb[1], y);
            bb[2] = fmax(bb[2], x);
            bb[3] = fmax(bb[3], y);
        }
        put(o, "bbox", number_array(bb, 4));
    } else {
        put(o, "geotransform", NULL);
        put(o, "pixel_size", NULL);
        put(o, "rotated", json_object_new_boolean(0));
        put(o, "rotation_deg", eoi_json_double(0));
        put(o, "bbox", NULL);
    }
    json_object *poly, *bbox;
    footprint(ctx, ds, &poly, &bbox);
    put(o, "footprint", poly);
    put(o, "bbox_4326", bbox);
    put(o, "overview_count", json_object_new_int(ds->overview_count));
    put(o, "metadata", metadata(ds));
    put(o, "image_structure", md_object(ds->h, "IMAGE_STRUCTURE"));
    eo_status st = eoi_json_dump(ctx, out_json, o, false);
    json_object_put(o);
    return st;
}

eo_status eo_dataset_info(eo_ctx *ctx, char **out_json, eo_dataset *ds) {
    EOI_CHECK_ARG(ctx, out_json);
    *out_json = NULL;
    EOI_CHECK_ARG(ctx, ds && ds->h);
    eoi_gdal_begin(ctx);
    eo_status st = build_info(ctx, out_json, ds);
    eoi_gdal_end(ctx);
    return st;
}
