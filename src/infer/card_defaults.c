/* card_defaults.c - the model card as defaults of an operation's
 * parameters (the detect job's; eo_segment reads the card itself): what
 * the user left out, read from the card of the model at a path. Above
 * card.c (the card's fields) and model.c (eo_model_card_load). */
#include "infer_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

enum { CARD_NUM, CARD_INT, CARD_NUMS, CARD_INTS, CARD_STR, CARD_CLASSES };

static const struct {
    const char *param, *field;
    int kind;
    bool post; /* only for operations that vectorize */
} card_params[] = {
    {"bands", "input.bands", CARD_INTS, false},
    {"scale", "input.scale", CARD_NUM, false},
    {"mean", "input.mean", CARD_NUMS, false},
    {"std", "input.std", CARD_NUMS, false},
    {"tile", "input.tile", CARD_INT, false},
    {"overlap", "input.overlap", CARD_INT, false},
    {"threshold", "output.threshold", CARD_NUM, false},
    {"activation", "output.activation", CARD_STR, false},
    {"classes", "output.classes.name", CARD_CLASSES, true},
    {"min_area", "postprocess.min_area_m2", CARD_NUM, true},
    {"simplify", "postprocess.simplify_m", CARD_NUM, true},
    {"fill_holes", "postprocess.fill_holes_m2", CARD_NUM, true},
    {"max_pixel_size", "input.pixel_size_m.max", CARD_NUM, true},
};

/* The card's value of one entry of card_params as JSON; NULL when unset. */
static json_object *card_value(eo_ctx *ctx, const eo_model_card *c, int k) {
    double d = NAN, v[EOI_CARD_MAX_CLASSES];
    int32_t n = 0;
    const char *str = NULL;
    json_object *a = NULL;
    switch (card_params[k].kind) {
    case CARD_NUM:
    case CARD_INT:
        if (eo_model_card_get_number(ctx, c, card_params[k].field, &d) != EO_OK || isnan(d))
            return NULL;
        return card_params[k].kind == CARD_INT ? json_object_new_int64((int64_t)d)
                                               : eoi_json_double(d);
    case CARD_NUMS:
    case CARD_INTS:
        if (eo_model_card_get_numbers(ctx, c, card_params[k].field, v, EOI_CARD_MAX_BANDS, &n) !=
                EO_OK ||
            n == 0)
            return NULL;
        a = json_object_new_array();
        for (int32_t i = 0; i < n; i++)
            json_object_array_add(a, card_params[k].kind == CARD_INTS
                                         ? json_object_new_int64((int64_t)v[i])
                                         : eoi_json_double(v[i]));
        return a;
    case CARD_STR:
        if (eo_model_card_get_string(ctx, c, card_params[k].field, 0, &str) != EO_OK || !str)
            return NULL;
        return json_object_new_string(str);
    default: /* CARD_CLASSES */
        if (eo_model_card_get_number(ctx, c, "output.class_count", &d) != EO_OK || isnan(d))
            return NULL;
        a = json_object_new_array();
        for (int32_t i = 0; i < (int32_t)d; i++) {
            if (eo_model_card_get_string(ctx, c, card_params[k].field, i, &str) != EO_OK || !str) {
                json_object_put(a);
                return NULL;
            }
            json_object_array_add(a, json_object_new_string(str));
        }
        return a;
    }
}

eo_status eoi_card_defaults(eo_ctx *ctx, json_object *params, const char *model_path,
                            bool postprocess) {
    eo_model_card *c = NULL;
    EOI_TRY_RET(eo_model_card_load(ctx, &c, model_path));
    if (!c)
        return EO_OK;
    for (int k = 0; k < (int)(sizeof card_params / sizeof card_params[0]); k++) {
        if ((card_params[k].post && !postprocess) ||
            json_object_object_get_ex(params, card_params[k].param, NULL))
            continue;
        json_object *v = card_value(ctx, c, k);
        if (v)
            json_object_object_add(params, card_params[k].param, v);
    }
    /* postprocess.regularize: the "regularize" block, unless the user's
     * blocks name it */
    double reg = NAN;
    json_object *b = NULL;
    if (postprocess && eo_model_card_get_number(ctx, c, "postprocess.regularize", &reg) == EO_OK &&
        !isnan(reg)) {
        const char *have = json_object_object_get_ex(params, "blocks", &b) &&
                                   json_object_is_type(b, json_type_string)
                               ? json_object_get_string(b)
                               : "";
        if (!strstr(have, "regularize=")) {
            char buf[512];
            snprintf(buf, sizeof buf, "%.400s%sregularize=%s", have, *have ? "," : "",
                     reg != 0 ? "on" : "off");
            json_object_object_add(params, "blocks", json_object_new_string(buf));
        }
    }
    eo_model_card_free(c);
    return EO_OK;
}
