/* param.c - JSON Schemas from parameter tables, and the tables' setters
 * applied to C options (eoi_param.h). */
#include "eoi_param.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_object *type_value(const char *type) {
    if (!strchr(type, '|'))
        return json_object_new_string(type);
    json_object *arr = json_object_new_array();
    for (const char *p = type; *p;) {
        size_t n = strcspn(p, "|");
        json_object_array_add(arr, json_object_new_string_len(p, (int)n));
        p += n + (p[n] == '|');
    }
    return arr;
}

/* Each '|'-separated choice, as a number when the values are numbers. */
static json_object *choices_value(const char *choices, const char *type) {
    bool numeric = strcmp(type, "integer") == 0 || strcmp(type, "number") == 0;
    json_object *arr = json_object_new_array();
    for (const char *p = choices; *p;) {
        size_t n = strcspn(p, "|");
        char buf[64];
        snprintf(buf, sizeof buf, "%.*s", (int)(n < 63 ? n : 63), p);
        json_object_array_add(arr, numeric ? json_object_new_int64(strtoll(buf, NULL, 10))
                                           : json_object_new_string(buf));
        p += n + (p[n] == '|');
    }
    return arr;
}

static json_object *number_value(const char *text) {
    char *end = NULL;
    long long i = strtoll(text, &end, 10);
    if (!*end)
        return json_object_new_int64(i);
    return json_object_new_double(strtod(text, NULL));
}

/* Constraints of a scalar of type (bounds, choices, length) onto s. */
static void scalar_constraints(json_object *s, const eoi_param *p, const char *type) {
    if (p->min)
        json_object_object_add(s, p->exclusive_min ? "exclusiveMinimum" : "minimum",
                               number_value(p->min));
    if (p->max)
        json_object_object_add(s, "maximum", number_value(p->max));
    if (p->choices)
        json_object_object_add(s, "enum", choices_value(p->choices, type));
    if (strstr(type, "string") && !p->empty_ok && !p->choices)
        json_object_object_add(s, "minLength", json_object_new_int(1));
}

eo_status eoi_param_schema(eo_ctx *ctx, const eoi_param *p, json_object **out) {
    json_object *s = json_object_new_object();
    const char *desc = p->desc ? p->desc : "";
    if (strcmp(p->type, "raster") == 0) {
        /* a path, or a list of paths opened as a mosaic */
        json_object_object_add(s, "type", type_value("string|array"));
        json_object_object_add(s, "minLength", json_object_new_int(1));
        json_object_object_add(s, "minItems", json_object_new_int(1));
        json_object *items = json_object_new_object();
        json_object_object_add(items, "type", json_object_new_string("string"));
        json_object_object_add(items, "minLength", json_object_new_int(1));
        json_object_object_add(s, "items", items);
        char buf[512];
        snprintf(buf, sizeof buf, "%s (a list of files: a mosaic)", desc);
        json_object_object_add(s, "description", json_object_new_string(buf));
    } else {
        json_object_object_add(s, "type", type_value(p->type));
        if (strcmp(p->type, "array") == 0) {
            json_object *items = json_object_new_object();
            const char *it = p->items ? p->items : "string";
            json_object_object_add(items, "type", type_value(it));
            scalar_constraints(items, p, it);
            json_object_object_add(s, "items", items);
            if (p->min_items)
                json_object_object_add(s, "minItems", json_object_new_int(p->min_items));
            if (p->max_items)
                json_object_object_add(s, "maxItems", json_object_new_int(p->max_items));
        } else {
            scalar_constraints(s, p, p->type);
        }
        json_object_object_add(s, "description", json_object_new_string(desc));
    }
    if (p->def) {
        json_object *d = NULL;
        eo_status st = eoi_json_parse(ctx, &d, p->def, "default", EO_E_INTERNAL);
        if (st != EO_OK) {
            json_object_put(s);
            return eoi_fail(ctx, EO_E_INTERNAL, "default of parameter %s is not JSON", p->name);
        }
        json_object_object_add(s, "default", d);
    }
    *out = s;
    return EO_OK;
}

json_object *eoi_name_list(const char *names) {
    json_object *arr = json_object_new_array();
    for (const char *p = names ? names : ""; *p;) {
        size_t n = strcspn(p, ",");
        json_object_array_add(arr, json_object_new_string_len(p, (int)n));
        p += n + (p[n] == ',');
    }
    return arr;
}

eo_status eoi_params_add(eo_ctx *ctx, json_object *props, const eoi_param *t) {
    for (; t && t->name; t++) {
        if (json_object_object_get_ex(props, t->name, NULL))
            continue;
        json_object *s = NULL;
        eo_status st = eoi_param_schema(ctx, t, &s);
        if (st != EO_OK)
            return st;
        json_object_object_add(props, t->name, s);
    }
    return EO_OK;
}

/* Every name of a ','-list must be a property: a typo in a table is a bug
 * the tests see on the first schema request. */
static eo_status check_names(eo_ctx *ctx, const char *title, json_object *props, const char *names,
                             const char *what) {
    for (const char *p = names ? names : ""; *p;) {
        size_t n = strcspn(p, ",");
        char key[64];
        snprintf(key, sizeof key, "%.*s", (int)(n < 63 ? n : 63), p);
        if (!json_object_object_get_ex(props, key, NULL))
            return eoi_fail(ctx, EO_E_INTERNAL, "%s of %s names '%s', which is no parameter", what,
                            title, key);
        p += n + (p[n] == ',');
    }
    return EO_OK;
}

eo_status eoi_params_object_schema(eo_ctx *ctx, json_object **out, const char *title,
                                   const char *description, const eoi_param *const *tables,
                                   int ntables, const char *required, const char *positional) {
    *out = NULL;
    json_object *s = json_object_new_object(), *props = json_object_new_object();
    json_object_object_add(s, "$schema",
                           json_object_new_string("https://json-schema.org/draft/2020-12/schema"));
    json_object_object_add(s, "title", json_object_new_string(title));
    if (description)
        json_object_object_add(s, "description", json_object_new_string(description));
    json_object_object_add(s, "type", json_object_new_string("object"));
    json_object_object_add(s, "properties", props);
    eo_status st = EO_OK;
    for (int i = 0; st == EO_OK && i < ntables; i++)
        st = eoi_params_add(ctx, props, tables[i]);
    if (st == EO_OK)
        st = check_names(ctx, title, props, required, "required");
    if (st == EO_OK)
        st = check_names(ctx, title, props, positional, "positional");
    if (st != EO_OK) {
        json_object_put(s);
        return st;
    }
    json_object_object_add(s, "required", eoi_name_list(required));
    json_object_object_add(s, "additionalProperties", json_object_new_boolean(0));
    json_object_object_add(s, "x-positional", eoi_name_list(positional));
    *out = s;
    return EO_OK;
}

eo_status eoi_params_apply(eo_ctx *ctx, const eoi_param *t, json_object *params, void *opts) {
    for (; t && t->name; t++) {
        json_object *v = NULL;
        if (!t->set || !json_object_object_get_ex(params, t->name, &v) || !v)
            continue;
        eo_status st = t->set(ctx, opts, v);
        if (st != EO_OK)
            return st;
    }
    return EO_OK;
}
