/* cog_params.c - the COG writer's parameters, shared by cog and clip. */
#include "cog_params.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* "auto" / "none" / N -> -1 / 0 / N */
static eo_status overview_levels(eo_ctx *ctx, json_object *params, int32_t *out) {
    json_object *v = NULL;
    *out = -1;
    if (!json_object_object_get_ex(params, "overviews", &v) || !v)
        return EO_OK;
    if (json_object_is_type(v, json_type_int)) {
        *out = (int32_t)json_object_get_int64(v);
        return EO_OK;
    }
    const char *s = json_object_get_string(v);
    char *end = NULL;
    long n = strtol(s, &end, 10);
    if (strcmp(s, "auto") == 0)
        *out = -1;
    else if (strcmp(s, "none") == 0)
        *out = 0;
    else if (*s && !*end && n >= 0 && n <= 30)
        *out = (int32_t)n;
    else
        return eoi_fail(ctx, EO_E_PARAM,
                        "overviews: expected auto, none or a number of levels (0..30), got '%.50s'",
                        s);
    return EO_OK;
}

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
    int32_t levels;
    bool has_nd;
    double nd = 0;
    *out = NULL;
    EOI_TRY(st, overview_levels(ctx, params, &levels));
    EOI_TRY(st, eoi_param_nodata(ctx, params, &has_nd, &nd));
    EOI_TRY(st, eo_cog_opts_new(ctx, &o));
    EOI_TRY(st, eo_cog_opts_set_compress(ctx, o, eoi_param_str(params, "compress", "zstd")));
    EOI_TRY(st, eo_cog_opts_set_level(ctx, o, (int32_t)eoi_param_int(params, "level", 0)));
    EOI_TRY(st, eo_cog_opts_set_predictor(ctx, o, eoi_param_str(params, "predictor", "none")));
    EOI_TRY(st,
            eo_cog_opts_set_blocksize(ctx, o, (int32_t)eoi_param_int(params, "blocksize", 512)));
    EOI_TRY(st, eo_cog_opts_set_overviews(ctx, o, levels));
    const char *rs = eoi_param_str(params, "resampling", "auto");
    if (strcmp(rs, "auto") != 0)
        EOI_TRY(st, eo_cog_opts_set_resampling(ctx, o, eo_resampling_from_name(rs)));
    if (has_nd)
        EOI_TRY(st, eo_cog_opts_set_nodata(ctx, o, nd));
    EOI_TRY(st, eo_cog_opts_set_bigtiff(ctx, o, eoi_param_str(params, "bigtiff", "auto")));
    EOI_TRY(st, eo_cog_opts_set_stats(ctx, o, eoi_param_bool(params, "stats", true)));
    *out = o;
    o = NULL;
done:
    eo_cog_opts_free(o);
    return st;
}
