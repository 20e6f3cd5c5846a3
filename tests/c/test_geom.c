/* test_geom.c - AOIs: GeoJSON parsing and validation (every malformed input
 * must give geometry.Invalid / aoi.TooLarge with its location), repair,
 * GeoJSON output (RFC 7946 orientation), reprojection, geodesic area, and
 * allocation faults. References are exact arithmetic and known geodesic
 * values, not the code under test. */
#include "geom_int.h"
#include "tap.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SQUARE "[[0,0],[1,0],[1,1],[0,1],[0,0]]"
#define POLY(rings) "{\"type\":\"Polygon\",\"coordinates\":[" rings "]}"
#define MULTI(polys) "{\"type\":\"MultiPolygon\",\"coordinates\":[" polys "]}"
#define FEAT(geom) "{\"type\":\"Feature\",\"properties\":{},\"geometry\":" geom "}"
#define FC(features) "{\"type\":\"FeatureCollection\",\"features\":[" features "]}"
#define GC(geoms) "{\"type\":\"GeometryCollection\",\"geometries\":[" geoms "]}"
#define SQUARE_5 "[[5,5],[6,5],[6,6],[5,6],[5,5]]"
#define BOWTIE "[[0,0],[2,2],[2,0],[0,2],[0,0]]"

/* WGS84 area of the geodesic quadrilateral (0,0) (1,0) (1,1) (0,1) in km² */
#define CELL_KM2 12308.778361469

static eo_ctx *ctx;

static eo_geom *parse(const char *json, const eo_geom_opts *o) {
    eo_geom *g = (eo_geom *)1;
    eo_status st = eo_geom_from_geojson(ctx, &g, json, o);
    CHECKF(st == EO_OK, "%.80s: %s", json, eo_ctx_errmsg(ctx));
    CHECK((st == EO_OK) == (g != NULL));
    return g;
}

/* json must fail with want and a message holding each of the (up to 3)
 * non-NULL fragments. */
static void fails(const char *json, const eo_geom_opts *o, eo_status want, const char *m1,
                  const char *m2, const char *m3) {
    eo_geom *g = (eo_geom *)1;
    eo_status st = eo_geom_from_geojson(ctx, &g, json, o);
    const char *msg = eo_ctx_errmsg(ctx);
    CHECKF(st == want, "%.100s: status %s (want %s): %s", json, eo_status_id(st),
           eo_status_id(want), msg);
    CHECKF(g == NULL, "%.60s: out set to NULL on failure", json);
    CHECK(eo_ctx_status(ctx) == st);
    const char *frag[3] = {m1, m2, m3};
    for (int i = 0; i < 3; i++)
        if (frag[i])
            CHECKF(strstr(msg, frag[i]) != NULL, "%.100s: message \"%s\" lacks \"%s\"", json, msg,
                   frag[i]);
    CHECKF(strchr(msg, '\n') == NULL, "one-line message: %s", msg);
    eo_geom_free(g == (eo_geom *)1 ? NULL : g);
    eo_ctx_clear_error(ctx);
}

static double geos_area(const eo_geom *g) {
    double a = -1;
    GEOSArea_r(ctx->geos, eoi_geom_geos(g), &a);
    return a;
}

static bool near(double a, double b, double tol) { return fabs(a - b) <= tol; }

/* Area in km² of the WGS84 region between two meridians and two parallels,
 * in closed form (authalic latitude): the reference for polygons whose
 * edges follow parallels, independent of the geodesic code. */
static double band_km2(double lon0, double lon1, double lat0, double lat1) {
    const double a = 6378137.0, f = 1 / 298.257223563, pi = 3.14159265358979323846;
    const double b = a * (1 - f), e2 = f * (2 - f), e = sqrt(e2);
    double q[2], lat[2] = {lat0, lat1};
    for (int i = 0; i < 2; i++) {
        double s = sin(lat[i] * pi / 180);
        q[i] = s / (1 - e2 * s * s) + log((1 + e * s) / (1 - e * s)) / (2 * e);
    }
    return (lon1 - lon0) * pi / 180 * b * b / 2 * (q[1] - q[0]) / 1e6;
}

/* Signed area (shoelace) of a ring given as a JSON array of positions:
 * positive when counter-clockwise. */
static double shoelace(json_object *ring) {
    size_t n = json_object_array_length(ring);
    double s = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        json_object *a = json_object_array_get_idx(ring, i);
        json_object *b = json_object_array_get_idx(ring, i + 1);
        double x0 = json_object_get_double(json_object_array_get_idx(a, 0));
        double y0 = json_object_get_double(json_object_array_get_idx(a, 1));
        double x1 = json_object_get_double(json_object_array_get_idx(b, 0));
        double y1 = json_object_get_double(json_object_array_get_idx(b, 1));
        s += x0 * y1 - x1 * y0;
    }
    return s / 2;
}

/* Whether (x, y) is among the vertices of g, within tol. */
static bool has_vertex(const eo_geom *g, double x, double y, double tol) {
    const GEOSGeometry *gg = eoi_geom_geos(g);
    int np = GEOSGetNumGeometries_r(ctx->geos, gg);
    for (int i = 0; i < np; i++) {
        const GEOSGeometry *poly = GEOSGetGeometryN_r(ctx->geos, gg, i);
        int nh = GEOSGetNumInteriorRings_r(ctx->geos, poly);
        for (int r = 0; r <= nh; r++) {
            const GEOSGeometry *ring = r ? GEOSGetInteriorRingN_r(ctx->geos, poly, r - 1)
                                         : GEOSGetExteriorRing_r(ctx->geos, poly);
            const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(ctx->geos, ring);
            unsigned n = 0;
            GEOSCoordSeq_getSize_r(ctx->geos, cs, &n);
            for (unsigned k = 0; k < n; k++) {
                double vx, vy;
                GEOSCoordSeq_getXY_r(ctx->geos, cs, k, &vx, &vy);
                if (fabs(vx - x) <= tol && fabs(vy - y) <= tol)
                    return true;
            }
        }
    }
    return false;
}

static char *ring_json(int n, double cx, double cy, double r) {
    /* n positions: n - 1 points on a circle and the closing one */
    size_t cap = (size_t)n * 48 + 64;
    char *s = malloc(cap);
    size_t len = (size_t)snprintf(s, cap, "{\"type\":\"Polygon\",\"coordinates\":[[");
    for (int i = 0; i < n; i++) {
        double t = 2 * 3.14159265358979323846 * (double)(i % (n - 1)) / (double)(n - 1);
        len += (size_t)snprintf(s + len, cap - len, "%s[%.9f,%.9f]", i ? "," : "", cx + r * cos(t),
                                cy + r * sin(t));
    }
    snprintf(s + len, cap - len, "]]}");
    return s;
}

static void test_opts(void) {
    eo_geom_opts *o = NULL;
    CHECK(eo_geom_opts_new(NULL, &o) == EO_E_ARG);
    CHECK_ST(ctx, eo_geom_opts_new(ctx, NULL), EO_E_ARG);
    CHECK_OK(ctx, eo_geom_opts_new(ctx, &o));
    CHECK_OK(ctx, eo_geom_opts_set_repair(ctx, o, 1));
    CHECK_OK(ctx, eo_geom_opts_set_allow_z(ctx, o, 1));
    CHECK_OK(ctx, eo_geom_opts_set_crs(ctx, o, "EPSG:32631"));
    CHECK_ST(ctx, eo_geom_opts_set_crs(ctx, o, "EPSG:999999"), EO_E_CRS);
    CHECK(strstr(eo_ctx_errmsg(ctx), "999999") != NULL);
    CHECK_ST(ctx, eo_geom_opts_set_crs(ctx, o, ""), EO_E_ARG);
    CHECK_ST(ctx, eo_geom_opts_set_repair(ctx, NULL, 1), EO_E_ARG);
    eo_geom_opts_free(o);
    eo_geom_opts_free(NULL);
    eo_geom_free(NULL);
    eo_ctx_clear_error(ctx);

    eo_geom *g = (eo_geom *)1;
    CHECK(eo_geom_from_geojson(NULL, &g, POLY(SQUARE), NULL) == EO_E_ARG);
    CHECK_ST(ctx, eo_geom_from_geojson(ctx, NULL, POLY(SQUARE), NULL), EO_E_ARG);
    CHECK_ST(ctx, eo_geom_from_geojson(ctx, &g, NULL, NULL), EO_E_ARG);
    CHECK(g == NULL);
    CHECK(eo_geom_polygon_count(NULL) == 0 && eo_geom_vertex_count(NULL) == 0);
    CHECK(eo_geom_crs_wkt(NULL) == NULL);
    eo_ctx_clear_error(ctx);
}

static void test_parse_ok(void) {
    /* a bare polygon in the default CRS (EPSG:4326, lon/lat) */
    eo_geom *g = parse(POLY("[[10,20],[11,20],[11,21.5],[10,21.5],[10,20]]"), NULL);
    if (g) {
        CHECK(eo_geom_polygon_count(g) == 1);
        CHECK(eo_geom_vertex_count(g) == 5);
        eo_bbox b;
        CHECK_OK(ctx, eo_geom_bbox(ctx, g, &b));
        CHECK(b.xmin == 10 && b.ymin == 20 && b.xmax == 11 && b.ymax == 21.5);
        CHECK(eoi_geom_is_geographic(g));
        CHECK(eoi_crs_epsg(ctx, eo_geom_crs_wkt(g)) == 4326);
        CHECK(geos_area(g) == 1.5);
        CHECK_ST(ctx, eo_geom_bbox(ctx, g, NULL), EO_E_ARG);
    }
    eo_geom_free(g);

    /* polygon with two holes */
    g = parse(POLY("[[0,0],[10,0],[10,10],[0,10],[0,0]],[[1,1],[2,1],[2,2],[1,2],[1,1]],"
                   "[[5,5],[7,5],[7,7],[5,7],[5,5]]"),
              NULL);
    if (g) {
        CHECK(eo_geom_polygon_count(g) == 1 && eo_geom_vertex_count(g) == 15);
        CHECK(geos_area(g) == 100 - 1 - 4);
    }
    eo_geom_free(g);

    /* MultiPolygon with holes */
    g = parse("{\"type\":\"MultiPolygon\",\"coordinates\":["
              "[[[0,0],[4,0],[4,4],[0,4],[0,0]],[[1,1],[1,3],[3,3],[3,1],[1,1]]],"
              "[[[10,0],[14,0],[14,4],[10,4],[10,0]]],"
              "[[[20,0],[24,0],[24,4],[20,4],[20,0]],[[21,1],[22,1],[22,2],[21,2],[21,1]],"
              "[[22.5,2.5],[23,2.5],[23,3],[22.5,3],[22.5,2.5]]]]}",
              NULL);
    if (g) {
        CHECK(eo_geom_polygon_count(g) == 3);
        CHECK(eo_geom_vertex_count(g) == 30);
        CHECK(geos_area(g) == (16 - 4) + 16 + (16 - 1 - 0.25));
    }
    eo_geom_free(g);

    /* Feature */
    g = parse(
        "{\"type\":\"Feature\",\"properties\":{\"name\":\"field\"},\"geometry\":" POLY(SQUARE) "}",
        NULL);
    CHECK(g && eo_geom_polygon_count(g) == 1 && eo_geom_vertex_count(g) == 5);
    eo_geom_free(g);

    /* FeatureCollection of disjoint features: one MultiPolygon */
    g = parse(
        FC(FEAT(POLY(SQUARE)) "," FEAT(MULTI("[" SQUARE_5 "],[[[8,0],[9,0],[9,1],[8,1],[8,0]]]"))),
        NULL);
    if (g) {
        CHECK(eo_geom_polygon_count(g) == 3 && eo_geom_vertex_count(g) == 15);
        CHECK(geos_area(g) == 3);
        CHECK(GEOSisValid_r(ctx->geos, eoi_geom_geos(g)) == 1);
    }
    eo_geom_free(g);

    /* overlapping features are dissolved: [0,2]² ∪ [1,3]² = 4 + 4 - 1 */
    g = parse(FC(FEAT(POLY("[[0,0],[2,0],[2,2],[0,2],[0,0]]")) "," FEAT(
                  POLY("[[1,1],[3,1],[3,3],[1,3],[1,1]]"))),
              NULL);
    if (g) {
        CHECK(eo_geom_polygon_count(g) == 1);
        CHECK(eo_geom_vertex_count(g) == 9); /* 8 corners + closing */
        CHECK(geos_area(g) == 7);
        CHECK(GEOSisValid_r(ctx->geos, eoi_geom_geos(g)) == 1);
    }
    eo_geom_free(g);

    /* features sharing an edge are merged into one valid polygon */
    g = parse(FC(FEAT(POLY(SQUARE)) "," FEAT(POLY("[[1,0],[2,0],[2,1],[1,1],[1,0]]"))), NULL);
    CHECK(g && eo_geom_polygon_count(g) == 1 && geos_area(g) == 2);
    eo_geom_free(g);

    /* GeometryCollection of polygons */
    g = parse(GC(POLY(SQUARE) "," MULTI("[[[3,3],[4,3],[4,4],[3,4],[3,3]]]")), NULL);
    CHECK(g && eo_geom_polygon_count(g) == 2 && geos_area(g) == 2);
    eo_geom_free(g);

    /* white space, extra members, integers and exponents */
    g = parse(" \n{ \"bbox\": [0,0,1,1], \"type\" : \"Polygon\", \"coordinates\" : "
              "[[[0,0],[1e0,0],[1,1.0],[0,1],[0,0]]] }\n",
              NULL);
    CHECK(g && geos_area(g) == 1);
    eo_geom_free(g);

    /* edges of the lon/lat domain are fine */
    g = parse(POLY("[[-180,-90],[180,-90],[180,90],[-180,90],[-180,-90]]"), NULL);
    CHECK(g != NULL);
    eo_geom_free(g);
}

static void test_invalid(void) {
    eo_geom_opts *z = NULL;
    eo_geom_opts_new(ctx, &z);
    eo_geom_opts_set_allow_z(ctx, z, 1);
    eo_geom_opts *strict = NULL;
    eo_geom_opts_new(ctx, &strict);
    eo_geom_opts_set_allow_z(ctx, strict, 0);
    eo_geom_opts *utm = NULL;
    eo_geom_opts_new(ctx, &utm);
    eo_geom_opts_set_crs(ctx, utm, "EPSG:32631");

    /* not JSON, empty, wrong JSON values */
    fails("{\"type\":\"Polygon\",", NULL, EO_E_GEOMETRY, "AOI", "not valid JSON", NULL);
    fails("", NULL, EO_E_GEOMETRY, "AOI", "not valid JSON", NULL);
    fails("   ", NULL, EO_E_GEOMETRY, "not valid JSON", NULL, NULL);
    fails("not json", NULL, EO_E_GEOMETRY, "not valid JSON", "offset", NULL);
    fails(POLY(SQUARE) " trailing", NULL, EO_E_GEOMETRY, "not valid JSON", "offset", NULL);
    fails("\"Polygon\"", NULL, EO_E_GEOMETRY, "got a string", NULL, NULL);
    fails("[[0,0],[1,0]]", NULL, EO_E_GEOMETRY, "got an array", NULL, NULL);
    fails("[null]", NULL, EO_E_GEOMETRY, "got an array", NULL, NULL);
    fails("{\"coordinates\":[" SQUARE "]}", NULL, EO_E_GEOMETRY, "no \"type\" member", NULL, NULL);
    fails("{\"type\":7,\"coordinates\":[" SQUARE "]}", NULL, EO_E_GEOMETRY,
          "\"type\" must be a string", NULL, NULL);
    fails("{\"type\":\"Polygon\"}", NULL, EO_E_GEOMETRY, "no \"coordinates\"", NULL, NULL);
    fails("{\"type\":\"Polygon\",\"coordinates\":{}}", NULL, EO_E_GEOMETRY,
          "\"coordinates\" must be an array", "object", NULL);
    fails("{\"type\":\"Polygon\",\"coordinates\":null}", NULL, EO_E_GEOMETRY,
          "\"coordinates\" must be an array", "null", NULL);

    /* wrong geometry types */
    fails("{\"type\":\"Point\",\"coordinates\":[1,2]}", NULL, EO_E_GEOMETRY,
          "AOI: expected a Polygon or MultiPolygon, got Point", NULL, NULL);
    fails("{\"type\":\"LineString\",\"coordinates\":[[1,2],[3,4]]}", NULL, EO_E_GEOMETRY,
          "expected a Polygon or MultiPolygon, got LineString", NULL, NULL);
    fails("{\"type\":\"MultiPoint\",\"coordinates\":[[1,2]]}", NULL, EO_E_GEOMETRY,
          "got MultiPoint", NULL, NULL);
    fails("{\"type\":\"polygon\",\"coordinates\":[" SQUARE "]}", NULL, EO_E_GEOMETRY,
          "unknown type \"polygon\"", NULL, NULL);
    fails("{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"geometry\":"
          "{\"type\":\"Point\",\"coordinates\":[1,2]}}]}",
          NULL, EO_E_GEOMETRY, "AOI: feature 0: expected a Polygon or MultiPolygon, got Point",
          NULL, NULL);

    /* rings */
    fails(POLY("[[0,0],[1,0],[1,1],[0,1],[0,0.5]]"), NULL, EO_E_GEOMETRY,
          "polygon 0, ring 0 (exterior)", "not closed", "[0, 0.5]");
    fails(POLY("[[0,0],[1,0],[1,1]]"), NULL, EO_E_GEOMETRY, "ring 0 (exterior)",
          "ring has 3 positions", "at least 4");
    fails(POLY("[[0,0],[1,0],[0,0]]"), NULL, EO_E_GEOMETRY, "ring has 3 positions", NULL, NULL);
    fails(POLY(SQUARE ",[]"), NULL, EO_E_GEOMETRY, "ring 1 (hole 1)", "empty ring", NULL);
    fails(POLY(SQUARE ",7"), NULL, EO_E_GEOMETRY, "ring 1 (hole 1)",
          "expected an array of positions, got a number", NULL);
    fails("{\"type\":\"Polygon\",\"coordinates\":[]}", NULL, EO_E_GEOMETRY, "polygon 0",
          "empty polygon", NULL);
    fails("{\"type\":\"MultiPolygon\",\"coordinates\":[]}", NULL, EO_E_GEOMETRY,
          "empty MultiPolygon", NULL, NULL);
    fails("{\"type\":\"MultiPolygon\",\"coordinates\":[[" SQUARE "],[]]}", NULL, EO_E_GEOMETRY,
          "polygon 1", "empty polygon", NULL);

    /* topology: bowtie, hole outside its shell, overlapping parts */
    fails(POLY("[[0,0],[2,2],[2,0],[0,2],[0,0]]"), NULL, EO_E_GEOMETRY,
          "AOI: polygon 0, ring 0 (exterior): Self-intersection", "at or near point (1, 1)", NULL);
    fails(POLY(SQUARE ",[[5,5],[6,5],[6,6],[5,6],[5,5]]"), NULL, EO_E_GEOMETRY,
          "polygon 0, ring 1 (hole 1)", "Hole lies outside shell", "(5, 5)");
    fails("{\"type\":\"MultiPolygon\",\"coordinates\":[[" SQUARE "],"
          "[[[0.5,0.5],[1.5,0.5],[1.5,1.5],[0.5,1.5],[0.5,0.5]]]]}",
          NULL, EO_E_GEOMETRY, "AOI: polygons 0 and 1", "must not overlap", "at or near point");
    fails("{\"type\":\"Feature\",\"geometry\":{\"type\":\"MultiPolygon\",\"coordinates\":[[" SQUARE
          "],[[[0.5,0.5],[1.5,0.5],[1.5,1.5],[0.5,1.5],[0.5,0.5]]]]}}",
          NULL, EO_E_GEOMETRY, "polygons 0 and 1", NULL, NULL);
    fails(FC(FEAT(POLY(SQUARE)) "," FEAT(POLY(BOWTIE))), NULL, EO_E_GEOMETRY,
          "AOI: feature 1, polygon 0, ring 0 (exterior): Self-intersection", NULL, NULL);

    /* numbers: NaN, Infinity, huge, out of range */
    fails(POLY("[[0,0],[NaN,0],[1,1],[0,1],[0,0]]"), NULL, EO_E_GEOMETRY, "NaN", NULL, NULL);
    fails(POLY("[[0,0],[Infinity,0],[1,1],[0,1],[0,0]]"), NULL, EO_E_GEOMETRY, "Infinity", NULL,
          NULL);
    fails(POLY("[[0,0],[-Infinity,0],[1,1],[0,1],[0,0]]"), NULL, EO_E_GEOMETRY, "AOI", NULL, NULL);
    fails(POLY("[[0,0],[1e999,0],[1,1],[0,1],[0,0]]"), NULL, EO_E_GEOMETRY, "AOI", NULL, NULL);
    fails(POLY("[[0,0],[1e308,0],[1,1],[0,1],[0,0]]"), NULL, EO_E_GEOMETRY,
          "ring 0 (exterior), point 1", "longitude 1e+308 is outside [-180, 180]", NULL);
    fails(POLY("[[0,0],[1e308,0],[1,1],[0,1],[0,0]]"), utm, EO_E_GEOMETRY, "point 1", "magnitude",
          NULL);
    fails(POLY("[[0,0],[1,0],[1,95],[0,1],[0,0]]"), NULL, EO_E_GEOMETRY,
          "AOI: polygon 0, ring 0 (exterior), point 2 [1, 95]: latitude 95 is outside [-90, 90]",
          NULL, NULL);
    fails(POLY("[[0,0],[200,0],[1,1],[0,1],[0,0]]"), NULL, EO_E_GEOMETRY, "point 1",
          "longitude 200 is outside [-180, 180]", NULL);
    fails(POLY("[[0,0],[-180.0001,0],[1,1],[0,1],[0,0]]"), NULL, EO_E_GEOMETRY, "point 1",
          "longitude", NULL);
    /* projected coordinates read as lon/lat are caught by the range check */
    fails(POLY("[[500000,0],[501000,0],[501000,1000],[500000,1000],[500000,0]]"), NULL,
          EO_E_GEOMETRY, "point 0", "longitude 500000", NULL);

    /* dimensions and types of positions */
    fails(POLY("[[0,0,5],[1,0,5],[1,1,5],[0,1,5],[0,0,5]]"), strict, EO_E_GEOMETRY, "point 0",
          "3 values", "strict");
    fails(POLY("[[0,0,0,0],[1,0,0,0],[1,1,0,0],[0,1,0,0],[0,0,0,0]]"), NULL, EO_E_GEOMETRY,
          "point 0", "4 values", NULL);
    fails(POLY("[[0,0,0,0],[1,0,0,0],[1,1,0,0],[0,1,0,0],[0,0,0,0]]"), z, EO_E_GEOMETRY, "point 0",
          "4 values", NULL);
    fails(POLY("[[0,0],[1,0,\"high\"],[1,1],[0,1],[0,0]]"), z, EO_E_GEOMETRY, "point 1",
          "coordinate 2 (z) is a string", NULL);
    fails(POLY("[[0,0],[1],[1,1],[0,1],[0,0]]"), NULL, EO_E_GEOMETRY, "point 1", "2 numbers", NULL);
    fails(POLY("[[\"0\",\"0\"],[1,0],[1,1],[0,1],[0,0]]"), NULL, EO_E_GEOMETRY,
          "ring 0 (exterior), point 0", "coordinate 0 (x) is a string, not a number", NULL);
    fails(POLY("[[0,0],[1,null],[1,1],[0,1],[0,0]]"), NULL, EO_E_GEOMETRY, "point 1",
          "coordinate 1 (y) is null", NULL);
    fails(POLY("[[0,0],[1,0],[true,1],[0,1],[0,0]]"), NULL, EO_E_GEOMETRY, "point 2",
          "is a boolean", NULL);
    fails(POLY("[[0,0],[1,0],{\"x\":1},[0,1],[0,0]]"), NULL, EO_E_GEOMETRY, "point 2",
          "expected a position [x, y], got an object", NULL);
    fails(POLY("[[0,0],[1,0],\"1,1\",[0,1],[0,0]]"), NULL, EO_E_GEOMETRY, "point 2", "got a string",
          NULL);

    /* deeply nested arrays */
    {
        size_t n = 10000;
        char *s = malloc(2 * n + 64);
        size_t len = (size_t)sprintf(s, "{\"type\":\"Polygon\",\"coordinates\":");
        memset(s + len, '[', n);
        memset(s + len + n, ']', n);
        strcpy(s + len + 2 * n, "}");
        fails(s, NULL, EO_E_GEOMETRY, "not valid JSON", "nesting", NULL);
        /* nesting just under the JSON limit is refused by the structure */
        fails("{\"type\":\"Polygon\",\"coordinates\":[[[[[[[0,0]]]]]]]}", NULL, EO_E_GEOMETRY,
              "point 0", "2 numbers [x, y], got 1", NULL);
        fails("{\"type\":\"Polygon\",\"coordinates\":[[[[0,0],[1,0]],[1,1],[0,1],[0,0]]]}", NULL,
              EO_E_GEOMETRY, "point 0", "coordinate 0 (x) is an array", NULL);
        free(s);
    }

    /* Features and collections */
    fails("{\"type\":\"Feature\",\"properties\":{},\"geometry\":null}", NULL, EO_E_GEOMETRY,
          "geometry is null", NULL, NULL);
    fails("{\"type\":\"Feature\",\"properties\":{}}", NULL, EO_E_GEOMETRY, "no \"geometry\" member",
          NULL, NULL);
    fails("{\"type\":\"FeatureCollection\",\"features\":[]}", NULL, EO_E_GEOMETRY,
          "FeatureCollection has no features", NULL, NULL);
    fails("{\"type\":\"FeatureCollection\"}", NULL, EO_E_GEOMETRY, "\"features\"", "missing", NULL);
    fails(FC(FEAT(POLY(SQUARE)) "," FEAT("null")), NULL, EO_E_GEOMETRY, "AOI: feature 1",
          "geometry is null", NULL);
    fails("{\"type\":\"FeatureCollection\",\"features\":[" POLY(SQUARE) "]}", NULL, EO_E_GEOMETRY,
          "feature 0", "expected a Feature, got \"Polygon\"", NULL);
    fails("{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\",\"geometry\":"
          "{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}},"
          "{\"type\":\"Feature\",\"geometry\":"
          "{\"type\":\"Polygon\",\"coordinates\":[[[0,0],[1,0],[1,91],[0,1],[0,0]]]}}]}",
          NULL, EO_E_GEOMETRY, "AOI: feature 1, polygon 0, ring 0 (exterior), point 2",
          "latitude 91", NULL);
    fails("{\"type\":\"GeometryCollection\",\"geometries\":[]}", NULL, EO_E_GEOMETRY,
          "empty GeometryCollection", NULL, NULL);
    fails(GC(POLY(SQUARE) ",{\"type\":\"LineString\",\"coordinates\":[[0,0],[1,1]]}"), NULL,
          EO_E_GEOMETRY, "geometry 1 of the GeometryCollection", "got LineString", NULL);

    /* legacy crs member problems */
    fails("{\"type\":\"Polygon\",\"crs\":{\"type\":\"name\",\"properties\":{\"name\":"
          "\"EPSG:0\"}},\"coordinates\":[" SQUARE "]}",
          NULL, EO_E_CRS, "AOI: \"crs\" member", "EPSG:0", NULL);
    fails("{\"type\":\"Polygon\",\"crs\":{\"type\":\"link\",\"properties\":{\"href\":"
          "\"http://x\"}},\"coordinates\":[" SQUARE "]}",
          NULL, EO_E_CRS, "link", NULL, NULL);
    fails("{\"type\":\"Polygon\",\"crs\":\"EPSG:4326\",\"coordinates\":[" SQUARE "]}", NULL,
          EO_E_GEOMETRY, "\"crs\" member must look like", NULL, NULL);

    eo_geom_opts_free(z);
    eo_geom_opts_free(strict);
    eo_geom_opts_free(utm);
}

static void test_allow_z_and_limits(void) {
    eo_geom_opts *z = NULL;
    CHECK_OK(ctx, eo_geom_opts_new(ctx, &z));
    CHECK_OK(ctx, eo_geom_opts_set_allow_z(ctx, z, 1));
    eo_geom *g = parse(POLY("[[0,0,5],[1,0,5.5],[1,1,-3],[0,1,0],[0,0,5]]"), z);
    if (g) {
        CHECK(eo_geom_vertex_count(g) == 5 && geos_area(g) == 1);
        char *js = NULL;
        CHECK_OK(ctx, eo_geom_to_geojson(ctx, &js, g, -1));
        json_object *o = js ? json_tokener_parse(js) : NULL, *c;
        CHECK(o && json_object_object_get_ex(o, "coordinates", &c) &&
              json_object_array_length(
                  json_object_array_get_idx(json_object_array_get_idx(c, 0), 0)) == 2);
        json_object_put(o);
        eo_free(js);
    }
    eo_geom_free(g);
    eo_geom_opts_free(z);
    /* the default (no options, or new ones) drops the altitude too */
    CHECK_OK(ctx, eo_geom_opts_new(ctx, &z));
    eo_geom *g2 = parse(POLY("[[0,0,5],[2,0,5.5],[2,1,-3],[0,1,0],[0,0,5]]"), z);
    eo_geom *g3 = parse(POLY("[[0,0,5],[2,0,5.5],[2,1,-3],[0,1,0],[0,0,5]]"), NULL);
    CHECK(g2 && g3 && geos_area(g2) == 2 && geos_area(g3) == 2);
    eo_geom_free(g2);
    eo_geom_free(g3);
    eo_geom_opts_free(z);

    /* the vertex limit: 100,000 positions */
    char *big = ring_json(100000, 10, 10, 1);
    fails(big, NULL, EO_E_AOI_TOO_LARGE, "AOI has 100000 vertices; the limit is 50000", NULL, NULL);
    CHECK(strcmp(eo_status_id(EO_E_AOI_TOO_LARGE), "aoi.TooLarge") == 0);
    CHECK_OK(ctx, eo_ctx_set_limit(ctx, EO_LIMIT_AOI_VERTICES, 100000));
    g = parse(big, NULL);
    CHECK(g && eo_geom_vertex_count(g) == 100000 && eo_geom_polygon_count(g) == 1);
    eo_geom_free(g);
    /* the limit counts vertices of all features */
    CHECK_OK(ctx, eo_ctx_set_limit(ctx, EO_LIMIT_AOI_VERTICES, 13));
    fails(
        FC(FEAT(POLY(SQUARE)) "," FEAT(POLY(SQUARE_5)) "," FEAT(POLY("[[8,8],[9,8],[9,9],[8,8]]"))),
        NULL, EO_E_AOI_TOO_LARGE, "AOI has 14 vertices; the limit is 13", NULL, NULL);
    CHECK_OK(ctx, eo_ctx_set_limit(ctx, EO_LIMIT_AOI_VERTICES, 50000));

    /* the feature limit: features of a collection, not "type": "Feature"
     * in properties */
    CHECK_OK(ctx, eo_ctx_set_limit(ctx, EO_LIMIT_AOI_FEATURES, 2));
    fails(FC(FEAT(POLY(SQUARE)) "," FEAT(POLY(SQUARE_5)) "," FEAT(POLY(SQUARE))), NULL,
          EO_E_AOI_TOO_LARGE, "AOI has 3 features; the limit is 2", NULL, NULL);
    g = parse("{\"type\":\"FeatureCollection\",\"features\":[{\"type\":\"Feature\","
              "\"properties\":{\"type\":\"Feature\",\"a\":{\"type\":\"Feature\"}},"
              "\"geometry\":" POLY(SQUARE) "}," FEAT(POLY(SQUARE_5)) "]}",
              NULL);
    CHECK(g && eo_geom_polygon_count(g) == 2);
    eo_geom_free(g);
    CHECK_OK(ctx, eo_ctx_set_limit(ctx, EO_LIMIT_AOI_FEATURES, 10000));

    /* the AOI byte limit */
    CHECK_OK(ctx, eo_ctx_set_limit(ctx, EO_LIMIT_AOI_BYTES, 1000));
    fails(big, NULL, EO_E_AOI_TOO_LARGE, "the limit is 1000 (raise it with --max-aoi-bytes", NULL,
          NULL);
    CHECK_OK(ctx, eo_ctx_set_limit(ctx, EO_LIMIT_AOI_BYTES, (int64_t)64 << 20));

    /* the JSON size limit */
    CHECK_OK(ctx, eo_ctx_set_limit(ctx, EO_LIMIT_JSON_BYTES, 1000));
    fails(big, NULL, EO_E_LIMIT, "exceed the limit", NULL, NULL);
    CHECK_OK(ctx, eo_ctx_set_limit(ctx, EO_LIMIT_JSON_BYTES, (int64_t)64 << 20));
    free(big);
}

/* The per-AOI limits of eo_geom_opts: they win over the context's, lower
 * or higher, and leave the context's alone. */
static void test_opts_limits(void) {
    eo_geom_opts *o = NULL;
    CHECK_OK(ctx, eo_geom_opts_new(ctx, &o));
    const char *three =
        FC(FEAT(POLY(SQUARE)) "," FEAT(POLY(SQUARE_5)) "," FEAT(POLY("[[8,8],[9,8],[9,9],[8,8]]")));
    /* 5 + 5 + 4 = 14 vertices, 3 features: within the context's limits */
    eo_geom *g = parse(three, o);
    CHECK(g && eo_geom_vertex_count(g) == 14);
    eo_geom_free(g);
    CHECK_OK(ctx, eo_geom_opts_set_max_vertices(ctx, o, 13));
    fails(three, o, EO_E_AOI_TOO_LARGE, "AOI has 14 vertices; the limit is 13", NULL, NULL);
    CHECK(eo_ctx_get_limit(ctx, EO_LIMIT_AOI_VERTICES) == 50000);
    g = parse(three, NULL);
    eo_geom_free(g);
    CHECK_OK(ctx, eo_geom_opts_set_max_vertices(ctx, o, 14));
    g = parse(three, o);
    eo_geom_free(g);
    CHECK_OK(ctx, eo_geom_opts_set_max_features(ctx, o, 2));
    fails(three, o, EO_E_AOI_TOO_LARGE, "AOI has 3 features; the limit is 2", NULL, NULL);
    CHECK(eo_ctx_get_limit(ctx, EO_LIMIT_AOI_FEATURES) == 10000);
    CHECK_OK(ctx, eo_geom_opts_set_max_features(ctx, o, 3));
    CHECK_OK(ctx, eo_geom_opts_set_max_bytes(ctx, o, (int64_t)strlen(three) - 1));
    fails(three, o, EO_E_AOI_TOO_LARGE, "raise it with --max-aoi-bytes", NULL, NULL);
    CHECK_OK(ctx, eo_geom_opts_set_max_bytes(ctx, o, (int64_t)strlen(three)));
    g = parse(three, o);
    eo_geom_free(g);
    /* higher than the context's: 100,000 vertices pass with these options only */
    char *big = ring_json(100000, 10, 10, 1);
    fails(big, NULL, EO_E_AOI_TOO_LARGE, "the limit is 50000", NULL, NULL);
    eo_geom_opts *hi = NULL;
    CHECK_OK(ctx, eo_geom_opts_new(ctx, &hi));
    CHECK_OK(ctx, eo_geom_opts_set_max_vertices(ctx, hi, 100000));
    g = parse(big, hi);
    CHECK(g && eo_geom_vertex_count(g) == 100000);
    eo_geom_free(g);
    free(big);
    /* a limit must be positive; a NULL options object is refused */
    eo_status (*const set[3])(eo_ctx *, eo_geom_opts *, int64_t) = {
        eo_geom_opts_set_max_vertices, eo_geom_opts_set_max_features, eo_geom_opts_set_max_bytes};
    const char *names[3] = {"max_vertices", "max_features", "max_aoi_bytes"};
    for (int i = 0; i < 3; i++) {
        CHECK_ST(ctx, set[i](ctx, hi, 0), EO_E_ARG);
        CHECKF(strstr(eo_ctx_errmsg(ctx), names[i]) && strstr(eo_ctx_errmsg(ctx), "got 0"), "%s",
               eo_ctx_errmsg(ctx));
        CHECK_ST(ctx, set[i](ctx, hi, -5), EO_E_ARG);
        CHECK_ST(ctx, set[i](ctx, NULL, 10), EO_E_ARG);
        CHECK(set[i](NULL, hi, 10) == EO_E_ARG);
        eo_ctx_clear_error(ctx);
    }
    eo_geom_opts_free(hi);
    eo_geom_opts_free(o);
}

static void test_repair(void) {
    eo_geom_opts *o = NULL;
    CHECK_OK(ctx, eo_geom_opts_new(ctx, &o));
    CHECK_OK(ctx, eo_geom_opts_set_repair(ctx, o, 1));

    /* the bowtie: two triangles of base 2 and height 1 */
    eo_geom *g = parse(POLY("[[0,0],[2,2],[2,0],[0,2],[0,0]]"), o);
    if (g) {
        CHECK(eo_geom_polygon_count(g) == 2);
        CHECK(GEOSGeomTypeId_r(ctx->geos, eoi_geom_geos(g)) == GEOS_MULTIPOLYGON);
        CHECK(GEOSisValid_r(ctx->geos, eoi_geom_geos(g)) == 1);
        CHECK(near(geos_area(g), 2.0, 1e-12));
        CHECK(eo_geom_vertex_count(g) == 8);
        CHECK(has_vertex(g, 1, 1, 1e-12));
        char *js = NULL;
        CHECK_OK(ctx, eo_geom_to_geojson(ctx, &js, g, -1));
        CHECK(js && strstr(js, "\"MultiPolygon\""));
        eo_free(js);
    }
    eo_geom_free(g);

    /* an unclosed ring is closed; a closed triangle too */
    g = parse(POLY("[[0,0],[1,0],[1,1],[0,1]]"), o);
    CHECK(g && near(geos_area(g), 1, 0) && eo_geom_vertex_count(g) == 5);
    eo_geom_free(g);
    g = parse(POLY("[[0,0],[1,0],[1,1]]"), o);
    CHECK(g && near(geos_area(g), 0.5, 0));
    eo_geom_free(g);

    /* structure repair keeps a hole outside its shell as an area of its
     * own (GEOS 3.10+ "structure" method) */
    g = parse(POLY(SQUARE ",[[5,5],[6,5],[6,6],[5,6],[5,5]]"), o);
    CHECK(g && GEOSisValid_r(ctx->geos, eoi_geom_geos(g)) == 1);
    CHECK(g && geos_area(g) == 2 && eo_geom_polygon_count(g) == 2);
    /* a hole that pokes out of its shell is cut where it overlaps */
    eo_geom_free(g);
    g = parse(POLY("[[0,0],[4,0],[4,4],[0,4],[0,0]],[[1,1],[5,1],[5,2],[1,2],[1,1]]"), o);
    CHECK(g && near(geos_area(g), 16 - 3, 1e-12) && eo_geom_polygon_count(g) == 1);
    eo_geom_free(g);

    /* overlapping parts of a MultiPolygon are merged */
    g = parse("{\"type\":\"MultiPolygon\",\"coordinates\":[[[[0,0],[2,0],[2,2],[0,2],[0,0]]],"
              "[[[1,1],[3,1],[3,3],[1,3],[1,1]]]]}",
              o);
    CHECK(g && near(geos_area(g), 7, 1e-12) && eo_geom_polygon_count(g) == 1);
    eo_geom_free(g);

    /* collapsed rings leave nothing */
    fails(POLY("[[0,0],[1,1],[0,0],[1,1],[0,0]]"), o, EO_E_GEOMETRY, "AOI", "no polygon", NULL);
    fails(POLY("[[0,0],[1,0],[0,0]]"), o, EO_E_GEOMETRY, "no polygon", NULL, NULL);

    /* repair does not make up numbers or types */
    fails(POLY("[[0,0],[1,0],[1,95],[0,1],[0,0]]"), o, EO_E_GEOMETRY, "latitude 95", NULL, NULL);
    fails(POLY("[[0,0],[\"a\",0],[1,1],[0,1],[0,0]]"), o, EO_E_GEOMETRY, "is a string", NULL, NULL);
    fails("{\"type\":\"Point\",\"coordinates\":[1,2]}", o, EO_E_GEOMETRY, "got Point", NULL, NULL);
    eo_geom_opts_free(o);
}

/* parse -> dump -> parse: the same vertices; RFC 7946 orientation */
static void test_to_geojson(void) {
    /* exterior clockwise and hole counter-clockwise on input */
    const char *in = POLY("[[0,0],[0,3],[3,3],[3,0],[0,0]],"
                          "[[0.1,0.1],[0.3333333333333333,0.1],[0.3333333333333333,1e-7],"
                          "[0.1,0.1]]");
    eo_geom *g = parse(in, NULL);
    char *js = NULL;
    if (g) {
        CHECK_OK(ctx, eo_geom_to_geojson(ctx, &js, g, -1));
        char *bad = (char *)1;
        CHECK_ST(ctx, eo_geom_to_geojson(ctx, &bad, g, 18), EO_E_ARG);
        CHECK(bad == NULL);
        CHECK_ST(ctx, eo_geom_to_geojson(ctx, &bad, g, -2), EO_E_ARG);
        CHECK_ST(ctx, eo_geom_to_geojson(ctx, NULL, g, -1), EO_E_ARG);
    }
    json_object *o = js ? json_tokener_parse(js) : NULL;
    CHECKF(o != NULL, "output is JSON: %s", js ? js : "(null)");
    if (o) {
        json_object *t, *c;
        CHECK(json_object_object_get_ex(o, "type", &t) &&
              strcmp(json_object_get_string(t), "Polygon") == 0);
        CHECK(json_object_object_get_ex(o, "coordinates", &c) && json_object_array_length(c) == 2);
        CHECK(shoelace(json_object_array_get_idx(c, 0)) == 9.0);
        CHECK(shoelace(json_object_array_get_idx(c, 1)) < 0);
        /* every input vertex reads back exactly */
        eo_geom *g2 = parse(js, NULL);
        if (g2) {
            CHECK(eo_geom_vertex_count(g2) == eo_geom_vertex_count(g));
            CHECK(has_vertex(g2, 0.3333333333333333, 1e-7, 0));
            CHECK(has_vertex(g2, 0.1, 0.1, 0) && has_vertex(g2, 3, 0, 0));
            CHECK(geos_area(g2) == geos_area(g));
            GEOSGeometry *d = GEOSSymDifference_r(ctx->geos, eoi_geom_geos(g), eoi_geom_geos(g2));
            double a = -1;
            CHECK(d && GEOSArea_r(ctx->geos, d, &a) && a == 0);
            GEOSGeom_destroy_r(ctx->geos, d);
        }
        eo_geom_free(g2);
        json_object_put(o);
    }
    eo_free(js);
    js = NULL;

    /* fixed decimals */
    if (g) {
        CHECK_OK(ctx, eo_geom_to_geojson(ctx, &js, g, 2));
        CHECKF(js && strstr(js, "[0.33,0.1]") && !strstr(js, "0.333"), "%s", js);
        eo_free(js);
        CHECK_OK(ctx, eo_geom_to_geojson(ctx, &js, g, 0));
        CHECKF(js && strstr(js, "[3,3]") && !strstr(js, "."), "%s", js);
        eo_free(js);
        js = NULL;
    }
    eo_geom_free(g);

    /* a MultiPolygon: each exterior counter-clockwise */
    g = parse("{\"type\":\"MultiPolygon\",\"coordinates\":[[[[0,0],[0,1],[1,1],[1,0],[0,0]]],"
              "[[[5,5],[6,5],[6,6],[5,6],[5,5]]]]}",
              NULL);
    if (g && eo_geom_to_geojson(ctx, &js, g, -1) == EO_OK) {
        json_object *m = json_tokener_parse(js), *c;
        CHECK(m && strstr(js, "\"type\":\"MultiPolygon\""));
        if (m && json_object_object_get_ex(m, "coordinates", &c)) {
            CHECK(json_object_array_length(c) == 2);
            for (size_t i = 0; i < 2; i++)
                CHECK(shoelace(json_object_array_get_idx(json_object_array_get_idx(c, i), 0)) ==
                      1.0);
        }
        json_object_put(m);
    }
    eo_free(js);
    eo_geom_free(g);
}

static void test_crs_and_transform(void) {
    /* legacy crs member: UTM 33N coordinates that would be bad lon/lat */
    const char *utm33 = "{\"type\":\"Polygon\",\"crs\":{\"type\":\"name\",\"properties\":"
                        "{\"name\":\"urn:ogc:def:crs:EPSG::32633\"}},\"coordinates\":"
                        "[[[500000,5000000],[501000,5000000],[501000,5002000],[500000,5002000],"
                        "[500000,5000000]]]}";
    eo_geom *g = parse(utm33, NULL);
    if (g) {
        CHECK(!eoi_geom_is_geographic(g));
        CHECK(eoi_crs_epsg(ctx, eo_geom_crs_wkt(g)) == 32633);
        CHECK(geos_area(g) == 2e6);
    }
    eo_geom_free(g);
    g = parse("{\"type\":\"Feature\",\"crs\":{\"type\":\"name\",\"properties\":{\"name\":"
              "\"EPSG:32633\"}},\"geometry\":{\"type\":\"Polygon\",\"coordinates\":"
              "[[[500000,5000000],[501000,5000000],[501000,5002000],[500000,5000000]]]}}",
              NULL);
    CHECK(g && eoi_crs_epsg(ctx, eo_geom_crs_wkt(g)) == 32633);
    eo_geom_free(g);
    /* CRS84 is lon/lat */
    g = parse("{\"type\":\"Polygon\",\"crs\":{\"type\":\"name\",\"properties\":{\"name\":"
              "\"urn:ogc:def:crs:OGC:1.3:CRS84\"}},\"coordinates\":[[[100,10],[101,10],"
              "[101,11],[100,11],[100,10]]]}",
              NULL);
    CHECK(g && eoi_geom_is_geographic(g));
    eo_geom_free(g);
    /* "crs": null is no CRS */
    g = parse("{\"type\":\"Polygon\",\"crs\":null,\"coordinates\":[" SQUARE "]}", NULL);
    CHECK(g && eoi_crs_epsg(ctx, eo_geom_crs_wkt(g)) == 4326);
    eo_geom_free(g);
    /* the options' CRS; the document's crs wins over it */
    eo_geom_opts *o = NULL;
    eo_geom_opts_new(ctx, &o);
    eo_geom_opts_set_crs(ctx, o, "EPSG:32631");
    g = parse(POLY("[[499000,1000],[501000,1000],[501000,3000],[499000,3000],[499000,1000]],"
                   "[[499500,1500],[499500,2500],[500500,2500],[500500,1500],[499500,1500]]"),
              o);
    if (g) {
        CHECK(eoi_crs_epsg(ctx, eo_geom_crs_wkt(g)) == 32631);
        CHECK(geos_area(g) == 3e6);
        /* on the central meridian the grid is scaled by k0 = 0.9996: the
         * ellipsoidal area is the grid area / k0² (to ~1e-8) */
        double km2 = 0;
        CHECK_OK(ctx, eo_geom_area_km2(ctx, g, &km2));
        double want = 3.0 / (0.9996 * 0.9996);
        CHECKF(near(km2, want, want * 1e-7), "area %.12f km2, want %.12f", km2, want);
    }
    eo_geom_free(g);
    g = parse(utm33, o);
    CHECK(g && eoi_crs_epsg(ctx, eo_geom_crs_wkt(g)) == 32633);
    eo_geom_free(g);
    eo_geom_opts_free(o);

    /* 4326 -> UTM 31N -> 4326 */
    g = parse(POLY("[[2.5,0.5],[3.5,0.5],[3.5,1.5],[2.5,1.5],[2.5,0.5]],"
                   "[[2.8,0.8],[2.8,1.2],[3.2,1.2],[3.2,0.8],[2.8,0.8]]"),
              NULL);
    eo_geom *u = NULL, *back = NULL;
    if (g) {
        CHECK_OK(ctx, eo_geom_transform(ctx, &u, g, "EPSG:32631"));
        CHECK_ST(ctx, eo_geom_transform(ctx, &back, g, "EPSG:nonsense"), EO_E_CRS);
        CHECK(back == NULL);
        CHECK_ST(ctx, eo_geom_transform(ctx, NULL, g, "EPSG:32631"), EO_E_ARG);
    }
    if (u) {
        CHECK(!eoi_geom_is_geographic(u));
        CHECK(eoi_crs_epsg(ctx, eo_geom_crs_wkt(u)) == 32631);
        /* densified: edges are split into pieces of <= 1/100 of the bbox
         * diagonal (1.41 degrees): each outer edge of 1 degree in >= 71 */
        CHECKF(eo_geom_vertex_count(u) > 4 * 71, "%lld vertices",
               (long long)eo_geom_vertex_count(u));
        eo_bbox b;
        CHECK_OK(ctx, eo_geom_bbox(ctx, u, &b));
        /* 3 degrees east is the central meridian of zone 31: x = 500000 in
         * the middle, about +-55 km at the sides; y ~ 55 km to 166 km */
        CHECK(b.xmin > 380000 && b.xmax < 620000 && b.ymin > 50000 && b.ymax < 170000);
        /* densified: the image of the middle of the top edge (a parallel)
         * is on the boundary to 1 cm; a straight chord between the images
         * of the corners would miss it by about 6 m */
        PJ *pj = NULL;
        CHECK_OK(ctx, eoi_crs_transformer(ctx, &pj, "EPSG:4326", "EPSG:32631"));
        if (pj) {
            PJ_COORD c = proj_trans(pj, PJ_FWD, proj_coord(3.0, 1.5, 0, 0));
            GEOSGeometry *pt = GEOSGeom_createPointFromXY_r(ctx->geos, c.xy.x, c.xy.y);
            GEOSGeometry *bd = GEOSBoundary_r(ctx->geos, eoi_geom_geos(u));
            double d = 1e9;
            CHECK(pt && bd && GEOSDistance_r(ctx->geos, pt, bd, &d));
            CHECKF(d < 0.01, "image of (3, 1.5) is %g m from the boundary", d);
            GEOSGeom_destroy_r(ctx->geos, pt);
            GEOSGeom_destroy_r(ctx->geos, bd);
            proj_destroy(pj);
        }
        CHECK_OK(ctx, eo_geom_transform(ctx, &back, u, "EPSG:4326"));
    }
    if (back) {
        CHECK(eoi_geom_is_geographic(back));
        double corners[8][2] = {{2.5, 0.5}, {3.5, 0.5}, {3.5, 1.5}, {2.5, 1.5},
                                {2.8, 0.8}, {2.8, 1.2}, {3.2, 1.2}, {3.2, 0.8}};
        for (int i = 0; i < 8; i++)
            CHECKF(has_vertex(back, corners[i][0], corners[i][1], 1e-9), "corner %d back", i);
        eo_bbox b;
        CHECK_OK(ctx, eo_geom_bbox(ctx, back, &b));
        CHECK(near(b.xmin, 2.5, 1e-7) && near(b.xmax, 3.5, 1e-7) && near(b.ymin, 0.5, 1e-7) &&
              near(b.ymax, 1.5, 1e-7));
        CHECK(eo_geom_polygon_count(back) == 1);
        /* the round trip puts the boundary back within 1e-7 degrees */
        GEOSGeometry *b0 = GEOSBoundary_r(ctx->geos, eoi_geom_geos(g));
        GEOSGeometry *b1 = GEOSBoundary_r(ctx->geos, eoi_geom_geos(back));
        double hd = 1;
        CHECK(b0 && b1 && GEOSHausdorffDistance_r(ctx->geos, b0, b1, &hd));
        CHECKF(hd < 1e-7, "Hausdorff distance %g", hd);
        GEOSGeom_destroy_r(ctx->geos, b0);
        GEOSGeom_destroy_r(ctx->geos, b1);
        /* the round trip densified the edges along the parallels and
         * meridians: the area is that of the region they bound, while the
         * input's edges are geodesics (slightly larger, by ~3e-5) */
        double a0 = 0, a1 = 0;
        double want = band_km2(2.5, 3.5, 0.5, 1.5) - band_km2(2.8, 3.2, 0.8, 1.2);
        CHECK_OK(ctx, eo_geom_area_km2(ctx, g, &a0));
        CHECK_OK(ctx, eo_geom_area_km2(ctx, back, &a1));
        CHECKF(near(a1, want, want * 1e-7), "%.9f vs %.9f", a1, want);
        CHECKF(a0 > want && near(a0, want, want * 1e-4), "%.9f vs %.9f", a0, want);
    }
    eo_geom_free(back);
    back = NULL;
    /* the same CRS: a copy */
    if (g) {
        CHECK_OK(ctx, eo_geom_transform(ctx, &back, g, "OGC:CRS84"));
        CHECK(back && eo_geom_vertex_count(back) == eo_geom_vertex_count(g));
        eo_geom_free(back);
    }
    eo_geom_free(u);
    eo_geom_free(g);

    /* densification is capped: a star of 1000 spikes as long as half the
     * diagonal would get ~50 pieces per edge; at most 20000 are added */
    {
        size_t cap = 1001 * 64 + 64, len;
        char *star = malloc(cap);
        len = (size_t)snprintf(star, cap, "{\"type\":\"Polygon\",\"coordinates\":[[");
        for (int i = 0; i <= 1000; i++) {
            double t = 2 * 3.14159265358979323846 * (i % 1000) / 1000.0;
            double r = i % 2 ? 0.01 : 1.0;
            len += (size_t)snprintf(star + len, cap - len, "%s[%.12f,%.12f]", i ? "," : "",
                                    10 + r * cos(t), 10 + r * sin(t));
        }
        snprintf(star + len, cap - len, "]]}");
        g = parse(star, NULL);
        u = NULL;
        if (g) {
            CHECK(eo_geom_vertex_count(g) == 1001);
            CHECK_OK(ctx, eo_geom_transform(ctx, &u, g, "EPSG:3857"));
            CHECKF(u && eo_geom_vertex_count(u) > 10000 && eo_geom_vertex_count(u) <= 21001,
                   "%lld vertices", (long long)eo_geom_vertex_count(u));
        }
        eo_geom_free(u);
        eo_geom_free(g);
        free(star);
    }

    /* the far side of the Earth has no image in an orthographic view */
    g = parse(POLY("[[100,0],[110,0],[110,10],[100,10],[100,0]]"), NULL);
    if (g) {
        u = (eo_geom *)1;
        CHECK_ST(ctx, eo_geom_transform(ctx, &u, g, "+proj=ortho +lat_0=0 +lon_0=-80 +type=crs"),
                 EO_E_CRS_TRANSFORM);
        CHECK(u == NULL);
        CHECK(strcmp(eo_status_id(eo_ctx_status(ctx)), "crs.Transform") == 0);
    }
    eo_geom_free(g);
}

static void test_area(void) {
    double km2 = 0;
    /* the geodesic quadrilateral (0,0) (1,0) (1,1) (0,1) */
    eo_geom *g = parse(POLY(SQUARE), NULL);
    if (g) {
        CHECK_OK(ctx, eo_geom_area_km2(ctx, g, &km2));
        CHECKF(near(km2, CELL_KM2, CELL_KM2 * 1e-9), "%.9f", km2);
        CHECK_ST(ctx, eo_geom_area_km2(ctx, g, NULL), EO_E_ARG);
        CHECK_ST(ctx, eo_geom_area_km2(ctx, NULL, &km2), EO_E_ARG);
    }
    eo_geom_free(g);
    /* clockwise, shifted in longitude, mirrored south: the same area */
    const char *same[] = {
        POLY("[[0,0],[0,1],[1,1],[1,0],[0,0]]"),
        POLY("[[-120,0],[-119,0],[-119,1],[-120,1],[-120,0]]"),
        POLY("[[40,-1],[41,-1],[41,0],[40,0],[40,-1]]"),
    };
    for (size_t i = 0; i < sizeof same / sizeof same[0]; i++) {
        g = parse(same[i], NULL);
        km2 = 0;
        CHECK(g && eo_geom_area_km2(ctx, g, &km2) == EO_OK);
        CHECKF(near(km2, CELL_KM2, CELL_KM2 * 1e-9), "case %zu: %.9f", i, km2);
        eo_geom_free(g);
    }
    /* two cells apart in longitude: twice the cell (rotation symmetry) */
    g = parse("{\"type\":\"MultiPolygon\",\"coordinates\":[[" SQUARE "],"
              "[[[10,0],[11,0],[11,1],[10,1],[10,0]]]]}",
              NULL);
    CHECK(g && eo_geom_area_km2(ctx, g, &km2) == EO_OK);
    CHECKF(near(km2, 2 * CELL_KM2, CELL_KM2 * 1e-9), "%.9f", km2);
    eo_geom_free(g);
    /* a hole subtracts its own area */
    double outer = 0, hole = 0, both = 0;
    g = parse(POLY("[[0,-1],[3,-1],[3,1],[0,1],[0,-1]]"), NULL);
    CHECK(g && eo_geom_area_km2(ctx, g, &outer) == EO_OK);
    eo_geom_free(g);
    g = parse(POLY("[[1,0],[2,0],[2,0.5],[1,0.5],[1,0]]"), NULL);
    CHECK(g && eo_geom_area_km2(ctx, g, &hole) == EO_OK);
    eo_geom_free(g);
    g = parse(POLY("[[0,-1],[3,-1],[3,1],[0,1],[0,-1]],[[1,0],[2,0],[2,0.5],[1,0.5],[1,0]]"), NULL);
    CHECK(g && eo_geom_area_km2(ctx, g, &both) == EO_OK);
    eo_geom_free(g);
    CHECKF(hole > 0 && near(both, outer - hole, 1e-6), "%.9f = %.9f - %.9f", both, outer, hole);

    /* a 1000 m x 1000 m UTM square on the central meridian of zone 31 at
     * the equator: (1000 / 0.9996)² m² on the ellipsoid */
    g = parse("{\"type\":\"Polygon\",\"crs\":{\"type\":\"name\",\"properties\":{\"name\":"
              "\"EPSG:32631\"}},\"coordinates\":[[[499500,0],[500500,0],[500500,1000],"
              "[499500,1000],[499500,0]]]}",
              NULL);
    if (g) {
        CHECK(geos_area(g) == 1e6);
        CHECK_OK(ctx, eo_geom_area_km2(ctx, g, &km2));
        double want = 1.0 / (0.9996 * 0.9996);
        CHECKF(near(km2, want, want * 1e-7), "%.12f km2, want %.12f", km2, want);
        CHECK(near(km2, 1.0, 0.005));
    }
    eo_geom_free(g);
}

static void test_file(void) {
    const char *path = tap_tmp("geom_aoi.geojson");
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs("{\"type\":\"Feature\",\"geometry\":" POLY(SQUARE) "}\n", f);
        fclose(f);
    }
    eo_geom *g = NULL;
    CHECK_OK(ctx, eo_geom_from_geojson_file(ctx, &g, path, NULL));
    CHECK(g && eo_geom_vertex_count(g) == 5);
    eo_geom_free(g);

    f = fopen(path, "w");
    if (f) {
        fputs(POLY("[[0,0],[1,0],[1,1],[0,1]]"), f);
        fclose(f);
    }
    g = (eo_geom *)1;
    CHECK_ST(ctx, eo_geom_from_geojson_file(ctx, &g, path, NULL), EO_E_GEOMETRY);
    CHECK(g == NULL);
    CHECKF(strncmp(eo_ctx_errmsg(ctx), path, strlen(path)) == 0 &&
               strstr(eo_ctx_errmsg(ctx), "not closed"),
           "%s", eo_ctx_errmsg(ctx));
    remove(path);
    CHECK_ST(ctx, eo_geom_from_geojson_file(ctx, &g, path, NULL), EO_E_IO_NOT_FOUND);
    CHECK(strstr(eo_ctx_errmsg(ctx), path) != NULL);
    CHECK_ST(ctx, eo_geom_from_geojson_file(ctx, &g, NULL, NULL), EO_E_ARG);
    eo_ctx_clear_error(ctx);
}

/* Fail the nth allocation of parse + area + dump, for n = 1, 2, ... */
static void test_alloc_faults(void) {
    const char *doc =
        "{\"type\":\"FeatureCollection\",\"crs\":{\"type\":\"name\",\"properties\":{\"name\":"
        "\"EPSG:32631\"}},\"features\":["
        "{\"type\":\"Feature\",\"geometry\":{\"type\":\"MultiPolygon\",\"coordinates\":["
        "[[[499000,1000],[501000,1000],[501000,3000],[499000,3000],[499000,1000]],"
        "[[499500,1500],[499500,2500],[500500,2500],[500500,1500],[499500,1500]]],"
        "[[[510000,1000],[511000,1000],[511000,2000],[510000,1000]]]]}},"
        "{\"type\":\"Feature\",\"geometry\":{\"type\":\"Polygon\",\"coordinates\":"
        "[[[500000,2000],[505000,2000],[505000,2600],[500000,2000]]]}}]}";
    eo_geom_opts *o = NULL;
    int ok_at = 0, nomem = 0, other = 0;
    for (long n = 1; n < 2000; n++) {
        eo_ctx_clear_error(ctx);
        eo_exp_fail_alloc(n);
        eo_status st = EO_OK;
        eo_geom *g = NULL;
        char *js = NULL;
        double km2 = 0;
        if (!o)
            st = eo_geom_opts_new(ctx, &o);
        if (st == EO_OK)
            st = eo_geom_opts_set_repair(ctx, o, 1);
        if (st == EO_OK)
            st = eo_geom_from_geojson(ctx, &g, doc, o);
        if (st == EO_OK)
            st = eo_geom_area_km2(ctx, g, &km2);
        if (st == EO_OK)
            st = eo_geom_to_geojson(ctx, &js, g, 3);
        long made = eo_exp_fail_alloc(0);
        eo_free(js);
        eo_geom_free(g);
        if (st == EO_OK) {
            ok_at = (int)n;
            CHECKF(made < n, "succeeded with %ld allocations, fault at %ld", made, n);
            CHECK(km2 > 3);
            break;
        }
        if (st == EO_E_NOMEM) {
            nomem++;
            CHECK(eo_ctx_status(ctx) == EO_E_NOMEM);
        } else {
            other++;
            CHECKF(0, "fault %ld: status %s: %s", n, eo_status_id(st), eo_ctx_errmsg(ctx));
        }
    }
    eo_geom_opts_free(o);
    CHECKF(ok_at > 10 && nomem == ok_at - 1 && other == 0, "ok at %d, %d NOMEM, %d other", ok_at,
           nomem, other);
    eo_ctx_clear_error(ctx);
}

/* Transformations are cached on the context (8 pairs, least recently used
 * evicted): going through 12 target CRSs twice, in two orders, each result
 * must equal the one a fresh context (nothing cached) makes. */
static void test_transform_cache(void) {
    eo_geom *g = parse("{\"type\":\"Polygon\",\"coordinates\":[[[3.1,45.2],[3.4,45.2],"
                       "[3.4,45.5],[3.1,45.2]]]}",
                       NULL);
    if (!g)
        return;
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < 12; i++) {
            int zone = round == 0 ? 31 + i : 42 - i;
            char crs[32];
            snprintf(crs, sizeof crs, "EPSG:326%02d", zone);
            eo_ctx *fresh = NULL;
            eo_geom *a = NULL, *b = NULL;
            char *ja = NULL, *jb = NULL;
            CHECK_OK(ctx, eo_geom_transform(ctx, &a, g, crs));
            CHECK_OK(fresh, eo_ctx_new(&fresh));
            if (fresh)
                CHECK_OK(fresh, eo_geom_transform(fresh, &b, g, crs));
            if (a && b) {
                CHECK_OK(ctx, eo_geom_to_geojson(ctx, &ja, a, -1));
                CHECK_OK(fresh, eo_geom_to_geojson(fresh, &jb, b, -1));
                CHECKF(ja && jb && strcmp(ja, jb) == 0, "%s: cached and fresh transforms differ",
                       crs);
            }
            eo_free(ja);
            eo_free(jb);
            eo_geom_free(a);
            eo_geom_free(b);
            eo_ctx_free(fresh);
        }
    eo_geom_free(g);
}

int main(void) {
    CHECK_OK(ctx, eo_ctx_new(&ctx));
    if (!ctx)
        return tap_done();
    test_opts();
    test_parse_ok();
    test_invalid();
    test_allow_z_and_limits();
    test_opts_limits();
    test_repair();
    test_to_geojson();
    test_crs_and_transform();
    test_transform_cache();
    test_area();
    test_file();
    test_alloc_faults();
    eo_ctx_free(ctx);
    return tap_done();
}
