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

const eoi_op eoi_op_info = {
    .name = "info",
    .cli = "info",
    .summary = "Metadata of a raster: size, bands, CRS, geotransform, overviews, footprint",
    .schema = "{"
              "\"$schema\": \"https://json-schema.org/draft/2020-12/schema\","
              "\"title\": \"info\","
              "\"type\": \"object\","
              "\"properties\": {"
              "\"path\": " EOI_SRC_SCHEMA(
                  "raster file (any format GDAL reads)") "},"
                                                         "\"required\": [\"path\"],"
                                                         "\"additionalProperties\": false,"
                                                         "\"x-positional\": [\"path\"]"
                                                         "}",
    .run = run_info,
};
