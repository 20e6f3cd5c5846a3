/* tiles_param.h - parameters shared by the tile operations. */
#ifndef EOI_TILES_PARAM_H
#define EOI_TILES_PARAM_H

#include "ops_int.h"

#define EOI_TILE_SCHEMA_PROPS                                                                      \
    "\"size\": {\"type\": \"integer\", \"enum\": [256, 512], \"default\": 256,"                    \
    "  \"description\": \"tile size in pixels\"},"                                                 \
    "\"resampling\": {\"type\": \"string\", \"enum\": [\"nearest\", \"bilinear\", \"cubic\","      \
    "  \"average\", \"mode\", \"lanczos\"], \"default\": \"bilinear\","                            \
    "  \"description\": \"resampling from the source (or the overview chosen)\"},"                 \
    "\"bands\": {\"type\": \"array\", \"items\": {\"type\": \"integer\", \"minimum\": 1},"         \
    "  \"minItems\": 1, \"maxItems\": 4,"                                                          \
    "  \"description\": \"source bands to render, e.g. 3,2,1 (default: 1 or 1,2,3)\"},"            \
    "\"format\": {\"type\": \"string\", \"enum\": [\"png\", \"jpeg\", \"webp\", \"tif\"],"         \
    "  \"description\": \"image format (default: from the file name, else png)\"},"                \
    "\"quality\": {\"type\": \"integer\", \"minimum\": 1, \"maximum\": 100,"                       \
    "  \"description\": \"JPEG / WebP quality (default 75)\"},"                                    \
    "\"scheme\": {\"type\": \"string\", \"enum\": [\"xyz\", \"tms\"], \"default\": \"xyz\","       \
    "  \"description\": \"row order: xyz (row 0 at the north) or tms (row 0 at the south)\"}"

/* Tile options from the size / resampling / bands parameters. */
eo_status eoi_tile_opts_from_params(eo_ctx *ctx, eo_tile_opts **out, json_object *params);
/* The image format: the "format" parameter, else the extension of path
 * (".png", ".jpg" / ".jpeg", ".webp", ".tif" / ".tiff"), else "png". */
eo_status eoi_tile_format(eo_ctx *ctx, const char **format, json_object *params, const char *path);

#endif
