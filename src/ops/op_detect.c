/* op_detect.c - operation "detect": objects (building footprints) in an AOI
 * from imagery, as a job over partitions (eo_detect). Its parameters are
 * the detect job's, as its public C API declares them (eo_detect_schema)
 * and checks them (eo_detect_opts_set_json). */
#include "job_params.h"

static eo_status run_detect(eo_ctx *ctx, json_object *params, json_object **result) {
    eo_detect_opts *o = NULL;
    char *json = NULL;
    eo_status st = eoi_detect_opts_of(ctx, &o, params);
    if (st == EO_OK)
        st = eoi_param_bool(params, "estimate", false)
                 ? eo_detect_estimate(ctx, &json, NULL, NULL, o)
                 : eo_detect(ctx, &json, NULL, NULL, NULL, o);
    eo_detect_opts_free(o);
    return eoi_take_json(ctx, result, json, st);
}

const eoi_op eoi_op_detect = {
    .name = "detect",
    .cli = "detect",
    .summary = "Objects (building footprints) in an AOI from imagery: model, polygons, "
               "post-processing, GeoJSON / GPKG / FGB; a resumable job over partitions",
    .schema = eo_detect_schema,
    .result = eoi_detect_result,
    .run = run_detect,
};
