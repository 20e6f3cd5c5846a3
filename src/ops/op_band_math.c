/* op_band_math.c - operation "band_math": an expression over a raster's
 * bands, written as a float32 GeoTIFF. */
#include "ops_analytics.h"

const eoi_op eoi_op_band_math = {
    .name = "band_math",
    .cli = "calc",
    .summary = "Evaluate a band-math expression (b1..bN, band symbols, where/min/max/abs/sqrt/"
               "clamp) into a float32 COG",
    .schema = "{"
              "\"$schema\": \"https://json-schema.org/draft/2020-12/schema\","
              "\"title\": \"band_math\","
              "\"type\": \"object\","
              "\"properties\": {"
              "\"src\": " EOI_SRC_SCHEMA(
                  "input raster") ","
                                  "\"expr\": {\"type\": \"string\", \"minLength\": 1, "
                                  "\"description\": \"expression, "
                                  "e.g. (b4 - b3) / (b4 + b3) or where(N > 0.3, 1, 0)\"},"
                                  "\"out\": {\"type\": \"string\", \"minLength\": 1, "
                                  "\"description\": \"output "
                                  "COG\"}," EOI_SCHEMA_EVAL_PROPS
                                  "\"nodata\": {\"type\": \"number\", \"default\": -9999, "
                                  "\"description\": \"output "
                                  "nodata value\"}," EOI_COG_OUTPUT_PROPS "},"
                                  "\"required\": [\"src\", \"expr\", \"out\"],"
                                  "\"additionalProperties\": false,"
                                  "\"x-positional\": [\"src\", \"expr\", \"out\"]"
                                  "}",
    .run = eoi_ops_eval_to_file,
};
