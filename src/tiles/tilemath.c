/* tilemath.c - the web-mercator tile grid: bounds, point to tile, XYZ/TMS,
 * QuadKeys, ground resolution, and the tiles covering an AOI. */
#include "geom_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define ORIGIN EOI_MERC_HALF      /* half the width of the grid, metres */
#define MAX_COVER_TILES (1 << 24) /* tiles in an AOI's bounding box */

static eo_status check_zoom(eo_ctx *ctx, int32_t z) {
    if (z < 0 || z > EO_TILE_MAX_ZOOM)
        return eoi_fail(ctx, EO_E_ARG, "zoom %d is outside 0..%d", (int)z, EO_TILE_MAX_ZOOM);
    return EO_OK;
}

static eo_status check_tile(eo_ctx *ctx, int32_t z, int32_t x, int32_t y) {
    eo_status st = check_zoom(ctx, z);
    if (st != EO_OK)
        return st;
    int64_t n = (int64_t)1 << z;
    if (x < 0 || x >= n || y < 0 || y >= n)
        return eoi_fail(ctx, EO_E_ARG,
                        "tile %d/%d/%d does not exist: x and y run from 0 to %lld "
                        "at zoom %d",
                        (int)z, (int)x, (int)y, (long long)(n - 1), (int)z);
    return EO_OK;
}

eo_status eo_tile_bounds(eo_ctx *ctx, int32_t z, int32_t x, int32_t y, eo_bbox *mercator,
                         eo_bbox *lonlat) {
    if (!ctx)
        return EO_E_ARG;
    eo_status st = check_tile(ctx, z, x, y);
    if (st != EO_OK)
        return st;
    double span = 2 * ORIGIN / (double)((int64_t)1 << z);
    eo_bbox m = {-ORIGIN + x * span, ORIGIN - (y + 1) * span, -ORIGIN + (x + 1) * span,
                 ORIGIN - y * span};
    if (mercator)
        *mercator = m;
    if (lonlat)
        *lonlat = (eo_bbox){eoi_merc_col_lon(x, z), eoi_merc_row_lat((int64_t)y + 1, z),
                            eoi_merc_col_lon((int64_t)x + 1, z), eoi_merc_row_lat(y, z)};
    return EO_OK;
}

/* Tile column / row of a point in mercator metres, clamped to the grid. */
static void merc_to_tile(double mx, double my, int32_t z, int64_t *x, int64_t *y) {
    int64_t n = (int64_t)1 << z;
    double fx, fy;
    eoi_merc_tile_f(mx, my, z, &fx, &fy);
    *x = fx < 0 ? 0 : fx >= (double)n ? n - 1 : (int64_t)fx;
    *y = fy < 0 ? 0 : fy >= (double)n ? n - 1 : (int64_t)fy;
}

eo_status eo_tile_at(eo_ctx *ctx, double lon, double lat, int32_t z, int32_t *x, int32_t *y) {
    if (!ctx)
        return EO_E_ARG;
    EOI_CHECK_ARG(ctx, x && y);
    *x = *y = 0;
    eo_status st = check_zoom(ctx, z);
    if (st != EO_OK)
        return st;
    if (!(lon >= -180 && lon <= 180) || !(lat >= -90 && lat <= 90))
        return eoi_fail(ctx, EO_E_ARG, "point (%.17g, %.17g) is not a longitude/latitude", lon,
                        lat);
    int64_t tx, ty;
    merc_to_tile(eoi_merc_x(lon), eoi_merc_y(lat), z, &tx, &ty);
    *x = (int32_t)tx;
    *y = (int32_t)ty;
    return EO_OK;
}

int32_t eo_tile_flip_y(int32_t z, int32_t y) {
    if (z < 0 || z > EO_TILE_MAX_ZOOM)
        return -1;
    return (int32_t)((((int64_t)1 << z) - 1) - y);
}

eo_status eo_tile_quadkey(eo_ctx *ctx, char *buf, size_t capacity, int32_t z, int32_t x,
                          int32_t y) {
    if (!ctx)
        return EO_E_ARG;
    EOI_CHECK_ARG(ctx, buf);
    eo_status st = check_tile(ctx, z, x, y);
    if (st != EO_OK)
        return st;
    if (capacity < (size_t)z + 1)
        return eoi_fail(ctx, EO_E_ARG, "a QuadKey of zoom %d needs %d bytes, got %zu", (int)z,
                        (int)z + 1, capacity);
    for (int32_t i = z; i > 0; i--) {
        int32_t mask = 1 << (i - 1);
        buf[z - i] = (char)('0' + ((x & mask) ? 1 : 0) + ((y & mask) ? 2 : 0));
    }
    buf[z] = '\0';
    return EO_OK;
}

eo_status eo_tile_from_quadkey(eo_ctx *ctx, int32_t *z, int32_t *x, int32_t *y,
                               const char *quadkey) {
    if (!ctx)
        return EO_E_ARG;
    EOI_CHECK_ARG(ctx, z && x && y && quadkey);
    *z = *x = *y = 0;
    size_t n = strlen(quadkey);
    if (n > EO_TILE_MAX_ZOOM)
        return eoi_fail(ctx, EO_E_ARG, "QuadKey '%.40s...' has %zu digits; zoom %d is the most",
                        quadkey, n, EO_TILE_MAX_ZOOM);
    int32_t tx = 0, ty = 0;
    for (size_t i = 0; i < n; i++) {
        char c = quadkey[i];
        if (c < '0' || c > '3')
            return eoi_fail(ctx, EO_E_ARG, "QuadKey '%s': digit %zu is '%c', not 0, 1, 2 or 3",
                            quadkey, i + 1, c);
        tx = tx << 1 | ((c - '0') & 1);
        ty = ty << 1 | ((c - '0') >> 1);
    }
    *z = (int32_t)n;
    *x = tx;
    *y = ty;
    return EO_OK;
}

double eo_tile_resolution(int32_t z, double lat, int32_t tile_size) {
    if (z < 0 || z > EO_TILE_MAX_ZOOM || tile_size <= 0 || !(lat >= -90 && lat <= 90))
        return 0;
    return 2 * ORIGIN * cos(lat * M_PI / 180.0) / ((double)tile_size * (double)((int64_t)1 << z));
}

eo_status eo_tile_zoom_for_resolution(eo_ctx *ctx, int32_t *z, double res_m, double lat,
                                      int32_t tile_size) {
    if (!ctx)
        return EO_E_ARG;
    EOI_CHECK_ARG(ctx, z);
    *z = 0;
    if (!(res_m > 0) || !isfinite(res_m))
        return eoi_fail(ctx, EO_E_ARG, "resolution %g m must be a positive number", res_m);
    if (!(lat > -90 && lat < 90))
        return eoi_fail(ctx, EO_E_ARG, "latitude %g is outside (-90, 90)", lat);
    if (tile_size <= 0 || tile_size > 65536)
        return eoi_fail(ctx, EO_E_ARG, "tile size %d is outside 1..65536", (int)tile_size);
    int32_t zz = 0;
    /* a relative tolerance, so that a resolution computed for zoom z maps to z */
    while (zz < EO_TILE_MAX_ZOOM && eo_tile_resolution(zz, lat, tile_size) > res_m * (1 + 1e-9))
        zz++;
    *z = zz;
    return EO_OK;
}

/* ---- tiles covering an AOI ---------------------------------------------- */

static GEOSGeometry *box(GEOSContextHandle_t h, double x0, double y0, double x1, double y1) {
    return GEOSGeom_createRectangle_r(h, x0, y0, x1, y1);
}

/* The AOI in EPSG:3857, cut to the grid's latitude range; NULL (and EO_OK)
 * when nothing of it lies on the grid. */
static eo_status aoi_in_mercator(eo_ctx *ctx, eo_geom **out, const eo_geom *aoi) {
    *out = NULL;
    eo_geom *ll = NULL;
    eo_status st = EO_OK;
    EOI_TRY(st, eo_geom_transform(ctx, &ll, aoi, "EPSG:4326"));
    GEOSGeometry *grid = box(ctx->geos, -180, -EOI_MERC_MAX_LAT, 180, EOI_MERC_MAX_LAT);
    GEOSGeometry *cut = grid ? GEOSIntersection_r(ctx->geos, eoi_geom_geos(ll), grid) : NULL;
    if (grid)
        GEOSGeom_destroy_r(ctx->geos, grid);
    if (!cut) {
        st = eoi_geos_fail(ctx, "cutting the AOI to the web-mercator grid");
        goto done;
    }
    GEOSGeometry *poly = NULL;
    EOI_TRY(st, eoi_geos_polygonal_take(ctx, &poly, cut));
    if (GEOSisEmpty_r(ctx->geos, poly) == 1) {
        GEOSGeom_destroy_r(ctx->geos, poly);
        goto done;
    }
    eo_geom *ll_cut = NULL;
    EOI_TRY(st, eoi_geom_from_geos_take(ctx, &ll_cut, poly, "EPSG:4326"));
    st = eo_geom_transform(ctx, out, ll_cut, "EPSG:3857");
    eo_geom_free(ll_cut);
done:
    eo_geom_free(ll);
    return st;
}

eo_status eo_tiles_cover(eo_ctx *ctx, eo_tile **tiles, int64_t *count, const eo_geom *aoi,
                         int32_t z) {
    if (!ctx)
        return EO_E_ARG;
    EOI_CHECK_ARG(ctx, tiles && count);
    *tiles = NULL;
    *count = 0;
    EOI_CHECK_ARG(ctx, aoi);
    eo_status st = check_zoom(ctx, z);
    if (st != EO_OK)
        return st;
    eo_geom *merc = NULL;
    const GEOSPreparedGeometry *prep = NULL;
    eo_tile *v = NULL;
    EOI_TRY(st, aoi_in_mercator(ctx, &merc, aoi));
    if (!merc) {
        /* nothing on the grid: no tiles (an empty allocation the caller frees) */
        if (!(*tiles = eoi_malloc(ctx, sizeof **tiles)))
            st = EO_E_NOMEM;
        goto done;
    }
    eo_bbox bb;
    const GEOSGeometry *g = eoi_geom_geos(merc);
    EOI_TRY(st, eo_geom_bbox(ctx, merc, &bb));
    int64_t tx0, ty0, tx1, ty1; /* ty0: the northernmost row */
    merc_to_tile(bb.xmin, bb.ymax, z, &tx0, &ty0);
    merc_to_tile(bb.xmax, bb.ymin, z, &tx1, &ty1);
    int64_t nbox = (tx1 - tx0 + 1) * (ty1 - ty0 + 1);
    if (nbox > MAX_COVER_TILES) {
        st = eoi_fail(ctx, EO_E_AOI_TOO_LARGE,
                      "the AOI spans %lld x %lld tiles at zoom %d; at most %d tiles are listed",
                      (long long)(tx1 - tx0 + 1), (long long)(ty1 - ty0 + 1), (int)z,
                      MAX_COVER_TILES);
        goto done;
    }
    if (!(prep = GEOSPrepare_r(ctx->geos, g))) {
        st = eoi_geos_fail(ctx, "preparing the AOI");
        goto done;
    }
    size_t cap = nbox < 64 ? (size_t)nbox : 64, n = 0;
    if (!(v = eoi_malloc(ctx, cap * sizeof *v))) {
        st = EO_E_NOMEM;
        goto done;
    }
    double span = 2 * ORIGIN / (double)((int64_t)1 << z);
    for (int64_t ty = ty0; ty <= ty1; ty++) {
        EOI_TRY(st, eoi_check_cancel(ctx));
        for (int64_t tx = tx0; tx <= tx1; tx++) {
            GEOSGeometry *t = box(ctx->geos, -ORIGIN + tx * span, ORIGIN - (ty + 1) * span,
                                  -ORIGIN + (tx + 1) * span, ORIGIN - ty * span);
            if (!t) {
                st = eoi_geos_fail(ctx, "making a tile");
                goto done;
            }
            /* interiors meet: they intersect and do not merely touch */
            char hit = GEOSPreparedIntersects_r(ctx->geos, prep, t);
            if (hit == 1)
                hit = GEOSPreparedTouches_r(ctx->geos, prep, t) == 1 ? 0 : 1;
            GEOSGeom_destroy_r(ctx->geos, t);
            if (hit == 2) {
                st = eoi_geos_fail(ctx, "testing a tile");
                goto done;
            }
            if (!hit)
                continue;
            if (n == cap) {
                eo_tile *w = eoi_realloc(ctx, v, 2 * cap * sizeof *v);
                if (!w) {
                    st = EO_E_NOMEM;
                    goto done;
                }
                v = w;
                cap *= 2;
            }
            v[n++] = (eo_tile){z, (int32_t)tx, (int32_t)ty};
        }
    }
    *tiles = v;
    *count = (int64_t)n;
    v = NULL;
done:
    if (prep)
        GEOSPreparedGeom_destroy_r(ctx->geos, prep);
    eoi_free(v);
    eo_geom_free(merc);
    return st;
}
