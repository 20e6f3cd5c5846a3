/* analytics_params.c - parameters shared by the analytics operations. */
#include "ops_analytics.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const eoi_param eoi_eval_params[] = {
    {"bands", "string",
     .desc = "band mapping, e.g. R=3,N=4 (symbols A B G R RE1 RE2 RE3 N N2 WV S1 S2 T T1 T2 or "
             "long names)"},
    {"sensor", "string", .choices = "landsat4|landsat5|landsat7|landsat8|landsat9|sentinel2",
     .desc = "known sensor band layout"},
    {"constants", "object|string", .desc = "named constants, e.g. {\"L\": 0.5} (CLI: L=0.5,g=2.5)"},
    {"scale", "number", "1", .desc = "input value * scale + offset before evaluation"},
    {"offset", "number", "0", .desc = "see scale"},
    {0},
};

const eoi_param eoi_stats_params[] = {
    {"coverage", "boolean", "false",
     .desc = "weight each pixel by the exact share of its area inside the AOI"},
    {"all_touched", "boolean", "false",
     .desc = "include every pixel the AOI touches (instead of the pixel-centre rule)"},
    {"percentiles", "array", .items = "number", .min = "0", .max = "100",
     .desc = "percentiles to report, e.g. 10,90"},
    {"histogram", "integer", "0", "0", "100000",
     .desc = "histogram bins over [min, max] (0: none)"},
    {"stats", "array", .choices = "count|nodata_count|pixels|min|max|mean|std|sum|median",
     .desc = "statistics to report (default all)"},
    {0},
};

const eoi_param eoi_eval_out_params[] = {
    {"out", "string", .desc = "output COG"},
    {"nodata", "number", "-9999", .desc = "output nodata value"},
    {0},
};

const eoi_param eoi_eval_result[] = {
    {"path", "string", .desc = "the COG written (float32)"},
    {"index", "string", .desc = "the index's name (when given by name)"},
    {"expr", "string", .desc = "the expression evaluated"},
    {"bands", "object", .desc = "band number each symbol or bN was bound to"},
    {"width", "integer", .desc = "width in pixels"},
    {"height", "integer", .desc = "height in pixels"},
    {"dtype", "string", .desc = "float32"},
    {"nodata", "number", .desc = "its nodata value"},
    {0},
};

const eoi_param eoi_stats_result[] = {
    {"count", "number", .desc = "valid pixels (weights summed with coverage)"},
    {"nodata_count", "integer", .desc = "nodata pixels inside"},
    {"pixels", "integer", .desc = "pixels inside"},
    {"min", "number|null", .desc = "minimum"},
    {"max", "number|null", .desc = "maximum"},
    {"mean", "number|null", .desc = "mean"},
    {"std", "number|null", .desc = "population standard deviation"},
    {"sum", "number|null", .desc = "sum"},
    {"median", "number|null", .desc = "median"},
    {"percentiles", "object", .desc = "(with percentiles) each percentile's value"},
    {"histogram", "object", .desc = "(with histogram) bin edges and counts"},
    {"coverage", "string", .desc = "pixel rule: center, all_touched or exact"},
    {"band", "integer", .desc = "the band summarized (without index or expr)"},
    {"expr", "string", .desc = "the expression summarized"},
    {0},
};

eo_status eoi_ops_expr(eo_ctx *ctx, eo_expr **out, json_object *params) {
    *out = NULL;
    const char *index = eoi_param_str(params, "index", NULL);
    const char *expr = eoi_param_str(params, "expr", NULL);
    if (index && expr)
        return eoi_fail(ctx, EO_E_PARAM, "parameters 'index' and 'expr': give one, not both");
    if (index)
        return eo_expr_from_index(ctx, out, index);
    if (expr)
        return eo_expr_parse(ctx, out, expr);
    return EO_OK;
}

/* "L=0.5,g=2.5" */
static eo_status constants_text(eo_ctx *ctx, eo_analytics_opts *o, const char *text) {
    char buf[1024];
    if (strlen(text) >= sizeof buf)
        return eoi_fail(ctx, EO_E_PARAM, "parameter 'constants': too long");
    snprintf(buf, sizeof buf, "%s", text);
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '='), *end = NULL;
        double v = eq ? strtod(eq + 1, &end) : NAN;
        if (!eq || eq == tok || !end || end == eq + 1 || *end || !isfinite(v))
            return eoi_fail(ctx, EO_E_PARAM,
                            "parameter 'constants': expected NAME=NUMBER entries such as "
                            "L=0.5,g=2.5, got '%.60s'",
                            tok);
        *eq = '\0';
        eo_status st = eo_analytics_opts_set_constant(ctx, o, tok, v);
        if (st != EO_OK)
            return st;
    }
    return EO_OK;
}

static eo_status set_constants(eo_ctx *ctx, eo_analytics_opts *o, json_object *params) {
    json_object *c;
    if (!json_object_object_get_ex(params, "constants", &c))
        return EO_OK;
    if (json_object_is_type(c, json_type_string))
        return constants_text(ctx, o, json_object_get_string(c));
    json_object_object_foreach(c, key, val) {
        if (!json_object_is_type(val, json_type_double) && !json_object_is_type(val, json_type_int))
            return eoi_fail(ctx, EO_E_PARAM, "parameter 'constants.%s': expected a number", key);
        eo_status st = eo_analytics_opts_set_constant(ctx, o, key, json_object_get_double(val));
        if (st != EO_OK)
            return st;
    }
    return EO_OK;
}

eo_status eoi_ops_opts(eo_ctx *ctx, eo_analytics_opts **out, json_object *params) {
    eo_analytics_opts *o = NULL;
    eo_status st = EO_OK;
    *out = NULL;
    EOI_TRY(st, eo_analytics_opts_new(ctx, &o));
    const char *s;
    if ((s = eoi_param_str(params, "bands", NULL)))
        EOI_TRY(st, eo_analytics_opts_set_bands(ctx, o, s));
    if ((s = eoi_param_str(params, "sensor", NULL)))
        EOI_TRY(st, eo_analytics_opts_set_sensor(ctx, o, s));
    EOI_TRY(st, set_constants(ctx, o, params));
    EOI_TRY(st, eo_analytics_opts_set_scale(ctx, o, eoi_param_num(params, "scale", 1),
                                            eoi_param_num(params, "offset", 0)));
    if (json_object_object_get_ex(params, "nodata", NULL))
        EOI_TRY(st, eo_analytics_opts_set_nodata(ctx, o, eoi_param_num(params, "nodata", -9999)));
    if (json_object_object_get_ex(params, "band", NULL))
        EOI_TRY(st, eo_analytics_opts_set_band(ctx, o, (int32_t)eoi_param_int(params, "band", 1)));
    bool exact = eoi_param_bool(params, "coverage", false);
    bool touched = eoi_param_bool(params, "all_touched", false);
    if (exact && touched) {
        st = eoi_fail(ctx, EO_E_PARAM,
                      "parameters 'coverage' and 'all_touched': choose one pixel rule");
        goto done;
    }
    EOI_TRY(st, eo_analytics_opts_set_coverage(ctx, o,
                                               exact     ? EO_COVERAGE_EXACT
                                               : touched ? EO_COVERAGE_ALL_TOUCHED
                                                         : EO_COVERAGE_CENTER));
    json_object *pc;
    if (json_object_object_get_ex(params, "percentiles", &pc)) {
        size_t n = json_object_array_length(pc);
        double q[1000];
        if (n > 1000) {
            st = eoi_fail(ctx, EO_E_PARAM, "parameter 'percentiles': at most 1000");
            goto done;
        }
        for (size_t i = 0; i < n; i++)
            q[i] = json_object_get_double(json_object_array_get_idx(pc, i));
        EOI_TRY(st, eo_analytics_opts_set_percentiles(ctx, o, q, (int32_t)n));
    }
    int64_t bins = eoi_param_int(params, "histogram", 0);
    if (bins > 0)
        EOI_TRY(st, eo_analytics_opts_set_histogram(ctx, o, (int32_t)bins, 0, 0));
    if (json_object_object_get_ex(params, "threshold", NULL))
        EOI_TRY(st, eo_analytics_opts_set_threshold(ctx, o, eoi_param_num(params, "threshold", 0)));
    *out = o;
    o = NULL;
done:
    eo_analytics_opts_free(o);
    return st;
}

eo_status eoi_ops_cog_opts(eo_ctx *ctx, eo_analytics_opts *o, json_object *params) {
    eo_cog_opts *co = NULL;
    eo_status st = eoi_cog_opts_from_params(ctx, &co, params);
    if (st == EO_OK)
        st = eo_analytics_opts_set_cog_opts(ctx, o, co);
    eo_cog_opts_free(co);
    return st;
}

void eoi_ops_select_stats(json_object *stats, json_object *params) {
    json_object *want;
    if (!json_object_object_get_ex(params, "stats", &want))
        return;
    static const char *const names[] = {"count", "nodata_count", "pixels", "min",   "max",
                                        "mean",  "std",          "sum",    "median"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        bool keep = false;
        for (size_t k = 0; k < json_object_array_length(want); k++)
            keep = keep || strcmp(json_object_get_string(json_object_array_get_idx(want, k)),
                                  names[i]) == 0;
        if (!keep)
            json_object_object_del(stats, names[i]);
    }
}

eo_status eoi_ops_eval_to_file(eo_ctx *ctx, json_object *params, json_object **result) {
    eo_dataset *ds = NULL;
    eo_expr *e = NULL;
    eo_analytics_opts *o = NULL;
    char *bands = NULL;
    eo_status st = EO_OK;
    const char *out = eoi_param_str(params, "out", "");
    EOI_TRY(st, eoi_ops_expr(ctx, &e, params));
    EOI_TRY(st, eoi_ops_opts(ctx, &o, params));
    EOI_TRY(st, eoi_ops_cog_opts(ctx, o, params));
    EOI_TRY(st, eoi_param_dataset(ctx, &ds, params, "src"));
    EOI_TRY(st, eo_expr_bands(ctx, &bands, e, ds, o));
    EOI_TRY(st, eo_expr_write(ctx, ds, e, out, o));
    json_object *r = json_object_new_object(), *b = NULL;
    json_object_object_add(r, "path", json_object_new_string(out));
    if (eo_expr_index_name(e))
        json_object_object_add(r, "index", json_object_new_string(eo_expr_index_name(e)));
    json_object_object_add(r, "expr", json_object_new_string(eo_expr_text(e)));
    if ((st = eoi_json_parse(ctx, &b, bands, "bands", EO_E_INTERNAL)) != EO_OK) {
        json_object_put(r);
        goto done;
    }
    json_object_object_add(r, "bands", b);
    json_object_object_add(r, "width", json_object_new_int64(eo_dataset_width(ds)));
    json_object_object_add(r, "height", json_object_new_int64(eo_dataset_height(ds)));
    json_object_object_add(r, "dtype", json_object_new_string("float32"));
    /* float32 output: the nodata value as it is stored */
    json_object_object_add(r, "nodata",
                           eoi_json_double((float)eoi_param_num(params, "nodata", -9999)));
    *result = r;
done:
    eo_free(bands);
    eo_dataset_close(ds);
    eo_analytics_opts_free(o);
    eo_expr_free(e);
    return st;
}
