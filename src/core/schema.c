/* schema.c - a JSON Schema validator for operation parameters.
 *
 * The subset the registry's schemas use: type (a name or a list of names),
 * properties, required, additionalProperties (false), enum, minimum,
 * maximum, exclusiveMinimum, exclusiveMaximum, minLength, items, minItems,
 * maxItems, default. Unknown keywords (description, title, x-*) are
 * ignored, as JSON Schema says. */
#include "eoi_param.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const char *type_of(json_object *v) {
    switch (json_object_get_type(v)) {
    case json_type_null:
        return "null";
    case json_type_boolean:
        return "boolean";
    case json_type_int:
        return "integer";
    case json_type_double: {
        double d = json_object_get_double(v);
        return d == floor(d) && fabs(d) < 9.2e18 ? "integer" : "number";
    }
    case json_type_string:
        return "string";
    case json_type_array:
        return "array";
    case json_type_object:
        return "object";
    }
    return "unknown";
}

static bool type_matches(const char *want, json_object *v) {
    const char *got = type_of(v);
    if (strcmp(want, got) == 0)
        return true;
    return strcmp(want, "number") == 0 && strcmp(got, "integer") == 0;
}

/* A short rendering of a value for messages. */
static void show(char *buf, size_t cap, json_object *v) {
    const char *s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
    if (!s)
        s = "?";
    if (strlen(s) > 60)
        snprintf(buf, cap, "%.57s...", s);
    else
        snprintf(buf, cap, "%s", s);
}

static eo_status bad(eo_ctx *ctx, const char *path, const char *expected, json_object *v) {
    char shown[80];
    show(shown, sizeof shown, v);
    return eoi_fail(ctx, EO_E_PARAM, "parameter '%s': expected %s, got %s %s", path, expected,
                    type_of(v), shown);
}

static eo_status check_type(eo_ctx *ctx, json_object *schema, json_object *v, const char *path) {
    json_object *t;
    if (!json_object_object_get_ex(schema, "type", &t))
        return EO_OK;
    if (json_object_is_type(t, json_type_string)) {
        if (!type_matches(json_object_get_string(t), v))
            return bad(ctx, path, json_object_get_string(t), v);
        return EO_OK;
    }
    char want[128] = "";
    size_t n = json_object_array_length(t);
    for (size_t i = 0; i < n; i++) {
        const char *name = json_object_get_string(json_object_array_get_idx(t, i));
        if (type_matches(name, v))
            return EO_OK;
        size_t l = strlen(want);
        snprintf(want + l, sizeof want - l, "%s%s", i ? (i + 1 == n ? " or " : ", ") : "", name);
    }
    return bad(ctx, path, want, v);
}

static eo_status check_number(eo_ctx *ctx, json_object *schema, json_object *v, const char *path) {
    double d = json_object_get_double(v);
    json_object *k;
    char expected[96];
    if (json_object_object_get_ex(schema, "minimum", &k) && d < json_object_get_double(k)) {
        snprintf(expected, sizeof expected, "a number >= %.15g", json_object_get_double(k));
        return bad(ctx, path, expected, v);
    }
    if (json_object_object_get_ex(schema, "maximum", &k) && d > json_object_get_double(k)) {
        snprintf(expected, sizeof expected, "a number <= %.15g", json_object_get_double(k));
        return bad(ctx, path, expected, v);
    }
    if (json_object_object_get_ex(schema, "exclusiveMinimum", &k) &&
        d <= json_object_get_double(k)) {
        snprintf(expected, sizeof expected, "a number > %.15g", json_object_get_double(k));
        return bad(ctx, path, expected, v);
    }
    if (json_object_object_get_ex(schema, "exclusiveMaximum", &k) &&
        d >= json_object_get_double(k)) {
        snprintf(expected, sizeof expected, "a number < %.15g", json_object_get_double(k));
        return bad(ctx, path, expected, v);
    }
    return EO_OK;
}

static eo_status check_enum(eo_ctx *ctx, json_object *schema, json_object *v, const char *path) {
    json_object *e;
    if (!json_object_object_get_ex(schema, "enum", &e))
        return EO_OK;
    size_t n = json_object_array_length(e);
    char want[256] = "one of ";
    for (size_t i = 0; i < n; i++) {
        json_object *c = json_object_array_get_idx(e, i);
        if (json_object_equal(c, v))
            return EO_OK;
        size_t l = strlen(want);
        snprintf(want + l, sizeof want - l, "%s%s", i ? ", " : "",
                 json_object_to_json_string_ext(c, JSON_C_TO_STRING_PLAIN));
    }
    return bad(ctx, path, want, v);
}

static eo_status check_object(eo_ctx *ctx, json_object *schema, json_object *v, const char *path);
static eo_status check_array(eo_ctx *ctx, json_object *schema, json_object *v, const char *path);

eo_status eoi_schema_validate(eo_ctx *ctx, json_object *schema, json_object *v, const char *path) {
    eo_status st;
    if ((st = check_type(ctx, schema, v, path)) != EO_OK)
        return st;
    if ((st = check_enum(ctx, schema, v, path)) != EO_OK)
        return st;
    switch (json_object_get_type(v)) {
    case json_type_int:
    case json_type_double:
        return check_number(ctx, schema, v, path);
    case json_type_string: {
        json_object *k;
        if (json_object_object_get_ex(schema, "minLength", &k) &&
            json_object_get_string_len(v) < json_object_get_int(k)) {
            char expected[64];
            snprintf(expected, sizeof expected, "a string of at least %d characters",
                     json_object_get_int(k));
            return bad(ctx, path, expected, v);
        }
        return EO_OK;
    }
    case json_type_object:
        return check_object(ctx, schema, v, path);
    case json_type_array:
        return check_array(ctx, schema, v, path);
    default:
        return EO_OK;
    }
}

static void join_path(char *buf, size_t cap, const char *path, const char *key) {
    if (!path || !*path)
        snprintf(buf, cap, "%s", key);
    else
        snprintf(buf, cap, "%s.%s", path, key);
}

static eo_status check_object(eo_ctx *ctx, json_object *schema, json_object *v, const char *path) {
    json_object *props = NULL, *req, *addl;
    json_object_object_get_ex(schema, "properties", &props);
    char sub[256];
    if (json_object_object_get_ex(schema, "required", &req)) {
        size_t n = json_object_array_length(req);
        for (size_t i = 0; i < n; i++) {
            const char *key = json_object_get_string(json_object_array_get_idx(req, i));
            if (!json_object_object_get_ex(v, key, NULL)) {
                join_path(sub, sizeof sub, path, key);
                json_object *ps = NULL, *desc = NULL;
                if (props && json_object_object_get_ex(props, key, &ps))
                    json_object_object_get_ex(ps, "description", &desc);
                return eoi_fail(ctx, EO_E_PARAM, "parameter '%s' is required%s%s", sub,
                                desc ? ": " : "", desc ? json_object_get_string(desc) : "");
            }
        }
    }
    bool closed = json_object_object_get_ex(schema, "additionalProperties", &addl) &&
                  json_object_is_type(addl, json_type_boolean) && !json_object_get_boolean(addl);
    json_object_object_foreach(v, key, val) {
        json_object *ps = NULL;
        join_path(sub, sizeof sub, path, key);
        if (props && json_object_object_get_ex(props, key, &ps)) {
            eo_status st = eoi_schema_validate(ctx, ps, val, sub);
            if (st != EO_OK)
                return st;
        } else if (closed) {
            char known[512] = "";
            if (props) {
                json_object_object_foreach(props, pk, pv) {
                    (void)pv;
                    size_t l = strlen(known);
                    snprintf(known + l, sizeof known - l, "%s%s", l ? ", " : "", pk);
                }
            }
            return eoi_fail(ctx, EO_E_PARAM, "unknown parameter '%s' (known: %s)", sub, known);
        }
    }
    /* fill in defaults */
    if (props) {
        json_object_object_foreach(props, pk, pv) {
            json_object *dflt;
            if (!json_object_object_get_ex(v, pk, NULL) &&
                json_object_object_get_ex(pv, "default", &dflt)) {
                json_object *copy = NULL;
                if (json_object_deep_copy(dflt, &copy, NULL) != 0)
                    return eoi_fail(ctx, EO_E_NOMEM, "out of memory copying defaults");
                json_object_object_add(v, pk, copy);
            }
        }
    }
    return EO_OK;
}

static eo_status check_array(eo_ctx *ctx, json_object *schema, json_object *v, const char *path) {
    json_object *k;
    size_t n = json_object_array_length(v);
    char expected[96];
    if (json_object_object_get_ex(schema, "minItems", &k) && n < (size_t)json_object_get_int(k)) {
        snprintf(expected, sizeof expected, "an array of at least %d items",
                 json_object_get_int(k));
        return bad(ctx, path, expected, v);
    }
    if (json_object_object_get_ex(schema, "maxItems", &k) && n > (size_t)json_object_get_int(k)) {
        snprintf(expected, sizeof expected, "an array of at most %d items", json_object_get_int(k));
        return bad(ctx, path, expected, v);
    }
    if (json_object_object_get_ex(schema, "items", &k)) {
        char sub[256];
        for (size_t i = 0; i < n; i++) {
            snprintf(sub, sizeof sub, "%s[%zu]", path, i);
            eo_status st = eoi_schema_validate(ctx, k, json_object_array_get_idx(v, i), sub);
            if (st != EO_OK)
                return st;
        }
    }
    return EO_OK;
}

const char *eoi_param_str(json_object *params, const char *key, const char *dflt) {
    json_object *v;
    if (json_object_object_get_ex(params, key, &v) && json_object_is_type(v, json_type_string))
        return json_object_get_string(v);
    return dflt;
}

bool eoi_param_bool(json_object *params, const char *key, bool dflt) {
    json_object *v;
    if (json_object_object_get_ex(params, key, &v) && json_object_is_type(v, json_type_boolean))
        return json_object_get_boolean(v);
    return dflt;
}

double eoi_param_num(json_object *params, const char *key, double dflt) {
    json_object *v;
    if (json_object_object_get_ex(params, key, &v) &&
        (json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
        return json_object_get_double(v);
    return dflt;
}

int64_t eoi_param_int(json_object *params, const char *key, int64_t dflt) {
    json_object *v;
    if (json_object_object_get_ex(params, key, &v) &&
        (json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
        return (int64_t)json_object_get_double(v);
    return dflt;
}
