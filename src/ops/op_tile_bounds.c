/* op_tile_bounds.c - operation "tile_bounds": where a web-mercator tile is,
 * given as z/x/y (XYZ or TMS rows) or as a QuadKey. */
#include "ops_int.h"

#include <stdio.h>
#include <string.h>

static eo_status parse_tile(eo_ctx *ctx, const char *s, bool tms, int32_t *z, int32_t *x,
                            int32_t *y) {
    if (!strchr(s, '/'))
        return eo_tile_from_quadkey(ctx, z, x, y, s);
    int n = 0;
    if (sscanf(s, "%d/%d/%d%n", z, x, y, &n) != 3 || s[n] != '\0')
        return eoi_fail(ctx, EO_E_PARAM,
                        "parameter 'tile': expected Z/X/Y (three integers) or a QuadKey, got '%s'",
                        s);
    if (tms && *z >= 0 && *z <= EO_TILE_MAX_ZOOM)
        *y = eo_tile_flip_y(*z, *y);
    return EO_OK;
}

static eo_status run_tile_bounds(eo_ctx *ctx, json_object *params, json_object **result) {
    bool tms = strcmp(eoi_param_str(params, "scheme", "xyz"), "tms") == 0;
    int32_t z, x, y;
    eo_bbox merc, ll;
    char qk[EO_TILE_MAX_ZOOM + 1];
    eo_status st = parse_tile(ctx, eoi_param_str(params, "tile", ""), tms, &z, &x, &y);
    if (st == EO_OK)
        st = eo_tile_bounds(ctx, z, x, y, &merc, &ll);
    if (st == EO_OK)
        st = eo_tile_quadkey(ctx, qk, sizeof qk, z, x, y);
    if (st != EO_OK)
        return st;
    json_object *r = json_object_new_object();
    json_object_object_add(r, "z", json_object_new_int(z));
    json_object_object_add(r, "x", json_object_new_int(x));
    json_object_object_add(r, "y", json_object_new_int(y));
    json_object_object_add(r, "tms_y", json_object_new_int(eo_tile_flip_y(z, y)));
    json_object_object_add(r, "quadkey", json_object_new_string(qk));
    json_object_object_add(r, "bounds_3857", eoi_json_bbox(&merc));
    json_object_object_add(r, "bounds_4326", eoi_json_bbox(&ll));
    json_object_object_add(r, "resolution_m", eoi_json_double(eo_tile_resolution(z, 0, 256)));
    *result = r;
    return EO_OK;
}

static const eoi_param params[] = {
    {"tile", "string", .desc = "Z/X/Y (e.g. 12/1525/2110) or a QuadKey (e.g. 0231)"},
    {"scheme", "string", "\"xyz\"", .choices = "xyz|tms",
     .desc = "row order of Y: xyz (row 0 at the north) or tms (row 0 at the south)"},
    {0},
};

static const eoi_param result[] = {
    {"z", "integer", .desc = "zoom"},
    {"x", "integer", .desc = "column"},
    {"y", "integer", .desc = "row, XYZ (row 0 at the north)"},
    {"tms_y", "integer", .desc = "row, TMS (row 0 at the south)"},
    {"quadkey", "string", .desc = "Bing QuadKey"},
    {"bounds_3857", "array", .items = "number", .desc = "[minx, miny, maxx, maxy], EPSG:3857"},
    {"bounds_4326", "array", .items = "number", .desc = "[west, south, east, north], EPSG:4326"},
    {"resolution_m", "number", .desc = "metres per pixel of a 256-pixel tile at the equator"},
    {0},
};

const eoi_op eoi_op_tile_bounds = {
    .name = "tile_bounds",
    .cli = "tile-bounds",
    .summary = "Bounds (EPSG:3857 and EPSG:4326), QuadKey and TMS row of a web-mercator tile",
    .params = params,
    .positional = "tile",
    .required = "tile",
    .result = result,
    .run = run_tile_bounds,
};
