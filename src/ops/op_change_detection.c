/* op_change_detection.c - operation "change_detection": index change
 * between a before and an after raster, classed by a threshold, with the
 * changed area in m². */
#include "ops_analytics.h"

static eo_status run_change(eo_ctx *ctx, json_object *params, json_object **result) {
    eo_dataset *before = NULL, *after = NULL;
    eo_expr *e = NULL;
    eo_analytics_opts *o = NULL;
    eo_geom *aoi = NULL;
    char *text = NULL;
    eo_status st = EO_OK;
    EOI_TRY(st, eoi_ops_expr(ctx, &e, params));
    if (!e) {
        st = eoi_fail(ctx, EO_E_PARAM,
                      "parameter 'index' or 'expr' is required: the index whose "
                      "change to measure");
        goto done;
    }
    EOI_TRY(st, eoi_ops_opts(ctx, &o, params));
    EOI_TRY(st, eoi_ops_cog_opts(ctx, o, params));
    json_object *a;
    if (json_object_object_get_ex(params, "aoi", &a)) {
        EOI_TRY(st, eoi_param_aoi_value(ctx, &aoi, a, params));
        EOI_TRY(st, eo_analytics_opts_set_aoi(ctx, o, aoi));
    }
    EOI_TRY(st, eo_dataset_open(ctx, &before, eoi_param_str(params, "before", "")));
    EOI_TRY(st, eo_dataset_open(ctx, &after, eoi_param_str(params, "after", "")));
    EOI_TRY(st,
            eo_change_detect(ctx, &text, before, after, e, eoi_param_str(params, "out", ""), o));
    st = eoi_json_parse(ctx, result, text, "change statistics", EO_E_INTERNAL);
done:
    eo_free(text);
    eo_dataset_close(before);
    eo_dataset_close(after);
    eo_analytics_opts_free(o);
    eo_geom_free(aoi);
    eo_expr_free(e);
    return st;
}

const eoi_op eoi_op_change_detection = {
    .name = "change_detection",
    .cli = "change",
    .summary = "Change of an index between two dates: change and class rasters, changed area in "
               "m² per class",
    .schema = "{"
              "\"$schema\": \"https://json-schema.org/draft/2020-12/schema\","
              "\"title\": \"change_detection\","
              "\"type\": \"object\","
              "\"properties\": {"
              "\"before\": {\"type\": \"string\", \"minLength\": 1, \"description\": \"raster of "
              "the first date (its grid is the output's)\"},"
              "\"after\": {\"type\": \"string\", \"minLength\": 1, \"description\": \"raster of "
              "the second date (resampled bilinearly onto the first's grid if they differ)\"},"
              "\"index\": {\"type\": \"string\", \"minLength\": 1, \"description\": \"index name, "
              "e.g. NDVI\"},"
              "\"expr\": {\"type\": \"string\", \"minLength\": 1, \"description\": \"or a "
              "band-math expression\"},"
              "\"threshold\": {\"type\": \"number\", \"exclusiveMinimum\": 0, \"default\": 0.2, "
              "\"description\": \"a change above it is a gain, below minus it a loss\"},"
              "\"out\": {\"type\": \"string\", \"minLength\": 1, \"description\": \"output folder "
              "(change.tif, class.tif: COGs)\"},"
              "\"aoi\": {\"type\": [\"object\", \"string\"], \"description\": \"restrict to this "
              "GeoJSON AOI (object, text or file)\"},"
              "\"crs\": {\"type\": \"string\", \"default\": \"EPSG:4326\", \"description\": \"CRS "
              "of the AOI when the GeoJSON names none\"},"
              "\"repair\": {\"type\": \"boolean\", \"default\": false, \"description\": \"repair "
              "an invalid AOI\"}," EOI_SCHEMA_EVAL_PROPS
              "\"all_touched\": {\"type\": \"boolean\", \"default\": false, \"description\": "
              "\"with an AOI, include every pixel it touches\"},"
              "\"nodata\": {\"type\": \"number\", \"default\": -9999, \"description\": \"nodata "
              "of change.tif\"}," EOI_COG_OUTPUT_PROPS "},"
              "\"required\": [\"before\", \"after\", \"out\"],"
              "\"additionalProperties\": false,"
              "\"x-positional\": [\"before\", \"after\"]"
              "}",
    .run = run_change,
};
