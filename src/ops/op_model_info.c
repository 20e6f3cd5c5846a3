/* op_model_info.c - operation "model_info": what an ONNX model takes and
 * gives (names, types and shapes of its inputs and outputs), its opset, nodes,
 * FLOPs per run and work memory, as eoproc plans it (eo_model_info). */
#include "ops_int.h"

static eo_status run_model_info(eo_ctx *ctx, json_object *params, json_object **result) {
    eo_model *m = NULL;
    char *text = NULL;
    eo_status st = EO_OK;
    EOI_TRY(st, eo_model_load(ctx, &m, eoi_param_str(params, "model", ""), NULL));
    EOI_TRY(st, eo_model_info(ctx, &text, m));
    EOI_TRY(st, eoi_json_parse(ctx, result, text, "model info", EO_E_INTERNAL));
done:
    eo_free(text);
    eo_model_free(m);
    return st;
}

const eoi_op eoi_op_model_info = {
    .name = "model_info",
    .cli = "model-info",
    .summary = "An ONNX model's inputs and outputs (names, types, shapes), opset, nodes and "
               "FLOPs",
    .schema = "{"
              "\"$schema\": \"https://json-schema.org/draft/2020-12/schema\","
              "\"title\": \"model_info\","
              "\"type\": \"object\","
              "\"properties\": {"
              "\"model\": {\"type\": \"string\", \"minLength\": 1, "
              "\"description\": \"ONNX file\"}},"
              "\"required\": [\"model\"],"
              "\"additionalProperties\": false,"
              "\"x-positional\": [\"model\"]"
              "}",
    .run = run_model_info,
};
