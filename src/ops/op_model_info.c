/* op_model_info.c - operation "model_info": what an ONNX model takes and
 * gives (names, types and shapes of its inputs and outputs), its opset, nodes,
 * FLOPs per run and work memory, as eoproc plans it (eo_model_info). */
#include "ops_int.h"

static eo_status set_shape(eo_ctx *ctx, void *o, json_object *v) {
    int64_t dims[8];
    int32_t n = (int32_t)json_object_array_length(v);
    for (int32_t i = 0; i < n && i < 8; i++)
        dims[i] = json_object_get_int64(json_object_array_get_idx(v, (size_t)i));
    return eo_model_opts_set_input_shape(ctx, o, dims, n);
}

static eo_status set_precision(eo_ctx *ctx, void *o, json_object *v) {
    return eo_model_opts_set_precision(ctx, o, json_object_get_string(v));
}

static const eoi_param info_params[] = {
    {"model", "string", .desc = "ONNX file"},
    {"shape", "array", .items = "integer", .min = "1", .min_items = 1, .max_items = 8,
     .desc = "input shape to plan for, e.g. 1,3,512,512 (needed when the input has dynamic "
             "sizes)",
     .set = set_shape},
    {"precision", "string", .choices = "fp32|bf16",
     .desc = "arithmetic of the convolutions: fp32, or bf16 (bfloat16 products summed in FP32 "
             "where the CPU has AVX512_BF16, else FP32 with a warning)",
     .set = set_precision},
    {0},
};

static const eoi_param info_result[] = {
    {"input", "array", .items = "integer", .desc = "shape of the (first) input planned for"},
    {"output", "array", .items = "integer", .desc = "shape of the (first) output"},
    {"planned_at_load", "boolean", .desc = "whether the model was planned when loaded"},
    {"inputs", "array", .items = "object", .desc = "every input: name, dtype, shape"},
    {"outputs", "array", .items = "object", .desc = "every output: name, dtype, shape"},
    {"opset", "integer", .desc = "default-domain opset"},
    {"onnx_nodes", "integer", .desc = "nodes in the ONNX graph"},
    {"nodes", "integer", .desc = "nodes eoproc runs (after fusion)"},
    {"flops", "integer", .desc = "floating-point operations per run"},
    {"work_bytes", "integer", .desc = "work memory per run, bytes"},
    {"simd", "string", .desc = "the SIMD path the kernels use"},
    {"bf16_kernel", "string",
     .desc = "with precision bf16: amx (AMX-BF16 tiles) or avx512_bf16 (vdpbf16ps)"},
    {"precision", "string", .desc = "the arithmetic the convolutions run in: fp32 or bf16"},
    {0},
};

static eo_status run_model_info(eo_ctx *ctx, json_object *params, json_object **result) {
    eo_model *m = NULL;
    eo_model_opts *o = NULL;
    char *text = NULL;
    eo_status st = EO_OK;
    EOI_TRY(st, eo_model_opts_new(ctx, &o));
    EOI_TRY(st, eoi_params_apply(ctx, info_params, params, o));
    EOI_TRY(st, eo_model_load(ctx, &m, eoi_param_str(params, "model", ""), o));
    EOI_TRY(st, eo_model_info(ctx, &text, m));
    EOI_TRY(st, eoi_json_parse(ctx, result, text, "model info", EO_E_INTERNAL));
done:
    eo_free(text);
    eo_model_free(m);
    eo_model_opts_free(o);
    return st;
}

const eoi_op eoi_op_model_info = {
    .name = "model_info",
    .cli = "model-info",
    .summary = "An ONNX model's inputs and outputs (names, types, shapes), opset, nodes and "
               "FLOPs",
    .params = info_params,
    .positional = "model",
    .required = "model",
    .result = info_result,
    .run = run_model_info,
};
