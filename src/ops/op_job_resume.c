/* op_job_resume.c - operation "job_resume" on a detect job folder (job_params.c). */
#include "job_params.h"

static eo_status run(eo_ctx *ctx, json_object *params, json_object **result) {
    return eoi_job_op(ctx, params, result, EOI_JOB_RESUME);
}

const eoi_op eoi_op_job_resume = {
    .name = "job_resume",
    .cli = "job-resume",
    .summary = "Run a detect job's unfinished partitions (after a kill or a cancel), then write "
               "its output",
    .shared = {eoi_job_params},
    .positional = "job",
    .required = "job",
    .result = eoi_detect_result,
    .run = run,
};
