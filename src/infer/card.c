/* card.c - the model card: what it takes to run a model right (input bands
 * and their normalization, the pixel size and tiles it was trained for,
 * its classes, activation and threshold, default post-processing), as a
 * JSON document (schemas/model_card.schema.json) stored in the ONNX file's
 * metadata_props under "eoproc.card" or beside it as MODEL.onnx.json (the
 * sidecar wins: it is how a user overrides a file they cannot rewrite).
 *
 * Parsing checks the card on its own (every key known, every value in
 * range, one message naming the field); eoi_card_check_model checks it
 * against a model (bands against input channels, classes against output
 * channels, tile against a fixed input size). The card as defaults of an
 * operation's parameters: card_defaults.c. */
#include "infer_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CARD_VERSION 1
#define MAX_CARD_BYTES (1 << 20)

struct eo_model_card {
    json_object *json; /* the document as given */
    char source[16];   /* "embedded", "sidecar", "json" */
    int32_t nbands;
    double bands[EOI_CARD_MAX_BANDS];
    const char *band_names[EOI_CARD_MAX_BANDS];
    double scale; /* NaN: unset */
    int32_t nmean, nstd;
    double mean[EOI_CARD_MAX_BANDS], std[EOI_CARD_MAX_BANDS];
    double px_min, px_max, px_nominal, zoom, tile, overlap, batch; /* NaN: unset */
    int32_t nclasses;
    const char *class_names[EOI_CARD_MAX_CLASSES];
    double background; /* class index, NaN: none */
    const char *name, *activation;
    const char *precision; /* input.precision: "fp32", "bf16" or NULL */
    double threshold, min_area, simplify, regularize, fill_holes; /* NaN: unset */
};

/* ---- parsing ------------------------------------------------------------- */

static eo_status card_err(eo_ctx *ctx, const char *field, const char *fmt, ...) EOI_PRINTF(3, 4);

static eo_status card_err(eo_ctx *ctx, const char *field, const char *fmt, ...) {
    char buf[EOI_MSG_MAX / 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return eoi_fail(ctx, EO_E_MODEL, "model card: %s: %s", field, buf);
}

/* Every key of obj is one of keys[] (NULL-terminated) or starts with "x-". */
static eo_status known_keys(eo_ctx *ctx, json_object *obj, const char *where,
                            const char *const *keys) {
    json_object_object_foreach(obj, k, v) {
        (void)v;
        bool ok = strncmp(k, "x-", 2) == 0;
        for (int32_t i = 0; !ok && keys[i]; i++)
            ok = strcmp(k, keys[i]) == 0;
        if (!ok) {
            char list[512] = "";
            for (int32_t i = 0; keys[i]; i++)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                         keys[i]);
            return card_err(ctx, where, "unknown key '%.60s' (known: %s)", k, list);
        }
    }
    return EO_OK;
}

static json_object *member(json_object *obj, const char *key) {
    json_object *v = NULL;
    return obj && json_object_object_get_ex(obj, key, &v) ? v : NULL;
}

static bool is_number(json_object *v) {
    return v && (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double));
}

/* v as a number in [lo, hi] (an integer if want_int). */
static eo_status num_value(eo_ctx *ctx, json_object *v, const char *field, double lo, double hi,
                           bool want_int, double *out) {
    double d = json_object_get_double(v);
    if (!is_number(v) || !isfinite(d))
        return card_err(ctx, field, "expected a number, got %.60s", json_object_to_json_string(v));
    if (want_int && d != floor(d))
        return card_err(ctx, field, "expected an integer, got %g", d);
    if (d < lo || d > hi)
        return card_err(ctx, field, "%g is out of range (%g to %g)", d, lo, hi);
    *out = d;
    return EO_OK;
}

/* obj[key] as a number in [lo, hi], NaN when absent. */
static eo_status num_field(eo_ctx *ctx, json_object *obj, const char *key, const char *field,
                           double lo, double hi, bool want_int, double *out) {
    json_object *v = member(obj, key);
    *out = NAN;
    return v ? num_value(ctx, v, field, lo, hi, want_int, out) : EO_OK;
}

/* input.scale: a number or a fraction "a/b" such as "1/255". */
static eo_status scale_field(eo_ctx *ctx, json_object *input, double *out) {
    json_object *v = member(input, "scale");
    *out = NAN;
    if (!v)
        return EO_OK;
    double a = NAN, b = 1.0;
    if (json_object_is_type(v, json_type_string)) {
        const char *s = json_object_get_string(v);
        char *end = NULL;
        a = strtod(s, &end);
        if (end == s)
            a = NAN;
        else if (*end == '/') {
            const char *d = end + 1;
            b = strtod(d, &end);
            if (end == d)
                a = NAN;
        }
        if (end && *end)
            a = NAN;
    } else if (is_number(v)) {
        a = json_object_get_double(v);
    }
    double x = a / b;
    if (!isfinite(x) || x == 0)
        return card_err(ctx, "input.scale",
                        "expected a non-zero number or a fraction such as \"1/255\", got %.60s",
                        json_object_to_json_string(v));
    *out = x;
    return EO_OK;
}

/* An array of numbers (each in [lo, hi], integers if want_int). */
static eo_status num_array(eo_ctx *ctx, json_object *obj, const char *key, const char *field,
                           double lo, double hi, bool want_int, double *vals, int32_t *n) {
    json_object *v = member(obj, key);
    *n = 0;
    if (!v)
        return EO_OK;
    if (!json_object_is_type(v, json_type_array) || json_object_array_length(v) == 0)
        return card_err(ctx, field, "expected a non-empty array of numbers");
    size_t len = json_object_array_length(v);
    if (len > EOI_CARD_MAX_BANDS)
        return card_err(ctx, field, "%zu values (at most %d)", len, EOI_CARD_MAX_BANDS);
    for (size_t i = 0; i < len; i++) {
        char f[96];
        snprintf(f, sizeof f, "%s[%zu]", field, i);
        EOI_TRY_RET(num_value(ctx, json_object_array_get_idx(v, i), f, lo, hi, want_int, &vals[i]));
    }
    *n = (int32_t)len;
    return EO_OK;
}

static eo_status str_field(eo_ctx *ctx, json_object *obj, const char *key, const char *field,
                           const char **out) {
    json_object *v = member(obj, key);
    *out = NULL;
    if (!v)
        return EO_OK;
    if (!json_object_is_type(v, json_type_string))
        return card_err(ctx, field, "expected a string, got %.60s", json_object_to_json_string(v));
    *out = json_object_get_string(v);
    return EO_OK;
}

static eo_status bool_field(eo_ctx *ctx, json_object *obj, const char *key, const char *field,
                            double *out) {
    json_object *v = member(obj, key);
    *out = NAN;
    if (!v)
        return EO_OK;
    if (!json_object_is_type(v, json_type_boolean))
        return card_err(ctx, field, "expected true or false, got %.60s",
                        json_object_to_json_string(v));
    *out = json_object_get_boolean(v) ? 1.0 : 0.0;
    return EO_OK;
}

/* An object member (NULL when absent); anything else is an error. */
static eo_status obj_field(eo_ctx *ctx, json_object *obj, const char *key, json_object **out) {
    json_object *v = member(obj, key);
    *out = NULL;
    if (v && !json_object_is_type(v, json_type_object))
        return card_err(ctx, key, "expected an object, got %.60s", json_object_to_json_string(v));
    *out = v;
    return EO_OK;
}

static eo_status parse_input(eo_ctx *ctx, eo_model_card *c, json_object *in) {
    static const char *const keys[] = {"bands",   "band_names", "scale",        "mean",
                                       "std",     "zoom",       "pixel_size_m", "tile",
                                       "overlap", "batch",      "precision",    NULL};
    EOI_TRY_RET(known_keys(ctx, in, "input", keys));
    EOI_TRY_RET(num_array(ctx, in, "bands", "input.bands", 1, 65535, true, c->bands, &c->nbands));
    json_object *names = member(in, "band_names");
    if (names) {
        if (!json_object_is_type(names, json_type_array))
            return card_err(ctx, "input.band_names", "expected an array of strings");
        size_t n = json_object_array_length(names);
        if (!c->nbands || n != (size_t)c->nbands)
            return card_err(ctx, "input.band_names", "%zu names for %d bands in input.bands", n,
                            (int)c->nbands);
        for (size_t i = 0; i < n; i++) {
            json_object *s = json_object_array_get_idx(names, i);
            if (!json_object_is_type(s, json_type_string))
                return card_err(ctx, "input.band_names", "item %zu is not a string", i);
            c->band_names[i] = json_object_get_string(s);
        }
    }
    EOI_TRY_RET(scale_field(ctx, in, &c->scale));
    EOI_TRY_RET(num_array(ctx, in, "mean", "input.mean", -1e30, 1e30, false, c->mean, &c->nmean));
    EOI_TRY_RET(num_array(ctx, in, "std", "input.std", 1e-30, 1e30, false, c->std, &c->nstd));
    const char *what[2] = {"input.mean", "input.std"};
    int32_t counts[2] = {c->nmean, c->nstd};
    for (int32_t i = 0; i < 2; i++)
        if (counts[i] > 1 && c->nbands && counts[i] != c->nbands)
            return card_err(ctx, what[i], "%d values for %d bands (one value, or one per band)",
                            (int)counts[i], (int)c->nbands);
    EOI_TRY_RET(num_field(ctx, in, "zoom", "input.zoom", 0, 30, true, &c->zoom));
    EOI_TRY_RET(num_field(ctx, in, "tile", "input.tile", 8, 8192, true, &c->tile));
    EOI_TRY_RET(num_field(ctx, in, "overlap", "input.overlap", 0, 4096, true, &c->overlap));
    EOI_TRY_RET(num_field(ctx, in, "batch", "input.batch", 1, 256, true, &c->batch));
    EOI_TRY_RET(str_field(ctx, in, "precision", "input.precision", &c->precision));
    if (c->precision && strcmp(c->precision, "fp32") != 0 && strcmp(c->precision, "bf16") != 0)
        return card_err(ctx, "input.precision", "'%.40s' (fp32 or bf16)", c->precision);
    if (!isnan(c->tile) && !isnan(c->overlap) && c->tile < 2 * c->overlap)
        return card_err(ctx, "input.overlap", "%g is more than half the tile (%g)", c->overlap,
                        c->tile);
    json_object *px = NULL;
    EOI_TRY_RET(obj_field(ctx, in, "pixel_size_m", &px));
    c->px_min = c->px_max = c->px_nominal = NAN;
    if (px) {
        static const char *const pk[] = {"min", "max", "nominal", NULL};
        EOI_TRY_RET(known_keys(ctx, px, "input.pixel_size_m", pk));
        EOI_TRY_RET(
            num_field(ctx, px, "min", "input.pixel_size_m.min", 1e-6, 1e7, false, &c->px_min));
        EOI_TRY_RET(
            num_field(ctx, px, "max", "input.pixel_size_m.max", 1e-6, 1e7, false, &c->px_max));
        EOI_TRY_RET(num_field(ctx, px, "nominal", "input.pixel_size_m.nominal", 1e-6, 1e7, false,
                              &c->px_nominal));
        if (c->px_min > c->px_max)
            return card_err(ctx, "input.pixel_size_m", "min %g is above max %g", c->px_min,
                            c->px_max);
        if (c->px_nominal < c->px_min || c->px_nominal > c->px_max)
            return card_err(ctx, "input.pixel_size_m.nominal", "%g is outside min..max (%g to %g)",
                            c->px_nominal, c->px_min, c->px_max);
    }
    return EO_OK;
}

static eo_status parse_output(eo_ctx *ctx, eo_model_card *c, json_object *out) {
    static const char *const keys[] = {"classes", "activation", "threshold", NULL};
    EOI_TRY_RET(known_keys(ctx, out, "output", keys));
    c->background = NAN;
    json_object *cl = member(out, "classes");
    if (cl) {
        if (!json_object_is_type(cl, json_type_array) || json_object_array_length(cl) == 0)
            return card_err(ctx, "output.classes", "expected a non-empty array of classes");
        size_t n = json_object_array_length(cl);
        if (n > EOI_CARD_MAX_CLASSES)
            return card_err(ctx, "output.classes", "%zu classes (at most %d)", n,
                            EOI_CARD_MAX_CLASSES);
        for (size_t i = 0; i < n; i++) {
            json_object *o = json_object_array_get_idx(cl, i);
            char f[64];
            snprintf(f, sizeof f, "output.classes[%zu]", i);
            if (!json_object_is_type(o, json_type_object))
                return card_err(ctx, f, "expected an object with a name");
            static const char *const ck[] = {"name", "background", "color", NULL};
            EOI_TRY_RET(known_keys(ctx, o, f, ck));
            const char *name = NULL;
            EOI_TRY_RET(str_field(ctx, o, "name", f, &name));
            if (!name || !*name)
                return card_err(ctx, f, "a class needs a name");
            for (size_t j = 0; j < i; j++)
                if (strcmp(c->class_names[j], name) == 0)
                    return card_err(ctx, f, "name '%.60s' is used twice", name);
            c->class_names[i] = name;
            double bg;
            EOI_TRY_RET(bool_field(ctx, o, "background", f, &bg));
            if (bg == 1.0) {
                if (!isnan(c->background))
                    return card_err(ctx, f, "two background classes (%g and %zu)", c->background,
                                    i);
                c->background = (double)i;
            }
        }
        c->nclasses = (int32_t)n;
    }
    EOI_TRY_RET(str_field(ctx, out, "activation", "output.activation", &c->activation));
    if (c->activation && strcmp(c->activation, "auto") != 0 && strcmp(c->activation, "none") != 0 &&
        strcmp(c->activation, "sigmoid") != 0 && strcmp(c->activation, "softmax") != 0)
        return card_err(ctx, "output.activation", "'%.40s' (auto, none, sigmoid or softmax)",
                        c->activation);
    EOI_TRY_RET(num_field(ctx, out, "threshold", "output.threshold", 0, 1, false, &c->threshold));
    return EO_OK;
}

static eo_status parse_post(eo_ctx *ctx, eo_model_card *c, json_object *pp) {
    static const char *const keys[] = {"min_area_m2", "simplify_m", "regularize", "fill_holes_m2",
                                       NULL};
    c->min_area = c->simplify = c->regularize = c->fill_holes = NAN;
    if (!pp)
        return EO_OK;
    EOI_TRY_RET(known_keys(ctx, pp, "postprocess", keys));
    EOI_TRY_RET(
        num_field(ctx, pp, "min_area_m2", "postprocess.min_area_m2", 0, 1e12, false, &c->min_area));
    EOI_TRY_RET(
        num_field(ctx, pp, "simplify_m", "postprocess.simplify_m", 0, 1e6, false, &c->simplify));
    EOI_TRY_RET(num_field(ctx, pp, "fill_holes_m2", "postprocess.fill_holes_m2", 0, 1e12, false,
                          &c->fill_holes));
    EOI_TRY_RET(bool_field(ctx, pp, "regularize", "postprocess.regularize", &c->regularize));
    return EO_OK;
}

static eo_status parse_card(eo_ctx *ctx, eo_model_card *c, json_object *j) {
    if (!json_object_is_type(j, json_type_object))
        return eoi_fail(ctx, EO_E_MODEL, "model card: expected a JSON object");
    static const char *const keys[] = {"eoproc_card", "name",   "description", "license",
                                       "input",       "output", "postprocess", NULL};
    EOI_TRY_RET(known_keys(ctx, j, "card", keys));
    double version;
    EOI_TRY_RET(num_field(ctx, j, "eoproc_card", "eoproc_card", 1, 1e9, true, &version));
    if (isnan(version))
        return card_err(ctx, "eoproc_card", "missing: a card starts with \"eoproc_card\": %d",
                        CARD_VERSION);
    if (version > CARD_VERSION)
        return card_err(ctx, "eoproc_card",
                        "version %g is newer than this eoproc reads (%d): update eoproc", version,
                        CARD_VERSION);
    const char *s;
    EOI_TRY_RET(str_field(ctx, j, "name", "name", &c->name));
    EOI_TRY_RET(str_field(ctx, j, "description", "description", &s));
    EOI_TRY_RET(str_field(ctx, j, "license", "license", &s));
    json_object *in = NULL, *out = NULL, *pp = NULL;
    EOI_TRY_RET(obj_field(ctx, j, "input", &in));
    EOI_TRY_RET(obj_field(ctx, j, "output", &out));
    EOI_TRY_RET(obj_field(ctx, j, "postprocess", &pp));
    c->scale = c->zoom = c->tile = c->overlap = c->batch = c->threshold = NAN;
    c->px_min = c->px_max = c->px_nominal = c->background = NAN;
    if (in)
        EOI_TRY_RET(parse_input(ctx, c, in));
    if (out)
        EOI_TRY_RET(parse_output(ctx, c, out));
    EOI_TRY_RET(parse_post(ctx, c, pp));
    if (c->nclasses == 1)
        return card_err(ctx, "output.classes",
                        "one class: a one-channel model has two (below and above the "
                        "threshold), e.g. background and building");
    return EO_OK;
}

eo_status eo_model_card_parse(eo_ctx *ctx, eo_model_card **out, const char *json) {
    EOI_CHECK_ARG(ctx, out);
    *out = NULL;
    EOI_CHECK_ARG(ctx, json);
    json_object *j = NULL;
    EOI_TRY_RET(eoi_json_parse(ctx, &j, json, "model card", EO_E_MODEL));
    eo_model_card *c = eoi_calloc(ctx, 1, sizeof *c);
    if (!c) {
        json_object_put(j);
        return EO_E_NOMEM;
    }
    c->json = j;
    snprintf(c->source, sizeof c->source, "json");
    eo_status st = parse_card(ctx, c, j);
    if (st != EO_OK) {
        eo_model_card_free(c);
        return st;
    }
    *out = c;
    return EO_OK;
}

void eo_model_card_free(eo_model_card *c) {
    if (!c)
        return;
    json_object_put(c->json);
    eoi_free(c);
}

const char *eo_model_card_source(const eo_model_card *c) { return c ? c->source : NULL; }

eo_status eo_model_card_to_json(eo_ctx *ctx, char **out, const eo_model_card *c) {
    EOI_CHECK_ARG(ctx, out);
    *out = NULL;
    EOI_CHECK_ARG(ctx, c);
    return eoi_json_dump(ctx, out, c->json, false);
}

/* ---- typed fields -------------------------------------------------------- */

typedef struct numfield {
    const char *name;
    size_t off;
} numfield;

#define NF(n, m)                                                                                   \
    { n, offsetof(eo_model_card, m) }
static const numfield num_fields[] = {
    NF("input.scale", scale),
    NF("input.zoom", zoom),
    NF("input.tile", tile),
    NF("input.overlap", overlap),
    NF("input.batch", batch),
    NF("input.pixel_size_m.min", px_min),
    NF("input.pixel_size_m.max", px_max),
    NF("input.pixel_size_m.nominal", px_nominal),
    NF("output.threshold", threshold),
    NF("output.background", background),
    NF("postprocess.min_area_m2", min_area),
    NF("postprocess.simplify_m", simplify),
    NF("postprocess.regularize", regularize),
    NF("postprocess.fill_holes_m2", fill_holes),
};
#undef NF

eo_status eo_model_card_get_number(eo_ctx *ctx, const eo_model_card *c, const char *field,
                                   double *out) {
    EOI_CHECK_ARG(ctx, out);
    *out = NAN;
    EOI_CHECK_ARG(ctx, c && field);
    if (strcmp(field, "output.class_count") == 0) {
        *out = c->nclasses ? (double)c->nclasses : NAN;
        return EO_OK;
    }
    if (strcmp(field, "input.band_count") == 0) {
        *out = c->nbands ? (double)c->nbands : NAN;
        return EO_OK;
    }
    for (size_t i = 0; i < sizeof num_fields / sizeof num_fields[0]; i++)
        if (strcmp(field, num_fields[i].name) == 0) {
            memcpy(out, (const char *)c + num_fields[i].off, sizeof *out);
            return EO_OK;
        }
    return eoi_fail(ctx, EO_E_ARG, "model card: no number field '%.80s'", field);
}

eo_status eo_model_card_get_numbers(eo_ctx *ctx, const eo_model_card *c, const char *field,
                                    double *vals, int32_t capacity, int32_t *n) {
    EOI_CHECK_ARG(ctx, n);
    *n = 0;
    EOI_CHECK_ARG(ctx, c && field && (vals || capacity == 0));
    const double *src;
    int32_t count;
    if (strcmp(field, "input.bands") == 0) {
        src = c->bands;
        count = c->nbands;
    } else if (strcmp(field, "input.mean") == 0) {
        src = c->mean;
        count = c->nmean;
    } else if (strcmp(field, "input.std") == 0) {
        src = c->std;
        count = c->nstd;
    } else {
        return eoi_fail(ctx, EO_E_ARG, "model card: no array field '%.80s'", field);
    }
    if (count > capacity)
        return eoi_fail(ctx, EO_E_ARG, "model card: %s has %d values; capacity is %d", field,
                        (int)count, (int)capacity);
    if (count)
        memcpy(vals, src, (size_t)count * sizeof *vals);
    *n = count;
    return EO_OK;
}

eo_status eo_model_card_get_string(eo_ctx *ctx, const eo_model_card *c, const char *field,
                                   int32_t index, const char **out) {
    EOI_CHECK_ARG(ctx, out);
    *out = NULL;
    EOI_CHECK_ARG(ctx, c && field);
    if (strcmp(field, "name") == 0)
        *out = c->name;
    else if (strcmp(field, "output.activation") == 0)
        *out = c->activation;
    else if (strcmp(field, "input.precision") == 0)
        *out = c->precision;
    else if (strcmp(field, "output.classes.name") == 0)
        *out = index >= 0 && index < c->nclasses ? c->class_names[index] : NULL;
    else if (strcmp(field, "input.band_names") == 0)
        *out = index >= 0 && index < c->nbands ? c->band_names[index] : NULL;
    else
        return eoi_fail(ctx, EO_E_ARG, "model card: no string field '%.80s'", field);
    return EO_OK;
}

/* ---- against a model ------------------------------------------------------ */

eo_status eoi_card_check_input(eo_ctx *ctx, const eo_model_card *c, const eoi_vinfo *decl) {
    if (!c || !decl || decl->ndim != 4)
        return EO_OK;
    if (c->nbands && decl->dims[1] > 0 && decl->dims[1] != c->nbands)
        return card_err(ctx, "input.bands",
                        "%d bands, but the model takes %lld input channels (input '%s')",
                        (int)c->nbands, (long long)decl->dims[1], decl->name);
    if (!isnan(c->tile))
        for (int32_t d = 2; d < 4; d++)
            if (decl->dims[d] > 0 && decl->dims[d] != (int64_t)c->tile)
                return card_err(ctx, "input.tile",
                                "%g, but the model's input is fixed at %lld pixels on axis %d",
                                c->tile, (long long)decl->dims[d], (int)d);
    if (!isnan(c->batch) && decl->dims[0] > 0 && decl->dims[0] != (int64_t)c->batch)
        return card_err(ctx, "input.batch", "%g, but the model's batch is fixed at %lld", c->batch,
                        (long long)decl->dims[0]);
    return EO_OK;
}

eo_status eoi_card_check_output(eo_ctx *ctx, const eo_model_card *c, int64_t channels) {
    if (!c || channels < 1)
        return EO_OK;
    if (c->nclasses && !(c->nclasses == channels || (channels == 1 && c->nclasses == 2)))
        return card_err(ctx, "output.classes",
                        "%d classes, but the model has %lld output channel%s%s", (int)c->nclasses,
                        (long long)channels, channels == 1 ? "" : "s",
                        channels == 1 ? " (a one-channel model has 2 classes)" : "");
    if (c->activation && channels == 1 && strcmp(c->activation, "softmax") == 0)
        return card_err(ctx, "output.activation",
                        "softmax over the model's one output channel is always 1 (use sigmoid or "
                        "none)");
    return EO_OK;
}

/* ---- where a card lives ---------------------------------------------------- */

eo_status eoi_card_sidecar_path(eo_ctx *ctx, char *buf, size_t cap, const char *model_path) {
    if ((size_t)snprintf(buf, cap, "%s.json", model_path) >= cap)
        return eoi_fail(ctx, EO_E_ARG, "%s: path too long", model_path);
    return EO_OK;
}

eo_status eoi_card_find(eo_ctx *ctx, eo_model_card **out, const char *model_path,
                        const char *embedded) {
    *out = NULL;
    char side[4200];
    struct stat sb;
    char *text = NULL;
    const char *src = NULL;
    eo_status st = EO_OK;
    if (model_path) {
        EOI_TRY_RET(eoi_card_sidecar_path(ctx, side, sizeof side, model_path));
        if (stat(side, &sb) == 0) {
            size_t len;
            EOI_TRY_RET(eoi_read_file(ctx, &text, &len, side, MAX_CARD_BYTES));
            src = "sidecar";
        }
    }
    if (!text && embedded)
        src = "embedded";
    if (!src)
        return EO_OK;
    st = eo_model_card_parse(ctx, out, text ? text : embedded);
    if (st != EO_OK) {
        char msg[EOI_MSG_MAX];
        snprintf(msg, sizeof msg, "%s", eo_ctx_errmsg(ctx));
        if (text)
            eoi_fail(ctx, st, "%s: %s", side, msg);
        else
            eoi_fail(ctx, st, "%s (embedded): %s", model_path ? model_path : "model", msg);
    } else {
        snprintf((*out)->source, sizeof(*out)->source, "%s", src);
    }
    eoi_free(text);
    return st;
}
