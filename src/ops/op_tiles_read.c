/* op_tiles_read.c - operation "tiles_read": a region of a tile pyramid (a
 * folder or an MBTiles file) at one zoom, read as a raster in EPSG:3857
 * (eo_dataset_open_tiles) and written as a Cloud-Optimized GeoTIFF. */
#include "cog_params.h"

#include <string.h>
#include <sys/stat.h>

static eo_status scheme_of(eo_ctx *ctx, const char *s, int32_t *out) {
    if (strcmp(s, "xyz") == 0)
        *out = EO_TILE_SCHEME_XYZ;
    else if (strcmp(s, "tms") == 0)
        *out = EO_TILE_SCHEME_TMS;
    else if (strcmp(s, "quadkey") == 0)
        *out = EO_TILE_SCHEME_QUADKEY;
    else
        return eoi_fail(ctx, EO_E_PARAM, "scheme: expected xyz, tms or quadkey, got '%.40s'", s);
    return EO_OK;
}

static eo_status extent(eo_ctx *ctx, eo_tilesrc_opts *o, json_object *params) {
    json_object *bb = NULL, *aoi = NULL;
    bool has_bbox = json_object_object_get_ex(params, "bbox", &bb) && bb;
    bool has_aoi = json_object_object_get_ex(params, "aoi", &aoi) && aoi;
    if (has_bbox == has_aoi)
        return eoi_fail(ctx, EO_E_PARAM, "give exactly one of bbox and aoi (the extent to read)");
    if (has_bbox) {
        eo_bbox b = {json_object_get_double(json_object_array_get_idx(bb, 0)),
                     json_object_get_double(json_object_array_get_idx(bb, 1)),
                     json_object_get_double(json_object_array_get_idx(bb, 2)),
                     json_object_get_double(json_object_array_get_idx(bb, 3))};
        return eo_tilesrc_opts_set_bbox(ctx, o, &b, eoi_param_str(params, "crs", "EPSG:4326"));
    }
    eo_geom *g = NULL;
    eo_status st = eoi_param_aoi(ctx, &g, params);
    if (st == EO_OK)
        st = eo_tilesrc_opts_set_aoi(ctx, o, g);
    eo_geom_free(g);
    return st;
}

static eo_status run_tiles_read(eo_ctx *ctx, json_object *params, json_object **result) {
    eo_tilesrc_opts *o = NULL;
    eo_cog_opts *co = NULL;
    eo_dataset *ds = NULL;
    char *info = NULL;
    eo_status st = EO_OK;
    int32_t scheme = 0;
    const char *out = eoi_param_str(params, "out", "");
    EOI_TRY(st, scheme_of(ctx, eoi_param_str(params, "scheme", "xyz"), &scheme));
    EOI_TRY(st, eo_tilesrc_opts_new(ctx, &o));
    EOI_TRY(st, eo_tilesrc_opts_set_zoom(ctx, o, (int32_t)eoi_param_int(params, "zoom", -1)));
    EOI_TRY(st, extent(ctx, o, params));
    EOI_TRY(st, eo_tilesrc_opts_set_scheme(ctx, o, scheme));
    EOI_TRY(st, eo_tilesrc_opts_set_tile_size(ctx, o,
                                              (int32_t)eoi_param_int(params, "tile_size", 256)));
    EOI_TRY(st, eo_tilesrc_opts_set_bands(ctx, o, (int32_t)eoi_param_int(params, "bands", 4)));
    EOI_TRY(st, eo_tilesrc_opts_set_corrupt_as_missing(
                    ctx, o, eoi_param_bool(params, "corrupt_as_missing", false)));
    EOI_TRY(st, eo_dataset_open_tiles(ctx, &ds, eoi_param_str(params, "src", ""), o));
    EOI_TRY(st, eoi_cog_opts_from_params(ctx, &co, params));
    EOI_TRY(st, eo_cog_write(ctx, out, ds, co));
    EOI_TRY(st, eo_dataset_tiles_info(ctx, &info, ds));
    json_object *r = NULL;
    EOI_TRY(st, eoi_json_parse(ctx, &r, info, "tile dataset info", EO_E_INTERNAL));
    json_object_object_del(r, "gdal_path"); /* meaningless once closed */
    struct stat sb;
    json_object_object_add(r, "out", json_object_new_string(out));
    json_object_object_add(r, "bytes",
                           json_object_new_int64(stat(out, &sb) == 0 ? (int64_t)sb.st_size : -1));
    json_object_object_add(r, "width", json_object_new_int64(eo_dataset_width(ds)));
    json_object_object_add(r, "height", json_object_new_int64(eo_dataset_height(ds)));
    double gt[6];
    eo_dataset_get_geotransform(ds, gt);
    json_object *g = json_object_new_array();
    for (int i = 0; i < 6; i++)
        json_object_array_add(g, eoi_json_double(gt[i]));
    json_object_object_add(r, "geotransform", g);
    *result = r;
done:
    eo_free(info);
    eo_dataset_close(ds);
    eo_cog_opts_free(co);
    eo_tilesrc_opts_free(o);
    return st;
}

static const eoi_param params[] = {
    {"src", "string",
     .desc = "folder of {z}/{x}/{y}.png|jpg|webp tiles (or {quadkey}.ext), an MBTiles file, "
             "or a URL template (https://host/{z}/{x}/{y}.png) fetched by the host"},
    {"out", "string", .desc = "output COG (written to a temporary name, then renamed)"},
    {"zoom", "integer", .min = "0", .max = "30",
     .desc = "zoom of the tiles read (the raster has its resolution)"},
    {"bbox", "array", .items = "number", .min_items = 4, .max_items = 4,
     .desc = "extent xmin,ymin,xmax,ymax in --crs (EPSG:4326 or EPSG:3857)"},
    {"scheme", "string", "\"xyz\"", .choices = "xyz|tms|quadkey",
     .desc = "row order / naming of a folder"},
    {"tile_size", "integer", "256", "1", "4096", .desc = "tile size in pixels"},
    {"bands", "integer", "4", "1", "4", .desc = "4 RGBA, 3 RGB (nodata 0), 2 gray + alpha, 1 gray"},
    {"corrupt_as_missing", "boolean", "false",
     .desc = "read tiles that cannot be decoded as missing"},
    {0},
};

static const eoi_param result[] = {
    {"out", "string", .desc = "the COG written (EPSG:3857)"},
    {"bytes", "integer", .desc = "its size in bytes"},
    {"width", "integer", .desc = "width in pixels"},
    {"height", "integer", .desc = "height in pixels"},
    {"geotransform", "array", .items = "number", .desc = "its geotransform"},
    {"source", "string", .desc = "the tile source"},
    {"kind", "string", .desc = "folder or mbtiles"},
    {"zoom", "integer", .desc = "zoom read"},
    {"scheme", "string", .desc = "row order / naming"},
    {"tile_size", "integer", .desc = "tile size"},
    {"x_min", "integer", .desc = "first tile column"},
    {"y_min", "integer", .desc = "first tile row"},
    {"x_max", "integer", .desc = "last tile column"},
    {"y_max", "integer", .desc = "last tile row"},
    {"cover", "integer", .desc = "tiles to fetch: the AOI's cover, else the range"},
    {"fetched", "integer", .desc = "fetches that returned bytes"},
    {"found", "integer", .desc = "distinct tiles decoded"},
    {"failed", "integer", .desc = "fetch errors"},
    {"failures", "array", .items = "object",
     .desc = "up to 100 failures: z, x, y, where (file or URL), kind, error"},
    {"missing", "integer", .desc = "tiles absent from the source"},
    {"corrupt", "integer", .desc = "tiles that could not be decoded"},
    {"decoded", "integer", .desc = "tiles decoded"},
    {"cache_hits", "integer", .desc = "tile cache hits"},
    {"cache_bytes", "integer", .desc = "bytes in the tile cache"},
    {"cache_max_bytes", "integer", .desc = "the cache's limit"},
    {"last_error", "string|null", .desc = "the last tile error, if any"},
    {0},
};

const eoi_op eoi_op_tiles_read = {
    .name = "tiles_read",
    .cli = "tiles-read",
    .summary = "Read a region of a tile pyramid (folder or MBTiles) at a zoom into a COG in "
               "EPSG:3857",
    .params = params,
    .shared = {eoi_aoi_params, eoi_cog_output_params},
    .positional = "src,out",
    .required = "src,out,zoom",
    .result = result,
    .run = run_tiles_read,
};
