/* op_info.c - operation "info": a raster's metadata. */
#include "ops_int.h"

static eo_status run_info(eo_ctx *ctx, json_object *params, json_object **result) {
    eo_dataset *ds = NULL;
    char *text = NULL;
    eo_status st = EO_OK;
    EOI_TRY(st, eoi_param_dataset(ctx, &ds, params, "path"));
    EOI_TRY(st, eo_dataset_info(ctx, &text, ds));
    EOI_TRY(st, eoi_json_parse(ctx, result, text, "dataset info", EO_E_INTERNAL));
done:
    eo_free(text);
    eo_dataset_close(ds);
    return st;
}

static const eoi_param params[] = {
    {"path", "raster", .desc = "raster file (any format GDAL reads)"},
    {0},
};

static const eoi_param result[] = {
    {"path", "string", .desc = "the file"},
    {"driver", "string", .desc = "GDAL driver short name"},
    {"width", "integer", .desc = "width in pixels"},
    {"height", "integer", .desc = "height in pixels"},
    {"band_count", "integer", .desc = "number of bands"},
    {"bands", "array", .items = "object",
     .desc = "per band: data type, nodata, colour interpretation, description, statistics"},
    {"crs", "object|null", .desc = "the CRS: name, EPSG code, WKT, PROJJSON"},
    {"geotransform", "array", .items = "number", .desc = "GDAL's six geotransform coefficients"},
    {"pixel_size", "array", .items = "number", .desc = "[x, y] pixel size in CRS units"},
    {"rotated", "boolean", .desc = "whether the grid is rotated"},
    {"rotation_deg", "number", .desc = "its rotation"},
    {"bbox", "array", .items = "number", .desc = "[minx, miny, maxx, maxy] in the raster's CRS"},
    {"footprint", "object", .desc = "GeoJSON polygon of the raster's extent (EPSG:4326)"},
    {"bbox_4326", "array", .items = "number", .desc = "the extent in longitude/latitude"},
    {"overview_count", "integer", .desc = "number of overviews"},
    {"metadata", "object", .desc = "the default metadata domain"},
    {"image_structure", "object", .desc = "the IMAGE_STRUCTURE domain (compression, interleave)"},
    {0},
};

const eoi_op eoi_op_info = {
    .name = "info",
    .cli = "info",
    .summary = "Metadata of a raster: size, bands, CRS, geotransform, overviews, footprint",
    .params = params,
    .positional = "path",
    .required = "path",
    .result = result,
    .run = run_info,
};
