/* cog_params.c - the COG writer's parameters, shared by cog and clip. */
#include "cog_params.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* "auto" / "none" / N -> -1 / 0 / N */
static eo_status set_overviews(eo_ctx *ctx, void *o, json_object *v) {
    int32_t levels = -1;
    if (json_object_is_type(v, json_type_int)) {
        levels = (int32_t)json_object_get_int64(v);
    } else {
        const char *s = json_object_get_string(v);
        char *end = NULL;
        long n = strtol(s, &end, 10);
        if (strcmp(s, "auto") == 0)
            levels = -1;
        else if (strcmp(s, "none") == 0)
            levels = 0;
        else if (*s && !*end && n >= 0 && n <= 30)
            levels = (int32_t)n;
        else
            return eoi_fail(ctx, EO_E_PARAM,
                            "overviews: expected auto, none or a number of levels (0..30), "
                            "got '%.50s'",
                            s);
    }
    return eo_cog_opts_set_overviews(ctx, o, levels);
}

static eo_status set_resampling(eo_ctx *ctx, void *o, json_object *v) {
    const char *rs = json_object_get_string(v);
    return strcmp(rs, "auto") == 0
               ? EO_OK
               : eo_cog_opts_set_resampling(ctx, o, eo_resampling_from_name(rs));
}

static eo_status set_nodata(eo_ctx *ctx, void *o, json_object *v) {
    double nd = 0;
    bool has = false;
    json_object *params = json_object_new_object();
    json_object_object_add(params, "nodata", json_object_get(v));
    eo_status st = eoi_param_nodata(ctx, params, &has, &nd);
    json_object_put(params);
    return st != EO_OK ? st : eo_cog_opts_set_nodata(ctx, o, nd);
}

EOI_SETTER_STR(set_compress, eo_cog_opts, eo_cog_opts_set_compress)
EOI_SETTER_INT(set_level, eo_cog_opts, eo_cog_opts_set_level)
EOI_SETTER_STR(set_predictor, eo_cog_opts, eo_cog_opts_set_predictor)
EOI_SETTER_INT(set_blocksize, eo_cog_opts, eo_cog_opts_set_blocksize)
EOI_SETTER_STR(set_bigtiff, eo_cog_opts, eo_cog_opts_set_bigtiff)
EOI_SETTER_BOOL(set_stats, eo_cog_opts, eo_cog_opts_set_stats)

const eoi_param eoi_cog_output_params[] = {
    {"compress", "string", "\"zstd\"", .choices = "zstd|deflate|lzw|none",
     .desc = "tile compression", .set = set_compress},
    {"level", "integer", "0", "0", "22",
     .desc = "compression level (0 = default: zstd 9, deflate 6)", .set = set_level},
    {"predictor", "string", "\"none\"", .choices = "none|horizontal|float",
     .desc = "TIFF predictor", .set = set_predictor},
    {"blocksize", "integer", "512", .choices = "256|512", .desc = "tile size in pixels",
     .set = set_blocksize},
    {"overviews", "string|integer", "\"auto\"",
     .desc = "auto (down to one tile), none, or a number of levels", .set = set_overviews},
    {"resampling", "string", "\"auto\"",
     .choices = "auto|nearest|average|mode|bilinear|cubic|lanczos",
     .desc = "overview resampling (auto: nearest for categorical data, average otherwise)",
     .set = set_resampling},
    {"bigtiff", "string", "\"auto\"", .choices = "auto|yes|no",
     .desc = "BigTIFF (auto: when the file passes 4 GiB)", .set = set_bigtiff},
    {"stats", "boolean", "true", .desc = "embed per-band statistics", .set = set_stats},
    {0},
};

const eoi_param eoi_nodata_params[] = {
    {"nodata", "number|string", .desc = "nodata value to write (a number or nan)",
     .set = set_nodata},
    {0},
};

eo_status eoi_param_nodata(eo_ctx *ctx, json_object *params, bool *has, double *value) {
    json_object *nd = NULL;
    *has = false;
    if (!json_object_object_get_ex(params, "nodata", &nd) || !nd)
        return EO_OK;
    if (json_object_is_type(nd, json_type_string)) {
        const char *s = json_object_get_string(nd);
        char *end = NULL;
        double v = strcasecmp(s, "nan") == 0 ? NAN : strtod(s, &end);
        if (strcasecmp(s, "nan") != 0 && (!*s || *end))
            return eoi_fail(ctx, EO_E_PARAM, "nodata: expected a number or nan, got '%.50s'", s);
        *value = v;
    } else {
        *value = json_object_get_double(nd);
    }
    *has = true;
    return EO_OK;
}

eo_status eoi_cog_opts_from_params(eo_ctx *ctx, eo_cog_opts **out, json_object *params) {
    eo_cog_opts *o = NULL;
    eo_status st = EO_OK;
    *out = NULL;
    EOI_TRY(st, eo_cog_opts_new(ctx, &o));
    EOI_TRY(st, eoi_params_apply(ctx, eoi_cog_output_params, params, o));
    EOI_TRY(st, eoi_params_apply(ctx, eoi_nodata_params, params, o));
    *out = o;
    o = NULL;
done:
    eo_cog_opts_free(o);
    return st;
}
