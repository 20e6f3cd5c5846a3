/* op_index.c - operation "index": a catalog index of a raster, written as a
 * float32 Cloud-Optimized GeoTIFF. */
#include "ops_analytics.h"

static const eoi_param params[] = {
    {"src", "raster", .desc = "input raster"},
    {"index", "string", .desc = "index name (eoproc indices lists them)"},
    {0},
};

const eoi_op eoi_op_index = {
    .name = "index",
    .cli = "index",
    .summary = "Compute a spectral index (NDVI, NDWI, NBR, ...) of a raster into a float32 COG",
    .params = params,
    .shared = {eoi_eval_out_params, eoi_eval_params, eoi_cog_output_params},
    .positional = "src,index,out",
    .required = "src,index,out",
    .result = eoi_eval_result,
    .run = eoi_ops_eval_to_file,
};
