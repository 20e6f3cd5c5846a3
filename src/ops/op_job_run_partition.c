/* op_job_run_partition.c - operation "job_run_partition" on a detect job folder (job_params.c). */
#include "job_params.h"

static eo_status run(eo_ctx *ctx, json_object *params, json_object **result) {
    return eoi_job_op(ctx, params, result, EOI_JOB_PART);
}

static const eoi_param params[] = {
    {"partition", "integer", .min = "0", .desc = "partition id"},
    {0},
};

const eoi_op eoi_op_job_run_partition = {
    .name = "job_run_partition",
    .cli = "job-run-partition",
    .summary = "Run one partition of a detect job (a distributed worker's unit of work)",
    .params = params,
    .shared = {eoi_job_params},
    .positional = "job,partition",
    .required = "job,partition",
    .result = eoi_job_status_result,
    .run = run,
};
