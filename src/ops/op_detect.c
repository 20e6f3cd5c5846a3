/* op_detect.c - operations "detect" (objects in an AOI from imagery, as a
 * job over partitions), "detect_estimate", and the job operations a host,
 * a server or a distributed driver calls on a job folder: job_status,
 * job_partitions, job_resume, job_restart, job_cancel, job_run_partition
 * and job_finalize. */
#include "ops_int.h"

#include "../jobs/jobs_int.h"

/* The C call's JSON result as the operation's result. */
static eo_status take_json(eo_ctx *ctx, json_object **result, char *json, eo_status st) {
    if (st == EO_OK)
        st = json ? eoi_json_parse(ctx, result, json, "result", EO_E_INTERNAL)
                  : ((*result = json_object_new_object()) ? EO_OK : EO_E_NOMEM);
    eo_free(json);
    return st;
}

static eo_status run_detect_common(eo_ctx *ctx, json_object *params, json_object **result,
                                   bool estimate) {
    eo_detect_opts o = {params};
    char *json = NULL;
    eo_status st = estimate ? eo_detect_estimate(ctx, &json, NULL, NULL, &o)
                            : eo_detect(ctx, &json, NULL, NULL, NULL, &o);
    return take_json(ctx, result, json, st);
}

static eo_status run_detect(eo_ctx *ctx, json_object *params, json_object **result) {
    return run_detect_common(ctx, params, result, eoi_param_bool(params, "estimate", false));
}

static eo_status run_estimate(eo_ctx *ctx, json_object *params, json_object **result) {
    return run_detect_common(ctx, params, result, true);
}

const eoi_op eoi_op_detect = {
    .name = "detect",
    .cli = "detect",
    .summary = "Objects (building footprints) in an AOI from imagery: model, polygons, "
               "post-processing, GeoJSON / GPKG / FGB; a resumable job over partitions",
    .schema = eoi_detect_schema,
    .run = run_detect,
};

const eoi_op eoi_op_detect_estimate = {
    .name = "detect_estimate",
    .cli = "detect-estimate",
    .summary = "What a detect run would take: km2, tiles, pixels, partitions, GFLOP, "
               "expected time, cost",
    .schema = eoi_detect_schema,
    .run = run_estimate,
};

/* ---- job operations --------------------------------------------------------- */

enum { J_STATUS, J_PARTS, J_RESUME, J_RESTART, J_CANCEL, J_PART, J_FINALIZE };

static eo_status job_op(eo_ctx *ctx, json_object *params, json_object **result, int what) {
    const char *dir = eoi_param_str(params, "job", "");
    eo_job *j = NULL;
    char *json = NULL;
    eo_status st = EO_OK;
    if (what == J_CANCEL) {
        st = eo_job_cancel(ctx, dir);
        if (st == EO_OK)
            st = eo_job_open(ctx, &j, dir);
        if (st == EO_OK)
            st = eo_job_status(ctx, &json, j);
        eo_job_close(j);
        return take_json(ctx, result, json, st);
    }
    EOI_TRY(st, eo_job_open(ctx, &j, dir));
    switch (what) {
    case J_STATUS:
        st = eo_job_status(ctx, &json, j);
        break;
    case J_PARTS:
        st = eo_job_partitions(ctx, &json, j);
        break;
    case J_RESTART:
        EOI_TRY(st, eo_job_restart(ctx, j));
        st = eo_job_run(ctx, &json, j);
        break;
    case J_RESUME:
        st = eo_job_run(ctx, &json, j);
        break;
    case J_PART:
        st = eo_job_run_partition(ctx, j, eoi_param_int(params, "partition", 0));
        if (st == EO_OK)
            st = eo_job_status(ctx, &json, j);
        break;
    default:
        st = eo_job_finalize(ctx, &json, j);
    }
done:
    eo_job_close(j);
    return take_json(ctx, result, json, st);
}

static eo_status run_status(eo_ctx *c, json_object *p, json_object **r) {
    return job_op(c, p, r, J_STATUS);
}
static eo_status run_parts(eo_ctx *c, json_object *p, json_object **r) {
    return job_op(c, p, r, J_PARTS);
}
static eo_status run_resume(eo_ctx *c, json_object *p, json_object **r) {
    return job_op(c, p, r, J_RESUME);
}
static eo_status run_restart(eo_ctx *c, json_object *p, json_object **r) {
    return job_op(c, p, r, J_RESTART);
}
static eo_status run_cancel(eo_ctx *c, json_object *p, json_object **r) {
    return job_op(c, p, r, J_CANCEL);
}
static eo_status run_part(eo_ctx *c, json_object *p, json_object **r) {
    return job_op(c, p, r, J_PART);
}
static eo_status run_finalize(eo_ctx *c, json_object *p, json_object **r) {
    return job_op(c, p, r, J_FINALIZE);
}

#define JOB_SCHEMA(title, extra, req)                                                              \
    "{\"$schema\": \"https://json-schema.org/draft/2020-12/schema\", \"title\": \"" title "\","    \
    " \"type\": \"object\", \"properties\": {"                                                     \
    " \"job\": {\"type\": \"string\", \"minLength\": 1, \"description\": \"job folder\"}" extra    \
    "}, \"required\": [\"job\"" req "], \"additionalProperties\": false,"                          \
    " \"x-positional\": [\"job\"" req "]}"

const eoi_op eoi_op_job_status = {
    .name = "job_status",
    .cli = "job-status",
    .summary = "A detect job's status: UNPROCESSED, IN_PROGRESS, OK, FAILED or CANCELLED, "
               "percentCompleted, partitions, tiles, elapsed, ETA",
    .schema = JOB_SCHEMA("job_status", "", ""),
    .run = run_status,
};

const eoi_op eoi_op_job_partitions = {
    .name = "job_partitions",
    .cli = "job-partitions",
    .summary = "A detect job's partitions: window, status, attempts, seconds, error",
    .schema = JOB_SCHEMA("job_partitions", "", ""),
    .run = run_parts,
};

const eoi_op eoi_op_job_resume = {
    .name = "job_resume",
    .cli = "job-resume",
    .summary = "Run a detect job's unfinished partitions (after a kill or a cancel), then write "
               "its output",
    .schema = JOB_SCHEMA("job_resume", "", ""),
    .run = run_resume,
};

const eoi_op eoi_op_job_restart = {
    .name = "job_restart",
    .cli = "job-restart",
    .summary = "Rerun a detect job's failed partitions only, then write its output",
    .schema = JOB_SCHEMA("job_restart", "", ""),
    .run = run_restart,
};

const eoi_op eoi_op_job_cancel = {
    .name = "job_cancel",
    .cli = "job-cancel",
    .summary = "Stop a running detect job cleanly (resume it later)",
    .schema = JOB_SCHEMA("job_cancel", "", ""),
    .run = run_cancel,
};

const eoi_op eoi_op_job_run_partition = {
    .name = "job_run_partition",
    .cli = "job-run-partition",
    .summary = "Run one partition of a detect job (a distributed worker's unit of work)",
    .schema = JOB_SCHEMA("job_run_partition",
                         ", \"partition\": {\"type\": \"integer\", \"minimum\": 0, "
                         "\"description\": \"partition id\"}",
                         ", \"partition\""),
    .run = run_part,
};

const eoi_op eoi_op_job_finalize = {
    .name = "job_finalize",
    .cli = "job-finalize",
    .summary = "Merge a detect job's partitions across their seams and write its output",
    .schema = JOB_SCHEMA("job_finalize", "", ""),
    .run = run_finalize,
};
