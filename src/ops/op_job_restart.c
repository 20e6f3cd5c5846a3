/* op_job_restart.c - operation "job_restart" on a detect job folder (job_params.c). */
#include "job_params.h"

static eo_status run(eo_ctx *ctx, json_object *params, json_object **result) {
    return eoi_job_op(ctx, params, result, EOI_JOB_RESTART);
}

const eoi_op eoi_op_job_restart = {
    .name = "job_restart",
    .cli = "job-restart",
    .summary = "Rerun a detect job's failed partitions only, then write its output",
    .shared = {eoi_job_params},
    .positional = "job",
    .required = "job",
    .result = eoi_detect_result,
    .run = run,
};
