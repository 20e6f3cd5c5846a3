/* op_job_cancel.c - operation "job_cancel" on a detect job folder (job_params.c). */
#include "job_params.h"

static eo_status run(eo_ctx *ctx, json_object *params, json_object **result) {
    return eoi_job_op(ctx, params, result, EOI_JOB_CANCEL);
}

const eoi_op eoi_op_job_cancel = {
    .name = "job_cancel",
    .cli = "job-cancel",
    .summary = "Stop a running detect job cleanly (resume it later)",
    .shared = {eoi_job_params},
    .positional = "job",
    .required = "job",
    .result = eoi_job_status_result,
    .run = run,
};
