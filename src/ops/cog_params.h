/* cog_params.h - the COG writer's parameters, shared by every operation
 * that writes a raster (cog, clip, index, band_math, change_detection,
 * tiles_read, segment). */
#ifndef EOI_COG_PARAMS_H
#define EOI_COG_PARAMS_H

#include "ops_int.h"

/* The options of a written raster (no nodata: analyses choose their own). */
#define EOI_COG_OUTPUT_PROPS                                                                       \
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
    "\"bigtiff\": {\"type\": \"string\", \"enum\": [\"auto\", \"yes\", \"no\"],"                   \
    "  \"default\": \"auto\", \"description\": \"BigTIFF (auto: when the file passes 4 GiB)\"},"   \
    "\"stats\": {\"type\": \"boolean\", \"default\": true,"                                        \
    "  \"description\": \"embed per-band statistics\"}"

/* The options of a COG written from a dataset, and its nodata value. */
#define EOI_COG_SCHEMA_PROPS                                                                       \
    EOI_COG_OUTPUT_PROPS ","                                                                       \
                         "\"nodata\": {\"type\": [\"number\", \"string\"],"                        \
                         "  \"description\": \"nodata value to write (a number or nan)\"}"

/* COG writer options from the parameters of EOI_COG_SCHEMA_PROPS (or of
 * EOI_COG_OUTPUT_PROPS: then without a nodata). */
eo_status eoi_cog_opts_from_params(eo_ctx *ctx, eo_cog_opts **out, json_object *params);
/* The "nodata" parameter (a number, or a string: "nan" or a number);
 * *has is false when it is absent. */
eo_status eoi_param_nodata(eo_ctx *ctx, json_object *params, bool *has, double *value);

#endif
