/* job_params.h - what the detect and job operations share: the C call's
 * JSON result as an operation result, a job folder's operations, and the
 * job folder parameter. */
#ifndef EOI_JOB_PARAMS_H
#define EOI_JOB_PARAMS_H

#include "ops_int.h"

/* The detect options of a validated parameter object (eo_detect_opts_set_json). */
eo_status eoi_detect_opts_of(eo_ctx *ctx, eo_detect_opts **out, json_object *params);
/* json (taken) as *result when st is EO_OK. */
eo_status eoi_take_json(eo_ctx *ctx, json_object **result, char *json, eo_status st);

enum {
    EOI_JOB_STATUS,
    EOI_JOB_PARTS,
    EOI_JOB_RESUME,
    EOI_JOB_RESTART,
    EOI_JOB_CANCEL,
    EOI_JOB_PART,
    EOI_JOB_FINALIZE
};
/* Open params["job"] and do what on it; the result is the job's status,
 * partitions or run summary. */
eo_status eoi_job_op(eo_ctx *ctx, json_object *params, json_object **result, int what);

/* "job": the job folder. */
extern const eoi_param eoi_job_params[];
/* The result of a detect run (detect, job_resume, job_restart,
 * job_finalize). */
extern const eoi_param eoi_detect_result[];
/* A job's status object. */
extern const eoi_param eoi_job_status_result[];

#endif
