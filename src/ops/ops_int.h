/*
 * ops_int.h - the operation registry's internals. Each operation lives in
 * its own file, src/ops/op_<name>.c, and ends with its descriptor
 * eoi_op_<name>: its parameter tables, its result's fields and its run
 * function. CMake lists the files into op_list.h; nothing else names them.
 */
#ifndef EOI_OPS_INT_H
#define EOI_OPS_INT_H

#include "eoi.h"

/* An operation: params is the validated parameter object with defaults
 * filled in (borrowed); on success *result is a new JSON value. */
typedef eo_status (*eoi_op_fn)(eo_ctx *ctx, json_object *params, json_object **result);

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

/* At most this many parameter tables shared between operations. */
#define EOI_MAX_SHARED 4

typedef struct eoi_op {
    const char *name;                        /* registry name: "aoi_area" */
    const char *cli;                         /* command-line name: "area" */
    const char *summary;                     /* one line */
    const eoi_param *params;                 /* its own parameters */
    const eoi_param *shared[EOI_MAX_SHARED]; /* tables shared with other operations */
    const char *positional;                  /* command-line positionals, in order: "src,aoi,out" */
    const char *required;                    /* required parameters: "src,aoi,out" */
    const eoi_param *result;                 /* the fields of its result object */
    const eoi_param *shared_result;          /* more of them, from a table shared with others */
    const char *schema; /* (transitional) a hand-written JSON Schema instead of params */
    eoi_op_fn run;
} eoi_op;

/* The JSON Schema (draft 2020-12) of op's parameters, from its tables. */
eo_status eoi_op_param_schema(eo_ctx *ctx, const eoi_op *op, json_object **out);
/* The JSON Schema of op's result. */
eo_status eoi_op_result_schema(eo_ctx *ctx, const eoi_op *op, json_object **out);
/* Apply every parameter of table that has a setter and a value in params
 * to opts (after validation). */
eo_status eoi_params_apply(eo_ctx *ctx, const eoi_param *table, json_object *params, void *opts);

/* Validate value against schema; on failure records EO_E_PARAM naming the
 * field (path) and what was expected. Fills in "default"s of missing
 * properties of objects. */
eo_status eoi_schema_validate(eo_ctx *ctx, json_object *schema, json_object *value,
                              const char *path);

/* Parameter getters for operations (after validation, so types hold). */
const char *eoi_param_str(json_object *params, const char *key, const char *dflt);
bool eoi_param_bool(json_object *params, const char *key, bool dflt);
double eoi_param_num(json_object *params, const char *key, double dflt);
int64_t eoi_param_int(json_object *params, const char *key, int64_t dflt);

/* A raster parameter: the path of a file, or a list of paths opened as a
 * mosaic (eo_dataset_open_mosaic). */
eo_status eoi_param_dataset(eo_ctx *ctx, eo_dataset **out, json_object *params, const char *key);

/* An AOI parameter: "aoi" (a GeoJSON object, GeoJSON text, or the path of
 * a file), with "crs" (of coordinates the GeoJSON does not name),
 * "repair" and "allow_z": the table eoi_aoi_params. */
eo_status eoi_param_aoi(eo_ctx *ctx, eo_geom **out, json_object *params);
/* The same for an AOI value given apart from params (which still give
 * "crs", "repair" and "allow_z"). */
eo_status eoi_param_aoi_value(eo_ctx *ctx, eo_geom **out, json_object *aoi, json_object *params);

extern const eoi_param eoi_aoi_params[];

#endif
