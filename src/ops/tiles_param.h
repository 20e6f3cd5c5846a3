/* tiles_param.h - parameters shared by the tile operations. */
#ifndef EOI_TILES_PARAM_H
#define EOI_TILES_PARAM_H

#include "ops_int.h"

/* size, resampling, bands, format, quality and scheme. */
extern const eoi_param eoi_tile_params[];

/* Tile options from the size / resampling / bands parameters. */
eo_status eoi_tile_opts_from_params(eo_ctx *ctx, eo_tile_opts **out, json_object *params);
/* The image format: the "format" parameter, else the extension of path
 * (".png", ".jpg" / ".jpeg", ".webp", ".tif" / ".tiff"), else "png". */
eo_status eoi_tile_format(eo_ctx *ctx, const char **format, json_object *params, const char *path);

#endif
