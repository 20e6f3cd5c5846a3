/*
 * eoi_param.h - parameters declared by tables: one entry per parameter
 * (type, default, bounds, choices, description, setter) gives the JSON
 * Schema, the validation with defaults filled in, and the glue to C
 * options. The operation registry (src/ops) and the detect job's
 * parameters (src/jobs) are declared this way.
 */
#ifndef EOI_PARAM_H
#define EOI_PARAM_H

#include "eoi.h"

/* Where a parameter goes in the C options: set(ctx, opts, value) with the
 * validated JSON value. EOI_SETTER_* make one from an options setter. */
typedef eo_status (*eoi_param_set)(eo_ctx *ctx, void *opts, json_object *value);

/* One parameter, declared once: the JSON Schema, the validation, the
 * defaults, the CLI options, the Python keyword arguments and (with set)
 * the JSON-to-options glue all come from it. A table ends with {0}. */
typedef struct eoi_param {
    const char *name;
    /* JSON type, or several joined by '|' ("string|object"); "raster" is a
     * path or a list of paths (a mosaic); "array" takes items. */
    const char *type;
    const char *def; /* default, as JSON text ("512", "\"zstd\"", "true") */
    const char *min; /* numeric bounds (of the items, for an array) */
    const char *max;
    const char *choices; /* allowed values (of the items, for an array), '|'-separated */
    const char *items;   /* an array's item type */
    int min_items, max_items;
    bool exclusive_min; /* min itself is not allowed */
    bool empty_ok;      /* a string may be "" (otherwise at least one character) */
    const char *desc;
    eoi_param_set set;
} eoi_param;

/* Setters of options from validated JSON values, for eoi_param.set:
 * EOI_SETTER_BOOL(fn_name, opts_type, setter) defines
 * static eo_status fn_name(eo_ctx *, void *, json_object *). */
#define EOI_SETTER_(fname, T, setter, get)                                                         \
    static eo_status fname(eo_ctx *ctx, void *opts, json_object *v) {                              \
        return setter(ctx, (T *)opts, get);                                                        \
    }
#define EOI_SETTER_BOOL(fname, T, setter)                                                          \
    EOI_SETTER_(fname, T, setter, json_object_get_boolean(v) != 0)
#define EOI_SETTER_INT(fname, T, setter)                                                           \
    EOI_SETTER_(fname, T, setter, (int32_t)json_object_get_int64(v))
#define EOI_SETTER_NUM(fname, T, setter) EOI_SETTER_(fname, T, setter, json_object_get_double(v))
#define EOI_SETTER_STR(fname, T, setter) EOI_SETTER_(fname, T, setter, json_object_get_string(v))

/* The JSON Schema of one parameter. */
eo_status eoi_param_schema(eo_ctx *ctx, const eoi_param *p, json_object **out);
/* The schemas of table's parameters not in props yet, added to props (an
 * entry already there, say an operation's own "aoi", wins). */
eo_status eoi_params_add(eo_ctx *ctx, json_object *props, const eoi_param *table);
/* A ','-separated list of names as a JSON array. */
json_object *eoi_name_list(const char *names);
/* The JSON Schema (draft 2020-12) of an object whose properties are the
 * parameters of tables[0..ntables) (NULL entries skipped): title,
 * description, "required" and "x-positional" (','-lists; each name must be
 * a parameter), no other properties. */
eo_status eoi_params_object_schema(eo_ctx *ctx, json_object **out, const char *title,
                                   const char *description, const eoi_param *const *tables,
                                   int ntables, const char *required, const char *positional);
/* Apply every parameter of table that has a setter and a value in params
 * to opts (after validation). */
eo_status eoi_params_apply(eo_ctx *ctx, const eoi_param *table, json_object *params, void *opts);

/* Validate value against schema; on failure records EO_E_PARAM naming the
 * field (path) and what was expected. Fills in "default"s of missing
 * properties of objects. */
eo_status eoi_schema_validate(eo_ctx *ctx, json_object *schema, json_object *value,
                              const char *path);

/* Parameter getters of a validated object (after validation, so types hold). */
const char *eoi_param_str(json_object *params, const char *key, const char *dflt);
bool eoi_param_bool(json_object *params, const char *key, bool dflt);
double eoi_param_num(json_object *params, const char *key, double dflt);
int64_t eoi_param_int(json_object *params, const char *key, int64_t dflt);

#endif
