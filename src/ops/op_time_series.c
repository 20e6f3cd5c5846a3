/* op_time_series.c - operation "time_series": an index per date at a point
 * or over an AOI. */
#include "ops_analytics.h"

#include <string.h>

static eo_status run_series(eo_ctx *ctx, json_object *params, json_object **result) {
    eo_expr *e = NULL;
    eo_analytics_opts *o = NULL;
    eo_geom *aoi = NULL;
    char *text = NULL, **paths = NULL, **dates = NULL;
    eo_status st = EO_OK;
    json_object *items, *a, *pt;
    json_object_object_get_ex(params, "items", &items);
    size_t n = json_object_array_length(items);
    EOI_TRY(st, eoi_ops_expr(ctx, &e, params));
    if (!e) {
        st = eoi_fail(ctx, EO_E_PARAM, "parameter 'index' or 'expr' is required");
        goto done;
    }
    EOI_TRY(st, eoi_ops_opts(ctx, &o, params));
    bool has_aoi = json_object_object_get_ex(params, "aoi", &a);
    bool has_pt = json_object_object_get_ex(params, "point", &pt);
    if (has_aoi == has_pt) {
        st = eoi_fail(ctx, EO_E_PARAM, "parameters 'aoi' and 'point': give exactly one");
        goto done;
    }
    if (has_aoi) {
        EOI_TRY(st, eoi_param_aoi_value(ctx, &aoi, a, params));
        EOI_TRY(st, eo_analytics_opts_set_aoi(ctx, o, aoi));
    } else {
        EOI_TRY(st, eo_analytics_opts_set_point(
                        ctx, o, json_object_get_double(json_object_array_get_idx(pt, 0)),
                        json_object_get_double(json_object_array_get_idx(pt, 1))));
    }
    if (!(paths = eoi_calloc(ctx, n, sizeof *paths)) ||
        !(dates = eoi_calloc(ctx, n, sizeof *dates))) {
        st = EO_E_NOMEM;
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        json_object *it = json_object_array_get_idx(items, i), *p = NULL, *d = NULL;
        if (json_object_is_type(it, json_type_string)) {
            const char *s = json_object_get_string(it), *at = strrchr(s, '@');
            if (!at || at == s || !at[1]) {
                st = eoi_fail(ctx, EO_E_PARAM,
                              "parameter 'items[%zu]': expected FILE@DATE, got '%.200s'", i, s);
                goto done;
            }
            if (!(paths[i] = eoi_strdup(ctx, s)) || !(dates[i] = eoi_strdup(ctx, at + 1))) {
                st = EO_E_NOMEM;
                goto done;
            }
            paths[i][at - s] = '\0';
        } else if (json_object_object_get_ex(it, "path", &p) &&
                   json_object_object_get_ex(it, "date", &d) &&
                   json_object_is_type(p, json_type_string) &&
                   json_object_is_type(d, json_type_string)) {
            if (!(paths[i] = eoi_strdup(ctx, json_object_get_string(p))) ||
                !(dates[i] = eoi_strdup(ctx, json_object_get_string(d)))) {
                st = EO_E_NOMEM;
                goto done;
            }
        } else {
            st = eoi_fail(ctx, EO_E_PARAM,
                          "parameter 'items[%zu]': expected \"FILE@DATE\" or {\"path\", \"date\"}",
                          i);
            goto done;
        }
    }
    EOI_TRY(st, eo_time_series(ctx, &text, (const char *const *)paths, (const char *const *)dates,
                               (int32_t)n, e, o));
    EOI_TRY(st, eoi_json_parse(ctx, result, text, "time series", EO_E_INTERNAL));
    json_object *series;
    if (has_aoi && json_object_object_get_ex(*result, "series", &series))
        for (size_t i = 0; i < json_object_array_length(series); i++) {
            json_object *s;
            if (json_object_object_get_ex(json_object_array_get_idx(series, i), "stats", &s))
                eoi_ops_select_stats(s, params);
        }
done:
    for (size_t i = 0; i < n; i++) {
        if (paths)
            eoi_free(paths[i]);
        if (dates)
            eoi_free(dates[i]);
    }
    eoi_free(paths);
    eoi_free(dates);
    eo_free(text);
    eo_analytics_opts_free(o);
    eo_geom_free(aoi);
    eo_expr_free(e);
    return st;
}

static const eoi_param params[] = {
    {"items", "array", .items = "string|object", .min_items = 1, .max_items = 100000,
     .desc = "rasters with their dates: FILE@YYYY-MM-DD, or {path, date}"},
    {"index", "string", .desc = "index name, e.g. NDVI"},
    {"expr", "string", .desc = "or a band-math expression"},
    {"point", "array", .items = "number", .min_items = 2, .max_items = 2,
     .desc = "LON,LAT in EPSG:4326"},
    {"aoi", "object|string",
     .desc = "GeoJSON AOI (object, text or file): zonal statistics per date"},
    {0},
};

static const eoi_param result[] = {
    {"index", "string", .desc = "the index's name (when given by name)"},
    {"expr", "string", .desc = "the expression evaluated"},
    {"series", "array", .items = "object",
     .desc = "per date, sorted: date, path and value (point) or stats (AOI)"},
    {0},
};

const eoi_op eoi_op_time_series = {
    .name = "time_series",
    .cli = "series",
    .summary = "An index per date at a point or over an AOI (zonal statistics), sorted by date",
    .params = params,
    .shared = {eoi_eval_params, eoi_stats_params, eoi_aoi_params},
    .positional = "items",
    .required = "items",
    .result = result,
    .run = run_series,
};
