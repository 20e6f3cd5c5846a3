/* params.c - an operation's JSON Schemas (parameters and result) from its
 * parameter tables (src/core/param.c builds them). */
#include "ops_int.h"

#include <stdio.h>
#include <string.h>

/* The schema a public call gives, as op's: its title and description
 * (the summary) in the places the tables' schema has them. */
static eo_status public_schema(eo_ctx *ctx, const eoi_op *op, json_object **out) {
    *out = NULL;
    char *text = NULL;
    json_object *given = NULL;
    EOI_TRY_RET(op->schema(ctx, &text));
    eo_status st = eoi_json_parse(ctx, &given, text, "schema", EO_E_INTERNAL);
    eo_free(text);
    if (st != EO_OK)
        return st;
    json_object *s = json_object_new_object();
    json_object_object_foreach(given, key, v) {
        if (strcmp(key, "description") == 0)
            continue;
        if (strcmp(key, "title") == 0) {
            json_object_object_add(s, "title", json_object_new_string(op->name));
            json_object_object_add(s, "description", json_object_new_string(op->summary));
            continue;
        }
        json_object_object_add(s, key, json_object_get(v));
    }
    json_object_put(given);
    *out = s;
    return EO_OK;
}

eo_status eoi_op_param_schema(eo_ctx *ctx, const eoi_op *op, json_object **out) {
    if (op->schema)
        return public_schema(ctx, op, out);
    const eoi_param *tables[1 + EOI_MAX_SHARED] = {op->params};
    for (int i = 0; i < EOI_MAX_SHARED; i++)
        tables[1 + i] = op->shared[i];
    return eoi_params_object_schema(ctx, out, op->name, op->summary, tables, 1 + EOI_MAX_SHARED,
                                    op->required, op->positional);
}

eo_status eoi_op_result_schema(eo_ctx *ctx, const eoi_op *op, json_object **out) {
    *out = NULL;
    json_object *s = json_object_new_object(), *props = json_object_new_object();
    json_object_object_add(s, "$schema",
                           json_object_new_string("https://json-schema.org/draft/2020-12/schema"));
    char title[128];
    snprintf(title, sizeof title, "%s result", op->name);
    json_object_object_add(s, "title", json_object_new_string(title));
    json_object_object_add(s, "type", json_object_new_string("object"));
    json_object_object_add(s, "properties", props);
    eo_status st = eoi_params_add(ctx, props, op->result);
    if (st == EO_OK)
        st = eoi_params_add(ctx, props, op->shared_result);
    if (st != EO_OK) {
        json_object_put(s);
        return st;
    }
    *out = s;
    return EO_OK;
}

eo_status eoi_param_bands(eo_ctx *ctx, int32_t **out, int32_t *n, json_object *v) {
    size_t len = json_object_array_length(v);
    *n = 0;
    if (len > INT32_MAX)
        return eoi_fail(ctx, EO_E_PARAM, "%zu bands: too many", len);
    if (!(*out = eoi_calloc(ctx, len ? len : 1, sizeof **out)))
        return EO_E_NOMEM;
    for (size_t i = 0; i < len; i++)
        (*out)[i] = json_object_get_int(json_object_array_get_idx(v, i));
    *n = (int32_t)len;
    return EO_OK;
}
