/* op_indices.c - operation "indices": the spectral index catalog. */
#include "ops_analytics.h"

#include <strings.h>

static eo_status run_indices(eo_ctx *ctx, json_object *params, json_object **result) {
    char *text = NULL;
    eo_status st = eo_indices_list(ctx, &text);
    if (st == EO_OK) {
        json_object *list = NULL;
        st = eoi_json_parse(ctx, &list, text, "index catalog", EO_E_INTERNAL);
        const char *name = eoi_param_str(params, "name", NULL);
        if (st == EO_OK && name) {
            json_object *one = NULL;
            for (size_t i = 0; i < json_object_array_length(list) && !one; i++) {
                json_object *d = json_object_array_get_idx(list, i), *n;
                json_object_object_get_ex(d, "name", &n);
                if (strcasecmp(json_object_get_string(n), name) == 0)
                    one = json_object_get(d);
            }
            json_object_put(list);
            list = one;
            if (!one)
                st = eoi_fail(ctx, EO_E_INDEX, "unknown index '%.100s' (eoproc indices lists them)",
                              name);
        }
        if (st == EO_OK)
            *result = list;
    }
    eo_free(text);
    return st;
}

static const eoi_param params[] = {
    {"name", "string", .desc = "one index only (e.g. NDVI)"},
    {0},
};

static const eoi_param result[] = {
    {"name", "string",
     .desc = "(with name) the index's name; otherwise the result is an array "
             "of such objects"},
    {"long_name", "string", .desc = "what it measures"},
    {"formula", "string", .desc = "its expression over band symbols"},
    {"bands", "array", .desc = "band symbols it needs"},
    {"constants", "object", .desc = "its constants and their defaults"},
    {"reference", "string", .desc = "where it was published"},
    {0},
};

const eoi_op eoi_op_indices = {
    .name = "indices",
    .cli = "indices",
    .summary = "The spectral index catalog: formulas, required bands, constants, references",
    .params = params,
    .result = result,
    .run = run_indices,
};
