/* tiles_param.c - parameters shared by the tile operations. */
#include "tiles_param.h"

#include <string.h>
#include <strings.h>

eo_status eoi_tile_opts_from_params(eo_ctx *ctx, eo_tile_opts **out, json_object *params) {
    eo_tile_opts *o = NULL;
    eo_status st = EO_OK;
    EOI_TRY(st, eo_tile_opts_new(ctx, &o));
    EOI_TRY(st, eo_tile_opts_set_size(ctx, o, (int32_t)eoi_param_int(params, "size", 256)));
    EOI_TRY(st,
            eo_tile_opts_set_resampling(
                ctx, o, eo_resampling_from_name(eoi_param_str(params, "resampling", "bilinear"))));
    json_object *bands;
    if (json_object_object_get_ex(params, "bands", &bands)) {
        int32_t b[4];
        int32_t n = (int32_t)json_object_array_length(bands);
        for (int32_t i = 0; i < n && i < 4; i++)
            b[i] = json_object_get_int(json_object_array_get_idx(bands, (size_t)i));
        EOI_TRY(st, eo_tile_opts_set_bands(ctx, o, b, n));
    }
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
