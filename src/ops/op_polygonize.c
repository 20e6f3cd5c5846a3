/* op_polygonize.c - operation "polygonize": a mask or class raster to
 * polygons (GeoJSON, GeoPackage or FlatGeobuf), with optional hole
 * filling, simplification, regularization and a minimum area. */
#include "ops_int.h"

#include <string.h>

static eo_status write_opts(eo_ctx *ctx, json_object *params, eo_vector_write_opts **out) {
    eo_vector_write_opts *wo = NULL;
    eo_status st = EO_OK;
    EOI_TRY(st, eo_vector_write_opts_new(ctx, &wo));
    EOI_TRY(st,
            eo_vector_write_opts_set_format(ctx, wo, eoi_param_str(params, "format", "geojson")));
    if (json_object_object_get_ex(params, "precision", NULL))
        EOI_TRY(st, eo_vector_write_opts_set_precision(
                        ctx, wo, (int32_t)eoi_param_int(params, "precision", 7)));
    EOI_TRY(st, eo_vector_write_opts_set_native_crs(ctx, wo,
                                                    eoi_param_bool(params, "native_crs", false)));
    *out = wo;
    wo = NULL;
done:
    eo_vector_write_opts_free(wo);
    return st;
}

/* The features without a file: the result's GeoJSON. */
static eo_status write_out(eo_ctx *ctx, json_object *params, eo_features *f, json_object *r) {
    eo_vector_write_opts *wo = NULL;
    eo_status st = EO_OK;
    char *text = NULL;
    json_object *gj = NULL;
    if (strcmp(eoi_param_str(params, "format", "geojson"), "geojson") != 0)
        return eoi_fail(ctx, EO_E_PARAM,
                        "parameter 'format': without 'out' only geojson can be returned");
    EOI_TRY(st, write_opts(ctx, params, &wo));
    EOI_TRY(st, eo_features_to_geojson(ctx, &text, f, wo));
    EOI_TRY(st, eoi_json_parse(ctx, &gj, text, "GeoJSON output", EO_E_INTERNAL));
    json_object_object_add(r, "geojson", gj);
done:
    eo_free(text);
    eo_vector_write_opts_free(wo);
    return st;
}

/* fill_holes, staircase / regularize, simplify, min_area: each looks at one
 * feature at a time (coverage simplification, which needs the neighbours,
 * runs on whole collections only) */
static eo_status filter(eo_ctx *ctx, json_object *params, eo_features *f, eo_regularize_opts *ro) {
    eo_status st = EO_OK;
    double holes = eoi_param_num(params, "fill_holes", 0);
    if (holes > 0)
        EOI_TRY_RET(eo_features_fill_holes(ctx, f, holes));
    double cov = eoi_param_num(params, "coverage_simplify", 0);
    double tol = eoi_param_num(params, "simplify", 0);
    if (cov > 0)
        EOI_TRY_RET(eo_features_simplify(ctx, f, cov, EO_SIMPLIFY_COVERAGE));
    if (eoi_param_bool(params, "regularize", false))
        EOI_TRY_RET(eo_features_regularize(ctx, f, ro));
    else if (eoi_param_bool(params, "staircase", false))
        EOI_TRY_RET(eo_features_remove_staircase(ctx, f));
    if (tol > 0)
        EOI_TRY_RET(eo_features_simplify(ctx, f, tol, EO_SIMPLIFY_TOPOLOGY));
    double min_area = eoi_param_num(params, "min_area", 0);
    if (min_area > 0)
        st = eo_features_filter_min_area(ctx, f, min_area);
    return st;
}

/* Features streamed to the output file as polygonize finishes them. */
typedef struct stream {
    json_object *params;
    eo_regularize_opts *ro;
    eo_vector_write_opts *wo;
    const char *out;
    eo_features_writer *sink; /* opened with the first batch */
    int64_t count;
} stream;

static eo_status put_batch(eo_ctx *ctx, eo_features *f, void *user) {
    stream *sj = user;
    EOI_TRY_RET(filter(ctx, sj->params, f, sj->ro));
    if (!sj->sink)
        EOI_TRY_RET(eo_features_writer_open(ctx, &sj->sink, sj->out, sj->wo, f));
    EOI_TRY_RET(eo_features_writer_put(ctx, sj->sink, f));
    sj->count += eo_features_count(f);
    return EO_OK;
}

static eo_status run_polygonize(eo_ctx *ctx, json_object *params, json_object **result) {
    eo_dataset *ds = NULL, *prob = NULL;
    eo_polygonize_opts *po = NULL;
    eo_features *f = NULL;
    json_object *r = NULL;
    eo_status st = EO_OK;
    stream sj = {.params = params, .out = eoi_param_str(params, "out", NULL)};
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
    if (eoi_param_bool(params, "regularize", false))
        EOI_TRY(st, eo_regularize_opts_new(ctx, &sj.ro));
    r = json_object_new_object();
    bool filters =
        eoi_param_num(params, "fill_holes", 0) > 0 ||
        eoi_param_num(params, "coverage_simplify", 0) > 0 ||
        eoi_param_num(params, "simplify", 0) > 0 || eoi_param_bool(params, "regularize", false) ||
        eoi_param_bool(params, "staircase", false) || eoi_param_num(params, "min_area", 0) > 0;
    if (sj.out && !filters) {
        /* straight to the file, open regions' holes on disk */
        EOI_TRY(st, write_opts(ctx, params, &sj.wo));
        EOI_TRY(st, eo_polygonize_write(ctx, ds, po, sj.out, sj.wo, &sj.count));
    } else if (sj.out && !(eoi_param_num(params, "coverage_simplify", 0) > 0)) {
        /* to a file: each feature is written once polygonize is done with it */
        EOI_TRY(st, write_opts(ctx, params, &sj.wo));
        st = eo_polygonize_each(ctx, ds, po, put_batch, &sj);
        if (st == EO_OK && !sj.sink)
            st = eoi_fail(ctx, EO_E_INTERNAL, "polygonize: no features were handed over");
        if (st == EO_OK)
            st = eo_features_writer_finish(ctx, sj.sink);
        else
            eo_features_writer_free(sj.sink);
        sj.sink = NULL;
        if (st != EO_OK)
            goto done;
    } else {
        EOI_TRY(st, eo_polygonize(ctx, &f, ds, po));
        EOI_TRY(st, filter(ctx, params, f, sj.ro));
        sj.count = eo_features_count(f);
        if (sj.out) {
            EOI_TRY(st, write_opts(ctx, params, &sj.wo));
            EOI_TRY(st, eo_features_write(ctx, f, sj.out, sj.wo));
        } else
            EOI_TRY(st, write_out(ctx, params, f, r));
    }
    json_object_object_add(r, "features", json_object_new_int64(sj.count));
    if (sj.out)
        json_object_object_add(r, "out", json_object_new_string(sj.out));
    *result = r;
    r = NULL;
done:
    json_object_put(r);
    eo_features_free(f);
    eo_vector_write_opts_free(sj.wo);
    eo_regularize_opts_free(sj.ro);
    eo_polygonize_opts_free(po);
    eo_dataset_close(prob);
    eo_dataset_close(ds);
    return st;
}

static const eoi_param params[] = {
    {"src", "string", .desc = "mask or class raster"},
    {"out", "string", .desc = "output file (absent: the result holds the GeoJSON)"},
    {"band", "integer", "1", "1", .desc = "band to polygonize"},
    {"connectivity", "integer", "4", .choices = "4|8", .desc = "pixel connectivity of a region"},
    {"no_mask", "boolean", "false", .desc = "polygonize nodata pixels too"},
    {"simplify", "number", "0", "0", .desc = "topology-preserving simplification tolerance (m)"},
    {"coverage_simplify", "number", "0", "0",
     .desc = "coverage-preserving simplification tolerance (m): shared edges stay shared"},
    {"staircase", "boolean", "false", .desc = "remove pixel staircases"},
    {"regularize", "boolean", "false", .desc = "regularize building outlines (right angles)"},
    {"min_area", "number", "0", "0", .desc = "drop polygons below this area (m2)"},
    {"fill_holes", "number", "0", "0", .desc = "fill holes below this area (m2)"},
    {"prob", "string", .desc = "probability raster: the mean inside each polygon is its score"},
    {"prob_band", "integer", "1", "1", .desc = "band of the probability raster"},
    {"format", "string", "\"geojson\"", .choices = "geojson|gpkg|fgb", .desc = "output format"},
    {"precision", "integer", .min = "0", .max = "17",
     .desc = "GeoJSON coordinate decimals (default 7)"},
    {"native_crs", "boolean", "false", .desc = "coordinates in the raster's CRS, not EPSG:4326"},
    {"stripe_rows", "integer", "0", "0", .desc = "rows per stripe (0: automatic)"},
    {0},
};

static const eoi_param result[] = {
    {"features", "integer", .desc = "number of polygons"},
    {"out", "string", .desc = "(with out) the file written"},
    {"geojson", "object", .desc = "(without out) the FeatureCollection"},
    {0},
};

const eoi_op eoi_op_polygonize = {
    .name = "polygonize",
    .cli = "polygonize",
    .summary = "Polygons from a mask or class raster (GeoJSON, GeoPackage, FlatGeobuf)",
    .params = params,
    .positional = "src,out",
    .required = "src",
    .result = result,
    .run = run_polygonize,
};
