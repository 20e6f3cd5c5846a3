/* op_detect_estimate.c - operation "detect_estimate": what a detect run
 * would take, before any work (eo_detect_estimate). */
#include "job_params.h"

static eo_status run_estimate(eo_ctx *ctx, json_object *params, json_object **result) {
    eo_detect_opts *o = NULL;
    char *json = NULL;
    eo_status st = eoi_detect_opts_of(ctx, &o, params);
    if (st == EO_OK)
        st = eo_detect_estimate(ctx, &json, NULL, NULL, o);
    eo_detect_opts_free(o);
    return eoi_take_json(ctx, result, json, st);
}

static const eoi_param result[] = {
    {"aoi_km2", "number", .desc = "the AOI's area"},
    {"zoom", "integer", .desc = "(a tile source) the zoom read"},
    {"tiles", "integer", .desc = "source tiles to fetch (the polygon's cover)"},
    {"pixels", "integer", .desc = "pixels to segment"},
    {"partitions", "integer", .desc = "partitions"},
    {"model_tiles", "integer", .desc = "model tiles to run"},
    {"gflop", "number", .desc = "model work"},
    {"seconds_per_model_run", "number",
     .desc = "the model's time per run on this CPU (calibrated)"},
    {"calibration_cached", "boolean", .desc = "whether that calibration was cached"},
    {"threads", "integer", .desc = "threads the run would use"},
    {"expected_seconds", "number", .desc = "expected time on this machine"},
    {"cost", "number", .desc = "(with price_per_km2) the price"},
    {0},
};

const eoi_op eoi_op_detect_estimate = {
    .name = "detect_estimate",
    .cli = "detect-estimate",
    .summary = "What a detect run would take: km2, tiles, pixels, partitions, GFLOP, "
               "expected time, cost",
    .schema = eo_detect_schema,
    .result = result,
    .run = run_estimate,
};
