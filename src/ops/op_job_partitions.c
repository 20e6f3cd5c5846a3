/* op_job_partitions.c - operation "job_partitions" on a detect job folder (job_params.c). */
#include "job_params.h"

static eo_status run(eo_ctx *ctx, json_object *params, json_object **result) {
    return eoi_job_op(ctx, params, result, EOI_JOB_PARTS);
}

static const eoi_param result[] = {
    {"partitions", "array", .items = "object",
     .desc = "each partition: id, window, status, attempts, seconds, error (the result is "
             "this array)"},
    {0},
};

const eoi_op eoi_op_job_partitions = {
    .name = "job_partitions",
    .cli = "job-partitions",
    .summary = "A detect job's partitions: window, status, attempts, seconds, error",
    .shared = {eoi_job_params},
    .positional = "job",
    .required = "job",
    .result = result,
    .run = run,
};
