/* aoi_param.c - the AOI and raster parameters shared by operations. */
#include "ops_int.h"

#include <ctype.h>

EOI_SETTER_STR(set_crs, eo_geom_opts, eo_geom_opts_set_crs)
EOI_SETTER_BOOL(set_repair, eo_geom_opts, eo_geom_opts_set_repair)
EOI_SETTER_BOOL(set_allow_z, eo_geom_opts, eo_geom_opts_set_allow_z)

/* strict: refuse 3D positions (only when true, so that it wins over allow_z) */
static eo_status set_strict(eo_ctx *ctx, void *opts, json_object *v) {
    return json_object_get_boolean(v) ? eo_geom_opts_set_allow_z(ctx, opts, 0) : EO_OK;
}

/* max_vertices, max_features, max_aoi_bytes: this AOI's limits (the
 * context's otherwise) */
static eo_status set_max_vertices(eo_ctx *ctx, void *opts, json_object *v) {
    return eo_geom_opts_set_max_vertices(ctx, opts, json_object_get_int64(v));
}

static eo_status set_max_features(eo_ctx *ctx, void *opts, json_object *v) {
    return eo_geom_opts_set_max_features(ctx, opts, json_object_get_int64(v));
}

static eo_status set_max_aoi_bytes(eo_ctx *ctx, void *opts, json_object *v) {
    return eo_geom_opts_set_max_bytes(ctx, opts, json_object_get_int64(v));
}

const eoi_param eoi_aoi_params[] = {
    {"aoi", "object|string",
     .desc = "GeoJSON Polygon/MultiPolygon, Feature or FeatureCollection: an object, its text, "
             "or the path of a file"},
    /* no default value: whether the user named one matters over a raster
     * without CRS (crs.Missing) */
    {"crs", "string",
     .desc = "CRS of the AOI's coordinates when the GeoJSON names none (else EPSG:4326, "
             "longitude first; over a raster without CRS, naming one says the coordinates "
             "are the raster's)",
     .set = set_crs},
    {"repair", "boolean", "false", .desc = "repair an invalid AOI (make-valid) instead of failing",
     .set = set_repair},
    {"allow_z", "boolean", "true",
     .desc = "accept 3D positions and drop the altitude (RFC 7946 allows one)", .set = set_allow_z},
    {"strict", "boolean", "false", .desc = "refuse 3D positions instead of dropping the altitude",
     .set = set_strict},
    {"max_vertices", "integer", .min = "4", .max = "1000000000",
     .desc = "refuse an AOI of more vertices (aoi.TooLarge), counted before it is parsed "
             "(default: the context's limit, 50,000)",
     .set = set_max_vertices},
    {"max_features", "integer", .min = "1", .max = "1000000000",
     .desc = "refuse an AOI of more features (aoi.TooLarge), counted as the text is read "
             "(default: the context's limit, 10,000)",
     .set = set_max_features},
    {"max_aoi_bytes", "integer", .min = "1", .max = "1000000000000",
     .desc = "refuse an AOI whose GeoJSON text is longer (aoi.TooLarge); a file is read in "
             "pieces and reading stops past the limit (default: the context's limit, 64 MiB)",
     .set = set_max_aoi_bytes},
    {0},
};

eo_status eoi_param_aoi_value(eo_ctx *ctx, eo_geom **out, json_object *aoi, json_object *params) {
    *out = NULL;
    eo_geom_opts *opts = NULL;
    eo_status st = EO_OK;
    EOI_TRY(st, eo_geom_opts_new(ctx, &opts));
    EOI_TRY(st, eoi_params_apply(ctx, eoi_aoi_params, params, opts));
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

eo_status eoi_param_aoi(eo_ctx *ctx, eo_geom **out, json_object *params) {
    json_object *aoi = NULL;
    *out = NULL;
    if (!json_object_object_get_ex(params, "aoi", &aoi))
        return eoi_fail(ctx, EO_E_PARAM, "parameter 'aoi' is required");
    return eoi_param_aoi_value(ctx, out, aoi, params);
}

eo_status eoi_param_dataset(eo_ctx *ctx, eo_dataset **out, json_object *params, const char *key) {
    *out = NULL;
    json_object *v = NULL;
    if (!json_object_object_get_ex(params, key, &v))
        return eoi_fail(ctx, EO_E_PARAM, "parameter '%s' is required", key);
    if (!json_object_is_type(v, json_type_array))
        return eo_dataset_open(ctx, out, json_object_get_string(v));
    size_t n = json_object_array_length(v);
    const char **paths = eoi_calloc(ctx, n ? n : 1, sizeof *paths);
    if (!paths)
        return EO_E_NOMEM;
    for (size_t i = 0; i < n; i++)
        paths[i] = json_object_get_string(json_object_array_get_idx(v, i));
    eo_status st = eo_dataset_open_mosaic(ctx, out, paths, (int32_t)n);
    eoi_free(paths);
    return st;
}
