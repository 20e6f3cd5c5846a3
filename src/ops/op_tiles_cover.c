/* op_tiles_cover.c - operation "tiles_cover": the web-mercator tiles whose
 * interior meets an AOI, at one zoom or a range of zooms. */
#include "ops_int.h"

#include <string.h>

static eo_status run_tiles_cover(eo_ctx *ctx, json_object *params, json_object **result) {
    int32_t z0 = (int32_t)eoi_param_int(params, "zoom", 0);
    int32_t z1 = (int32_t)eoi_param_int(params, "max_zoom", z0);
    bool tms = strcmp(eoi_param_str(params, "scheme", "xyz"), "tms") == 0;
    bool quadkeys = eoi_param_bool(params, "quadkeys", false);
    if (z1 < z0)
        return eoi_fail(ctx, EO_E_PARAM, "parameter 'max_zoom': expected a zoom >= %d, got %d",
                        (int)z0, (int)z1);
    eo_geom *aoi = NULL;
    eo_tile *tiles = NULL;
    json_object *r = json_object_new_object(), *list = json_object_new_array(), *qks = NULL;
    int64_t total = 0;
    eo_status st = EO_OK;
    EOI_TRY(st, eoi_param_aoi(ctx, &aoi, params));
    if (quadkeys)
        qks = json_object_new_array();
    for (int32_t z = z0; z <= z1; z++) {
        int64_t n = 0;
        EOI_TRY(st, eoi_progress(ctx, (double)(z - z0) / (z1 - z0 + 1), "tiles"));
        EOI_TRY(st, eo_tiles_cover(ctx, &tiles, &n, aoi, z));
        for (int64_t i = 0; i < n; i++) {
            json_object *t = json_object_new_array();
            json_object_array_add(t, json_object_new_int(tiles[i].z));
            json_object_array_add(t, json_object_new_int(tiles[i].x));
            json_object_array_add(
                t, json_object_new_int(tms ? eo_tile_flip_y(tiles[i].z, tiles[i].y) : tiles[i].y));
            json_object_array_add(list, t);
            if (qks) {
                char qk[EO_TILE_MAX_ZOOM + 1];
                EOI_TRY(st,
                        eo_tile_quadkey(ctx, qk, sizeof qk, tiles[i].z, tiles[i].x, tiles[i].y));
                json_object_array_add(qks, json_object_new_string(qk));
            }
        }
        total += n;
        eo_free(tiles);
        tiles = NULL;
    }
    EOI_TRY(st, eoi_progress(ctx, 1, "tiles"));
    json_object_object_add(r, "count", json_object_new_int64(total));
    json_object_object_add(r, "scheme", json_object_new_string(tms ? "tms" : "xyz"));
    json_object_object_add(r, "tiles", list);
    list = NULL;
    if (qks) {
        json_object_object_add(r, "quadkeys", qks);
        qks = NULL;
    }
    *result = r;
    r = NULL;
done:
    eo_free(tiles);
    eo_geom_free(aoi);
    json_object_put(qks);
    json_object_put(list);
    json_object_put(r);
    return st;
}

static const eoi_param params[] = {
    {"zoom", "integer", .min = "0", .max = "30", .desc = "zoom level"},
    {"max_zoom", "integer", .min = "0", .max = "30",
     .desc = "last zoom level of a range starting at zoom"},
    {"scheme", "string", "\"xyz\"", .choices = "xyz|tms",
     .desc = "row order of the Y values returned"},
    {"quadkeys", "boolean", "false", .desc = "also list the tiles' QuadKeys"},
    {0},
};

static const eoi_param result[] = {
    {"count", "integer", .desc = "number of tiles"},
    {"scheme", "string", .desc = "row order of the Y values"},
    {"tiles", "array", .items = "array", .desc = "[z, x, y] of each tile"},
    {"quadkeys", "array", .desc = "(with quadkeys) the QuadKey of each tile"},
    {0},
};

const eoi_op eoi_op_tiles_cover = {
    .name = "tiles_cover",
    .cli = "cover",
    .summary = "The web-mercator tiles z/x/y (and QuadKeys) that cover an AOI at a zoom",
    .params = params,
    .shared = {eoi_aoi_params},
    .positional = "aoi",
    .required = "aoi,zoom",
    .result = result,
    .run = run_tiles_cover,
};
