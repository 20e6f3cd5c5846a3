/* op_job_finalize.c - operation "job_finalize" on a detect job folder (job_params.c). */
#include "job_params.h"

static eo_status run(eo_ctx *ctx, json_object *params, json_object **result) {
    return eoi_job_op(ctx, params, result, EOI_JOB_FINALIZE);
}

const eoi_op eoi_op_job_finalize = {
    .name = "job_finalize",
    .cli = "job-finalize",
    .summary = "Merge a detect job's partitions across their seams and write its output",
    .shared = {eoi_job_params},
    .positional = "job",
    .required = "job",
    .result = eoi_detect_result,
    .run = run,
};
