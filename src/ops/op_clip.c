/* op_clip.c - operation "clip": a raster clipped to an AOI, as a COG. */
#include "cog_params.h"

static eo_status set_no_crop(eo_ctx *ctx, void *o, json_object *v) {
    return eo_clip_opts_set_crop(ctx, o, !json_object_get_boolean(v));
}

static eo_status set_bands(eo_ctx *ctx, void *o, json_object *v) {
    int32_t *bands, n;
    EOI_TRY_RET(eoi_param_bands(ctx, &bands, &n, v));
    eo_status st = eo_clip_opts_set_bands(ctx, o, bands, n);
    eoi_free(bands);
    return st;
}

EOI_SETTER_BOOL(set_all_touched, eo_clip_opts, eo_clip_opts_set_all_touched)
EOI_SETTER_BOOL(set_alpha, eo_clip_opts, eo_clip_opts_set_alpha)
EOI_SETTER_BOOL(set_coverage, eo_clip_opts, eo_clip_opts_set_coverage)

static const eoi_param clip_params[] = {
    {"src", "raster", .desc = "source raster"},
    {"out", "string", .desc = "output COG (written to a temporary name, then renamed)"},
    {"no_crop", "boolean", "false",
     .desc = "keep the raster's extent instead of cropping to the AOI's", .set = set_no_crop},
    {"all_touched", "boolean", "false",
     .desc = "include every pixel the AOI touches (default: pixel centre inside)",
     .set = set_all_touched},
    {"alpha", "boolean", "false", .desc = "add an alpha band (255 inside, 0 outside)",
     .set = set_alpha},
    {"coverage", "boolean", "false",
     .desc = "add a band with the exact fraction of each pixel inside the AOI (the output "
             "becomes float)",
     .set = set_coverage},
    {"bands", "array", .items = "integer", .min = "1", .min_items = 1,
     .desc = "source bands to keep, e.g. 3,2,1 (default: all)", .set = set_bands},
    {0},
};

static const eoi_param clip_result[] = {
    {"path", "string", .desc = "the COG written"},
    {"width", "integer", .desc = "its width in pixels"},
    {"height", "integer", .desc = "its height in pixels"},
    {"bands", "integer", .desc = "its number of bands"},
    {"dtype", "string", .desc = "its data type (float32 with coverage)"},
    {"geotransform", "array", .items = "number", .desc = "its geotransform"},
    {"window", "array", .items = "integer",
     .desc = "[x, y, width, height] of the source read (the source's pixel grid)"},
    {"nodata", "number|string|null", .desc = "its nodata value (\"nan\" for NaN)"},
    {"all_touched", "boolean", .desc = "the pixel rule used"},
    {"pixels_inside", "integer", .desc = "pixels of the window inside the AOI"},
    {"pixels_total", "integer", .desc = "pixels of the window"},
    {"coverage_sum", "number", .desc = "(with coverage) the coverage band's sum, in pixels"},
    {"aoi_area", "number", .desc = "the AOI's area, m² (geodesic)"},
    {"bytes", "integer", .desc = "its size in bytes"},
    {"warnings", "array", .items = "string",
     .desc = "what was done about suspicious input (a source nodata its type cannot hold)"},
    {0},
};

static eo_status run_clip(eo_ctx *ctx, json_object *params, json_object **result) {
    eo_dataset *ds = NULL;
    eo_geom *aoi = NULL;
    eo_cog_opts *co = NULL;
    eo_clip_opts *o = NULL;
    char *text = NULL;
    eo_status st = EO_OK;
    EOI_TRY(st, eoi_cog_opts_from_params(ctx, &co, params));
    EOI_TRY(st, eo_clip_opts_new(ctx, &o));
    EOI_TRY(st, eo_clip_opts_set_cog_opts(ctx, o, co));
    EOI_TRY(st, eoi_params_apply(ctx, clip_params, params, o));
    EOI_TRY(st, eoi_param_aoi(ctx, &aoi, params));
    EOI_TRY(st, eoi_param_dataset(ctx, &ds, params, "src"));
    EOI_TRY(st, eo_clip(ctx, &text, eoi_param_str(params, "out", ""), ds, aoi, o));
    EOI_TRY(st, eoi_json_parse(ctx, result, text, "clip result", EO_E_INTERNAL));
done:
    eo_free(text);
    eo_clip_opts_free(o);
    eo_cog_opts_free(co);
    eo_geom_free(aoi);
    eo_dataset_close(ds);
    return st;
}

const eoi_op eoi_op_clip = {
    .name = "clip",
    .cli = "clip",
    .summary = "Clip a raster to an AOI on its own pixel grid (no resampling), as a COG",
    .params = clip_params,
    .shared = {eoi_aoi_params, eoi_cog_output_params, eoi_nodata_params},
    .positional = "src,aoi,out",
    .required = "src,aoi,out",
    .result = clip_result,
    .run = run_clip,
};
