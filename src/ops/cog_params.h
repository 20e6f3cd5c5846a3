/* cog_params.h - the COG writer's parameters, shared by the operations
 * that write a COG (cog, clip). */
#ifndef EOI_COG_PARAMS_H
#define EOI_COG_PARAMS_H

#include "ops_int.h"

#define EOI_COG_SCHEMA_PROPS                                                                       \
    "\"compress\": {\"type\": \"string\", \"enum\": [\"zstd\", \"deflate\", \"lzw\", \"none\"],"   \
    "  \"default\": \"zstd\", \"description\": \"tile compression\"},"                             \
    "\"level\": {\"type\": \"integer\", \"minimum\": 0, \"maximum\": 22, \"default\": 0,"          \
    "  \"description\": \"compression level (0 = default: zstd 9, deflate 6)\"},"                  \
    "\"predictor\": {\"type\": \"string\", \"enum\": [\"none\", \"horizontal\", \"float\"],"       \
    "  \"default\": \"none\", \"description\": \"TIFF predictor\"},"                               \
    "\"blocksize\": {\"type\": \"integer\", \"enum\": [256, 512], \"default\": 512,"               \
    "  \"description\": \"tile size in pixels\"},"                                                 \
    "\"overviews\": {\"type\": [\"string\", \"integer\"], \"default\": \"auto\","                  \
    "  \"description\": \"auto (down to one tile), none, or a number of levels\"},"                \
    "\"resampling\": {\"type\": \"string\","                                                       \
    "  \"enum\": [\"auto\", \"nearest\", \"average\", \"mode\", \"bilinear\", \"cubic\","          \
    "           \"lanczos\"],"                                                                     \
    "  \"default\": \"auto\", \"description\": \"overview resampling (auto: nearest for "          \
    "categorical data, average otherwise)\"},"                                                     \
    "\"nodata\": {\"type\": [\"number\", \"string\"],"                                             \
    "  \"description\": \"nodata value to write (a number or nan)\"},"                             \
    "\"bigtiff\": {\"type\": \"string\", \"enum\": [\"auto\", \"yes\", \"no\"],"                   \
    "  \"default\": \"auto\", \"description\": \"BigTIFF (auto: when the file passes 4 GiB)\"},"   \
    "\"stats\": {\"type\": \"boolean\", \"default\": true,"                                        \
    "  \"description\": \"embed per-band statistics\"}"

/* COG writer options from the parameters of EOI_COG_SCHEMA_PROPS. */
eo_status eoi_cog_opts_from_params(eo_ctx *ctx, eo_cog_opts **out, json_object *params);
/* The "nodata" parameter (a number, or a string: "nan" or a number);
 * *has is false when it is absent. */
eo_status eoi_param_nodata(eo_ctx *ctx, json_object *params, bool *has, double *value);

#endif
