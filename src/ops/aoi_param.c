/* aoi_param.c - the AOI parameter shared by operations. */
#include "ops_int.h"

#include <ctype.h>

eo_status eoi_param_aoi(eo_ctx *ctx, eo_geom **out, json_object *params) {
    *out = NULL;
    eo_geom_opts *opts = NULL;
    eo_status st = EO_OK;
    EOI_TRY(st, eo_geom_opts_new(ctx, &opts));
    EOI_TRY(st, eo_geom_opts_set_crs(ctx, opts, eoi_param_str(params, "crs", "EPSG:4326")));
    EOI_TRY(st, eo_geom_opts_set_repair(ctx, opts, eoi_param_bool(params, "repair", false)));
    EOI_TRY(st, eo_geom_opts_set_allow_z(ctx, opts, eoi_param_bool(params, "allow_z", false)));
    json_object *aoi = NULL;
    if (!json_object_object_get_ex(params, "aoi", &aoi)) {
        st = eoi_fail(ctx, EO_E_PARAM, "parameter 'aoi' is required");
        goto done;
    }
    if (json_object_is_type(aoi, json_type_string)) {
        const char *s = json_object_get_string(aoi);
        const char *p = s;
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '{' || *p == '[') /* JSON text; anything else names a file */
            st = eo_geom_from_geojson(ctx, out, s, opts);
        else
            st = eo_geom_from_geojson_file(ctx, out, s, opts);
    } else {
        const char *text = json_object_to_json_string_ext(aoi, JSON_C_TO_STRING_PLAIN);
        st = text ? eo_geom_from_geojson(ctx, out, text, opts)
                  : eoi_fail(ctx, EO_E_NOMEM, "out of memory");
    }
done:
    eo_geom_opts_free(opts);
    return st;
}
