/* ops_analytics.h - shared pieces of the analytics operations (indices,
 * band math, zonal statistics, change detection, time series): the schema
 * fragments of their common parameters and the code that turns those
 * parameters into an expression and eo_analytics_opts. */
#ifndef EOI_OPS_ANALYTICS_H
#define EOI_OPS_ANALYTICS_H

#include "cog_params.h"
#include "ops_int.h"

/* Parameters of every operation that evaluates an index or expression
 * (bands, sensor, constants, scale, offset), and of zonal statistics
 * (coverage, all_touched, percentiles, histogram, stats). */
extern const eoi_param eoi_eval_params[];
extern const eoi_param eoi_stats_params[];
/* The output parameters of index and band_math (out, nodata) and their
 * result (eoi_ops_eval_to_file's). */
extern const eoi_param eoi_eval_out_params[];
extern const eoi_param eoi_eval_result[];
/* The fields of a statistics object. */
extern const eoi_param eoi_stats_result[];

/* The expression of params: "index" (a catalog name) or "expr" (band
 * math); *out is NULL when neither is given. */
eo_status eoi_ops_expr(eo_ctx *ctx, eo_expr **out, json_object *params);
/* Options from the shared parameters (evaluation and statistics ones). */
eo_status eoi_ops_opts(eo_ctx *ctx, eo_analytics_opts **out, json_object *params);
/* The COG options of params (eoi_cog_output_params) onto o. */
eo_status eoi_ops_cog_opts(eo_ctx *ctx, eo_analytics_opts *o, json_object *params);
/* Keep only the statistics params["stats"] lists (all when absent). */
void eoi_ops_select_stats(json_object *stats, json_object *params);
/* Evaluate params["index"] or params["expr"] over params["src"] into the
 * GeoTIFF params["out"]; the result names the bands used. */
eo_status eoi_ops_eval_to_file(eo_ctx *ctx, json_object *params, json_object **result);

#endif
