/* op_aoi_area.c - operation "aoi_area": geodesic area of an AOI, the
 * figure a service prices work by. */
#include "ops_int.h"

#include <ctype.h>

/* Parse the "aoi" parameter: a GeoJSON object, GeoJSON text, or a path. */
static eo_status load_aoi(eo_ctx *ctx, eo_geom **out, json_object *params) {
    eo_geom_opts *opts = NULL;
    eo_status st = EO_OK;
    EOI_TRY(st, eo_geom_opts_new(ctx, &opts));
    EOI_TRY(st, eo_geom_opts_set_crs(ctx, opts, eoi_param_str(params, "crs", "EPSG:4326")));
    EOI_TRY(st, eo_geom_opts_set_repair(ctx, opts, eoi_param_bool(params, "repair", false)));
    EOI_TRY(st, eo_geom_opts_set_allow_z(ctx, opts, eoi_param_bool(params, "allow_z", false)));
    json_object *aoi = NULL;
    json_object_object_get_ex(params, "aoi", &aoi);
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

static eo_status run_aoi_area(eo_ctx *ctx, json_object *params, json_object **result) {
    eo_geom *g = NULL;
    double km2 = 0;
    eo_bbox bb;
    eo_status st = EO_OK;
    EOI_TRY(st, load_aoi(ctx, &g, params));
    EOI_TRY(st, eo_geom_area_km2(ctx, g, &km2));
    EOI_TRY(st, eo_geom_bbox(ctx, g, &bb));
    json_object *r = json_object_new_object();
    json_object *bbox = json_object_new_array();
    json_object_array_add(bbox, eoi_json_double(bb.xmin));
    json_object_array_add(bbox, eoi_json_double(bb.ymin));
    json_object_array_add(bbox, eoi_json_double(bb.xmax));
    json_object_array_add(bbox, eoi_json_double(bb.ymax));
    int epsg = eoi_crs_epsg(ctx, eo_geom_crs_wkt(g));
    json_object_object_add(r, "area_km2", eoi_json_double(km2));
    json_object_object_add(r, "area_m2", eoi_json_double(km2 * 1e6));
    json_object_object_add(r, "polygons", json_object_new_int64(eo_geom_polygon_count(g)));
    json_object_object_add(r, "vertices", json_object_new_int64(eo_geom_vertex_count(g)));
    json_object_object_add(r, "bbox", bbox);
    json_object_object_add(r, "crs_epsg", epsg ? json_object_new_int(epsg) : NULL);
    *result = r;
done:
    eo_geom_free(g);
    return st;
}

const eoi_op eoi_op_aoi_area = {
    .name = "aoi_area",
    .cli = "area",
    .summary = "Geodesic area (km²) of an area of interest given as GeoJSON",
    .schema =
        "{"
        "\"$schema\": \"https://json-schema.org/draft/2020-12/schema\","
        "\"title\": \"aoi_area\","
        "\"type\": \"object\","
        "\"properties\": {"
        "  \"aoi\": {\"type\": [\"object\", \"string\"],"
        "            \"description\": \"GeoJSON Polygon/MultiPolygon, Feature or "
        "FeatureCollection: an object, its text, or the path of a file\"},"
        "  \"crs\": {\"type\": \"string\", \"default\": \"EPSG:4326\","
        "            \"description\": \"CRS of the coordinates when the GeoJSON names none\"},"
        "  \"repair\": {\"type\": \"boolean\", \"default\": false,"
        "               \"description\": \"repair an invalid geometry (make-valid) instead of "
        "failing\"},"
        "  \"allow_z\": {\"type\": \"boolean\", \"default\": false,"
        "                \"description\": \"accept 3D positions and drop the altitude\"}"
        "},"
        "\"required\": [\"aoi\"],"
        "\"additionalProperties\": false,"
        "\"x-positional\": [\"aoi\"]"
        "}",
    .run = run_aoi_area,
};
