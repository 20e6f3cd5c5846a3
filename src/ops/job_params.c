/* job_params.c - shared by the detect and job operations (job_params.h). */
#include "job_params.h"

/* The C call's JSON result as the operation's result. */
eo_status eoi_take_json(eo_ctx *ctx, json_object **result, char *json, eo_status st) {
    if (st == EO_OK)
        st = json ? eoi_json_parse(ctx, result, json, "result", EO_E_INTERNAL)
                  : ((*result = json_object_new_object()) ? EO_OK : EO_E_NOMEM);
    eo_free(json);
    return st;
}

eo_status eoi_detect_opts_of(eo_ctx *ctx, eo_detect_opts **out, json_object *params) {
    *out = NULL;
    const char *text = json_object_to_json_string_ext(params, JSON_C_TO_STRING_PLAIN);
    if (!text)
        return eoi_fail(ctx, EO_E_NOMEM, "out of memory");
    eo_detect_opts *o = NULL;
    eo_status st = eo_detect_opts_new(ctx, &o);
    if (st == EO_OK)
        st = eo_detect_opts_set_json(ctx, o, text);
    if (st != EO_OK) {
        eo_detect_opts_free(o);
        return st;
    }
    *out = o;
    return EO_OK;
}

eo_status eoi_job_op(eo_ctx *ctx, json_object *params, json_object **result, int what) {
    const char *dir = eoi_param_str(params, "job", "");
    eo_job *j = NULL;
    char *json = NULL;
    eo_status st = EO_OK;
    if (what == EOI_JOB_CANCEL) {
        st = eo_job_cancel(ctx, dir);
        if (st == EO_OK)
            st = eo_job_open(ctx, &j, dir);
        if (st == EO_OK)
            st = eo_job_status(ctx, &json, j);
        eo_job_close(j);
        return eoi_take_json(ctx, result, json, st);
    }
    EOI_TRY(st, eo_job_open(ctx, &j, dir));
    switch (what) {
    case EOI_JOB_STATUS:
        st = eo_job_status(ctx, &json, j);
        break;
    case EOI_JOB_PARTS:
        st = eo_job_partitions(ctx, &json, j);
        break;
    case EOI_JOB_RESTART:
        EOI_TRY(st, eo_job_restart(ctx, j));
        st = eo_job_run(ctx, &json, j);
        break;
    case EOI_JOB_RESUME:
        st = eo_job_run(ctx, &json, j);
        break;
    case EOI_JOB_PART:
        st = eo_job_run_partition(ctx, j, eoi_param_int(params, "partition", 0));
        if (st == EO_OK)
            st = eo_job_status(ctx, &json, j);
        break;
    default:
        st = eo_job_finalize(ctx, &json, j);
    }
done:
    eo_job_close(j);
    return eoi_take_json(ctx, result, json, st);
}

const eoi_param eoi_job_params[] = {
    {"job", "string", .desc = "job folder"},
    {0},
};

const eoi_param eoi_job_status_result[] = {
    {"status", "string", .desc = "UNPROCESSED, IN_PROGRESS, OK, FAILED or CANCELLED"},
    {"running", "boolean", .desc = "whether a process is running it now"},
    {"percentCompleted", "number", .desc = "share of the work done, 0..100"},
    {"partitions", "object", .desc = "total, done, failed, in_progress, pending"},
    {"tiles", "object", .desc = "fetched, missing, corrupt"},
    {"elapsed_s", "number", .desc = "seconds spent"},
    {"eta_s", "number|null", .desc = "expected seconds left"},
    {"errors", "array", .items = "object", .desc = "each failed partition and its error"},
    {"job", "string", .desc = "the job folder"},
    {"result", "object", .desc = "(when finished) the run's result"},
    {0},
};

const eoi_param eoi_detect_result[] = {
    {"status", "string", .desc = "OK"},
    {"partitions", "integer", .desc = "partitions merged"},
    {"aoi_km2", "number", .desc = "the AOI's area"},
    {"coverage", "number", .desc = "share of the AOI with imagery"},
    {"tiles", "object", .desc = "fetched, missing, corrupt"},
    {"model_tiles", "integer", .desc = "model tiles run"},
    {"pixels", "integer", .desc = "pixels segmented"},
    {"blocks", "object", .desc = "post-processing blocks on or off"},
    {"features", "integer", .desc = "features written"},
    {"out", "string", .desc = "the output file"},
    {"geojson", "object", .desc = "(without out) the FeatureCollection"},
    {"warnings", "array", .items = "string", .desc = "what looks wrong with the input"},
    {"elapsed_s", "number", .desc = "seconds"},
    {"job", "string", .desc = "the job folder"},
    {0},
};
