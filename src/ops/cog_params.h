/* cog_params.h - the COG writer's parameters, shared by every operation
 * that writes a raster (cog, clip, index, band_math, change_detection,
 * tiles_read, segment). */
#ifndef EOI_COG_PARAMS_H
#define EOI_COG_PARAMS_H

#include "ops_int.h"

/* The options of a written raster (no nodata: analyses choose their own),
 * and the nodata value of a COG written from a dataset. */
extern const eoi_param eoi_cog_output_params[];
extern const eoi_param eoi_nodata_params[];

/* COG writer options from the parameters of eoi_cog_output_params (and
 * of eoi_nodata_params when the operation has them). */
eo_status eoi_cog_opts_from_params(eo_ctx *ctx, eo_cog_opts **out, json_object *params);
/* The "nodata" parameter (a number, or a string: "nan" or a number);
 * *has is false when it is absent. */
eo_status eoi_param_nodata(eo_ctx *ctx, json_object *params, bool *has, double *value);

#endif
