/* op_index.c - operation "index": a catalog index of a raster, written as a
 * float32 Cloud-Optimized GeoTIFF. */
#include "ops_analytics.h"

const eoi_op eoi_op_index = {
    .name = "index",
    .cli = "index",
    .summary = "Compute a spectral index (NDVI, NDWI, NBR, ...) of a raster into a float32 COG",
    .schema = "{"
              "\"$schema\": \"https://json-schema.org/draft/2020-12/schema\","
              "\"title\": \"index\","
              "\"type\": \"object\","
              "\"properties\": {"
              "\"src\": " EOI_SRC_SCHEMA(
                  "input raster") ","
                                  "\"index\": {\"type\": \"string\", \"minLength\": 1, "
                                  "\"description\": \"index name "
                                  "(eoproc indices lists them)\"},"
                                  "\"out\": {\"type\": \"string\", \"minLength\": 1, "
                                  "\"description\": \"output "
                                  "COG\"}," EOI_SCHEMA_EVAL_PROPS
                                  "\"nodata\": {\"type\": \"number\", \"default\": -9999, "
                                  "\"description\": \"output "
                                  "nodata value\"}," EOI_COG_OUTPUT_PROPS "},"
                                  "\"required\": [\"src\", \"index\", \"out\"],"
                                  "\"additionalProperties\": false,"
                                  "\"x-positional\": [\"src\", \"index\", \"out\"]"
                                  "}",
    .run = eoi_ops_eval_to_file,
};
