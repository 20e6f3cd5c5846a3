/* op_tile.c - operation "tile": one web-mercator tile z/x/y out of any
 * raster, encoded as PNG / JPEG / WebP (or a GeoTIFF of the raw values). */
#include "ops_int.h"
#include "tiles_param.h"

#include <string.h>
#include <sys/stat.h>

static eo_status run_tile(eo_ctx *ctx, json_object *params, json_object **result) {
    int32_t z = (int32_t)eoi_param_int(params, "z", 0);
    int32_t x = (int32_t)eoi_param_int(params, "x", 0);
    int32_t y = (int32_t)eoi_param_int(params, "y", 0);
    const char *out = eoi_param_str(params, "out", "");
    if (strcmp(eoi_param_str(params, "scheme", "xyz"), "tms") == 0 && z >= 0 &&
        z <= EO_TILE_MAX_ZOOM)
        y = eo_tile_flip_y(z, y);
    eo_dataset *ds = NULL;
    eo_tile_opts *opts = NULL;
    eo_raster *r = NULL;
    eo_cog_opts *co = NULL;
    void *bytes = NULL;
    size_t size = 0;
    eo_status st = EO_OK;
    const char *format = NULL;
    EOI_TRY(st, eoi_tile_format(ctx, &format, params, out));
    EOI_TRY(st, eoi_tile_opts_from_params(ctx, &opts, params));
    EOI_TRY(st, eoi_param_dataset(ctx, &ds, params, "src"));
    EOI_TRY(st, eo_tile_read(ctx, &r, ds, z, x, y, opts));
    if (strcmp(format, "tif") == 0) { /* a COG, as every raster written */
        struct stat sb;
        EOI_TRY(st, eo_cog_opts_new(ctx, &co));
        EOI_TRY(st, eo_cog_opts_set_blocksize(ctx, co, eo_raster_width(r) <= 256 ? 256 : 512));
        EOI_TRY(st, eo_cog_write_raster(ctx, out, r, co));
        size = stat(out, &sb) == 0 ? (size_t)sb.st_size : 0;
    } else {
        EOI_TRY(st, eo_raster_encode(ctx, &bytes, &size, r, format,
                                     (int32_t)eoi_param_int(params, "quality", 0)));
        EOI_TRY(st, eoi_write_file(ctx, out, bytes, size));
    }
    eo_bbox m;
    EOI_TRY(st, eo_tile_bounds(ctx, z, x, y, &m, NULL));
    json_object *res = json_object_new_object();
    json_object_object_add(res, "z", json_object_new_int(z));
    json_object_object_add(res, "x", json_object_new_int(x));
    json_object_object_add(res, "y", json_object_new_int(y));
    json_object_object_add(res, "out", json_object_new_string(out));
    json_object_object_add(res, "format", json_object_new_string(format));
    json_object_object_add(res, "bytes", json_object_new_int64((int64_t)size));
    json_object_object_add(res, "bounds_3857", eoi_json_bbox(&m));
    *result = res;
done:
    eo_free(bytes);
    eo_cog_opts_free(co);
    eo_raster_free(r);
    eo_tile_opts_free(opts);
    eo_dataset_close(ds);
    return st;
}

static const eoi_param params[] = {
    {"src", "raster", .desc = "raster file (any format GDAL reads, any CRS)"},
    {"z", "integer", .min = "0", .max = "30", .desc = "zoom"},
    {"x", "integer", .min = "0", .desc = "column"},
    {"y", "integer", .min = "0", .desc = "row (in scheme order)"},
    {"out", "string", .desc = "output file: .png, .jpg, .webp or .tif"},
    {0},
};

static const eoi_param result[] = {
    {"z", "integer", .desc = "zoom"},
    {"x", "integer", .desc = "column"},
    {"y", "integer", .desc = "row (XYZ)"},
    {"out", "string", .desc = "the file written"},
    {"format", "string", .desc = "its image format"},
    {"bytes", "integer", .desc = "its size in bytes"},
    {"bounds_3857", "array", .items = "number", .desc = "the tile's bounds in EPSG:3857"},
    {0},
};

const eoi_op eoi_op_tile = {
    .name = "tile",
    .cli = "tile",
    .summary = "Render web-mercator tile Z/X/Y of any raster to PNG, JPEG, WebP or GeoTIFF",
    .params = params,
    .shared = {eoi_tile_params},
    .positional = "src,z,x,y,out",
    .required = "src,z,x,y,out",
    .result = result,
    .run = run_tile,
};
