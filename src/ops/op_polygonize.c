/* op_polygonize.c - operation "polygonize": a mask or class raster to
 * polygons (GeoJSON, GeoPackage or FlatGeobuf), with optional hole
 * filling, simplification, regularization and a minimum area. */
#include "ops_int.h"

#include <string.h>

static eo_status write_out(eo_ctx *ctx, json_object *params, eo_features *f, json_object *r) {
    eo_vector_write_opts *wo = NULL;
    eo_status st = EO_OK;
    char *text = NULL;
    EOI_TRY(st, eo_vector_write_opts_new(ctx, &wo));
    EOI_TRY(st,
            eo_vector_write_opts_set_format(ctx, wo, eoi_param_str(params, "format", "geojson")));
    if (json_object_object_get_ex(params, "precision", NULL))
        EOI_TRY(st, eo_vector_write_opts_set_precision(
                        ctx, wo, (int32_t)eoi_param_int(params, "precision", 7)));
    EOI_TRY(st, eo_vector_write_opts_set_native_crs(ctx, wo,
                                                    eoi_param_bool(params, "native_crs", false)));
    const char *out = eoi_param_str(params, "out", NULL);
    if (out) {
        EOI_TRY(st, eo_features_write(ctx, f, out, wo));
        json_object_object_add(r, "out", json_object_new_string(out));
    } else {
        if (strcmp(eoi_param_str(params, "format", "geojson"), "geojson") != 0) {
            st = eoi_fail(ctx, EO_E_PARAM,
                          "parameter 'format': without 'out' only geojson "
                          "can be returned");
            goto done;
        }
        json_object *gj = NULL;
        EOI_TRY(st, eo_features_to_geojson(ctx, &text, f, wo));
        EOI_TRY(st, eoi_json_parse(ctx, &gj, text, "GeoJSON output", EO_E_INTERNAL));
        json_object_object_add(r, "geojson", gj);
    }
done:
    eo_free(text);
    eo_vector_write_opts_free(wo);
    return st;
}

static eo_status run_polygonize(eo_ctx *ctx, json_object *params, json_object **result) {
    eo_dataset *ds = NULL, *prob = NULL;
    eo_polygonize_opts *po = NULL;
    eo_regularize_opts *ro = NULL;
    eo_features *f = NULL;
    json_object *r = NULL;
    eo_status st = EO_OK;
    EOI_TRY(st, eo_dataset_open(ctx, &ds, eoi_param_str(params, "src", "")));
    EOI_TRY(st, eo_polygonize_opts_new(ctx, &po));
    EOI_TRY(st, eo_polygonize_opts_set_band(ctx, po, (int32_t)eoi_param_int(params, "band", 1)));
    EOI_TRY(st, eo_polygonize_opts_set_connectivity(
                    ctx, po, (int32_t)eoi_param_int(params, "connectivity", 4)));
    EOI_TRY(st,
            eo_polygonize_opts_set_use_mask(ctx, po, !eoi_param_bool(params, "no_mask", false)));
    EOI_TRY(st,
            eo_polygonize_opts_set_stripe_rows(ctx, po, eoi_param_int(params, "stripe_rows", 0)));
    const char *pp = eoi_param_str(params, "prob", NULL);
    if (pp) {
        EOI_TRY(st, eo_dataset_open(ctx, &prob, pp));
        EOI_TRY(st, eo_polygonize_opts_set_prob(ctx, po, prob,
                                                (int32_t)eoi_param_int(params, "prob_band", 1)));
    }
    EOI_TRY(st, eo_polygonize(ctx, &f, ds, po));
    double holes = eoi_param_num(params, "fill_holes", 0);
    if (holes > 0)
        EOI_TRY(st, eo_features_fill_holes(ctx, f, holes));
    double cov = eoi_param_num(params, "coverage_simplify", 0);
    double tol = eoi_param_num(params, "simplify", 0);
    if (cov > 0)
        EOI_TRY(st, eo_features_simplify(ctx, f, cov, EO_SIMPLIFY_COVERAGE));
    if (eoi_param_bool(params, "regularize", false)) {
        EOI_TRY(st, eo_regularize_opts_new(ctx, &ro));
        EOI_TRY(st, eo_features_regularize(ctx, f, ro));
    } else if (eoi_param_bool(params, "staircase", false))
        EOI_TRY(st, eo_features_remove_staircase(ctx, f));
    if (tol > 0)
        EOI_TRY(st, eo_features_simplify(ctx, f, tol, EO_SIMPLIFY_TOPOLOGY));
    double min_area = eoi_param_num(params, "min_area", 0);
    if (min_area > 0)
        EOI_TRY(st, eo_features_filter_min_area(ctx, f, min_area));
    r = json_object_new_object();
    json_object_object_add(r, "features", json_object_new_int64(eo_features_count(f)));
    EOI_TRY(st, write_out(ctx, params, f, r));
    *result = r;
    r = NULL;
done:
    json_object_put(r);
    eo_features_free(f);
    eo_regularize_opts_free(ro);
    eo_polygonize_opts_free(po);
    eo_dataset_close(prob);
    eo_dataset_close(ds);
    return st;
}

const eoi_op eoi_op_polygonize = {
    .name = "polygonize",
    .cli = "polygonize",
    .summary = "Polygons from a mask or class raster (GeoJSON, GeoPackage, FlatGeobuf)",
    .schema =
        "{"
        "\"$schema\": \"https://json-schema.org/draft/2020-12/schema\","
        "\"title\": \"polygonize\","
        "\"type\": \"object\","
        "\"properties\": {"
        "  \"src\": {\"type\": \"string\", \"description\": \"mask or class raster\"},"
        "  \"out\": {\"type\": \"string\", \"description\": \"output file (absent: the result "
        "holds the GeoJSON)\"},"
        "  \"band\": {\"type\": \"integer\", \"minimum\": 1, \"default\": 1,"
        "            \"description\": \"band to polygonize\"},"
        "  \"connectivity\": {\"type\": \"integer\", \"enum\": [4, 8], \"default\": 4,"
        "                    \"description\": \"pixel connectivity of a region\"},"
        "  \"no_mask\": {\"type\": \"boolean\", \"default\": false,"
        "               \"description\": \"polygonize nodata pixels too\"},"
        "  \"simplify\": {\"type\": \"number\", \"minimum\": 0, \"default\": 0,"
        "                \"description\": \"topology-preserving simplification tolerance (m)\"},"
        "  \"coverage_simplify\": {\"type\": \"number\", \"minimum\": 0, \"default\": 0,"
        "       \"description\": \"coverage-preserving simplification tolerance (m): shared "
        "edges stay shared\"},"
        "  \"staircase\": {\"type\": \"boolean\", \"default\": false,"
        "                 \"description\": \"remove pixel staircases\"},"
        "  \"regularize\": {\"type\": \"boolean\", \"default\": false,"
        "                  \"description\": \"regularize building outlines (right angles)\"},"
        "  \"min_area\": {\"type\": \"number\", \"minimum\": 0, \"default\": 0,"
        "                \"description\": \"drop polygons below this area (m2)\"},"
        "  \"fill_holes\": {\"type\": \"number\", \"minimum\": 0, \"default\": 0,"
        "                  \"description\": \"fill holes below this area (m2)\"},"
        "  \"prob\": {\"type\": \"string\", \"description\": \"probability raster: the mean "
        "inside each polygon is its score\"},"
        "  \"prob_band\": {\"type\": \"integer\", \"minimum\": 1, \"default\": 1,"
        "                 \"description\": \"band of the probability raster\"},"
        "  \"format\": {\"type\": \"string\", \"enum\": [\"geojson\", \"gpkg\", \"fgb\"],"
        "              \"default\": \"geojson\", \"description\": \"output format\"},"
        "  \"precision\": {\"type\": \"integer\", \"minimum\": 0, \"maximum\": 17,"
        "                 \"description\": \"GeoJSON coordinate decimals (default 7)\"},"
        "  \"native_crs\": {\"type\": \"boolean\", \"default\": false,"
        "                  \"description\": \"coordinates in the raster's CRS, not EPSG:4326\"},"
        "  \"stripe_rows\": {\"type\": \"integer\", \"minimum\": 0, \"default\": 0,"
        "                   \"description\": \"rows per stripe (0: automatic)\"}"
        "},"
        "\"required\": [\"src\"],"
        "\"additionalProperties\": false,"
        "\"x-positional\": [\"src\", \"out\"]"
        "}",
    .run = run_polygonize,
};
