/* registry.c - eo_ops_list, eo_op_schema, eo_op_result_schema, eo_op_run. */
#include "ops_int.h"

#include "op_list.h" /* generated: every eoi_op_* */

#include <stdio.h>
#include <string.h>

#define NOPS (sizeof eoi_ops / sizeof eoi_ops[0])

static const eoi_op *find_op(const char *name) {
    for (size_t i = 0; i < NOPS; i++)
        if (strcmp(eoi_ops[i]->name, name) == 0 || strcmp(eoi_ops[i]->cli, name) == 0)
            return eoi_ops[i];
    return NULL;
}

static eo_status unknown_op(eo_ctx *ctx, const char *name) {
    char known[512] = "";
    for (size_t i = 0; i < NOPS; i++) {
        size_t l = strlen(known);
        snprintf(known + l, sizeof known - l, "%s%s", i ? ", " : "", eoi_ops[i]->name);
    }
    return eoi_fail(ctx, EO_E_OP_UNKNOWN, "unknown operation '%.100s' (known: %s)", name, known);
}

eo_status eo_ops_list(eo_ctx *ctx, char **out_json) {
    EOI_CHECK_ARG(ctx, out_json);
    *out_json = NULL;
    json_object *arr = json_object_new_array();
    if (!arr)
        return eoi_fail(ctx, EO_E_NOMEM, "out of memory");
    for (size_t i = 0; i < NOPS; i++) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(eoi_ops[i]->name));
        json_object_object_add(o, "cli", json_object_new_string(eoi_ops[i]->cli));
        json_object_object_add(o, "summary", json_object_new_string(eoi_ops[i]->summary));
        json_object_array_add(arr, o);
    }
    eo_status st = eoi_json_dump(ctx, out_json, arr, false);
    json_object_put(arr);
    return st;
}

/* One of op's schemas, as JSON text. */
static eo_status dump_schema(eo_ctx *ctx, const char *name, char **out_json,
                             eo_status (*make)(eo_ctx *, const eoi_op *, json_object **)) {
    EOI_CHECK_ARG(ctx, out_json);
    *out_json = NULL;
    EOI_CHECK_ARG(ctx, name);
    const eoi_op *op = find_op(name);
    if (!op)
        return unknown_op(ctx, name);
    json_object *schema = NULL;
    eo_status st = make(ctx, op, &schema);
    if (st == EO_OK)
        st = eoi_json_dump(ctx, out_json, schema, false);
    json_object_put(schema);
    return st;
}

eo_status eo_op_schema(eo_ctx *ctx, const char *name, char **out_json) {
    return dump_schema(ctx, name, out_json, eoi_op_param_schema);
}

eo_status eo_op_result_schema(eo_ctx *ctx, const char *name, char **out_json) {
    return dump_schema(ctx, name, out_json, eoi_op_result_schema);
}

eo_status eo_op_run(eo_ctx *ctx, const char *name, const char *params_json, char **out_json) {
    EOI_CHECK_ARG(ctx, out_json);
    *out_json = NULL;
    EOI_CHECK_ARG(ctx, name);
    const eoi_op *op = find_op(name);
    if (!op)
        return unknown_op(ctx, name);
    json_object *schema = NULL, *params = NULL, *result = NULL;
    eo_status st = EO_OK;
    EOI_TRY(st, eoi_check_cancel(ctx));
    EOI_TRY(st, eoi_op_param_schema(ctx, op, &schema));
    if (!params_json || !*params_json)
        params_json = "{}";
    EOI_TRY(st, eoi_json_parse(ctx, &params, params_json, "parameters", EO_E_PARAM));
    if (!json_object_is_type(params, json_type_object)) {
        st = eoi_fail(ctx, EO_E_PARAM, "parameters of %s must be a JSON object", op->name);
        goto done;
    }
    EOI_TRY(st, eoi_schema_validate(ctx, schema, params, ""));
    eoi_log(ctx, EO_LOG_DEBUG, "running %s", op->name);
    EOI_TRY(st, op->run(ctx, params, &result));
    st = eoi_json_dump(ctx, out_json, result, false);
done:
    json_object_put(result);
    json_object_put(params);
    json_object_put(schema);
    return st;
}
