/*
 * ops_int.h - the operation registry's internals. Each operation lives in
 * its own file, src/ops/op_<name>.c, and ends with its descriptor
 * eoi_op_<name>: its parameter tables, its result's fields and its run
 * function. CMake lists the files into op_list.h; nothing else names them.
 */
#ifndef EOI_OPS_INT_H
#define EOI_OPS_INT_H

#include "eoi_param.h"

/* An operation: params is the validated parameter object with defaults
 * filled in (borrowed); on success *result is a new JSON value. */
typedef eo_status (*eoi_op_fn)(eo_ctx *ctx, json_object *params, json_object **result);

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
    /* instead of params, shared, positional and required: a public call
     * giving the parameters' JSON Schema (eo_detect_schema), for an
     * operation whose parameters its C API declares and checks itself */
    eo_status (*schema)(eo_ctx *ctx, char **out_json);
    eoi_op_fn run;
} eoi_op;

/* The JSON Schema (draft 2020-12) of op's parameters, from its tables. */
eo_status eoi_op_param_schema(eo_ctx *ctx, const eoi_op *op, json_object **out);
/* The JSON Schema of op's result. */
eo_status eoi_op_result_schema(eo_ctx *ctx, const eoi_op *op, json_object **out);

/* A band-list parameter (a JSON array of band numbers, e.g. [3, 2, 1]) as
 * an eoi_malloc'd list of its *n numbers (room for one when empty), for
 * the option setters that take bands (they check them). */
eo_status eoi_param_bands(eo_ctx *ctx, int32_t **out, int32_t *n, json_object *v);
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
