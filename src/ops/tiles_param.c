/* tiles_param.c - parameters shared by the tile operations. */
#include "tiles_param.h"

#include <string.h>
#include <strings.h>

EOI_SETTER_INT(set_size, eo_tile_opts, eo_tile_opts_set_size)

static eo_status set_resampling(eo_ctx *ctx, void *o, json_object *v) {
    return eo_tile_opts_set_resampling(ctx, o, eo_resampling_from_name(json_object_get_string(v)));
}

static eo_status set_bands(eo_ctx *ctx, void *o, json_object *v) {
    int32_t *bands, n;
    EOI_TRY_RET(eoi_param_bands(ctx, &bands, &n, v));
    eo_status st = eo_tile_opts_set_bands(ctx, o, bands, n);
    eoi_free(bands);
    return st;
}

const eoi_param eoi_tile_params[] = {
    {"size", "integer", "256", .choices = "256|512", .desc = "tile size in pixels",
     .set = set_size},
    {"resampling", "string", "\"bilinear\"",
     .choices = "nearest|bilinear|cubic|average|mode|lanczos",
     .desc = "resampling from the source (or the overview chosen)", .set = set_resampling},
    {"bands", "array", .items = "integer", .min = "1", .min_items = 1, .max_items = 4,
     .desc = "source bands to render, e.g. 3,2,1 (default: 1 or 1,2,3)", .set = set_bands},
    {"format", "string", .choices = "png|jpeg|webp|tif",
     .desc = "image format (default: from the file name, else png)"},
    {"quality", "integer", .min = "1", .max = "100", .desc = "JPEG / WebP quality (default 75)"},
    {"scheme", "string", "\"xyz\"", .choices = "xyz|tms",
     .desc = "row order: xyz (row 0 at the north) or tms (row 0 at the south)"},
    {0},
};

eo_status eoi_tile_opts_from_params(eo_ctx *ctx, eo_tile_opts **out, json_object *params) {
    eo_tile_opts *o = NULL;
    eo_status st = EO_OK;
    EOI_TRY(st, eo_tile_opts_new(ctx, &o));
    EOI_TRY(st, eoi_params_apply(ctx, eoi_tile_params, params, o));
    *out = o;
    o = NULL;
done:
    eo_tile_opts_free(o);
    return st;
}

eo_status eoi_tile_format(eo_ctx *ctx, const char **format, json_object *params, const char *path) {
    const char *f = eoi_param_str(params, "format", NULL);
    if (!f && path) {
        const char *dot = strrchr(path, '.');
        if (dot && (strcasecmp(dot, ".jpg") == 0 || strcasecmp(dot, ".jpeg") == 0))
            f = "jpeg";
        else if (dot && strcasecmp(dot, ".webp") == 0)
            f = "webp";
        else if (dot && (strcasecmp(dot, ".tif") == 0 || strcasecmp(dot, ".tiff") == 0))
            f = "tif";
        else if (dot && strcasecmp(dot, ".png") == 0)
            f = "png";
        else if (dot && strchr(dot, '/') == NULL)
            return eoi_fail(ctx, EO_E_PARAM,
                            "parameter 'out': unknown image type '%s' (.png, .jpg, .webp, .tif); "
                            "or give 'format'",
                            dot);
    }
    *format = f ? f : "png";
    return EO_OK;
}
