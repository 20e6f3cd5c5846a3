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

static const eoi_param params[] = {
    {"before", "string", .desc = "raster of the first date (its grid is the output's)"},
    {"after", "string",
     .desc = "raster of the second date (resampled bilinearly onto the first's grid if they "
             "differ)"},
    {"index", "string", .desc = "index name, e.g. NDVI"},
    {"expr", "string", .desc = "or a band-math expression"},
    {"threshold", "number", "0.2", "0", .exclusive_min = true,
     .desc = "a change above it is a gain, below minus it a loss"},
    {"out", "string", .desc = "output folder (change.tif, class.tif: COGs)"},
    {"aoi", "object|string", .desc = "restrict to this GeoJSON AOI (object, text or file)"},
    {"all_touched", "boolean", "false", .desc = "with an AOI, include every pixel it touches"},
    {"nodata", "number", "-9999", .desc = "nodata of change.tif"},
    {0},
};

static const eoi_param result[] = {
    {"expr", "string", .desc = "the index's expression"},
    {"threshold", "number", .desc = "the threshold used"},
    {"resampled", "boolean", .desc = "whether after was resampled onto before's grid"},
    {"valid_pixels", "integer", .desc = "pixels valid on both dates"},
    {"valid_area_m2", "number", .desc = "their area"},
    {"mean_change", "number|null", .desc = "mean of after - before"},
    {"changed", "object",
     .desc = "pixels, area_m2, percent and mean_change of |change| > threshold"},
    {"classes", "object", .desc = "no_change, gain, loss: pixels, area_m2, percent of each"},
    {"outputs", "object", .desc = "paths of change (float32) and class (uint8) COGs"},
    {0},
};

const eoi_op eoi_op_change_detection = {
    .name = "change_detection",
    .cli = "change",
    .summary = "Change of an index between two dates: change and class rasters, changed area in "
               "m² per class",
    .params = params,
    .shared = {eoi_aoi_params, eoi_eval_params, eoi_cog_output_params},
    .positional = "before,after",
    .required = "before,after,out",
    .result = result,
    .run = run_change,
};
