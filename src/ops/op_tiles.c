/* op_tiles.c - operation "tiles": a {z}/{x}/{y} pyramid of a raster over a
 * range of zooms (eo_tiles_write). */
#include "tiles_param.h"

#include <stdio.h>
#include <string.h>

/* "12-18", "14" or 14 */
static eo_status zoom_range(eo_ctx *ctx, json_object *params, int32_t *z0, int32_t *z1) {
    json_object *v = NULL;
    json_object_object_get_ex(params, "zoom", &v);
    if (json_object_is_type(v, json_type_int)) {
        *z0 = *z1 = json_object_get_int(v);
    } else {
        const char *s = json_object_get_string(v);
        int a, b, n = 0;
        if (sscanf(s, "%d-%d%n", &a, &b, &n) == 2 && s[n] == '\0') {
            *z0 = a;
            *z1 = b;
        } else if (sscanf(s, "%d%n", &a, &n) == 1 && s[n] == '\0') {
            *z0 = *z1 = a;
        } else {
            return eoi_fail(ctx, EO_E_PARAM,
                            "parameter 'zoom': expected a zoom (14) or a range (12-18), got '%s'",
                            s);
        }
    }
    if (*z0 < 0 || *z1 > EO_TILE_MAX_ZOOM || *z1 < *z0)
        return eoi_fail(ctx, EO_E_PARAM, "parameter 'zoom': %d-%d is not a range within 0-%d",
                        (int)*z0, (int)*z1, EO_TILE_MAX_ZOOM);
    return EO_OK;
}

static eo_status set_scheme(eo_ctx *ctx, void *o, json_object *v) {
    return eo_pyramid_opts_set_tms(ctx, o, strcmp(json_object_get_string(v), "tms") == 0);
}

EOI_SETTER_BOOL(set_keep_empty, eo_pyramid_opts, eo_pyramid_opts_set_keep_empty)
EOI_SETTER_INT(set_png_level, eo_pyramid_opts, eo_pyramid_opts_set_png_level)

static const eoi_param tiles_params[] = {
    {"src", "raster", .desc = "raster file (any format GDAL reads, any CRS)"},
    {"zoom", "string|integer", .desc = "a zoom (14) or a range of zooms (12-18)"},
    {"out", "string", .desc = "folder of the pyramid: OUT/{z}/{x}/{y}.png"},
    {"keep_empty", "boolean", "false", .desc = "also write tiles with no data (transparent)",
     .set = set_keep_empty},
    {"scheme", "string", "\"xyz\"", .choices = "xyz|tms",
     .desc = "row order: xyz (row 0 at the north) or tms (row 0 at the south)", .set = set_scheme},
    {"png_level", "integer", "7", .min = "1", .max = "12",
     .desc = "PNG deflate level: 1 fastest, 12 smallest (7: gdal2tiles' size or smaller)",
     .set = set_png_level},
    {0},
};

static eo_status run_tiles(eo_ctx *ctx, json_object *params, json_object **result) {
    int32_t z0 = 0, z1 = 0;
    const char *format = NULL;
    eo_dataset *ds = NULL;
    eo_tile_opts *to = NULL;
    eo_pyramid_opts *po = NULL;
    char *text = NULL;
    eo_status st = EO_OK;
    EOI_TRY(st, zoom_range(ctx, params, &z0, &z1));
    EOI_TRY(st, eoi_tile_format(ctx, &format, params, NULL));
    EOI_TRY(st, eoi_tile_opts_from_params(ctx, &to, params));
    EOI_TRY(st, eo_pyramid_opts_new(ctx, &po));
    EOI_TRY(st, eo_pyramid_opts_set_format(ctx, po, format,
                                           (int32_t)eoi_param_int(params, "quality", 0)));
    EOI_TRY(st, eoi_params_apply(ctx, tiles_params, params, po));
    EOI_TRY(st, eoi_param_dataset(ctx, &ds, params, "src"));
    EOI_TRY(st, eo_tiles_write(ctx, &text, ds, eoi_param_str(params, "out", ""), z0, z1, to, po));
    st = eoi_json_parse(ctx, result, text, "tiles result", EO_E_INTERNAL);
done:
    eo_free(text);
    eo_pyramid_opts_free(po);
    eo_tile_opts_free(to);
    eo_dataset_close(ds);
    return st;
}

static const eoi_param result[] = {
    {"out", "string", .desc = "the pyramid's folder"},
    {"min_zoom", "integer", .desc = "first zoom written"},
    {"max_zoom", "integer", .desc = "last zoom written"},
    {"scheme", "string", .desc = "xyz or tms"},
    {"format", "string", .desc = "image format"},
    {"tiles_written", "integer", .desc = "tiles written"},
    {"empty_skipped", "integer", .desc = "tiles without data, not written"},
    {0},
};

const eoi_op eoi_op_tiles = {
    .name = "tiles",
    .cli = "tiles",
    .summary = "Write a {z}/{x}/{y} web-mercator tile pyramid of a raster on all threads",
    .params = tiles_params,
    .shared = {eoi_tile_params},
    .positional = "src",
    .required = "src,zoom,out",
    .result = result,
    .run = run_tiles,
};
