/* op_job_status.c - operation "job_status" on a detect job folder (job_params.c). */
#include "job_params.h"

static eo_status run(eo_ctx *ctx, json_object *params, json_object **result) {
    return eoi_job_op(ctx, params, result, EOI_JOB_STATUS);
}

const eoi_op eoi_op_job_status = {
    .name = "job_status",
    .cli = "job-status",
    .summary = "A detect job's status: UNPROCESSED, IN_PROGRESS, OK, FAILED or CANCELLED, "
               "percentCompleted, partitions, tiles, elapsed, ETA",
    .shared = {eoi_job_params},
    .positional = "job",
    .required = "job",
    .result = eoi_job_status_result,
    .run = run,
};
