/* op_clip.c - operation "clip": a raster clipped to an AOI, as a COG. */
#include "cog_params.h"

static eo_status run_clip(eo_ctx *ctx, json_object *params, json_object **result) {
    eo_dataset *ds = NULL;
    eo_geom *aoi = NULL;
    eo_cog_opts *co = NULL;
    eo_clip_opts *o = NULL;
    int32_t *bands = NULL;
    char *text = NULL;
    eo_status st = EO_OK;
    const char *out = eoi_param_str(params, "out", "");
    EOI_TRY(st, eoi_cog_opts_from_params(ctx, &co, params));
    EOI_TRY(st, eo_clip_opts_new(ctx, &o));
    EOI_TRY(st, eo_clip_opts_set_cog_opts(ctx, o, co));
    EOI_TRY(st, eo_clip_opts_set_crop(ctx, o, !eoi_param_bool(params, "no_crop", false)));
    EOI_TRY(st, eo_clip_opts_set_all_touched(ctx, o, eoi_param_bool(params, "all_touched", false)));
    EOI_TRY(st, eo_clip_opts_set_alpha(ctx, o, eoi_param_bool(params, "alpha", false)));
    EOI_TRY(st, eo_clip_opts_set_coverage(ctx, o, eoi_param_bool(params, "coverage", false)));
    json_object *b = NULL;
    if (json_object_object_get_ex(params, "bands", &b) && b) {
        size_t n = json_object_array_length(b);
        if (!(bands = eoi_calloc(ctx, n ? n : 1, sizeof *bands))) {
            st = EO_E_NOMEM;
            goto done;
        }
        for (size_t i = 0; i < n; i++)
            bands[i] = (int32_t)json_object_get_int64(json_object_array_get_idx(b, i));
        EOI_TRY(st, eo_clip_opts_set_bands(ctx, o, bands, (int32_t)n));
    }
    EOI_TRY(st, eoi_param_aoi(ctx, &aoi, params));
    EOI_TRY(st, eoi_param_dataset(ctx, &ds, params, "src"));
    EOI_TRY(st, eo_clip(ctx, &text, out, ds, aoi, o));
    EOI_TRY(st, eoi_json_parse(ctx, result, text, "clip result", EO_E_INTERNAL));
done:
    eo_free(text);
    eoi_free(bands);
    eo_clip_opts_free(o);
    eo_cog_opts_free(co);
    eo_geom_free(aoi);
    eo_dataset_close(ds);
    return st;
}

const eoi_op eoi_op_clip = {
    .name = "clip",
    .cli = "clip",
    .summary = "Clip a raster to an AOI on its own pixel grid (no resampling), as a COG",
    .schema =
        "{"
        "\"$schema\": \"https://json-schema.org/draft/2020-12/schema\","
        "\"title\": \"clip\","
        "\"type\": \"object\","
        "\"properties\": {"
        "  \"src\": " EOI_SRC_SCHEMA(
            "source raster") ","
                             "  \"out\": {\"type\": \"string\", \"minLength\": 1,"
                             "            \"description\": \"output COG (written to a temporary "
                             "name, then "
                             "renamed)\"},"
                             "  \"no_crop\": {\"type\": \"boolean\", \"default\": false,"
                             "                \"description\": \"keep the raster's extent instead "
                             "of cropping to the "
                             "AOI's\"},"
                             "  \"all_touched\": {\"type\": \"boolean\", \"default\": false,"
                             "                    \"description\": \"include every pixel the AOI "
                             "touches (default: "
                             "pixel centre inside)\"},"
                             "  \"alpha\": {\"type\": \"boolean\", \"default\": false,"
                             "              \"description\": \"add an alpha band (255 inside, 0 "
                             "outside)\"},"
                             "  \"coverage\": {\"type\": \"boolean\", \"default\": false,"
                             "                 \"description\": \"add a band with the exact "
                             "fraction of each pixel "
                             "inside the AOI (the output becomes float)\"},"
                             "  \"bands\": {\"type\": \"array\", \"items\": {\"type\": "
                             "\"integer\", \"minimum\": 1},"
                             "              \"minItems\": 1, \"description\": \"source bands to "
                             "keep, e.g. 3,2,1 "
                             "(default: all)\"}," EOI_AOI_SCHEMA_PROPS "," EOI_COG_SCHEMA_PROPS "},"
                             "\"required\": [\"src\", \"aoi\", \"out\"],"
                             "\"additionalProperties\": false,"
                             "\"x-positional\": [\"src\", \"aoi\", \"out\"]"
                             "}",
    .run = run_clip,
};
