/* test_ops.c - the operation registry: listing, schemas, parameter
 * validation messages, defaults, and the info / aoi_area operations. */
#include "../../src/ops/ops_int.h"
#include "tap.h"

#include <math.h>
#include <string.h>

static json_object *parse(const char *s) { return json_tokener_parse(s); }

static int has_op(json_object *list, const char *name) {
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        json_object *o = json_object_array_get_idx(list, i), *n;
        if (json_object_object_get_ex(o, "name", &n) &&
            strcmp(json_object_get_string(n), name) == 0)
            return 1;
    }
    return 0;
}

/* run op with params; expect status want and, on failure, text in the message */
static void expect(eo_ctx *ctx, const char *op, const char *params, eo_status want,
                   const char *text) {
    char *out = NULL;
    eo_status st = eo_op_run(ctx, op, params, &out);
    CHECKF(st == want, "%s %s: got %s (%s), want %s", op, params, eo_status_id(st),
           eo_ctx_errmsg(ctx), eo_status_id(want));
    if (st != EO_OK) {
        CHECKF(out == NULL, "no result on failure");
        if (text)
            CHECKF(strstr(eo_ctx_errmsg(ctx), text) != NULL, "message '%s' lacks '%s'",
                   eo_ctx_errmsg(ctx), text);
    }
    eo_free(out);
}

static void test_validator(eo_ctx *ctx) {
    json_object *schema =
        parse("{\"type\":\"object\",\"additionalProperties\":false,\"required\":[\"mode\"],"
              "\"properties\":{"
              "\"mode\":{\"type\":\"string\",\"enum\":[\"fast\",\"exact\"]},"
              "\"level\":{\"type\":\"integer\",\"minimum\":1,\"maximum\":22,\"default\":9},"
              "\"ratio\":{\"type\":\"number\",\"exclusiveMinimum\":0},"
              "\"bands\":{\"type\":\"array\",\"items\":{\"type\":\"integer\",\"minimum\":1},"
              "\"minItems\":1},"
              "\"window\":{\"type\":\"object\",\"properties\":{\"width\":{\"type\":\"integer\","
              "\"minimum\":1}}}}}");
    CHECK(schema != NULL);
    struct {
        const char *value;
        eo_status want;
        const char *text;
    } cases[] = {
        {"{\"mode\":\"fast\"}", EO_OK, NULL},
        {"{}", EO_E_PARAM, "'mode' is required"},
        {"{\"mode\":\"slow\"}", EO_E_PARAM, "one of \"fast\", \"exact\""},
        {"{\"mode\":3}", EO_E_PARAM, "expected string, got integer 3"},
        {"{\"mode\":\"fast\",\"level\":0}", EO_E_PARAM, "'level': expected a number >= 1"},
        {"{\"mode\":\"fast\",\"level\":23}", EO_E_PARAM, "<= 22"},
        {"{\"mode\":\"fast\",\"level\":2.5}", EO_E_PARAM, "expected integer, got number 2.5"},
        {"{\"mode\":\"fast\",\"level\":4.0}", EO_OK, NULL},
        {"{\"mode\":\"fast\",\"ratio\":0}", EO_E_PARAM, "> 0"},
        {"{\"mode\":\"fast\",\"ratio\":1}", EO_OK, NULL},
        {"{\"mode\":\"fast\",\"bands\":[]}", EO_E_PARAM, "at least 1 items"},
        {"{\"mode\":\"fast\",\"bands\":[1,0]}", EO_E_PARAM, "'bands[1]'"},
        {"{\"mode\":\"fast\",\"window\":{\"width\":-3}}", EO_E_PARAM, "'window.width'"},
        {"{\"mode\":\"fast\",\"speed\":1}", EO_E_PARAM, "unknown parameter 'speed'"},
        {"{\"mode\":null}", EO_E_PARAM, "got null"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_object *v = parse(cases[i].value);
        eo_status st = eoi_schema_validate(ctx, schema, v, "");
        CHECKF(st == cases[i].want, "%s: %s (%s)", cases[i].value, eo_status_id(st),
               eo_ctx_errmsg(ctx));
        if (cases[i].text)
            CHECKF(strstr(eo_ctx_errmsg(ctx), cases[i].text) != NULL, "%s: message '%s' lacks '%s'",
                   cases[i].value, eo_ctx_errmsg(ctx), cases[i].text);
        if (st == EO_OK && i == 0) {
            json_object *lvl;
            CHECK(json_object_object_get_ex(v, "level", &lvl) && json_object_get_int(lvl) == 9);
        }
        json_object_put(v);
    }
    json_object_put(schema);
}

int main(void) {
    eo_ctx *ctx = NULL;
    CHECK_OK(ctx, eo_ctx_new(&ctx));

    char *text = NULL;
    CHECK_OK(ctx, eo_ops_list(ctx, &text));
    json_object *list = parse(text);
    CHECK(list && json_object_is_type(list, json_type_array));
    CHECK(has_op(list, "info") && has_op(list, "aoi_area"));
    json_object_put(list);
    eo_free(text);

    /* every registered schema is a JSON Schema object with properties */
    CHECK_OK(ctx, eo_ops_list(ctx, &text));
    list = parse(text);
    for (size_t i = 0; list && i < json_object_array_length(list); i++) {
        json_object *n;
        json_object_object_get_ex(json_object_array_get_idx(list, i), "name", &n);
        char *s = NULL;
        CHECK_OK(ctx, eo_op_schema(ctx, json_object_get_string(n), &s));
        json_object *schema = s ? parse(s) : NULL, *props;
        CHECKF(schema && json_object_object_get_ex(schema, "properties", &props), "schema of %s",
               json_object_get_string(n));
        json_object_put(schema);
        eo_free(s);
    }
    json_object_put(list);
    eo_free(text);

    CHECK_ST(ctx, eo_op_schema(ctx, "nope", &text), EO_E_OP_UNKNOWN);
    CHECK(text == NULL && strstr(eo_ctx_errmsg(ctx), "nope"));
    CHECK_ST(ctx, eo_op_run(ctx, "info", "{}", NULL), EO_E_ARG);

    test_validator(ctx);

    /* parameter errors name the field and what was expected */
    expect(ctx, "nope", "{}", EO_E_OP_UNKNOWN, "unknown operation 'nope'");
    expect(ctx, "info", "{}", EO_E_PARAM, "'path' is required");
    expect(ctx, "info", "{\"path\": 5}", EO_E_PARAM,
           "'path': expected string or array, got integer 5");
    expect(ctx, "info", "{\"path\": \"\"}", EO_E_PARAM, "at least 1 characters");
    expect(ctx, "info", "{\"path\": \"a.tif\", \"bogus\": 1}", EO_E_PARAM,
           "unknown parameter 'bogus'");
    expect(ctx, "info", "[1]", EO_E_PARAM, "must be a JSON object");
    expect(ctx, "info", "{\"path\": ", EO_E_PARAM, "not valid JSON");
    expect(ctx, "aoi_area", "{\"aoi\": 3}", EO_E_PARAM, "expected object or string");
    expect(ctx, "aoi_area", "{\"aoi\": {}, \"repair\": \"yes\"}", EO_E_PARAM,
           "'repair': expected boolean");

    /* the operations themselves */
    char params[1024];
    snprintf(params, sizeof params, "{\"path\": \"%s\"}", tap_data("L7_ETMs.tif"));
    char *out = NULL;
    CHECK_OK(ctx, eo_op_run(ctx, "info", params, &out));
    json_object *info = out ? parse(out) : NULL, *v;
    CHECK(info && json_object_object_get_ex(info, "width", &v) && json_object_get_int(v) == 349);
    CHECK(info && json_object_object_get_ex(info, "height", &v) && json_object_get_int(v) == 352);
    json_object_put(info);
    eo_free(out);
    snprintf(params, sizeof params, "{\"path\": \"%s\"}", tap_data("no-such-file.tif"));
    expect(ctx, "info", params, EO_E_IO_NOT_FOUND, "no-such-file.tif");

    /* a 1 x 1 degree cell on the equator: 12308.778361469 km2 on WGS84
     * (the ellipsoidal zone area between 0 and 1 degree of latitude / 360) */
    const char *cell = "{\"aoi\": {\"type\": \"Polygon\", \"coordinates\": "
                       "[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}}";
    CHECK_OK(ctx, eo_op_run(ctx, "aoi_area", cell, &out));
    json_object *area = out ? parse(out) : NULL;
    CHECK(area && json_object_object_get_ex(area, "area_km2", &v) &&
          fabs(json_object_get_double(v) / 12308.778361469 - 1) < 1e-6);
    CHECK(area && json_object_object_get_ex(area, "polygons", &v) && json_object_get_int(v) == 1);
    json_object_put(area);
    eo_free(out);
    /* the same as text, and a bowtie that is invalid unless repaired */
    expect(ctx, "aoi_area",
           "{\"aoi\": \"{\\\"type\\\":\\\"Polygon\\\",\\\"coordinates\\\":"
           "[[[0,0],[1,1],[1,0],[0,1],[0,0]]]}\"}",
           EO_E_GEOMETRY, NULL);
    expect(ctx, "aoi_area",
           "{\"repair\": true, \"aoi\": {\"type\":\"Polygon\",\"coordinates\":"
           "[[[0,0],[1,1],[1,0],[0,1],[0,0]]]}}",
           EO_OK, NULL);

    /* a cancelled context runs nothing */
    eo_ctx_cancel(ctx);
    expect(ctx, "aoi_area", cell, EO_E_CANCELLED, NULL);
    eo_ctx_reset_cancel(ctx);
    expect(ctx, "aoi_area", cell, EO_OK, NULL);

    eo_ctx_free(ctx);
    return tap_done();
}
