/* op_cog.c - operation "cog": write a raster as a Cloud-Optimized GeoTIFF. */
#include "ops_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

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

static eo_status run_cog(eo_ctx *ctx, json_object *params, json_object **result) {
    eo_dataset *ds = NULL;
    eo_cog_opts *o = NULL;
    eo_status st = EO_OK;
    const char *src = eoi_param_str(params, "src", "");
    const char *out = eoi_param_str(params, "out", "");
    int32_t levels;
    EOI_TRY(st, overview_levels(ctx, params, &levels));
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
    json_object *nd = NULL;
    if (json_object_object_get_ex(params, "nodata", &nd) && nd) {
        double v;
        if (json_object_is_type(nd, json_type_string)) {
            const char *s = json_object_get_string(nd);
            char *end = NULL;
            v = strcasecmp(s, "nan") == 0 ? NAN : strtod(s, &end);
            if (strcasecmp(s, "nan") != 0 && (!*s || *end)) {
                st = eoi_fail(ctx, EO_E_PARAM, "nodata: expected a number or nan, got '%.50s'", s);
                goto done;
            }
        } else {
            v = json_object_get_double(nd);
        }
        EOI_TRY(st, eo_cog_opts_set_nodata(ctx, o, v));
    }
    EOI_TRY(st, eo_cog_opts_set_bigtiff(ctx, o, eoi_param_str(params, "bigtiff", "auto")));
    EOI_TRY(st, eo_cog_opts_set_stats(ctx, o, eoi_param_bool(params, "stats", true)));
    EOI_TRY(st, eo_dataset_open(ctx, &ds, src));
    EOI_TRY(st, eo_cog_write(ctx, out, ds, o));
    struct stat sb;
    json_object *r = json_object_new_object();
    json_object_object_add(r, "path", json_object_new_string(out));
    json_object_object_add(r, "bytes",
                           json_object_new_int64(stat(out, &sb) == 0 ? (int64_t)sb.st_size : -1));
    *result = r;
done:
    eo_cog_opts_free(o);
    eo_dataset_close(ds);
    return st;
}

const eoi_op eoi_op_cog = {
    .name = "cog",
    .cli = "cog",
    .summary = "Write a raster as a Cloud-Optimized GeoTIFF (tiled, compressed, overviews, "
               "statistics)",
    .schema =
        "{"
        "\"$schema\": \"https://json-schema.org/draft/2020-12/schema\","
        "\"title\": \"cog\","
        "\"type\": \"object\","
        "\"properties\": {"
        "  \"src\": {\"type\": \"string\", \"minLength\": 1,"
        "            \"description\": \"source raster (any format GDAL reads)\"},"
        "  \"out\": {\"type\": \"string\", \"minLength\": 1,"
        "            \"description\": \"output .tif (written to a temporary name, then renamed)\"},"
        "  \"compress\": {\"type\": \"string\", \"enum\": [\"zstd\", \"deflate\", \"lzw\", "
        "\"none\"],"
        "                 \"default\": \"zstd\", \"description\": \"tile compression\"},"
        "  \"level\": {\"type\": \"integer\", \"minimum\": 0, \"maximum\": 22, \"default\": 0,"
        "              \"description\": \"compression level (0 = default: zstd 9, deflate 6)\"},"
        "  \"predictor\": {\"type\": \"string\", \"enum\": [\"none\", \"horizontal\", \"float\"],"
        "                  \"default\": \"none\", \"description\": \"TIFF predictor\"},"
        "  \"blocksize\": {\"type\": \"integer\", \"enum\": [256, 512], \"default\": 512,"
        "                  \"description\": \"tile size in pixels\"},"
        "  \"overviews\": {\"type\": [\"string\", \"integer\"], \"default\": \"auto\","
        "                  \"description\": \"auto (down to one tile), none, or a number of "
        "levels\"},"
        "  \"resampling\": {\"type\": \"string\","
        "                   \"enum\": [\"auto\", \"nearest\", \"average\", \"mode\", \"bilinear\","
        "                             \"cubic\", \"lanczos\"],"
        "                   \"default\": \"auto\", \"description\": \"overview resampling (auto: "
        "nearest for categorical data, average otherwise)\"},"
        "  \"nodata\": {\"type\": [\"number\", \"string\"],"
        "               \"description\": \"nodata value to write (a number or nan)\"},"
        "  \"bigtiff\": {\"type\": \"string\", \"enum\": [\"auto\", \"yes\", \"no\"],"
        "                \"default\": \"auto\", \"description\": \"BigTIFF (auto: when the file "
        "passes 4 GiB)\"},"
        "  \"stats\": {\"type\": \"boolean\", \"default\": true,"
        "              \"description\": \"embed per-band statistics\"}"
        "},"
        "\"required\": [\"src\", \"out\"],"
        "\"additionalProperties\": false,"
        "\"x-positional\": [\"src\", \"out\"]"
        "}",
    .run = run_cog,
};
