/* op_band_math.c - operation "band_math": an expression over a raster's
 * bands, written as a float32 GeoTIFF. */
#include "ops_analytics.h"

static const eoi_param params[] = {
    {"src", "raster", .desc = "input raster"},
    {"expr", "string", .desc = "expression, e.g. (b4 - b3) / (b4 + b3) or where(N > 0.3, 1, 0)"},
    {0},
};

const eoi_op eoi_op_band_math = {
    .name = "band_math",
    .cli = "calc",
    .summary = "Evaluate a band-math expression (b1..bN, band symbols, where/min/max/abs/sqrt/"
               "clamp) into a float32 COG",
    .params = params,
    .shared = {eoi_eval_out_params, eoi_eval_params, eoi_cog_output_params},
    .positional = "src,expr,out",
    .required = "src,expr,out",
    .result = eoi_eval_result,
    .run = eoi_ops_eval_to_file,
};
