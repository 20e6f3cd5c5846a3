/* op_cog.c - operation "cog": write a raster as a Cloud-Optimized GeoTIFF. */
#include "cog_params.h"

#include <sys/stat.h>

static eo_status run_cog(eo_ctx *ctx, json_object *params, json_object **result) {
    eo_dataset *ds = NULL;
    eo_cog_opts *o = NULL;
    eo_status st = EO_OK;
    const char *out = eoi_param_str(params, "out", "");
    EOI_TRY(st, eoi_cog_opts_from_params(ctx, &o, params));
    EOI_TRY(st, eoi_param_dataset(ctx, &ds, params, "src"));
    EOI_TRY(st, eo_cog_write(ctx, out, ds, o));
    struct stat sb;
    json_object *r = json_object_new_object();
    json_object_object_add(r, "path", json_object_new_string(out));
    json_object_object_add(r, "bytes",
                           json_object_new_int64(stat(out, &sb) == 0 ? (int64_t)sb.st_size : -1));
    *result = r;
done:
    eo_cog_opts_free(o);
    eo_dataset_close(ds);
    return st;
}

static const eoi_param params[] = {
    {"src", "raster", .desc = "source raster (any format GDAL reads)"},
    {"out", "string", .desc = "output .tif (written to a temporary name, then renamed)"},
    {0},
};

static const eoi_param result[] = {
    {"path", "string", .desc = "the COG written"},
    {"bytes", "integer", .desc = "its size in bytes"},
    {0},
};

const eoi_op eoi_op_cog = {
    .name = "cog",
    .cli = "cog",
    .summary = "Write a raster as a Cloud-Optimized GeoTIFF (tiled, compressed, overviews, "
               "statistics)",
    .params = params,
    .shared = {eoi_cog_output_params, eoi_nodata_params},
    .positional = "src,out",
    .required = "src,out",
    .result = result,
    .run = run_cog,
};
