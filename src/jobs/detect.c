/* detect.c - the detect plan: parameters resolved into a source, an AOI, a
 * model and partitions (limits checked before any work), one partition run
 * (source -> model -> polygons, in memory), the finish (post-processing
 * blocks, coverage check with the likely cause, warnings, output) and the
 * estimate. job.c keeps the state of a run; detect_api.c is the C API. */
#include "jobs_int.h"

#include "../analytics/analytics_int.h"
#include "../infer/infer_int.h"
#include "../tiles/tiles_int.h"
#include "../vector/vector_int.h"
#include "geom_int.h"

#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* the parameter schema below is one long string literal */
#pragma GCC diagnostic ignored "-Woverlength-strings"

#ifndef EOPROC_SOURCE_DIR
#define EOPROC_SOURCE_DIR ""
#endif

static const char *const block_names[BLK_N] = {"min_area", "fill_holes", "simplify", "regularize",
                                               "classify"};
static const bool block_default[BLK_N] = {true, true, true, false, true};

eo_status eoi_detect_validate(eo_ctx *ctx, json_object *params) {
    json_object *schema = NULL;
    eo_status st = eoi_detect_schema(ctx, &schema);
    if (st != EO_OK)
        return st;
    st = eoi_schema_validate(ctx, schema, params, "");
    json_object_put(schema);
    return st;
}

static const char *pstr(json_object *p, const char *k) {
    json_object *v = NULL;
    return json_object_object_get_ex(p, k, &v) && v && json_object_is_type(v, json_type_string)
               ? json_object_get_string(v)
               : NULL;
}

static double pnum(json_object *p, const char *k, double dflt) {
    json_object *v = NULL;
    return json_object_object_get_ex(p, k, &v) && v ? json_object_get_double(v) : dflt;
}

static int64_t pint(json_object *p, const char *k, int64_t dflt) {
    json_object *v = NULL;
    return json_object_object_get_ex(p, k, &v) && v ? json_object_get_int64(v) : dflt;
}

static bool pbool(json_object *p, const char *k) {
    json_object *v = NULL;
    return json_object_object_get_ex(p, k, &v) && v && json_object_get_boolean(v);
}

/* ---- the AOI -------------------------------------------------------------- */

static eo_status parse_aoi(eo_ctx *ctx, eo_geom **out, json_object *params) {
    json_object *v = NULL;
    eo_geom_opts *go = NULL;
    eo_status st = EO_OK;
    if (!json_object_object_get_ex(params, "aoi", &v) || !v)
        return eoi_fail(ctx, EO_E_PARAM, "parameter 'aoi' is required");
    EOI_TRY(st, eo_geom_opts_new(ctx, &go));
    EOI_TRY(st,
            eo_geom_opts_set_crs(ctx, go, pstr(params, "crs") ? pstr(params, "crs") : "EPSG:4326"));
    EOI_TRY(st, eo_geom_opts_set_repair(ctx, go, pbool(params, "repair")));
    EOI_TRY(st, eo_geom_opts_set_allow_z(ctx, go, pbool(params, "allow_z")));
    const char *text = json_object_is_type(v, json_type_string)
                           ? json_object_get_string(v)
                           : json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
    const char *q = text;
    while (*q == ' ' || *q == '\n' || *q == '\t' || *q == '\r')
        q++;
    st = *q == '{' || *q == '[' ? eo_geom_from_geojson(ctx, out, text, go)
                                : eo_geom_from_geojson_file(ctx, out, text, go);
done:
    eo_geom_opts_free(go);
    return st;
}

/* Does the AOI's first coordinate look like a latitude? true when swapping
 * x and y puts its centre inside bbox (lon/lat) while it is not already. */
static bool looks_swapped(eo_ctx *ctx, const eo_geom *aoi, const eo_bbox *bbox_ll) {
    eo_geom *ll = NULL;
    eo_bbox b;
    bool r = false;
    if (eo_geom_transform(ctx, &ll, aoi, "EPSG:4326") != EO_OK ||
        eo_geom_bbox(ctx, ll, &b) != EO_OK) {
        eo_ctx_clear_error(ctx);
        eo_geom_free(ll);
        return false;
    }
    double cx = (b.xmin + b.xmax) / 2, cy = (b.ymin + b.ymax) / 2;
    bool in =
        cx >= bbox_ll->xmin && cx <= bbox_ll->xmax && cy >= bbox_ll->ymin && cy <= bbox_ll->ymax;
    bool sw =
        cy >= bbox_ll->xmin && cy <= bbox_ll->xmax && cx >= bbox_ll->ymin && cx <= bbox_ll->ymax;
    r = !in && sw && fabs(cx) <= 90;
    eo_geom_free(ll);
    return r;
}

/* ---- the source ------------------------------------------------------------- */

static bool has_file(const char *dir, const char *name) {
    char p[4200];
    struct stat sb;
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return stat(p, &sb) == 0;
}

static bool is_sqlite(const char *path) {
    char head[16] = {0};
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(head, 1, sizeof head, f) : 0;
    if (f)
        fclose(f);
    return n == 16 && memcmp(head, "SQLite format 3", 16) == 0;
}

/* Does a tile file z/x/y.{png,jpg,jpeg,webp} exist in dir? */
static bool tile_file(const char *dir, int32_t z, int64_t x, int64_t y) {
    static const char *const ext[] = {"png", "jpg", "jpeg", "webp"};
    char name[128];
    for (int i = 0; i < 4; i++) {
        snprintf(name, sizeof name, "%d/%lld/%lld.%s", (int)z, (long long)x, (long long)y, ext[i]);
        if (has_file(dir, name))
            return true;
    }
    return false;
}

static eo_status scheme_of(eo_ctx *ctx, const char *s, const char *dir, int32_t *out) {
    if (!s || strcmp(s, "auto") == 0)
        *out =
            dir && has_file(dir, "tilemapresource.xml") ? EO_TILE_SCHEME_TMS : EO_TILE_SCHEME_XYZ;
    else if (strcmp(s, "xyz") == 0)
        *out = EO_TILE_SCHEME_XYZ;
    else if (strcmp(s, "tms") == 0)
        *out = EO_TILE_SCHEME_TMS;
    else if (strcmp(s, "quadkey") == 0)
        *out = EO_TILE_SCHEME_QUADKEY;
    else
        return eoi_fail(ctx, EO_E_PARAM, "scheme: expected auto, xyz, tms or quadkey");
    return EO_OK;
}

static const char *scheme_text(int32_t s) {
    return s == EO_TILE_SCHEME_TMS ? "TMS" : s == EO_TILE_SCHEME_QUADKEY ? "QuadKey" : "XYZ";
}

/* The tiles of the AOI's cover at the zoom, against the limit. */
static eo_status check_tiles(eo_ctx *ctx, eoi_plan *p, int64_t *count) {
    eo_tile *t = NULL;
    eo_status st = eo_tiles_cover(ctx, &t, count, p->aoi, p->zoom);
    eo_free(t);
    if (st != EO_OK)
        return st;
    int64_t max = pint(p->params, "max_tiles", 50000);
    if (*count > max)
        return eoi_fail(ctx, EO_E_AOI_TOO_LARGE,
                        "the AOI needs %lld tiles at zoom %d, more than max_tiles (%lld): a "
                        "smaller AOI, a lower zoom or a larger max_tiles",
                        (long long)*count, (int)p->zoom, (long long)max);
    return EO_OK;
}

static eo_status open_source(eo_ctx *ctx, eoi_plan *p) {
    json_object *v = NULL;
    if (!json_object_object_get_ex(p->params, "src", &v) || !v)
        return eoi_fail(ctx, EO_E_PARAM, "parameter 'src' is required (or give a dataset)");
    p->own_ds = true;
    if (json_object_is_type(v, json_type_array)) {
        size_t n = json_object_array_length(v);
        const char **paths = eoi_calloc(ctx, n ? n : 1, sizeof *paths);
        if (!paths)
            return EO_E_NOMEM;
        for (size_t i = 0; i < n; i++)
            paths[i] = json_object_get_string(json_object_array_get_idx(v, i));
        eo_status st = eo_dataset_open_mosaic(ctx, &p->ds, paths, (int32_t)n);
        eoi_free(paths);
        return st;
    }
    const char *path = json_object_get_string(v);
    if (!(p->src_label = eoi_strdup(ctx, path)))
        return EO_E_NOMEM;
    struct stat sb;
    bool dir = stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
    bool mbt = !dir && stat(path, &sb) == 0 && is_sqlite(path);
    /* a URL or file template ("https://host/{z}/{x}/{y}.png"): its row order is
     * the one its placeholders say; a URL is fetched by the host's fetcher */
    bool tmpl = !dir && !mbt && stat(path, &sb) != 0 &&
                (strstr(path, "{x}") || strstr(path, "{q}") || strstr(path, "{quadkey}"));
    if (!dir && !mbt && !tmpl)
        return eo_dataset_open(ctx, &p->ds, path);
    if (!json_object_object_get_ex(p->params, "zoom", NULL))
        return eoi_fail(ctx, EO_E_PARAM,
                        "%s: a tile source is read at a zoom: give zoom (e.g. --zoom 18)", path);
    p->is_tiles = true;
    p->zoom = (int32_t)pint(p->params, "zoom", 0);
    eo_status st = scheme_of(ctx, pstr(p->params, "scheme"), dir ? path : NULL, &p->scheme);
    if (st != EO_OK)
        return st;
    if (mbt && p->scheme == EO_TILE_SCHEME_XYZ && !pstr(p->params, "scheme"))
        p->scheme = EO_TILE_SCHEME_TMS;
    if (tmpl)
        p->scheme = strstr(path, "{-y}")  ? EO_TILE_SCHEME_TMS
                    : strstr(path, "{x}") ? EO_TILE_SCHEME_XYZ
                                          : EO_TILE_SCHEME_QUADKEY;
    int64_t ntiles = 0;
    EOI_TRY_RET(check_tiles(ctx, p, &ntiles));
    eo_tilesrc_opts *o = NULL;
    EOI_TRY(st, eo_tilesrc_opts_new(ctx, &o));
    EOI_TRY(st, eo_tilesrc_opts_set_zoom(ctx, o, p->zoom));
    EOI_TRY(st, eo_tilesrc_opts_set_aoi(ctx, o, p->aoi));
    EOI_TRY(st, eo_tilesrc_opts_set_scheme(ctx, o, mbt ? EO_TILE_SCHEME_TMS : p->scheme));
    EOI_TRY(st, eo_tilesrc_opts_set_tile_size(ctx, o, (int32_t)pint(p->params, "tile_size", 256)));
    EOI_TRY(st, eo_tilesrc_opts_set_bands(ctx, o, 4));
    EOI_TRY(st,
            eo_tilesrc_opts_set_corrupt_as_missing(ctx, o, pbool(p->params, "corrupt_as_missing")));
    EOI_TRY(st,
            eo_tilesrc_opts_set_cache_bytes(ctx, o, pint(p->params, "tile_cache_mb", 128) << 20));
    EOI_TRY(st, eo_dataset_open_tiles(ctx, &p->ds, path, o));
done:
    eo_tilesrc_opts_free(o);
    return st;
}

/* ---- the model --------------------------------------------------------------- */

static bool file_exists(const char *p) {
    struct stat sb;
    return p && *p && stat(p, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* The default model: $EOPROC_MODEL, $EOPROC_MODELS/buildings.onnx, the
 * installed share/eoproc/models beside the library, the source tree. */
static eo_status default_model(eo_ctx *ctx, char *buf, size_t cap) {
    const char *env = getenv("EOPROC_MODEL");
    if (env && *env) {
        snprintf(buf, cap, "%s", env);
        return EO_OK;
    }
    char c[3][4200] = {"", "", ""};
    env = getenv("EOPROC_MODELS");
    if (env && *env)
        snprintf(c[0], sizeof c[0], "%.4000s/buildings.onnx", env);
    static const char anchor = 0; /* an address inside the library */
    Dl_info di;
    if (dladdr(&anchor, &di) && di.dli_fname) {
        const char *slash = strrchr(di.dli_fname, '/');
        int n = slash ? (int)(slash - di.dli_fname) : 1;
        snprintf(c[1], sizeof c[1], "%.*s/../share/eoproc/models/buildings.onnx",
                 n < 4000 ? n : 4000, slash ? di.dli_fname : ".");
    }
    if (EOPROC_SOURCE_DIR[0])
        snprintf(c[2], sizeof c[2], "%.4000s/models/buildings.onnx", EOPROC_SOURCE_DIR);
    for (int i = 0; i < 3; i++)
        if (file_exists(c[i])) {
            snprintf(buf, cap, "%.4000s", c[i]);
            return EO_OK;
        }
    return eoi_fail(ctx, EO_E_IO_NOT_FOUND,
                    "no model given and the default model buildings.onnx is not installed: "
                    "give model (--model) or set EOPROC_MODEL");
}

/* A number, or a fraction "a/b". */
static eo_status seg_opts(eo_ctx *ctx, eoi_plan *p, int32_t *nbands) {
    json_object *pa = p->params;
    eo_segment_opts *o = NULL;
    eo_status st = EO_OK;
    EOI_TRY(st, eo_segment_opts_new(ctx, &o));
    p->so = o;
    EOI_TRY(st, eo_segment_opts_set_tile(ctx, o, (int32_t)p->tile));
    EOI_TRY(st, eo_segment_opts_set_overlap(ctx, o, (int32_t)p->overlap));
    EOI_TRY(st, eo_segment_opts_set_batch(ctx, o, (int32_t)pint(pa, "batch", 1)));
    EOI_TRY(st, eoi_segment_opts_from_json(ctx, o, pa, nbands));
    if (!*nbands)
        *nbands = eo_dataset_band_count(p->ds);
    if (p->is_tiles)
        eoi_segment_opts_set_mask_band(o, 4); /* the alpha band: no tile there */
done:
    return st;
}

/* ---- pixel size ----------------------------------------------------------- */

/* Ground size (m) of a source pixel at the AOI's centre. */
static double pixel_metres(eo_ctx *ctx, eoi_plan *p, double *lat) {
    eo_geom *ll = NULL;
    eo_bbox b = {0, 0, 0, 0};
    if (eo_geom_transform(ctx, &ll, p->aoi, "EPSG:4326") == EO_OK)
        eo_geom_bbox(ctx, ll, &b);
    eo_ctx_clear_error(ctx);
    eo_geom_free(ll);
    *lat = (b.ymin + b.ymax) / 2;
    double px = sqrt(fabs(p->gt[1] * p->gt[5] - p->gt[2] * p->gt[4]));
    double c = cos(*lat * M_PI / 180.0);
    int epsg = p->wkt[0] ? eoi_crs_epsg(ctx, p->wkt) : 0;
    if (epsg == 3857)
        return px * c;
    if (p->wkt[0] && strstr(p->wkt, "GEOGCRS") == p->wkt)
        return px * 111319.49 * c;
    return px;
}

/* ---- partitions -------------------------------------------------------------- */

/* The AOI in the source's pixel coordinates, prepared. */
typedef struct pixaoi {
    GEOSGeometry *g;
    const GEOSPreparedGeometry *prep;
} pixaoi;

static eo_status pixel_aoi(eo_ctx *ctx, eoi_plan *p, pixaoi *pa) {
    eo_geom *g = NULL;
    eo_status st = eoi_aoi_to_raster_crs(ctx, &g, p->aoi, p->ds);
    if (st != EO_OK)
        return st;
    double *gt = p->gt, det = gt[1] * gt[5] - gt[2] * gt[4];
    if (det == 0) {
        eo_geom_free(g);
        return eoi_fail(ctx, EO_E_SOURCE, "the source's geotransform is singular");
    }
    /* x' = (gt5 (x - gt0) - gt2 (y - gt3)) / det, y' = (-gt4 (x - gt0) + gt1 (y - gt3)) / det */
    double a = gt[5] / det, b = -gt[2] / det, d = -gt[4] / det, e = gt[1] / det;
    double xo = -(a * gt[0] + b * gt[3]), yo = -(d * gt[0] + e * gt[3]);
    GEOSContextHandle_t h = ctx->geos;
    pa->g = NULL;
    GEOSGeometry *c = GEOSGeom_clone_r(h, g->g);
    eo_geom_free(g);
    if (!c)
        return eoi_geos_fail(ctx, "copying the AOI");
    int ng = GEOSGetNumGeometries_r(h, c);
    GEOSGeometry **polys = eoi_calloc(ctx, (size_t)ng, sizeof *polys);
    if (!polys) {
        GEOSGeom_destroy_r(h, c);
        return EO_E_NOMEM;
    }
    st = EO_OK;
    for (int i = 0; i < ng && st == EO_OK; i++) {
        const GEOSGeometry *poly = GEOSGetGeometryN_r(h, c, i);
        int nh = GEOSGetNumInteriorRings_r(h, poly);
        GEOSGeometry *rings[1 + 256];
        if (nh > 256)
            nh = 256; /* holes past 256 only shrink the test: partitions may stay empty */
        for (int r = 0; r <= nh; r++) {
            const GEOSGeometry *ring =
                r == 0 ? GEOSGetExteriorRing_r(h, poly) : GEOSGetInteriorRingN_r(h, poly, r - 1);
            const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(h, ring);
            unsigned n = 0;
            GEOSCoordSeq_getSize_r(h, cs, &n);
            GEOSCoordSequence *ns = GEOSCoordSeq_create_r(h, n, 2);
            for (unsigned k = 0; ns && k < n; k++) {
                double x, y;
                GEOSCoordSeq_getXY_r(h, cs, k, &x, &y);
                GEOSCoordSeq_setXY_r(h, ns, k, a * x + b * y + xo, d * x + e * y + yo);
            }
            rings[r] = ns ? GEOSGeom_createLinearRing_r(h, ns) : NULL;
        }
        polys[i] = rings[0] ? GEOSGeom_createPolygon_r(h, rings[0], rings + 1, (unsigned)nh) : NULL;
        if (!polys[i])
            st = eoi_geos_fail(ctx, "moving the AOI to pixel coordinates");
    }
    GEOSGeom_destroy_r(h, c);
    if (st == EO_OK)
        pa->g = GEOSGeom_createCollection_r(h, GEOS_MULTIPOLYGON, polys, (unsigned)ng);
    else
        for (int i = 0; i < ng; i++)
            GEOSGeom_destroy_r(h, polys[i]);
    eoi_free(polys);
    if (st == EO_OK && (!pa->g || !(pa->prep = GEOSPrepare_r(h, pa->g))))
        st = eoi_geos_fail(ctx, "preparing the AOI");
    return st;
}

static void pixel_aoi_free(eo_ctx *ctx, pixaoi *pa) {
    if (pa->prep)
        GEOSPreparedGeom_destroy_r(ctx->geos, pa->prep);
    GEOSGeom_destroy_r(ctx->geos, pa->g);
}

/* Does the rectangle meet the AOI's interior? (2 = GEOS failed) */
static char rect_meets(eo_ctx *ctx, const pixaoi *pa, int64_t x, int64_t y, int64_t w, int64_t h) {
    GEOSContextHandle_t gh = ctx->geos;
    GEOSGeometry *r =
        GEOSGeom_createRectangle_r(gh, (double)x, (double)y, (double)(x + w), (double)(y + h));
    if (!r)
        return 2;
    char m = GEOSPreparedIntersects_r(gh, pa->prep, r);
    if (m == 1) { /* touching along an edge only holds no pixel */
        GEOSGeometry *i = GEOSIntersection_r(gh, pa->g, r);
        double area = 0;
        if (i)
            GEOSArea_r(gh, i, &area);
        GEOSGeom_destroy_r(gh, i);
        m = area > 0;
    }
    GEOSGeom_destroy_r(gh, r);
    return m;
}

static eo_status make_parts(eo_ctx *ctx, eoi_plan *p, const pixaoi *pa) {
    int64_t pt = pint(p->params, "partition_tiles", 8);
    int64_t P = pt > 0 ? pt * p->step : 0;
    eo_window a = p->area;
    int64_t gx0 = P ? a.x / P : 0, gx1 = P ? (a.x + a.width - 1) / P : 0;
    int64_t gy0 = P ? a.y / P : 0, gy1 = P ? (a.y + a.height - 1) / P : 0;
    size_t cap = 0;
    for (int64_t gy = gy0; gy <= gy1; gy++)
        for (int64_t gx = gx0; gx <= gx1; gx++) {
            eo_window c = a;
            if (P) {
                int64_t x0 = gx * P > a.x ? gx * P : a.x, y0 = gy * P > a.y ? gy * P : a.y;
                int64_t x1 = (gx + 1) * P < a.x + a.width ? (gx + 1) * P : a.x + a.width;
                int64_t y1 = (gy + 1) * P < a.y + a.height ? (gy + 1) * P : a.y + a.height;
                c = (eo_window){x0, y0, x1 - x0, y1 - y0};
            }
            char m = rect_meets(ctx, pa, c.x, c.y, c.width, c.height);
            if (m == 2)
                return eoi_geos_fail(ctx, "testing a partition against the AOI");
            if (!m)
                continue;
            if (!eoi_grow(ctx, (void **)&p->parts, &cap, (size_t)p->nparts + 1, sizeof *p->parts,
                          16))
                return EO_E_NOMEM;
            p->parts[p->nparts++] = c;
        }
    return EO_OK;
}

/* The tiles along the partitions' seams run once: the partitions run in
 * rows, so the cache holds a row of them across the area (the bottom
 * edges the next row meets) and a partition's side (the right edge the
 * next partition meets), within a memory budget. */
#define CACHE_BUDGET ((size_t)512 << 20)

static eo_status make_cache(eo_ctx *ctx, eoi_plan *p) {
    int64_t pt = pint(p->params, "partition_tiles", 8);
    if (p->nparts < 2 || pt <= 0)
        return EO_OK;
    const eoi_graph *g = eoi_model_graph(p->model);
    int64_t k = g->values[g->output].ndim == 4 ? g->values[g->output].dims[1] : 1;
    int64_t across = p->area.width / p->step + 3, side = pt + 3;
    size_t per = (size_t)p->tile * (size_t)p->tile * ((size_t)(k > 0 ? k : 1) * sizeof(float) + 1);
    size_t fit = CACHE_BUDGET / per;
    int64_t cap = 2 * across + 2 * side;
    cap = (size_t)cap > fit ? (int64_t)fit : cap;
    return cap > 0 ? eoi_tile_cache_new(ctx, &p->cache, (int32_t)cap) : EO_OK;
}

/* ---- the plan --------------------------------------------------------------- */

static void nodata_cause(eo_ctx *ctx, eoi_plan *p, char *why, size_t cap);

/* A tile folder without most of the AOI's tiles fails before any work,
 * naming the likely cause (the run would find the same at the end). */
static eo_status early_check(eo_ctx *ctx, eoi_plan *p) {
    struct stat sb;
    if (!p->is_tiles || !p->src_label || p->scheme == EO_TILE_SCHEME_QUADKEY ||
        stat(p->src_label, &sb) != 0 || !S_ISDIR(sb.st_mode))
        return EO_OK;
    eo_tile *t = NULL;
    int64_t n = 0, have = 0, seen = 0;
    EOI_TRY_RET(eo_tiles_cover(ctx, &t, &n, p->aoi, p->zoom));
    int64_t stride = n > 4096 ? n / 4096 : 1;
    for (int64_t i = 0; i < n; i += stride, seen++) {
        int64_t y = p->scheme == EO_TILE_SCHEME_TMS ? ((int64_t)1 << p->zoom) - 1 - t[i].y : t[i].y;
        have += tile_file(p->src_label, p->zoom, t[i].x, y);
    }
    eo_free(t);
    double share = seen ? (double)have / (double)seen : 0,
           need = pnum(p->params, "min_coverage", 0.5);
    if (share >= need)
        return EO_OK;
    char why[400];
    nodata_cause(ctx, p, why, sizeof why);
    return eoi_fail(ctx, EO_E_NODATA_IN_AOI,
                    "%s: %lld of the AOI's %lld tiles exist at zoom %d (%s), less than "
                    "min_coverage %.0f%%%s",
                    p->src_label,
                    (long long)(seen == n ? have : (int64_t)llround(share * (double)n)),
                    (long long)n, (int)p->zoom, scheme_text(p->scheme), 100 * need, why);
}

static eo_status parse_blocks(eo_ctx *ctx, eoi_plan *p) {
    memcpy(p->blocks, block_default, sizeof p->blocks);
    const char *s = pstr(p->params, "blocks");
    while (s && *s) {
        const char *end = strchr(s, ',');
        size_t len = end ? (size_t)(end - s) : strlen(s);
        const char *eq = memchr(s, '=', len);
        int k = -1;
        for (int i = 0; eq && i < BLK_N; i++)
            if (strlen(block_names[i]) == (size_t)(eq - s) &&
                strncmp(s, block_names[i], (size_t)(eq - s)) == 0)
                k = i;
        size_t vl = eq ? len - (size_t)(eq - s) - 1 : 0;
        bool on = eq && vl == 2 && strncmp(eq + 1, "on", 2) == 0;
        bool off = eq && vl == 3 && strncmp(eq + 1, "off", 3) == 0;
        if (k < 0 || !(on || off))
            return eoi_fail(ctx, EO_E_PARAM,
                            "blocks: '%.*s' is not NAME=on|off with NAME one of min_area, "
                            "fill_holes, simplify, regularize, classify",
                            (int)(len < 60 ? len : 60), s);
        p->blocks[k] = on;
        s = end ? end + 1 : NULL;
    }
    return EO_OK;
}

static eo_status class_names(eo_ctx *ctx, eoi_plan *p) {
    json_object *v = NULL;
    p->background = (int32_t)pint(p->params, "background", 0);
    if (!json_object_object_get_ex(p->params, "classes", &v) || !v)
        return EO_OK;
    size_t n = json_object_array_length(v);
    if (n > EOI_MAX_CLASSES)
        return eoi_fail(ctx, EO_E_PARAM, "classes: at most %d names", EOI_MAX_CLASSES);
    for (size_t i = 0; i < n; i++)
        if (!(p->class_names[i] =
                  eoi_strdup(ctx, json_object_get_string(json_object_array_get_idx(v, i)))))
            return EO_E_NOMEM;
    p->nclass_names = (int32_t)n;
    return EO_OK;
}

void eoi_plan_clear(eoi_plan *p) {
    if (!p)
        return;
    eoi_tile_cache_free(p->cache);
    p->cache = NULL;
    json_object_put(p->params);
    if (p->own_ds)
        eo_dataset_close(p->ds);
    eo_geom_free(p->aoi);
    eo_model_free(p->model);
    eo_segment_opts_free(p->so);
    eoi_free(p->wkt);
    eoi_free(p->parts);
    eoi_free(p->src_label);
    for (int32_t i = 0; i < p->nclass_names; i++)
        eoi_free(p->class_names[i]);
    memset(p, 0, sizeof *p);
}

/* A copy of an AOI on ctx. */
static eo_status geom_copy(eo_ctx *ctx, eo_geom **out, const eo_geom *g) {
    char *gj = NULL;
    eo_geom_opts *o = NULL;
    eo_status st = EO_OK;
    EOI_TRY(st, eo_geom_to_geojson(ctx, &gj, g, 17));
    EOI_TRY(st, eo_geom_opts_new(ctx, &o));
    EOI_TRY(st, eo_geom_opts_set_crs(ctx, o, eo_geom_crs_wkt(g)));
    EOI_TRY(st, eo_geom_from_geojson(ctx, out, gj, o));
done:
    eo_free(gj);
    eo_geom_opts_free(o);
    return st;
}

/* The defaults of the parameters a model card may give, for a model
 * without one (the demo model's values). */
static const char detect_fallbacks[] =
    "{\"bands\": [1, 2, 3], \"scale\": \"1/255\", \"threshold\": 0.5, \"activation\": "
    "\"auto\", \"tile\": 512, \"overlap\": 64, \"classes\": [\"background\", \"building\"], "
    "\"min_area\": 4, \"fill_holes\": 4, \"simplify\": 0.3}";

static eo_status fill_fallbacks(eo_ctx *ctx, json_object *params) {
    json_object *fb = NULL;
    EOI_TRY_RET(eoi_json_parse(ctx, &fb, detect_fallbacks, "detect defaults", EO_E_INTERNAL));
    json_object_object_foreach(fb, key, val) {
        if (!json_object_object_get_ex(params, key, NULL))
            json_object_object_add(params, key, json_object_get(val));
    }
    json_object_put(fb);
    return EO_OK;
}

eo_status eoi_plan_make(eo_ctx *ctx, eoi_plan *p, json_object *params, eo_dataset *src,
                        const eo_geom *aoi) {
    memset(p, 0, sizeof *p);
    p->t0 = eoi_now_s();
    p->params = json_object_get(params);
    eo_status st = EO_OK;
    pixaoi pa = {NULL, NULL};
    int32_t nbands = 0;
    char model[4200];
    const char *mp = pstr(params, "model");
    if (mp)
        snprintf(model, sizeof model, "%s", mp);
    else
        EOI_TRY(st, default_model(ctx, model, sizeof model));
    /* what the user left out comes from the model's card, then the defaults */
    EOI_TRY(st, eoi_card_defaults(ctx, params, model, true));
    EOI_TRY(st, fill_fallbacks(ctx, params));
    EOI_TRY(st, eoi_detect_validate(ctx, params));
    EOI_TRY(st, parse_blocks(ctx, p));
    EOI_TRY(st, class_names(ctx, p));
    /* limits first: nothing is opened for an AOI over them */
    if (aoi)
        EOI_TRY(st, geom_copy(ctx, &p->aoi, aoi));
    else
        EOI_TRY(st, parse_aoi(ctx, &p->aoi, params));
    EOI_TRY(st, eo_geom_area_km2(ctx, p->aoi, &p->aoi_km2));
    double max_km2 = pnum(params, "max_area_km2", 100);
    if (p->aoi_km2 > max_km2) {
        st = eoi_fail(ctx, EO_E_AOI_TOO_LARGE,
                      "the AOI covers %.2f km2, more than max_area_km2 (%g): split it or raise "
                      "the limit",
                      p->aoi_km2, max_km2);
        goto done;
    }
    if (src) {
        p->ds = src;
        p->is_tiles = src->tilesrc != NULL;
        if (p->is_tiles) {
            char *info = NULL;
            json_object *o = NULL;
            EOI_TRY(st, eo_dataset_tiles_info(ctx, &info, src));
            st = eoi_json_parse(ctx, &o, info, "tile info", EO_E_INTERNAL);
            eo_free(info);
            EOI_TRY(st, st);
            p->zoom = (int32_t)pint(o, "zoom", 0);
            const char *sc = pstr(o, "scheme");
            p->scheme = sc && strcmp(sc, "tms") == 0       ? EO_TILE_SCHEME_TMS
                        : sc && strcmp(sc, "quadkey") == 0 ? EO_TILE_SCHEME_QUADKEY
                                                           : EO_TILE_SCHEME_XYZ;
            json_object_put(o);
        }
    } else
        EOI_TRY(st, open_source(ctx, p));
    eo_dataset_get_geotransform(p->ds, p->gt);
    p->width = eo_dataset_width(p->ds);
    p->height = eo_dataset_height(p->ds);
    if (!(p->wkt = eoi_strdup(ctx, eo_dataset_crs_wkt(p->ds)))) {
        st = EO_E_NOMEM;
        goto done;
    }
    if (!p->wkt[0]) {
        st = eoi_fail(ctx, EO_E_SOURCE, "%s: no CRS: the AOI cannot be placed on it", p->ds->path);
        goto done;
    }
    double lat, pxm = pixel_metres(ctx, p, &lat);
    double maxpx = pnum(params, "max_pixel_size", 0);
    if (maxpx > 0 && pxm > maxpx * 1.02) {
        st = eoi_fail(ctx, EO_E_PIXEL_SIZE_TOO_HIGH,
                      "%s: pixels of %.3f m at the AOI, coarser than the model's %.3f m: use "
                      "finer imagery (a higher zoom)",
                      p->ds->path, pxm, maxpx);
        goto done;
    }
    p->tile = pint(params, "tile", 512);
    p->overlap = pint(params, "overlap", 64);
    if (p->tile < 2 * p->overlap) {
        st = eoi_fail(ctx, EO_E_PARAM, "tile %lld is smaller than twice the overlap (%lld)",
                      (long long)p->tile, (long long)p->overlap);
        goto done;
    }
    p->step = p->tile - p->overlap;
    EOI_TRY(st, seg_opts(ctx, p, &nbands));
    int64_t want[4] = {pint(params, "batch", 1), nbands, p->tile, p->tile};
    EOI_TRY(st,
            eoi_segment_model_load(ctx, &p->model, model, want, pstr(params, "model_precision")));
    /* the AOI's window of the source */
    {
        eo_geom *g = NULL;
        EOI_TRY(st, eoi_aoi_to_raster_crs(ctx, &g, p->aoi, p->ds));
        st = eoi_coverage_new(ctx, (eoi_coverage **)&p->cov, g, p->gt);
        eo_geom_free(g);
        EOI_TRY(st, st);
    }
    if (!eoi_coverage_window(p->cov, p->width, p->height, &p->area)) {
        eo_bbox ext = {0, 0, 0, 0};
        char why[200] = "";
        eo_geom *out = NULL;
        if (eoi_dataset_outline(ctx, &out, p->ds) == EO_OK) {
            eo_geom *ll = NULL;
            if (eo_geom_transform(ctx, &ll, out, "EPSG:4326") == EO_OK &&
                eo_geom_bbox(ctx, ll, &ext) == EO_OK && looks_swapped(ctx, p->aoi, &ext))
                snprintf(why, sizeof why,
                         ": the AOI's first coordinate looks like a latitude (GeoJSON is "
                         "longitude, latitude)");
            eo_geom_free(ll);
        }
        eo_geom_free(out);
        eo_ctx_clear_error(ctx);
        st = eoi_fail(ctx, EO_E_NODATA_IN_AOI, "%s: the AOI does not overlap the imagery%s",
                      p->ds->path, why);
        goto done;
    }
    EOI_TRY(st, pixel_aoi(ctx, p, &pa));
    EOI_TRY(st, make_parts(ctx, p, &pa));
    EOI_TRY(st, early_check(ctx, p));
    EOI_TRY(st, make_cache(ctx, p));
done:
    pixel_aoi_free(ctx, &pa);
    if (p->cov) {
        eoi_coverage_free(p->cov);
        p->cov = NULL;
    }
    if (st != EO_OK)
        eoi_plan_clear(p);
    return st;
}

/* ---- one partition ----------------------------------------------------------- */

typedef struct tcount {
    int64_t decoded, missing, corrupt;
} tcount;

static void tile_counts(eo_ctx *ctx, const eo_dataset *ds, tcount *t) {
    char *info = NULL;
    json_object *o = NULL;
    memset(t, 0, sizeof *t);
    if (!ds->tilesrc || eo_dataset_tiles_info(ctx, &info, ds) != EO_OK ||
        eoi_json_parse(ctx, &o, info, "tile info", EO_E_INTERNAL) != EO_OK) {
        eo_free(info);
        eo_ctx_clear_error(ctx);
        return;
    }
    t->decoded = pint(o, "decoded", 0);
    t->missing = pint(o, "missing", 0);
    t->corrupt = pint(o, "corrupt", 0);
    json_object_put(o);
    eo_free(info);
}

/* Write a partition's class and probability rasters into dir. */
static eo_status keep_rasters(eo_ctx *ctx, eoi_plan *p, int64_t id, const eoi_seg_mem *m,
                              const char *dir) {
    eo_raster *rc = NULL, *rp = NULL;
    eo_write_opts *wo = NULL;
    char path[4200];
    eo_status st = EO_OK;
    size_t n = (size_t)m->area.width * (size_t)m->area.height;
    double gt[6];
    memcpy(gt, p->gt, sizeof gt);
    gt[0] += (double)m->area.x * gt[1] + (double)m->area.y * gt[2];
    gt[3] += (double)m->area.x * gt[4] + (double)m->area.y * gt[5];
    EOI_TRY(st, eoi_mkdirs(ctx, dir));
    EOI_TRY(st, eo_write_opts_new(ctx, &wo));
    EOI_TRY(st, eo_write_opts_set_compress(ctx, wo, "ZSTD"));
    EOI_TRY(st, eo_write_opts_set_tiled(ctx, wo, 256));
    EOI_TRY(st, eo_raster_new(ctx, &rc, m->area.width, m->area.height, 1, EO_DT_U8));
    EOI_TRY(st, eo_raster_new(ctx, &rp, m->area.width, m->area.height, m->classes, EO_DT_F32));
    memcpy(eo_raster_data(rc), m->cls, n);
    memcpy(eo_raster_data(rp), m->probs, n * (size_t)m->classes * sizeof(float));
    eo_raster *rs[2] = {rc, rp};
    const char *names[2] = {"classes", "probability"};
    for (int i = 0; i < 2; i++) {
        EOI_TRY(st, eo_raster_set_geotransform(ctx, rs[i], gt));
        EOI_TRY(st, eoi_raster_set_wkt(ctx, rs[i], p->wkt));
        EOI_TRY(st, eo_raster_set_nodata(ctx, rs[i], i == 0 ? 255.0 : NAN));
        snprintf(path, sizeof path, "%s/partition_%05lld_%s.tif", dir, (long long)id, names[i]);
        EOI_TRY(st, eo_raster_write(ctx, rs[i], path, wo));
    }
done:
    eo_raster_free(rc);
    eo_raster_free(rp);
    eo_write_opts_free(wo);
    return st;
}

/* The source pixels partition id reads: the model tiles on the grid that
 * meet it, whole (their halo reaches past the partition). */
static eo_window part_reads(const eoi_plan *p, int64_t id) {
    const eo_window *w = &p->parts[id];
    int64_t kx0 = w->x - p->tile < 0 ? 0 : (w->x - p->tile) / p->step + 1;
    int64_t ky0 = w->y - p->tile < 0 ? 0 : (w->y - p->tile) / p->step + 1;
    int64_t kx1 = (w->x + w->width + p->step - 1) / p->step - 1;
    int64_t ky1 = (w->y + w->height + p->step - 1) / p->step - 1;
    int64_t x1 = kx1 * p->step + p->tile < p->width ? kx1 * p->step + p->tile : p->width;
    int64_t y1 = ky1 * p->step + p->tile < p->height ? ky1 * p->step + p->tile : p->height;
    return (eo_window){kx0 * p->step, ky0 * p->step, x1 - kx0 * p->step, y1 - ky0 * p->step};
}

void eoi_plan_expect(eoi_plan *p, int64_t id, int32_t delta) {
    if (!p->ds || !p->ds->tilesrc || id < 0 || id >= p->nparts)
        return;
    eo_window g = part_reads(p, id);
    eoi_tilesrc_expect(p->ds->tilesrc, &g, delta);
}

eo_status eoi_plan_run_part(eo_ctx *ctx, eoi_plan *p, int64_t id, eoi_part_result *r) {
    memset(r, 0, sizeof *r);
    eoi_seg_mem m = {.want_probs = pstr(p->params, "keep_rasters") != NULL, .cache = p->cache};
    tcount t1;
    eo_status st = EO_OK;
    if (p->ds->tilesrc) { /* a remote source's tiles fetched at once, not as the model reads */
        eo_window g = part_reads(p, id);
        eoi_tilesrc_prefetch(p->ds->tilesrc, &g);
    }
    EOI_TRY(st, eoi_segment_mem(ctx, &m, p->model, p->ds, p->aoi, &p->parts[id], p->so));
    tile_counts(ctx, p->ds, &t1);
    r->fetched = t1.decoded - p->counted_decoded;
    r->missing = t1.missing - p->counted_missing;
    r->corrupt = t1.corrupt - p->counted_corrupt;
    p->counted_decoded = t1.decoded;
    p->counted_missing = t1.missing;
    p->counted_corrupt = t1.corrupt;
    r->aoi_px = m.aoi_px;
    r->valid_px = m.valid_px;
    r->tiles_run = m.tiles_run;
    memcpy(r->hist, m.hist, sizeof r->hist);
    if (m.area.width == 0) {
        st = eoi_features_new(ctx, &r->f, p->gt, p->wkt,
                              (int32_t)pint(p->params, "connectivity", 4));
        goto done;
    }
    if (m.probs)
        EOI_TRY(st, keep_rasters(ctx, p, id, &m, pstr(p->params, "keep_rasters")));
    size_t n = (size_t)m.area.width * (size_t)m.area.height;
    uint8_t bg = (uint8_t)p->background;
    bool classify = p->blocks[BLK_CLASSIFY];
    for (size_t i = 0; i < n; i++) {
        uint8_t c = m.cls[i];
        if (c == bg)
            m.cls[i] = 255;
        else if (!classify && c != 255)
            m.cls[i] = 1;
    }
    EOI_TRY(st, eoi_polygonize_mem(ctx, &r->f, m.cls, m.prob, &m.area, p->width, p->height, p->gt,
                                   p->wkt, (int32_t)pint(p->params, "connectivity", 4)));
    for (size_t i = 0; i < r->f->n; i++)
        r->f->v[i].part = (int32_t)id;
done:
    eoi_seg_mem_clear(&m);
    if (st != EO_OK) {
        eo_features_free(r->f);
        r->f = NULL;
    }
    return st;
}

/* ---- the finish ---------------------------------------------------------------- */

static void add_warning(json_object *result, const char *fmt, ...) EOI_PRINTF(2, 3);
static void add_warning(json_object *result, const char *fmt, ...) {
    char buf[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    json_object *w = NULL;
    if (!json_object_object_get_ex(result, "warnings", &w)) {
        w = json_object_new_array();
        json_object_object_add(result, "warnings", w);
    }
    json_object_array_add(w, json_object_new_string(buf));
}

/* Why the AOI has little imagery, for a tile folder. */
static void nodata_cause(eo_ctx *ctx, eoi_plan *p, char *why, size_t cap) {
    why[0] = '\0';
    const char *dir = p->src_label;
    struct stat sb;
    bool folder = p->is_tiles && dir && stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode);
    if (folder && p->scheme == EO_TILE_SCHEME_XYZ && has_file(dir, "tilemapresource.xml")) {
        snprintf(why, cap, "; the folder has tilemapresource.xml: is it TMS? (--scheme tms)");
        return;
    }
    eo_tile *t = NULL;
    int64_t n = 0;
    if (folder && p->scheme != EO_TILE_SCHEME_QUADKEY &&
        eo_tiles_cover(ctx, &t, &n, p->aoi, p->zoom) == EO_OK) {
        int64_t flipped = 0;
        for (int64_t i = 0; i < n && i < 256; i++) {
            /* the rows the other order would read */
            int64_t fy =
                p->scheme == EO_TILE_SCHEME_TMS ? t[i].y : ((int64_t)1 << p->zoom) - 1 - t[i].y;
            flipped += tile_file(dir, p->zoom, t[i].x, fy);
        }
        if (flipped)
            snprintf(why, cap, "; tiles exist for these rows in %s order: use --scheme %s",
                     p->scheme == EO_TILE_SCHEME_TMS ? "XYZ" : "TMS",
                     p->scheme == EO_TILE_SCHEME_TMS ? "xyz" : "tms");
    }
    eo_free(t);
    eo_ctx_clear_error(ctx);
    if (why[0])
        return;
    /* swapped coordinates: is there imagery where the swapped AOI lies? */
    eo_geom *ll = NULL;
    eo_bbox b;
    if (eo_geom_transform(ctx, &ll, p->aoi, "EPSG:4326") == EO_OK &&
        eo_geom_bbox(ctx, ll, &b) == EO_OK) {
        double cx = (b.xmin + b.xmax) / 2, cy = (b.ymin + b.ymax) / 2;
        int32_t x, y;
        bool found = false;
        if (folder && fabs(cx) <= 85 && eo_tile_at(ctx, cy, cx, p->zoom, &x, &y) == EO_OK) {
            int64_t ry = p->scheme == EO_TILE_SCHEME_TMS ? ((int64_t)1 << p->zoom) - 1 - y : y;
            found = tile_file(dir, p->zoom, x, ry);
        }
        if (found || (fabs(cx) <= 90 && fabs(cy) > 90))
            snprintf(why, cap,
                     "; the AOI's first coordinate looks like a latitude (GeoJSON is longitude, "
                     "latitude)");
    }
    eo_ctx_clear_error(ctx);
    eo_geom_free(ll);
    if (!why[0] && p->is_tiles)
        snprintf(why, cap, "; no tiles at zoom %d in %s order cover it", (int)p->zoom,
                 scheme_text(p->scheme));
}

eo_status eoi_plan_finish(eo_ctx *ctx, eoi_plan *p, eo_features *f, const eoi_part_result *tot,
                          json_object *res) {
    json_object *pa = p->params;
    eo_status st = EO_OK;
    double share = tot->aoi_px > 0 ? (double)tot->valid_px / (double)tot->aoi_px : 0.0;
    double need = pnum(pa, "min_coverage", 0.5);
    json_object_object_add(res, "aoi_km2", eoi_json_double(p->aoi_km2));
    json_object_object_add(res, "coverage", eoi_json_double(share));
    json_object *tiles = json_object_new_object();
    json_object_object_add(tiles, "fetched", json_object_new_int64(tot->fetched));
    json_object_object_add(tiles, "missing", json_object_new_int64(tot->missing));
    json_object_object_add(tiles, "corrupt", json_object_new_int64(tot->corrupt));
    json_object_object_add(res, "tiles", tiles);
    json_object_object_add(res, "model_tiles", json_object_new_int64(tot->tiles_run));
    json_object_object_add(res, "pixels", json_object_new_int64(tot->aoi_px));
    if (share < need) {
        char why[400];
        nodata_cause(ctx, p, why, sizeof why);
        if (p->is_tiles)
            return eoi_fail(ctx, EO_E_NODATA_IN_AOI,
                            "%s: %.1f%% of the AOI has imagery at zoom %d (%s; %lld tiles "
                            "missing), less than min_coverage %.0f%%%s",
                            p->src_label ? p->src_label : p->ds->path, 100 * share, (int)p->zoom,
                            scheme_text(p->scheme), (long long)tot->missing, 100 * need, why);
        return eoi_fail(ctx, EO_E_NODATA_IN_AOI,
                        "%s: %.1f%% of the AOI has imagery, less than min_coverage %.0f%%%s",
                        p->ds->path, 100 * share, 100 * need, why);
    }
    /* one class over (nearly) the whole AOI: the input is likely off */
    int64_t best = 0;
    int32_t bc = 0;
    for (int32_t c = 0; c < 256; c++)
        if (tot->hist[c] > best) {
            best = tot->hist[c];
            bc = c;
        }
    if (tot->valid_px >= 4096 && bc != p->background &&
        (double)best >= 0.98 * (double)tot->valid_px)
        add_warning(res,
                    "the model gave class %d (%s) to %.1f%% of the AOI: check the input scale "
                    "and normalization (e.g. --scale 1/255 for 8-bit imagery)",
                    (int)bc, bc < p->nclass_names ? p->class_names[bc] : "?",
                    100.0 * (double)best / (double)tot->valid_px);
    if (share < 1.0 - 1e-9)
        add_warning(res, "%.1f%% of the AOI has no imagery", 100 * (1 - share));
    /* post-processing blocks */
    json_object *blocks = json_object_new_object();
    for (int i = 0; i < BLK_N; i++)
        json_object_object_add(blocks, block_names[i], json_object_new_boolean(p->blocks[i]));
    json_object_object_add(res, "blocks", blocks);
    double holes = pnum(pa, "fill_holes", 4), tol = pnum(pa, "simplify", 0.3);
    double amin = pnum(pa, "min_area", 4);
    if (p->blocks[BLK_FILL_HOLES] && holes > 0)
        EOI_TRY(st, eo_features_fill_holes(ctx, f, holes));
    if (p->blocks[BLK_REGULARIZE])
        EOI_TRY(st, eo_features_regularize(ctx, f, NULL));
    if (p->blocks[BLK_SIMPLIFY] && tol > 0)
        EOI_TRY(st, eo_features_simplify(ctx, f, tol, EO_SIMPLIFY_TOPOLOGY));
    if (p->blocks[BLK_MIN_AREA] && amin > 0)
        EOI_TRY(st, eo_features_filter_min_area(ctx, f, amin));
    if (p->blocks[BLK_CLASSIFY] && p->nclass_names)
        EOI_TRY(st, eoi_features_set_class_names(ctx, f, (const char *const *)p->class_names,
                                                 p->nclass_names));
    f->has_part = true;
    json_object_object_add(res, "features", json_object_new_int64(eo_features_count(f)));
    /* output */
    {
        eo_vector_write_opts *wo = NULL;
        char *text = NULL;
        const char *out = pstr(pa, "out"), *fmt = pstr(pa, "format");
        if (!fmt && out) {
            const char *dot = strrchr(out, '.');
            fmt = dot && strcasecmp(dot, ".gpkg") == 0  ? "gpkg"
                  : dot && strcasecmp(dot, ".fgb") == 0 ? "fgb"
                                                        : "geojson";
        }
        st = eo_vector_write_opts_new(ctx, &wo);
        if (st == EO_OK)
            st = eo_vector_write_opts_set_format(ctx, wo, fmt ? fmt : "geojson");
        if (st == EO_OK && json_object_object_get_ex(pa, "precision", NULL))
            st = eo_vector_write_opts_set_precision(ctx, wo, (int32_t)pint(pa, "precision", 7));
        if (st == EO_OK && out) {
            st = eo_features_write(ctx, f, out, wo);
            if (st == EO_OK)
                json_object_object_add(res, "out", json_object_new_string(out));
        } else if (st == EO_OK) {
            if (fmt && strcmp(fmt, "geojson") != 0)
                st = eoi_fail(ctx, EO_E_PARAM, "format: without 'out' only geojson");
            json_object *gj = NULL;
            if (st == EO_OK)
                st = eo_features_to_geojson(ctx, &text, f, wo);
            if (st == EO_OK)
                st = eoi_json_parse(ctx, &gj, text, "GeoJSON output", EO_E_INTERNAL);
            if (st == EO_OK)
                json_object_object_add(res, "geojson", gj);
        }
        eo_free(text);
        eo_vector_write_opts_free(wo);
    }
done:
    return st;
}

/* ---- the estimate ------------------------------------------------------------ */

/* Seconds one model run (a batch) takes on one thread: measured once per
 * model file, tile, batch and kernel path, cached in
 * $XDG_CACHE_HOME/eoproc (or ~/.cache/eoproc). */
static eo_status calibrate(eo_ctx *ctx, eoi_plan *p, double *secs, bool *cached) {
    const eoi_graph *g = eoi_model_graph(p->model);
    const eoi_value *iv = &g->values[g->input], *ov = &g->values[g->output];
    char key[256], dir[4096], path[4200];
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    /* v2: the fastest of three runs (one run alone was at the mercy of a
     * neighbour on a shared machine, and its figure stayed in the cache) */
    snprintf(key, sizeof key, "%.0f:%lldx%lldx%lldx%lld:%s:v2", g->flops, (long long)iv->dims[0],
             (long long)iv->dims[1], (long long)iv->dims[2], (long long)iv->dims[3],
             eo_build_info() ? "k" : "");
    if (xdg && *xdg)
        snprintf(dir, sizeof dir, "%s/eoproc", xdg);
    else
        snprintf(dir, sizeof dir, "%s/.cache/eoproc", home && *home ? home : "/tmp");
    snprintf(path, sizeof path, "%s/calibration.json", dir);
    *cached = false;
    json_object *cache = NULL, *v = NULL;
    char *text = NULL;
    size_t len = 0;
    if (eoi_read_file(ctx, &text, &len, path, 1 << 20) == EO_OK)
        eoi_json_parse(ctx, &cache, text, "calibration cache", EO_E_IO_READ);
    eoi_free(text);
    eo_ctx_clear_error(ctx);
    if (!cache || !json_object_is_type(cache, json_type_object)) {
        json_object_put(cache);
        cache = json_object_new_object();
    }
    if (json_object_object_get_ex(cache, key, &v) && json_object_get_double(v) > 0) {
        *secs = json_object_get_double(v);
        *cached = true;
        json_object_put(cache);
        return EO_OK;
    }
    size_t nin = 1, nout = 1;
    for (int i = 0; i < 4; i++) {
        nin *= (size_t)iv->dims[i];
        nout *= (size_t)ov->dims[i];
    }
    float *in = eoi_calloc(ctx, nin, sizeof *in), *out = eoi_malloc(ctx, nout * sizeof *out);
    eo_ctx *w = NULL;
    eo_status st = EO_OK;
    if (!in || !out) {
        st = EO_E_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < nin; i++)
        in[i] = (float)((i * 2654435761u) % 1000) / 1000.0f;
    EOI_TRY(st, eoi_ctx_worker_new(ctx, &w));
    w->threads = 1;
    EOI_TRY(st, eo_model_run(w, p->model, in, iv->dims, 4, out, nout)); /* warm-up */
    for (int r = 0; r < 3; r++) {
        double t0 = eoi_now_s();
        EOI_TRY(st, eo_model_run(w, p->model, in, iv->dims, 4, out, nout));
        double s = eoi_now_s() - t0;
        *secs = r == 0 || s < *secs ? s : *secs;
    }
    json_object_object_add(cache, key, eoi_json_double(*secs));
    if (eoi_mkdirs(ctx, dir) == EO_OK) {
        const char *s = json_object_to_json_string_ext(cache, JSON_C_TO_STRING_PLAIN);
        eoi_write_file(ctx, path, s, strlen(s));
    }
    eo_ctx_clear_error(ctx);
done:
    if (st != EO_OK && w)
        eoi_ctx_take_error(ctx, w);
    eo_ctx_free(w);
    eoi_free(in);
    eoi_free(out);
    json_object_put(cache);
    return st;
}

eo_status eoi_plan_estimate(eo_ctx *ctx, eoi_plan *p, json_object *res) {
    eo_status st = EO_OK;
    pixaoi pa = {NULL, NULL};
    int64_t ntiles = -1, model_tiles = 0;
    double pixels = 0;
    if (p->is_tiles)
        EOI_TRY(st, check_tiles(ctx, p, &ntiles));
    EOI_TRY(st, pixel_aoi(ctx, p, &pa));
    GEOSArea_r(ctx->geos, pa.g, &pixels);
    /* model tiles: those on the grid that meet the AOI (as segmentation runs
     * them), each once: a tile on a seam runs for the first partition that
     * meets it and comes from the cache for the next */
    int64_t gx0 = p->area.x - p->tile < 0 ? 0 : (p->area.x - p->tile) / p->step + 1;
    int64_t gy0 = p->area.y - p->tile < 0 ? 0 : (p->area.y - p->tile) / p->step + 1;
    int64_t gw = (p->area.x + p->area.width) / p->step - gx0 + 1;
    int64_t gh = (p->area.y + p->area.height) / p->step - gy0 + 1;
    uint8_t *seen = eoi_calloc(ctx, (size_t)gw * (size_t)gh, 1);
    if (!seen) {
        st = EO_E_NOMEM;
        goto done;
    }
    for (int64_t i = 0; i < p->nparts; i++) {
        const eo_window *w = &p->parts[i];
        int64_t ky0 = w->y - p->tile < 0 ? 0 : (w->y - p->tile) / p->step + 1;
        int64_t kx0 = w->x - p->tile < 0 ? 0 : (w->x - p->tile) / p->step + 1;
        int64_t endy = p->height - p->tile <= 0 ? 0 : (p->height - p->tile + p->step - 1) / p->step;
        int64_t endx = p->width - p->tile <= 0 ? 0 : (p->width - p->tile + p->step - 1) / p->step;
        int64_t ky1 = (w->y + w->height + p->step - 1) / p->step - 1;
        int64_t kx1 = (w->x + w->width + p->step - 1) / p->step - 1;
        ky1 = ky1 < endy ? ky1 : endy;
        kx1 = kx1 < endx ? kx1 : endx;
        for (int64_t ky = ky0; ky <= ky1; ky++)
            for (int64_t kx = kx0; kx <= kx1; kx++) {
                int64_t x0 = kx * p->step, y0 = ky * p->step;
                int64_t xa = x0 > w->x ? x0 : w->x, ya = y0 > w->y ? y0 : w->y;
                int64_t xb = x0 + p->tile < w->x + w->width ? x0 + p->tile : w->x + w->width;
                int64_t yb = y0 + p->tile < w->y + w->height ? y0 + p->tile : w->y + w->height;
                size_t at = (size_t)(ky - gy0) * (size_t)gw + (size_t)(kx - gx0);
                bool grid = ky >= gy0 && ky - gy0 < gh && kx >= gx0 && kx - gx0 < gw;
                if (grid && seen[at] && p->cache)
                    continue;
                char m = rect_meets(ctx, &pa, xa, ya, xb - xa, yb - ya);
                if (m == 2) {
                    eoi_free(seen);
                    st = eoi_geos_fail(ctx, "testing a tile against the AOI");
                    goto done;
                }
                if (m && grid)
                    seen[at] = 1;
                model_tiles += m;
            }
    }
    eoi_free(seen);
    const eoi_graph *g = eoi_model_graph(p->model);
    int64_t batch = g->values[g->input].dims[0];
    double gflop = g->flops / (double)batch * (double)model_tiles / 1e9;
    double secs = 0;
    bool cached = false;
    /* what a run pays before its first tile: opening the source, loading
     * the model, planning (as this estimate just did) */
    double setup = eoi_now_s() - p->t0;
    EOI_TRY(st, calibrate(ctx, p, &secs, &cached));
    int32_t nt = eoi_threads(ctx);
    nt = nt < 1 ? 1 : nt;
    double runs = ceil((double)model_tiles / (double)batch);
    /* setup, then the pipeline: the nt workers run the model (one thread
     * each) and read the tiles (from a pyramid ~2 ms a tile to read and
     * decode) while blending and vectorizing (~30 ns a pixel) go on beside
     * them, so the work shares the nt cores; no sooner than the runs in
     * turns of nt */
    double work = runs * secs + pixels * 30e-9 + (ntiles > 0 ? (double)ntiles * 2e-3 : 0);
    double turns = ceil(runs / (double)nt) * secs;
    double expect = setup + (work / (double)nt > turns ? work / (double)nt : turns);
    json_object_object_add(res, "aoi_km2", eoi_json_double(p->aoi_km2));
    if (p->is_tiles) {
        json_object_object_add(res, "zoom", json_object_new_int(p->zoom));
        json_object_object_add(res, "tiles", json_object_new_int64(ntiles));
    }
    json_object_object_add(res, "pixels", json_object_new_int64((int64_t)llround(pixels)));
    json_object_object_add(res, "partitions", json_object_new_int64(p->nparts));
    json_object_object_add(res, "model_tiles", json_object_new_int64(model_tiles));
    json_object_object_add(res, "gflop", eoi_json_double(round(gflop * 10) / 10));
    json_object_object_add(res, "seconds_per_model_run", eoi_json_double(secs));
    json_object_object_add(res, "calibration_cached", json_object_new_boolean(cached));
    json_object_object_add(res, "threads", json_object_new_int(nt));
    json_object_object_add(res, "expected_seconds", eoi_json_double(round(expect * 10) / 10));
    json_object *price = NULL;
    if (json_object_object_get_ex(p->params, "price_per_km2", &price) && price)
        json_object_object_add(
            res, "cost",
            eoi_json_double(round(p->aoi_km2 * json_object_get_double(price) * 100) / 100));
done:
    pixel_aoi_free(ctx, &pa);
    return st;
}
