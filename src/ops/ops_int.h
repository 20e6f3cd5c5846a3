/*
 * ops_int.h - the operation registry's internals. Each operation lives in
 * its own file (src/ops/op_<name>.c) and ends with its descriptor; the list
 * of descriptors is op_list.h.
 */
#ifndef EOI_OPS_INT_H
#define EOI_OPS_INT_H

#include "eoi.h"

/* An operation: params is the validated parameter object with defaults
 * filled in (borrowed); on success *result is a new JSON value. */
typedef eo_status (*eoi_op_fn)(eo_ctx *ctx, json_object *params, json_object **result);

typedef struct eoi_op {
    const char *name;    /* registry name: "aoi_area" */
    const char *cli;     /* command-line name: "area" */
    const char *summary; /* one line */
    const char *schema;  /* JSON Schema of the parameters (draft 2020-12 subset) */
    eoi_op_fn run;
} eoi_op;

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
 * mosaic (eo_dataset_open_mosaic). EOI_SRC_SCHEMA is its schema. */
eo_status eoi_param_dataset(eo_ctx *ctx, eo_dataset **out, json_object *params, const char *key);

#define EOI_SRC_SCHEMA(desc)                                                                       \
    "{\"type\": [\"string\", \"array\"], \"minLength\": 1, \"minItems\": 1,"                       \
    " \"items\": {\"type\": \"string\", \"minLength\": 1},"                                        \
    " \"description\": \"" desc " (a list of files: a mosaic)\"}"

/* An AOI parameter: "aoi" (a GeoJSON object, GeoJSON text, or the path of
 * a file), with "crs" (of coordinates the GeoJSON does not name),
 * "repair" and "allow_z". EOI_AOI_SCHEMA_PROPS is their schema, to paste
 * into an operation's "properties". */
eo_status eoi_param_aoi(eo_ctx *ctx, eo_geom **out, json_object *params);
/* The same for an AOI value given apart from params (which still give
 * "crs", "repair" and "allow_z"). */
eo_status eoi_param_aoi_value(eo_ctx *ctx, eo_geom **out, json_object *aoi, json_object *params);

#define EOI_AOI_SCHEMA_PROPS                                                                       \
    "\"aoi\": {\"type\": [\"object\", \"string\"],"                                                \
    "  \"description\": \"GeoJSON Polygon/MultiPolygon, Feature or FeatureCollection: an "         \
    "object, its text, or the path of a file\"},"                                                  \
    "\"crs\": {\"type\": \"string\", \"default\": \"EPSG:4326\","                                  \
    "  \"description\": \"CRS of the AOI's coordinates when the GeoJSON names none\"},"            \
    "\"repair\": {\"type\": \"boolean\", \"default\": false,"                                      \
    "  \"description\": \"repair an invalid AOI (make-valid) instead of failing\"},"               \
    "\"allow_z\": {\"type\": \"boolean\", \"default\": false,"                                     \
    "  \"description\": \"accept 3D positions and drop the altitude\"}"

#endif
