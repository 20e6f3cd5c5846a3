/* ops_analytics.h - shared pieces of the analytics operations (indices,
 * band math, zonal statistics, change detection, time series): the schema
 * fragments of their common parameters and the code that turns those
 * parameters into an expression and eo_analytics_opts. */
#ifndef EOI_OPS_ANALYTICS_H
#define EOI_OPS_ANALYTICS_H

#include "cog_params.h"
#include "ops_int.h"

#include "../raster/analytics_int.h"

/* Schema properties shared by every operation that evaluates an index or
 * expression (a JSON fragment ending with a comma). */
#define EOI_SCHEMA_EVAL_PROPS                                                                      \
    "\"bands\": {\"type\": \"string\", \"description\": \"band mapping, e.g. R=3,N=4 (symbols "    \
    "A B G R RE1 RE2 RE3 N N2 WV S1 S2 T T1 T2 or long names)\"},"                                 \
    "\"sensor\": {\"type\": \"string\", \"enum\": [\"landsat4\", \"landsat5\", \"landsat7\", "     \
    "\"landsat8\", \"landsat9\", \"sentinel2\"], \"description\": \"known sensor band layout\"},"  \
    "\"constants\": {\"type\": [\"object\", \"string\"], \"description\": \"named constants, "     \
    "e.g. "                                                                                        \
    "{\\\"L\\\": 0.5} (CLI: L=0.5,g=2.5)\"},"                                                      \
    "\"scale\": {\"type\": \"number\", \"default\": 1, \"description\": \"input value * scale + "  \
    "offset before evaluation\"},"                                                                 \
    "\"offset\": {\"type\": \"number\", \"default\": 0, \"description\": \"see scale\"},"

/* Schema properties of zonal statistics (used by zonal_stats and
 * time_series). */
#define EOI_SCHEMA_STATS_PROPS                                                                     \
    "\"coverage\": {\"type\": \"boolean\", \"default\": false, \"description\": \"weight each "    \
    "pixel by the exact share of its area inside the AOI\"},"                                      \
    "\"all_touched\": {\"type\": \"boolean\", \"default\": false, \"description\": \"include "     \
    "every pixel the AOI touches (instead of the pixel-centre rule)\"},"                           \
    "\"percentiles\": {\"type\": \"array\", \"items\": {\"type\": \"number\", \"minimum\": 0, "    \
    "\"maximum\": 100}, \"description\": \"percentiles to report, e.g. 10,90\"},"                  \
    "\"histogram\": {\"type\": \"integer\", \"minimum\": 0, \"maximum\": 100000, \"default\": 0, " \
    "\"description\": \"histogram bins over [min, max] (0: none)\"},"                              \
    "\"stats\": {\"type\": \"array\", \"items\": {\"type\": \"string\", \"enum\": [\"count\", "    \
    "\"nodata_count\", \"pixels\", \"min\", \"max\", \"mean\", \"std\", \"sum\", \"median\"]}, "   \
    "\"description\": \"statistics to report (default all)\"},"

/* The expression of params: "index" (a catalog name) or "expr" (band
 * math); *out is NULL when neither is given. */
eo_status eoi_ops_expr(eo_ctx *ctx, eo_expr **out, json_object *params);
/* Options from the shared parameters (evaluation and statistics ones). */
eo_status eoi_ops_opts(eo_ctx *ctx, eo_analytics_opts **out, json_object *params);
/* The COG options of params (EOI_COG_OUTPUT_PROPS) onto o. */
eo_status eoi_ops_cog_opts(eo_ctx *ctx, eo_analytics_opts *o, json_object *params);
/* Keep only the statistics params["stats"] lists (all when absent). */
void eoi_ops_select_stats(json_object *stats, json_object *params);
/* Evaluate params["index"] or params["expr"] over params["src"] into the
 * GeoTIFF params["out"]; the result names the bands used. */
eo_status eoi_ops_eval_to_file(eo_ctx *ctx, json_object *params, json_object **result);

#endif
