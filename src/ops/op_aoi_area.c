/* op_aoi_area.c - operation "aoi_area": geodesic area of an AOI, the
 * figure a service prices work by. */
#include "ops_int.h"

static eo_status run_aoi_area(eo_ctx *ctx, json_object *params, json_object **result) {
    eo_geom *g = NULL;
    double km2 = 0;
    eo_bbox bb;
    eo_status st = EO_OK;
    EOI_TRY(st, eoi_param_aoi(ctx, &g, params));
    EOI_TRY(st, eo_geom_area_km2(ctx, g, &km2));
    EOI_TRY(st, eo_geom_bbox(ctx, g, &bb));
    json_object *r = json_object_new_object();
    json_object *bbox = eoi_json_bbox(&bb);
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

static const eoi_param result[] = {
    {"area_km2", "number", .desc = "geodesic area on the WGS 84 ellipsoid, km²"},
    {"area_m2", "number", .desc = "the same in m²"},
    {"polygons", "integer", .desc = "number of polygons"},
    {"vertices", "integer", .desc = "number of vertices"},
    {"bbox", "array", .items = "number", .desc = "[minx, miny, maxx, maxy] in the AOI's CRS"},
    {"crs_epsg", "integer|null", .desc = "EPSG code of the AOI's CRS, null when it has none"},
    {0},
};

const eoi_op eoi_op_aoi_area = {
    .name = "aoi_area",
    .cli = "area",
    .summary = "Geodesic area (km²) of an area of interest given as GeoJSON",
    .shared = {eoi_aoi_params},
    .positional = "aoi",
    .required = "aoi",
    .result = result,
    .run = run_aoi_area,
};
