/* op_preview.c - operation "preview": a contrast-stretched thumbnail of a
 * whole raster, read from its overviews, as JPEG, PNG or WebP. */
#include "tiles_param.h"

#include <string.h>

static eo_status run_preview(eo_ctx *ctx, json_object *params, json_object **result) {
    const char *out = eoi_param_str(params, "out", "");
    const char *format = NULL;
    eo_dataset *ds = NULL;
    eo_preview_opts *o = NULL;
    eo_raster *r = NULL;
    void *bytes = NULL;
    size_t size = 0;
    eo_status st = EO_OK;
    EOI_TRY(st, eoi_tile_format(ctx, &format, params, out));
    if (strcmp(format, "tif") == 0) {
        st = eoi_fail(ctx, EO_E_PARAM, "parameter 'out': a preview is a .jpg, .png or .webp");
        goto done;
    }
    EOI_TRY(st, eo_preview_opts_new(ctx, &o));
    EOI_TRY(st, eo_preview_opts_set_size(ctx, o, (int32_t)eoi_param_int(params, "size", 1024)));
    EOI_TRY(st, eo_preview_opts_set_stretch(ctx, o, eoi_param_num(params, "low", 2),
                                            eoi_param_num(params, "high", 98),
                                            eoi_param_bool(params, "use_stats", true),
                                            eoi_param_bool(params, "stretch_8bit", false)));
    json_object *bands;
    if (json_object_object_get_ex(params, "bands", &bands)) {
        int32_t *b, n;
        EOI_TRY(st, eoi_param_bands(ctx, &b, &n, bands));
        st = eo_preview_opts_set_bands(ctx, o, b, n);
        eoi_free(b);
        if (st != EO_OK)
            goto done;
    }
    EOI_TRY(st, eoi_param_dataset(ctx, &ds, params, "src"));
    EOI_TRY(st, eo_preview(ctx, &r, ds, o));
    EOI_TRY(st, eo_raster_encode(ctx, &bytes, &size, r, format,
                                 (int32_t)eoi_param_int(params, "quality", 0)));
    EOI_TRY(st, eoi_write_file(ctx, out, bytes, size));
    json_object *res = json_object_new_object();
    json_object_object_add(res, "out", json_object_new_string(out));
    json_object_object_add(res, "format", json_object_new_string(format));
    json_object_object_add(res, "width", json_object_new_int64(eo_raster_width(r)));
    json_object_object_add(res, "height", json_object_new_int64(eo_raster_height(r)));
    json_object_object_add(res, "bytes", json_object_new_int64((int64_t)size));
    *result = res;
done:
    eo_free(bytes);
    eo_raster_free(r);
    eo_dataset_close(ds);
    eo_preview_opts_free(o);
    return st;
}

static const eoi_param params[] = {
    {"src", "raster", .desc = "raster file (any format GDAL reads)"},
    {"out", "string", .desc = "output image: .jpg, .png or .webp"},
    {"size", "integer", "1024", "1", "16384", .desc = "longest side in pixels"},
    {"bands", "array", .items = "integer", .min = "1", .min_items = 1, .max_items = 3,
     .desc = "1 band (gray) or 3 (e.g. 3,2,1 for natural colour)"},
    {"low", "number", "2", "0", "100", .desc = "low percentile of the stretch"},
    {"high", "number", "98", "0", "100", .desc = "high percentile of the stretch"},
    {"use_stats", "boolean", "true",
     .desc = "stretch between the embedded statistics' min and max when the file has them"},
    {"stretch_8bit", "boolean", "false", .desc = "stretch 8-bit sources too"},
    {"format", "string", .choices = "png|jpeg|webp",
     .desc = "image format (default: from the file name)"},
    {"quality", "integer", .min = "1", .max = "100", .desc = "JPEG / WebP quality (default 75)"},
    {0},
};

static const eoi_param result[] = {
    {"out", "string", .desc = "the image written"},
    {"format", "string", .desc = "its format"},
    {"width", "integer", .desc = "its width in pixels"},
    {"height", "integer", .desc = "its height in pixels"},
    {"bytes", "integer", .desc = "its size in bytes"},
    {0},
};

const eoi_op eoi_op_preview = {
    .name = "preview",
    .cli = "preview",
    .summary = "A contrast-stretched thumbnail of a whole raster (JPEG, PNG or WebP)",
    .params = params,
    .positional = "src,out",
    .required = "src,out",
    .result = result,
    .run = run_preview,
};
