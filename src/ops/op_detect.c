/* op_detect.c - operation "detect": objects (building footprints) in an AOI
 * from imagery, as a job over partitions (eo_detect). Its parameters are
 * the detect job's (src/jobs/detect.c validates them for every caller). */
#include "job_params.h"

#include "../jobs/jobs_int.h"

static eo_status run_detect(eo_ctx *ctx, json_object *params, json_object **result) {
    eo_detect_opts o = {params};
    char *json = NULL;
    eo_status st = eoi_param_bool(params, "estimate", false)
                       ? eo_detect_estimate(ctx, &json, NULL, NULL, &o)
                       : eo_detect(ctx, &json, NULL, NULL, NULL, &o);
    return eoi_take_json(ctx, result, json, st);
}

const eoi_op eoi_op_detect = {
    .name = "detect",
    .cli = "detect",
    .summary = "Objects (building footprints) in an AOI from imagery: model, polygons, "
               "post-processing, GeoJSON / GPKG / FGB; a resumable job over partitions",
    .params = eoi_detect_params,
    .positional = EOI_DETECT_POSITIONAL,
    .required = EOI_DETECT_REQUIRED,
    .result = eoi_detect_result,
    .run = run_detect,
};
