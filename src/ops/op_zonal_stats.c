/* op_zonal_stats.c - operation "zonal_stats": statistics of a band or an
 * index over an AOI, or over each feature of a FeatureCollection. */
#include "ops_analytics.h"

#include <ctype.h>
#include <string.h>

/* The AOI parameter as parsed JSON (a path is read, text is parsed). */
static eo_status aoi_json(eo_ctx *ctx, json_object **out, json_object *aoi) {
    *out = NULL;
    if (!json_object_is_type(aoi, json_type_string)) {
        *out = json_object_get(aoi);
        return EO_OK;
    }
    const char *s = json_object_get_string(aoi), *p = s;
    while (isspace((unsigned char)*p))
        p++;
    if (*p == '{')
        return eoi_json_parse(ctx, out, s, "AOI", EO_E_GEOMETRY);
    char *text = NULL;
    size_t len = 0;
    eo_status st = eoi_read_file(ctx, &text, &len, s, (size_t)eoi_limit(ctx, EO_LIMIT_JSON_BYTES));
    if (st == EO_OK)
        st = eoi_json_parse(ctx, out, text, s, EO_E_GEOMETRY);
    eoi_free(text);
    return st;
}

static eo_status one_zone(eo_ctx *ctx, json_object **out, eo_dataset *ds, json_object *aoi,
                          const eo_expr *e, const eo_analytics_opts *o, json_object *params) {
    eo_geom *g = NULL;
    char *text = NULL;
    eo_status st = eoi_param_aoi_value(ctx, &g, aoi, params);
    if (st == EO_OK)
        st = eo_zonal_stats(ctx, &text, ds, g, e, o);
    if (st == EO_OK)
        st = eoi_json_parse(ctx, out, text, "statistics", EO_E_INTERNAL);
    if (st == EO_OK)
        eoi_ops_select_stats(*out, params);
    eo_free(text);
    eo_geom_free(g);
    return st;
}

static eo_status run_zonal(eo_ctx *ctx, json_object *params, json_object **result) {
    eo_dataset *ds = NULL;
    eo_expr *e = NULL;
    eo_analytics_opts *o = NULL;
    json_object *aoi = NULL, *r = NULL;
    eo_status st = EO_OK;
    EOI_TRY(st, eoi_ops_expr(ctx, &e, params));
    EOI_TRY(st, eoi_ops_opts(ctx, &o, params));
    EOI_TRY(st, eo_dataset_open(ctx, &ds, eoi_param_str(params, "src", "")));
    json_object *p;
    json_object_object_get_ex(params, "aoi", &p);
    EOI_TRY(st, aoi_json(ctx, &aoi, p));
    json_object *type = NULL, *features = NULL;
    json_object_object_get_ex(aoi, "type", &type);
    if (type && strcmp(json_object_get_string(type), "FeatureCollection") == 0 &&
        json_object_object_get_ex(aoi, "features", &features) &&
        json_object_is_type(features, json_type_array)) {
        r = json_object_new_object();
        json_object *list = json_object_new_array();
        json_object_object_add(r, "features", list);
        for (size_t i = 0; i < json_object_array_length(features); i++) {
            json_object *f = json_object_array_get_idx(features, i), *stats = NULL, *v;
            EOI_TRY(st, one_zone(ctx, &stats, ds, f, e, o, params));
            json_object *item = json_object_new_object();
            if (json_object_object_get_ex(f, "id", &v))
                json_object_object_add(item, "id", json_object_get(v));
            if (json_object_object_get_ex(f, "properties", &v))
                json_object_object_add(item, "properties", json_object_get(v));
            json_object_object_add(item, "stats", stats);
            json_object_array_add(list, item);
        }
    } else {
        EOI_TRY(st, one_zone(ctx, &r, ds, aoi, e, o, params));
    }
    if (e)
        json_object_object_add(r, "expr", json_object_new_string(eo_expr_text(e)));
    else
        json_object_object_add(r, "band",
                               json_object_new_int((int)eoi_param_int(params, "band", 1)));
    *result = r;
    r = NULL;
done:
    json_object_put(r);
    json_object_put(aoi);
    eo_dataset_close(ds);
    eo_analytics_opts_free(o);
    eo_expr_free(e);
    return st;
}

static const eoi_param params[] = {
    {"src", "string", .desc = "input raster"},
    {"aoi", "object|string",
     .desc = "GeoJSON Polygon/MultiPolygon, Feature or FeatureCollection (statistics per "
             "feature): an object, its text, or a file"},
    {"index", "string", .desc = "summarize this index"},
    {"expr", "string", .desc = "summarize this band-math expression"},
    {"band", "integer", "1", "1", .desc = "summarize this band (without index or expr)"},
    {0},
};

static const eoi_param result[] = {
    {"features", "array", .items = "object",
     .desc = "(for a FeatureCollection) per feature: id, properties and stats; otherwise the "
             "result holds the statistics fields themselves"},
    {0},
};

const eoi_op eoi_op_zonal_stats = {
    .name = "zonal_stats",
    .cli = "zonal",
    .summary = "Statistics of a band or an index over an AOI or each feature of a "
               "FeatureCollection (centre rule or exact coverage weights)",
    .params = params,
    .shared = {eoi_eval_params, eoi_stats_params, eoi_aoi_params},
    .positional = "src,aoi",
    .required = "src,aoi",
    .result = result,
    .shared_result = eoi_stats_result,
    .run = run_zonal,
};
