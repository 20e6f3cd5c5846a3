/* json.c - JSON helpers on json-c: exact numbers, bounded parsing, dumps. */
#include "eoi.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EOI_JSON_DEPTH 64

json_object *eoi_json_double(double d) {
    if (!isfinite(d))
        return NULL; /* JSON has no NaN or infinity: null */
    char buf[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, d);
        if (strtod(buf, NULL) == d)
            break;
    }
    return json_object_new_double_s(d, buf);
}

json_object *eoi_json_bbox(const eo_bbox *b) {
    json_object *a = json_object_new_array();
    json_object_array_add(a, eoi_json_double(b->xmin));
    json_object_array_add(a, eoi_json_double(b->ymin));
    json_object_array_add(a, eoi_json_double(b->xmax));
    json_object_array_add(a, eoi_json_double(b->ymax));
    return a;
}

eo_status eoi_json_dump(eo_ctx *ctx, char **out, json_object *obj, bool pretty) {
    int flags =
        JSON_C_TO_STRING_NOSLASHESCAPE |
        (pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED : JSON_C_TO_STRING_PLAIN);
    const char *s = json_object_to_json_string_ext(obj, flags);
    if (!s)
        return eoi_fail(ctx, EO_E_NOMEM, "out of memory serializing JSON");
    *out = eoi_strdup(ctx, s);
    return *out ? EO_OK : EO_E_NOMEM;
}

/* json-c accepts NaN and Infinity even in strict mode; JSON has neither.
 * Finds the first non-finite number and writes its path into buf. */
static bool find_nonfinite(json_object *o, char *buf, size_t cap, size_t len) {
    switch (json_object_get_type(o)) {
    case json_type_double:
        return !isfinite(json_object_get_double(o));
    case json_type_array: {
        size_t n = json_object_array_length(o);
        for (size_t i = 0; i < n; i++) {
            int w = snprintf(buf + len, cap - len, "[%zu]", i);
            size_t l2 = len + ((size_t)w < cap - len ? (size_t)w : 0);
            if (find_nonfinite(json_object_array_get_idx(o, i), buf, cap, l2))
                return true;
        }
        buf[len] = '\0';
        return false;
    }
    case json_type_object: {
        json_object_object_foreach(o, key, val) {
            int w = snprintf(buf + len, cap - len, ".%s", key);
            size_t l2 = len + ((size_t)w < cap - len ? (size_t)w : 0);
            if (find_nonfinite(val, buf, cap, l2))
                return true;
        }
        buf[len] = '\0';
        return false;
    }
    default:
        return false;
    }
}

eo_status eoi_json_parse(eo_ctx *ctx, json_object **out, const char *text, const char *what,
                         eo_status st_on_error) {
    *out = NULL;
    if (!text)
        return eoi_fail(ctx, EO_E_ARG, "%s: no text", what);
    size_t len = strlen(text);
    if (len > (size_t)eoi_limit(ctx, EO_LIMIT_JSON_BYTES))
        return eoi_fail(ctx, EO_E_LIMIT, "%s: %zu bytes of JSON exceed the limit of %lld", what,
                        len, (long long)eoi_limit(ctx, EO_LIMIT_JSON_BYTES));
    if (len > INT32_MAX)
        return eoi_fail(ctx, EO_E_LIMIT, "%s: JSON text too long", what);
    json_tokener *tok = json_tokener_new_ex(EOI_JSON_DEPTH);
    if (!tok)
        return eoi_fail(ctx, EO_E_NOMEM, "out of memory parsing %s", what);
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    /* len + 1: the terminating NUL lets json-c finish a top-level number */
    json_object *obj = json_tokener_parse_ex(tok, text, (int)len + 1);
    enum json_tokener_error jerr = json_tokener_get_error(tok);
    size_t off = json_tokener_get_parse_end(tok);
    eo_status st = EO_OK;
    if (jerr == json_tokener_continue) {
        st = eoi_fail(ctx, st_on_error,
                      "%s is not valid JSON: unexpected end of text at offset %zu", what, len);
    } else if (jerr != json_tokener_success) {
        if (jerr == json_tokener_error_depth)
            st = eoi_fail(ctx, st_on_error,
                          "%s is not valid JSON: nesting deeper than %d levels at offset %zu", what,
                          EOI_JSON_DEPTH, off);
        else
            st = eoi_fail(ctx, st_on_error, "%s is not valid JSON: %s at offset %zu", what,
                          json_tokener_error_desc(jerr), off);
    } else {
        /* only white space may follow the value */
        while (off < len && strchr(" \t\r\n", text[off]))
            off++;
        if (off < len)
            st = eoi_fail(ctx, st_on_error, "%s is not valid JSON: unexpected text at offset %zu",
                          what, off);
    }
    json_tokener_free(tok);
    char path[256] = "$";
    if (st == EO_OK && find_nonfinite(obj, path, sizeof path, 1))
        st = eoi_fail(ctx, st_on_error,
                      "%s is not valid JSON: NaN or Infinity is not a JSON number (at %s)", what,
                      path);
    if (st != EO_OK) {
        json_object_put(obj);
        return st;
    }
    *out = obj;
    return EO_OK;
}
