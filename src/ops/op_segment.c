/* op_segment.c - operation "segment": run an ONNX segmentation model over a
 * raster in overlapping tiles (eo_segment) and write probability and class
 * COGs. */
#include "cog_params.h"
#include "ops_int.h"

#include <string.h>

/* The parameters eo_segment_opts_set_json takes. */
static const char *const seg_keys[] = {"tile", "overlap", "batch",     "bands",      "scale",
                                       "mean", "std",     "threshold", "activation", "classes"};

/* The segment options of the parameters given (the others come from the
 * model's card in eo_segment, else the defaults). */
static eo_status set_opts(eo_ctx *ctx, eo_segment_opts *o, json_object *params) {
    json_object *sub = json_object_new_object(), *v = NULL;
    if (!sub)
        return eoi_fail(ctx, EO_E_NOMEM, "out of memory");
    for (size_t i = 0; i < sizeof seg_keys / sizeof seg_keys[0]; i++)
        if (json_object_object_get_ex(params, seg_keys[i], &v) && v)
            json_object_object_add(sub, seg_keys[i], json_object_get(v));
    const char *text = json_object_to_json_string_ext(sub, JSON_C_TO_STRING_PLAIN);
    eo_status st =
        text ? eo_segment_opts_set_json(ctx, o, text) : eoi_fail(ctx, EO_E_NOMEM, "out of memory");
    json_object_put(sub);
    return st;
}

static eo_status run_segment(eo_ctx *ctx, json_object *params, json_object **result) {
    eo_segment_opts *o = NULL;
    eo_cog_opts *co = NULL;
    eo_dataset *ds = NULL;
    eo_geom *aoi = NULL;
    eo_model *m = NULL;
    eo_model_card *card = NULL;
    char *json = NULL;
    eo_status st = EO_OK;
    json_object *v = NULL;
    const char *model = eoi_param_str(params, "model", "");
    /* the model's card first: a bad model or card is reported before the
     * options it would have completed */
    EOI_TRY(st, eo_model_card_load(ctx, &card, model));
    EOI_TRY(st, eo_segment_opts_new(ctx, &o));
    EOI_TRY(st, set_opts(ctx, o, params));
    EOI_TRY(st, eoi_cog_opts_from_params(ctx, &co, params));
    EOI_TRY(st, eo_segment_opts_set_cog_opts(ctx, o, co));
    if (json_object_object_get_ex(params, "aoi", &v) && v)
        EOI_TRY(st, eoi_param_aoi_value(ctx, &aoi, v, params));
    EOI_TRY(st, eoi_param_dataset(ctx, &ds, params, "src"));
    /* planned for the tiles eo_segment will run (so that it need not
     * re-plan) */
    EOI_TRY(st,
            eo_segment_model_load(ctx, &m, model, ds, o, eoi_param_str(params, "precision", NULL)));
    EOI_TRY(st, eo_segment(ctx, &json, eoi_param_str(params, "out", ""), m, ds, aoi, o));
    EOI_TRY(st, eoi_json_parse(ctx, result, json, "segment result", EO_E_INTERNAL));
done:
    eo_free(json);
    eo_model_card_free(card);
    eo_model_free(m);
    eo_geom_free(aoi);
    eo_dataset_close(ds);
    eo_segment_opts_free(o);
    eo_cog_opts_free(co);
    return st;
}

static const eoi_param params[] = {
    {"model", "string", .desc = "ONNX model: N x C x H x W in, N x classes x H x W out"},
    {"src", "raster", .desc = "source raster"},
    {"out", "string", .desc = "probability COG (float32, one band per class)"},
    {"classes", "string",
     .desc = "class COG (uint8; default: OUT with _classes before its extension)"},
    {"tile", "integer", .min = "8", .max = "8192",
     .desc = "tile size in pixels (default: the model's fixed input size, else its card's, else "
             "512)"},
    {"overlap", "integer", .min = "0", .max = "4096",
     .desc = "overlap of neighbouring tiles in pixels, at most half the tile (default: the "
             "model card's, else 64)"},
    {"batch", "integer", .min = "1", .max = "256",
     .desc = "tiles per model run (default: the model's fixed batch, else 1)"},
    {"bands", "array", .items = "integer", .min = "1",
     .desc = "source bands fed to the model, in order (default: the model card's, else all)"},
    {"scale", "number|string",
     .desc = "input scale, a number or a fraction such as 1/255 (default: the model card's, "
             "else 1)"},
    {"mean", "array", .items = "number",
     .desc = "per-band mean subtracted after scaling (one value, or one per band; default: "
             "the model card's, else 0)"},
    {"std", "array", .items = "number",
     .desc = "per-band standard deviation divided by (one value, or one per band; default: "
             "the model card's, else 1)"},
    {"threshold", "number", .min = "0", .max = "1",
     .desc = "probability threshold of a one-channel model's class raster (default: the "
             "model card's, else 0.5)"},
    {"activation", "string", .choices = "auto|none|sigmoid|softmax",
     .desc = "output to probabilities (auto: none if the model ends in a sigmoid or softmax; "
             "default: the model card's, else auto)"},
    {"precision", "string", .choices = "fp32|bf16",
     .desc = "arithmetic of the convolutions: fp32, or bf16 (bfloat16 products summed in FP32 "
             "where the CPU has AVX512_BF16, else FP32 with a warning; default: the model "
             "card's, else fp32)"},
    {0},
};

static const eoi_param result[] = {
    {"probabilities", "string", .desc = "the probability COG"},
    {"classes", "string", .desc = "the class COG"},
    {"width", "integer", .desc = "width in pixels"},
    {"height", "integer", .desc = "height in pixels"},
    {"window", "array", .items = "integer",
     .desc = "[x, y, width, height] of the source read (the AOI's, with one)"},
    {"classes_count", "integer", .desc = "number of classes"},
    {"activation", "string", .desc = "the activation applied"},
    {"tile", "integer", .desc = "tile size used"},
    {"overlap", "integer", .desc = "overlap used"},
    {"batch", "integer", .desc = "batch used"},
    {"tiles", "integer", .desc = "tiles in the area"},
    {"tiles_run", "integer", .desc = "tiles run through the model (tiles with data)"},
    {0},
};

const eoi_op eoi_op_segment = {
    .name = "segment",
    .cli = "segment",
    .summary = "Run an ONNX segmentation model over a raster in overlapping tiles: probability "
               "and class COGs",
    .params = params,
    .shared = {eoi_aoi_params, eoi_cog_output_params},
    .positional = "model,src,out",
    .required = "model,src,out",
    .result = result,
    .run = run_segment,
};
