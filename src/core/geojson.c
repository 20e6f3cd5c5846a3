/* geojson.c - AOIs from GeoJSON: parsing, validation with the location of
 * the first problem, optional repair, and GeoJSON output (RFC 7946). */
#include "geom_int.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Projected coordinates beyond this magnitude are refused: no CRS on Earth
 * needs them, and they ruin the precision of every computation after. */
#define MAX_PROJECTED 1e10

/* The parser walks the JSON twice: first to check every position and count
 * the vertices without building anything (so that the vertex limit holds
 * before GEOS allocates), then to build the GEOS polygons. */
typedef struct parser {
    eo_ctx *ctx;
    bool repair, allow_z, geographic;
    bool build;                                    /* second pass */
    int64_t nvert;                                 /* positions seen (first pass) */
    int64_t feature, member, polygon, ring, point; /* location; -1 = n/a */
    bool show_xy;                                  /* the location names the point's coordinates */
    double px, py;
    /* first pass, geographic: the ring's first longitude beyond +-180 (and
     * its point), allowed only where the ring crosses the antimeridian */
    bool far;
    double far_x, far_y;
    int64_t far_point;
    eoi_geos_list units; /* second pass: one valid geometry per GeoJSON geometry */
    eoi_geos_list polys; /* second pass: polygons of the current geometry */
    eoi_geos_list rings; /* second pass: rings of the current polygon */
} parser;

/* ------------------------------------------------------------------------ */
/* Messages                                                                  */
/* ------------------------------------------------------------------------ */

static void appendf(char *buf, size_t cap, size_t *len, const char *fmt, ...) EOI_PRINTF(4, 5);
static void appendf(char *buf, size_t cap, size_t *len, const char *fmt, ...) {
    if (*len >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(buf + *len, cap - *len, fmt, ap);
    va_end(ap);
    if (w > 0)
        *len = *len + (size_t)w < cap ? *len + (size_t)w : cap - 1;
}

/* "0 (exterior)" or "2 (hole 2)" */
static void ring_number(char *buf, size_t cap, size_t *len, int64_t ring) {
    if (ring == 0)
        appendf(buf, cap, len, "0 (exterior)");
    else
        appendf(buf, cap, len, "%lld (hole %lld)", (long long)ring, (long long)ring);
}

/* "AOI: feature 2, polygon 0, ring 1 (hole 1), point 7" for the current
 * location (or just "AOI"). */
static void location(const parser *p, char *buf, size_t cap) {
    size_t len = 0;
    buf[0] = '\0';
    appendf(buf, cap, &len, "AOI");
    const char *sep = ": ";
    if (p->feature >= 0) {
        appendf(buf, cap, &len, "%sfeature %lld", sep, (long long)p->feature);
        sep = ", ";
    }
    if (p->member >= 0) {
        appendf(buf, cap, &len, "%sgeometry %lld of the GeometryCollection", sep,
                (long long)p->member);
        sep = ", ";
    }
    if (p->polygon >= 0) {
        appendf(buf, cap, &len, "%spolygon %lld", sep, (long long)p->polygon);
        sep = ", ";
    }
    if (p->ring >= 0) {
        appendf(buf, cap, &len, "%sring ", sep);
        ring_number(buf, cap, &len, p->ring);
        sep = ", ";
    }
    if (p->point >= 0)
        appendf(buf, cap, &len, "%spoint %lld", sep, (long long)p->point);
    if (p->point >= 0 && p->show_xy)
        appendf(buf, cap, &len, " [%.15g, %.15g]", p->px, p->py);
}

static eo_status perr(parser *p, const char *fmt, ...) EOI_PRINTF(2, 3);
static eo_status perr(parser *p, const char *fmt, ...) {
    char loc[256], what[1024];
    location(p, loc, sizeof loc);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return eoi_fail(p->ctx, EO_E_GEOMETRY, "%s: %s", loc, what);
}

/* Put prefix before the message already on ctx (keeping its status). */
static eo_status prefix_error(eo_ctx *ctx, eo_status st, const char *prefix) {
    char old[EOI_MSG_MAX];
    snprintf(old, sizeof old, "%s", ctx->msg);
    return eoi_fail(ctx, st, "%s%s", prefix, old);
}

static const char *jtype(json_object *o) {
    switch (json_object_get_type(o)) {
    case json_type_null:
        return "null";
    case json_type_boolean:
        return "a boolean";
    case json_type_double:
    case json_type_int:
        return "a number";
    case json_type_string:
        return "a string";
    case json_type_array:
        return "an array";
    case json_type_object:
        return "an object";
    }
    return "a JSON value";
}

static bool is_number(json_object *o) {
    json_type t = json_object_get_type(o);
    return t == json_type_double || t == json_type_int;
}

/* The member key of obj, or NULL (also for an explicit null). */
static json_object *member(json_object *obj, const char *key, bool *present) {
    json_object *v = NULL;
    bool has = json_object_object_get_ex(obj, key, &v);
    if (present)
        *present = has;
    return has ? v : NULL;
}

/* The string "type" member of an object, or an error. */
static eo_status get_type(parser *p, json_object *obj, const char *what, const char **out) {
    *out = NULL;
    if (json_object_get_type(obj) != json_type_object)
        return perr(p, "expected a GeoJSON %s object, got %s", what, jtype(obj));
    bool present;
    json_object *t = member(obj, "type", &present);
    if (!present)
        return perr(p, "the %s object has no \"type\" member", what);
    if (json_object_get_type(t) != json_type_string)
        return perr(p, "\"type\" must be a string, got %s", jtype(t));
    *out = json_object_get_string(t);
    return EO_OK;
}

/* ------------------------------------------------------------------------ */
/* Positions and rings                                                       */
/* ------------------------------------------------------------------------ */

static eo_status check_coord(parser *p, json_object *v, int axis, double *out) {
    static const char *const names[] = {"x", "y", "z"};
    if (!is_number(v))
        return perr(p, "coordinate %d (%s) is %s, not a number", axis, names[axis], jtype(v));
    double d = json_object_get_double(v);
    if (!isfinite(d))
        return perr(p, "coordinate %d (%s) is not a finite number", axis, names[axis]);
    *out = d;
    return EO_OK;
}

/* Check the position pos (p->point is set) and read x and y. */
static eo_status read_position(parser *p, json_object *pos, double *x, double *y) {
    if (json_object_get_type(pos) != json_type_array)
        return perr(p, "expected a position [x, y], got %s", jtype(pos));
    size_t n = json_object_array_length(pos);
    if (n < 2)
        return perr(p, "a position needs 2 numbers [x, y], got %zu", n);
    if (n == 3 && !p->allow_z)
        return perr(p, "position has 3 values (x, y, z): strict mode refuses altitudes "
                       "(without strict, the altitude is dropped)");
    if (n > 3)
        return perr(p, "position has %zu values; expected [x, y]%s", n,
                    p->allow_z ? " or [x, y, z]" : "");
    double z;
    eo_status st;
    if ((st = check_coord(p, json_object_array_get_idx(pos, 0), 0, x)) != EO_OK ||
        (st = check_coord(p, json_object_array_get_idx(pos, 1), 1, y)) != EO_OK)
        return st;
    if (n == 3 && (st = check_coord(p, json_object_array_get_idx(pos, 2), 2, &z)) != EO_OK)
        return st;
    p->px = *x;
    p->py = *y;
    p->show_xy = true;
    st = EO_OK;
    if (p->geographic) {
        if (*x < -360 || *x > 360)
            st = perr(p, "longitude %.15g is outside [-180, 180]", *x);
        else if (*y < -90 || *y > 90)
            st = perr(p, "latitude %.15g is outside [-90, 90]", *y);
        else if ((*x < -180 || *x > 180) && !p->far) {
            /* a ring may run past +-180 to cross the antimeridian: walk_ring
             * checks that once it has seen the whole ring */
            p->far = true;
            p->far_x = *x;
            p->far_y = *y;
            p->far_point = p->point;
        }
    } else if (fabs(*x) > MAX_PROJECTED || fabs(*y) > MAX_PROJECTED) {
        st = perr(p, "coordinate magnitude above %g is not plausible in a projected CRS",
                  MAX_PROJECTED);
    }
    p->show_xy = false;
    return st;
}

/* Only read x and y of a position already checked by the first pass. */
static void position_xy(json_object *pos, double *x, double *y) {
    *x = json_object_get_double(json_object_array_get_idx(pos, 0));
    *y = json_object_get_double(json_object_array_get_idx(pos, 1));
}

/* First pass: check every position, the ring's size and its closure.
 * Second pass: append the ring to p->rings (or nothing when repair drops a
 * degenerate ring). */
static eo_status walk_ring(parser *p, json_object *ring) {
    if (json_object_get_type(ring) != json_type_array)
        return perr(p, "expected an array of positions, got %s", jtype(ring));
    size_t n = json_object_array_length(ring);
    double x0 = 0, y0 = 0, xn = 0, yn = 0;
    eo_status st;
    if (!p->build) {
        double xmin = INFINITY, xmax = -INFINITY;
        p->far = false;
        for (size_t i = 0; i < n; i++) {
            p->point = (int64_t)i;
            double x, y;
            if ((st = read_position(p, json_object_array_get_idx(ring, i), &x, &y)) != EO_OK)
                return st;
            xmin = x < xmin ? x : xmin;
            xmax = x > xmax ? x : xmax;
        }
        if (p->far && xmax - xmin >= 180) { /* not a ring crossing the antimeridian */
            p->point = p->far_point;
            p->px = p->far_x;
            p->py = p->far_y;
            p->show_xy = true;
            st = perr(p,
                      "longitude %.15g is outside [-180, 180] (a ring may run past +-180 only "
                      "to cross the antimeridian, less than 180 degrees wide)",
                      p->far_x);
            p->show_xy = false;
            return st;
        }
        p->point = -1;
        p->nvert += (int64_t)n;
        if (n == 0)
            return p->repair ? EO_OK : perr(p, "empty ring; a ring needs at least 4 positions");
        position_xy(json_object_array_get_idx(ring, 0), &x0, &y0);
        position_xy(json_object_array_get_idx(ring, n - 1), &xn, &yn);
        bool closed = x0 == xn && y0 == yn;
        if (p->repair)
            return EO_OK; /* closing and degenerate rings are handled when building */
        if (n < 4)
            return perr(p,
                        "ring has %zu positions; at least 4 are needed (3 corners and the "
                        "closing point)",
                        n);
        if (!closed)
            return perr(p,
                        "ring is not closed: the first position [%.15g, %.15g] differs from "
                        "the last [%.15g, %.15g]",
                        x0, y0, xn, yn);
        return EO_OK;
    }
    if (n == 0)
        return EO_OK; /* repair drops an empty ring */
    position_xy(json_object_array_get_idx(ring, 0), &x0, &y0);
    position_xy(json_object_array_get_idx(ring, n - 1), &xn, &yn);
    size_t m = n + (x0 == xn && y0 == yn ? 0 : 1); /* repair closes it */
    if (m < 4 || m > UINT32_MAX)
        return EO_OK; /* repair drops a ring that has no area */
    GEOSCoordSequence *cs = GEOSCoordSeq_create_r(p->ctx->geos, (unsigned)m, 2);
    if (!cs)
        return eoi_geos_fail(p->ctx, "making a ring");
    for (size_t i = 0; i < m; i++) {
        double x, y;
        position_xy(json_object_array_get_idx(ring, i < n ? i : 0), &x, &y);
        if (!GEOSCoordSeq_setXY_r(p->ctx->geos, cs, (unsigned)i, x, y)) {
            GEOSCoordSeq_destroy_r(p->ctx->geos, cs);
            return eoi_geos_fail(p->ctx, "making a ring");
        }
    }
    GEOSGeometry *lr = GEOSGeom_createLinearRing_r(p->ctx->geos, cs);
    if (!lr)
        return eoi_geos_fail(p->ctx, "making a ring");
    return eoi_geos_list_push(p->ctx, &p->rings, lr);
}

/* ------------------------------------------------------------------------ */
/* Polygons and their validity                                               */
/* ------------------------------------------------------------------------ */

static double near_eps(const GEOSGeometry *loc, GEOSContextHandle_t h) {
    double x = 0, y = 0;
    GEOSGeomGetX_r(h, loc, &x);
    GEOSGeomGetY_r(h, loc, &y);
    return 1e-9 * fmax(1.0, fmax(fabs(x), fabs(y)));
}

/* Indices (up to 2) of the rings of poly that pass through loc. */
static int rings_at(eo_ctx *ctx, const GEOSGeometry *poly, const GEOSGeometry *loc,
                    int64_t found[2]) {
    int k = 0;
    double eps = near_eps(loc, ctx->geos);
    int nh = GEOSGetNumInteriorRings_r(ctx->geos, poly);
    for (int r = 0; r <= nh && k < 2; r++) {
        const GEOSGeometry *ring = r == 0 ? GEOSGetExteriorRing_r(ctx->geos, poly)
                                          : GEOSGetInteriorRingN_r(ctx->geos, poly, r - 1);
        double d;
        if (ring && GEOSDistance_r(ctx->geos, ring, loc, &d) && d <= eps)
            found[k++] = r;
    }
    return k;
}

/* Indices (up to 2) of the polygons of mp that touch or contain loc. */
static int polygons_at(eo_ctx *ctx, const GEOSGeometry *mp, const GEOSGeometry *loc,
                       int64_t found[2]) {
    int k = 0;
    double eps = near_eps(loc, ctx->geos);
    int n = GEOSGetNumGeometries_r(ctx->geos, mp);
    for (int i = 0; i < n && k < 2; i++) {
        double d;
        if (GEOSDistance_r(ctx->geos, GEOSGetGeometryN_r(ctx->geos, mp, i), loc, &d) && d <= eps)
            found[k++] = i;
    }
    return k;
}

/* Validate g (one polygon when multi is false, the polygons of one GeoJSON
 * geometry otherwise); on a problem report it with its location. */
static eo_status check_valid(parser *p, const GEOSGeometry *g, bool multi) {
    eo_ctx *ctx = p->ctx;
    char *reason = NULL;
    GEOSGeometry *loc = NULL;
    ctx->geos_msg[0] = '\0';
    char v = GEOSisValidDetail_r(ctx->geos, g, 0, &reason, &loc);
    if (v == 1)
        return EO_OK;
    if (v != 0) {
        if (reason)
            GEOSFree_r(ctx->geos, reason);
        if (loc)
            GEOSGeom_destroy_r(ctx->geos, loc);
        return eoi_geos_fail(ctx, "checking validity");
    }
    double x = 0, y = 0;
    int64_t idx[2] = {-1, -1};
    int k = 0;
    if (loc) {
        GEOSGeomGetX_r(ctx->geos, loc, &x);
        GEOSGeomGetY_r(ctx->geos, loc, &y);
        k = multi ? polygons_at(ctx, g, loc, idx) : rings_at(ctx, g, loc, idx);
    }
    char where[512];
    size_t len = 0;
    int64_t save_poly = p->polygon;
    if (multi)
        p->polygon = -1;
    location(p, where, sizeof where);
    p->polygon = save_poly;
    len = strlen(where);
    const char *sep = strcmp(where, "AOI") == 0 ? ": " : ", ";
    if (multi && k == 2)
        appendf(where, sizeof where, &len, "%spolygons %lld and %lld", sep, (long long)idx[0],
                (long long)idx[1]);
    else if (multi && k == 1)
        appendf(where, sizeof where, &len, "%spolygon %lld", sep, (long long)idx[0]);
    else if (!multi && k == 2) {
        appendf(where, sizeof where, &len, "%srings ", sep);
        ring_number(where, sizeof where, &len, idx[0]);
        appendf(where, sizeof where, &len, " and ");
        ring_number(where, sizeof where, &len, idx[1]);
    } else if (!multi && k == 1) {
        appendf(where, sizeof where, &len, "%sring ", sep);
        ring_number(where, sizeof where, &len, idx[0]);
    }
    eo_status st =
        eoi_fail(ctx, EO_E_GEOMETRY, "%s: %s at or near point (%.15g, %.15g)%s", where,
                 reason ? reason : "invalid geometry", x, y,
                 multi ? "; the polygons of a MultiPolygon must not overlap or share an edge" : "");
    if (reason)
        GEOSFree_r(ctx->geos, reason);
    if (loc)
        GEOSGeom_destroy_r(ctx->geos, loc);
    return st;
}

static eo_status walk_polygon(parser *p, json_object *rings) {
    if (json_object_get_type(rings) != json_type_array)
        return perr(p, "expected an array of rings, got %s", jtype(rings));
    size_t n = json_object_array_length(rings);
    if (n == 0 && !p->build && !p->repair)
        return perr(p, "empty polygon (no rings)");
    eo_status st;
    for (size_t r = 0; r < n; r++) {
        p->ring = (int64_t)r;
        size_t before = p->rings.n;
        if ((st = walk_ring(p, json_object_array_get_idx(rings, r))) != EO_OK)
            return st;
        if (p->build && r == 0 && p->rings.n == before)
            break; /* repair dropped the exterior ring: no polygon */
    }
    p->ring = -1;
    if (!p->build || p->rings.n == 0)
        return EO_OK;
    GEOSGeometry *shell = p->rings.v[0];
    /* the polygon takes the rings, in any case */
    GEOSGeometry *poly =
        GEOSGeom_createPolygon_r(p->ctx->geos, shell, p->rings.v + 1, (unsigned)(p->rings.n - 1));
    p->rings.n = 0;
    if (!poly)
        return eoi_geos_fail(p->ctx, "making a polygon");
    if (!p->repair && (st = check_valid(p, poly, false)) != EO_OK) {
        GEOSGeom_destroy_r(p->ctx->geos, poly);
        return st;
    }
    return eoi_geos_list_push(p->ctx, &p->polys, poly);
}

/* The polygons of one GeoJSON geometry (p->polys) become one unit. */
static eo_status finish_unit(parser *p) {
    eo_ctx *ctx = p->ctx;
    if (p->polys.n == 0)
        return EO_OK; /* repair left nothing */
    bool multi = p->polys.n > 1;
    GEOSGeometry *g = NULL;
    eo_status st = eoi_geos_list_to_polygonal(ctx, &g, &p->polys);
    if (st != EO_OK)
        return st;
    if (p->repair) {
        if (GEOSisValid_r(ctx->geos, g) != 1) {
            GEOSGeometry *tmp = g;
            if ((st = eoi_geos_repair_take(ctx, &g, tmp)) != EO_OK)
                return st;
        }
        if (GEOSisEmpty_r(ctx->geos, g) != 0) {
            GEOSGeom_destroy_r(ctx->geos, g);
            return EO_OK;
        }
    } else if (multi && (st = check_valid(p, g, true)) != EO_OK) {
        GEOSGeom_destroy_r(ctx->geos, g);
        return st;
    }
    return eoi_geos_list_push(ctx, &p->units, g);
}

static eo_status walk_geometry(parser *p, json_object *g, bool in_collection) {
    const char *type;
    eo_status st;
    if ((st = get_type(p, g, "geometry", &type)) != EO_OK)
        return st;
    bool is_poly = strcmp(type, "Polygon") == 0, is_multi = strcmp(type, "MultiPolygon") == 0;
    if (strcmp(type, "GeometryCollection") == 0) {
        if (in_collection)
            return perr(p, "a GeometryCollection inside a GeometryCollection is not supported");
        bool present;
        json_object *geoms = member(g, "geometries", &present);
        if (json_object_get_type(geoms) != json_type_array)
            return perr(p, "the GeometryCollection's \"geometries\" %s",
                        present ? "must be an array" : "member is missing");
        size_t n = json_object_array_length(geoms);
        if (n == 0 && !p->repair)
            return perr(p, "empty GeometryCollection");
        for (size_t i = 0; i < n; i++) {
            p->member = (int64_t)i;
            if ((st = walk_geometry(p, json_object_array_get_idx(geoms, i), true)) != EO_OK)
                return st;
        }
        p->member = -1;
        return EO_OK;
    }
    if (!is_poly && !is_multi) {
        static const char *const known[] = {"Point", "MultiPoint", "LineString", "MultiLineString"};
        for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
            if (strcmp(type, known[i]) == 0)
                return perr(p, "expected a Polygon or MultiPolygon, got %s", type);
        if (strcmp(type, "Feature") == 0 || strcmp(type, "FeatureCollection") == 0)
            return perr(p, "expected a Polygon or MultiPolygon, got a %s here", type);
        return perr(p, "expected a Polygon or MultiPolygon, got unknown type \"%.100s\"", type);
    }
    bool present;
    json_object *coords = member(g, "coordinates", &present);
    if (!present)
        return perr(p, "the %s has no \"coordinates\" member", type);
    if (json_object_get_type(coords) != json_type_array)
        return perr(p, "the %s's \"coordinates\" must be an array, got %s", type, jtype(coords));
    if (is_poly) {
        p->polygon = 0;
        st = walk_polygon(p, coords);
    } else {
        size_t n = json_object_array_length(coords);
        if (n == 0 && !p->repair)
            return perr(p, "empty MultiPolygon (no polygons)");
        for (size_t i = 0; i < n; i++) {
            p->polygon = (int64_t)i;
            if ((st = walk_polygon(p, json_object_array_get_idx(coords, i))) != EO_OK)
                return st;
            if ((i & 255) == 255 && (st = eoi_check_cancel(p->ctx)) != EO_OK)
                return st;
        }
    }
    if (st != EO_OK)
        return st;
    p->polygon = -1;
    return p->build ? finish_unit(p) : EO_OK;
}

static eo_status walk_feature(parser *p, json_object *f) {
    const char *type;
    eo_status st;
    if ((st = get_type(p, f, "Feature", &type)) != EO_OK)
        return st;
    if (strcmp(type, "Feature") != 0)
        return perr(p, "expected a Feature, got \"%.100s\"", type);
    bool present;
    json_object *g = member(f, "geometry", &present);
    if (!present)
        return perr(p, "the Feature has no \"geometry\" member");
    if (!g)
        return perr(p, "the Feature's geometry is null; an AOI needs a Polygon or MultiPolygon");
    return walk_geometry(p, g, false);
}

static eo_status walk_root(parser *p, json_object *root) {
    const char *type;
    eo_status st;
    p->feature = p->member = p->polygon = p->ring = p->point = -1;
    if ((st = get_type(p, root, "geometry", &type)) != EO_OK)
        return st;
    if (strcmp(type, "FeatureCollection") == 0) {
        bool present;
        json_object *fs = member(root, "features", &present);
        if (json_object_get_type(fs) != json_type_array)
            return perr(p, "the FeatureCollection's \"features\" %s",
                        present ? "must be an array" : "member is missing");
        size_t n = json_object_array_length(fs);
        if (n == 0)
            return perr(p, "the FeatureCollection has no features");
        for (size_t i = 0; i < n; i++) {
            p->feature = (int64_t)i;
            if ((st = walk_feature(p, json_object_array_get_idx(fs, i))) != EO_OK)
                return st;
        }
        p->feature = -1;
        return EO_OK;
    }
    if (strcmp(type, "Feature") == 0)
        return walk_feature(p, root);
    return walk_geometry(p, root, false);
}

/* The legacy (2008) "crs" member: {"type": "name", "properties": {"name":
 * "urn:ogc:def:crs:EPSG::32633"}}. *wkt stays NULL when there is none. */
static eo_status legacy_crs(parser *p, json_object *root, char **wkt, bool *geo) {
    *wkt = NULL;
    if (json_object_get_type(root) != json_type_object)
        return EO_OK;
    json_object *crs = member(root, "crs", NULL);
    if (!crs)
        return EO_OK; /* absent or null: none */
    json_object *t =
        json_object_get_type(crs) == json_type_object ? member(crs, "type", NULL) : NULL;
    json_object *props = t ? member(crs, "properties", NULL) : NULL;
    json_object *name =
        json_object_get_type(props) == json_type_object ? member(props, "name", NULL) : NULL;
    const char *ts = json_object_get_type(t) == json_type_string ? json_object_get_string(t) : "";
    if (strcmp(ts, "link") == 0)
        return eoi_fail(p->ctx, EO_E_CRS,
                        "AOI: a linked \"crs\" (type \"link\") is not supported; name the CRS "
                        "(type \"name\") or drop the member");
    if (strcmp(ts, "name") != 0 || json_object_get_type(name) != json_type_string)
        return perr(p, "the \"crs\" member must look like {\"type\": \"name\", \"properties\": "
                       "{\"name\": \"EPSG:4326\"}}");
    eo_status st = eoi_crs_to_wkt(p->ctx, wkt, json_object_get_string(name), geo);
    if (st != EO_OK)
        return prefix_error(p->ctx, st, "AOI: \"crs\" member: ");
    return EO_OK;
}

/* A scan of GeoJSON text before json-c builds a tree (a tree of a 45 MB
 * FeatureCollection takes over a gigabyte), fed in pieces as a file is read:
 * counts the positions in the values of "coordinates" keys (an array whose
 * first item is a number) and the features ("type": "Feature" in the root
 * object or in an object of the root's array). Strings are skipped (escapes
 * included, across pieces); the text need not be valid JSON (the parser
 * says what is wrong with it afterwards). */
typedef struct aoi_scan {
    int64_t nvert, nfeat;
    int64_t depth, coords; /* coords: depth of the "coordinates" value, -1 = none */
    bool in_str, esc;
    bool coords_key; /* "coordinates" seen, ':' pending */
    bool type_key;   /* "type" seen, ':' pending */
    bool type_value; /* "type": seen, its value pending */
    bool first_item; /* '[' inside coordinates, its first item pending */
    char str[12];    /* the first bytes of the current string */
    size_t slen;     /* its length in bytes (escapes as written) */
} aoi_scan;

static bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static void scan_string_end(aoi_scan *s) {
    if (s->type_value && (s->depth == 1 || s->depth == 3) && s->slen == 7 &&
        memcmp(s->str, "Feature", 7) == 0)
        s->nfeat++;
    s->type_value = false;
    s->coords_key = s->coords < 0 && s->slen == 11 && memcmp(s->str, "coordinates", 11) == 0;
    s->type_key = s->slen == 4 && memcmp(s->str, "type", 4) == 0;
}

/* Feed n bytes; stops early (returning false) once the positions pass
 * max_vert or the features pass max_feat. */
static bool aoi_scan_feed(aoi_scan *s, const char *t, size_t n, int64_t max_vert,
                          int64_t max_feat) {
    for (size_t i = 0; i < n; i++) {
        char c = t[i];
        if (s->in_str) {
            if (s->esc) {
                s->esc = false;
            } else if (c == '"') {
                s->in_str = false;
                scan_string_end(s);
                if (s->nfeat > max_feat)
                    return false;
                continue;
            } else if (c == '\\') {
                s->esc = true;
            }
            if (s->slen < sizeof s->str)
                s->str[s->slen] = c;
            s->slen++;
            continue;
        }
        if (is_ws(c))
            continue;
        if (s->first_item) {
            s->first_item = false;
            if ((c >= '0' && c <= '9') || c == '-' || c == '.') {
                if (++s->nvert > max_vert)
                    return false;
            }
        }
        if (c == '"') {
            s->in_str = true;
            s->slen = 0;
            continue;
        }
        if (c == ':') {
            if (s->coords_key)
                s->coords = s->depth;
            s->type_value = s->type_key;
            s->coords_key = s->type_key = false;
            continue;
        }
        s->coords_key = s->type_key = s->type_value = false;
        if (c == '[' || c == '{') {
            s->depth++;
            if (c == '[' && s->coords >= 0)
                s->first_item = true;
        } else if (c == ']' || c == '}') {
            s->depth--;
            if (s->coords >= 0 && s->depth <= s->coords)
                s->coords = -1;
        } else if (c == ',' && s->coords >= 0 && s->depth <= s->coords) {
            s->coords = -1;
        }
    }
    return true;
}

/* The limits of one AOI: the options' where set, else the context's. */
typedef struct aoi_limits {
    int64_t vert, feat, bytes;
    bool bytes_set; /* the options raised or lowered the byte limit */
} aoi_limits;

static aoi_limits limits_of(eo_ctx *ctx, const eo_geom_opts *opts) {
    aoi_limits l;
    l.vert =
        opts && opts->max_vertices > 0 ? opts->max_vertices : eoi_limit(ctx, EO_LIMIT_AOI_VERTICES);
    l.feat =
        opts && opts->max_features > 0 ? opts->max_features : eoi_limit(ctx, EO_LIMIT_AOI_FEATURES);
    l.bytes_set = opts && opts->max_bytes > 0;
    l.bytes = l.bytes_set ? opts->max_bytes : eoi_limit(ctx, EO_LIMIT_AOI_BYTES);
    return l;
}

/* aoi.TooLarge for a scan past the vertex or feature limit; partial: the
 * scan stopped there (the counts are lower bounds). */
static eo_status scan_too_large(eo_ctx *ctx, const aoi_scan *s, const aoi_limits *l, bool partial) {
    const char *least = partial ? "at least " : "";
    if (s->nvert > l->vert)
        return eoi_fail(ctx, EO_E_AOI_TOO_LARGE,
                        "AOI has %s%lld vertices; the limit is %lld (raise it with "
                        "--max-vertices, eo_ctx_set_limit(EO_LIMIT_AOI_VERTICES), or simplify "
                        "the AOI)",
                        least, (long long)s->nvert, (long long)l->vert);
    return eoi_fail(ctx, EO_E_AOI_TOO_LARGE,
                    "AOI has %s%lld features; the limit is %lld (raise it with --max-features, "
                    "eo_ctx_set_limit(EO_LIMIT_AOI_FEATURES), or merge the features)",
                    least, (long long)s->nfeat, (long long)l->feat);
}

/* aoi.TooLarge for text past the byte limit; read: bytes read before
 * stopping (-1: none, size is the file's) */
static eo_status bytes_too_large(eo_ctx *ctx, int64_t size, int64_t read, const aoi_limits *l) {
    if (read >= 0)
        return eoi_fail(ctx, EO_E_AOI_TOO_LARGE,
                        "AOI has more than %lld bytes (reading stopped after %lld); the limit "
                        "is %lld (raise it with --max-aoi-bytes or "
                        "eo_ctx_set_limit(EO_LIMIT_AOI_BYTES))",
                        (long long)l->bytes, (long long)read, (long long)l->bytes);
    return eoi_fail(ctx, EO_E_AOI_TOO_LARGE,
                    "AOI has %lld bytes; the limit is %lld (raise it with --max-aoi-bytes or "
                    "eo_ctx_set_limit(EO_LIMIT_AOI_BYTES))",
                    (long long)size, (long long)l->bytes);
}

/* scanned: the text was scanned whole as it was read (within the limits) */
static eo_status parse(eo_ctx *ctx, eo_geom **out, const char *text, const eo_geom_opts *opts,
                       bool scanned) {
    eo_status st = EO_OK;
    json_object *root = NULL;
    char *wkt = NULL;
    GEOSGeometry *g = NULL;
    parser p = {.ctx = ctx};
    p.repair = opts && opts->repair;
    p.allow_z = !opts || opts->allow_z;
    aoi_limits lim = limits_of(ctx, opts);
    int64_t limit = lim.vert;
    size_t len = strlen(text);
    if (!scanned) {
        if (len > (uint64_t)lim.bytes) {
            st = bytes_too_large(ctx, (int64_t)len, -1, &lim);
            goto done;
        }
        /* (text over the JSON size limit: the parser says so first) */
        aoi_scan sc = {.coords = -1};
        if (len <= (size_t)eoi_limit(ctx, EO_LIMIT_JSON_BYTES)) {
            aoi_scan_feed(&sc, text, len, INT64_MAX, INT64_MAX);
            if (sc.nvert > lim.vert || sc.nfeat > lim.feat) {
                st = scan_too_large(ctx, &sc, &lim, false);
                goto done;
            }
        }
    }
    /* an AOI byte limit set for this call governs the JSON size too */
    int64_t json_limit = ctx->limits[EO_LIMIT_JSON_BYTES];
    if (lim.bytes_set)
        ctx->limits[EO_LIMIT_JSON_BYTES] = lim.bytes;
    st = eoi_json_parse(ctx, &root, text, "AOI", EO_E_GEOMETRY);
    ctx->limits[EO_LIMIT_JSON_BYTES] = json_limit;
    if (st != EO_OK)
        goto done;

    /* the CRS: the document's own, the options', or EPSG:4326 (lon/lat) */
    EOI_TRY(st, legacy_crs(&p, root, &wkt, &p.geographic));
    if (!wkt && opts && opts->crs_wkt) {
        if (!(wkt = eoi_strdup(ctx, opts->crs_wkt))) {
            st = EO_E_NOMEM;
            goto done;
        }
        p.geographic = opts->crs_geographic;
    }
    bool crs_default = !wkt;
    if (!wkt)
        EOI_TRY(st, eoi_crs_to_wkt(ctx, &wkt, EOI_GEOM_DEFAULT_CRS, &p.geographic));

    /* first pass: check and count */
    EOI_TRY(st, walk_root(&p, root));
    if (p.nvert > limit) {
        st = eoi_fail(ctx, EO_E_AOI_TOO_LARGE, "AOI has %lld vertices; the limit is %lld",
                      (long long)p.nvert, (long long)limit);
        goto done;
    }
    /* second pass: build and validate */
    p.build = true;
    EOI_TRY(st, walk_root(&p, root));
    p.feature = p.member = p.polygon = p.ring = p.point = -1;
    if (p.units.n == 0) {
        st = eoi_fail(ctx, EO_E_GEOMETRY, "AOI: no polygon with an area is left after repair");
        goto done;
    }
    if (p.units.n == 1) {
        g = p.units.v[0];
        p.units.n = 0;
    } else {
        /* several geometries (features, collection members): one
         * MultiPolygon, dissolved where they overlap or share edges */
        eoi_geos_list all = {0};
        for (size_t i = 0; i < p.units.n && st == EO_OK; i++)
            st = eoi_geos_collect_polygons(ctx, &all, p.units.v[i]);
        eoi_geos_list_clear(ctx, &p.units);
        if (st != EO_OK) {
            eoi_geos_list_clear(ctx, &all);
            goto done;
        }
        EOI_TRY(st, eoi_geos_list_to_polygonal(ctx, &g, &all));
        if (GEOSisValid_r(ctx->geos, g) != 1) {
            ctx->geos_msg[0] = '\0';
            GEOSGeometry *u = GEOSUnaryUnion_r(ctx->geos, g);
            GEOSGeom_destroy_r(ctx->geos, g);
            g = NULL;
            if (!u) {
                st = eoi_geos_fail(ctx, "merging the features");
                goto done;
            }
            EOI_TRY(st, eoi_geos_polygonal_take(ctx, &g, u));
        }
    }
    st = eoi_geom_wrap(ctx, out, g, wkt, p.geographic);
    if (st == EO_OK)
        (*out)->crs_default = crs_default;
    g = NULL;
    wkt = NULL;
done:
    if (g)
        GEOSGeom_destroy_r(ctx->geos, g);
    eoi_geos_list_clear(ctx, &p.rings);
    eoi_geos_list_clear(ctx, &p.polys);
    eoi_geos_list_clear(ctx, &p.units);
    eoi_free(wkt);
    json_object_put(root);
    return st;
}

eo_status eo_geom_from_geojson(eo_ctx *ctx, eo_geom **out, const char *json,
                               const eo_geom_opts *opts) {
    if (!ctx)
        return EO_E_ARG;
    EOI_CHECK_ARG(ctx, out);
    *out = NULL;
    EOI_CHECK_ARG(ctx, json);
    return parse(ctx, out, json, opts, false);
}

#define AOI_PIECE ((size_t)1 << 20) /* bytes read at a time */

/* Read an AOI file in pieces, scanning each as it comes, and stop as soon
 * as it passes a limit: bytes, vertices or features (aoi.TooLarge). */
static eo_status read_aoi_file(eo_ctx *ctx, char **out, const char *path, const aoi_limits *lim) {
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        int e = errno;
        return eoi_fail(ctx, e == ENOENT ? EO_E_IO_NOT_FOUND : EO_E_IO_READ, "%s: %s", path,
                        strerror(e));
    }
    eo_status st = EO_OK;
    char *buf = NULL;
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        st = eoi_fail(ctx, EO_E_IO_READ, "%s: not a regular file", path);
        goto done;
    }
    if ((uint64_t)sb.st_size > (uint64_t)lim->bytes) {
        st = bytes_too_large(ctx, (int64_t)sb.st_size, -1, lim);
        goto done;
    }
    aoi_scan sc = {.coords = -1};
    size_t len = 0, cap = 0;
    for (;;) {
        /* at most one byte past the limit */
        size_t want = AOI_PIECE;
        if ((uint64_t)lim->bytes + 1 - len < want)
            want = (size_t)((uint64_t)lim->bytes + 1 - len);
        if (len + want + 1 > cap) {
            size_t ncap = cap ? cap * 2 : AOI_PIECE + 1;
            while (ncap < len + want + 1)
                ncap *= 2;
            char *nb = eoi_realloc(ctx, buf, ncap);
            if (!nb) {
                st = EO_E_NOMEM;
                goto done;
            }
            buf = nb;
            cap = ncap;
        }
        size_t got = fread(buf + len, 1, want, f);
        if (got == 0) {
            if (ferror(f))
                st = eoi_fail(ctx, EO_E_IO_READ, "%s: read error", path);
            break;
        }
        if (memchr(buf + len, '\0', got)) {
            st = eoi_fail(ctx, EO_E_IO_READ, "%s: binary data where text was expected", path);
            goto done;
        }
        bool within = aoi_scan_feed(&sc, buf + len, got, lim->vert, lim->feat);
        len += got;
        if (!within) {
            st = scan_too_large(ctx, &sc, lim, true);
            goto done;
        }
        if (len > (uint64_t)lim->bytes) {
            st = bytes_too_large(ctx, 0, (int64_t)len, lim);
            goto done;
        }
    }
    if (st == EO_OK) {
        buf = buf ? buf : eoi_malloc(ctx, 1);
        if (!buf) {
            st = EO_E_NOMEM;
            goto done;
        }
        buf[len] = '\0';
        *out = buf;
        buf = NULL;
    }
done:
    fclose(f);
    eoi_free(buf);
    return st;
}

eo_status eo_geom_from_geojson_file(eo_ctx *ctx, eo_geom **out, const char *path,
                                    const eo_geom_opts *opts) {
    if (!ctx)
        return EO_E_ARG;
    EOI_CHECK_ARG(ctx, out);
    *out = NULL;
    EOI_CHECK_ARG(ctx, path);
    char *text = NULL;
    aoi_limits lim = limits_of(ctx, opts);
    eo_status st = read_aoi_file(ctx, &text, path, &lim);
    if (st == EO_OK) {
        st = parse(ctx, out, text, opts, true);
        eoi_free(text);
    }
    if (st != EO_OK && st != EO_E_IO_NOT_FOUND && st != EO_E_IO_READ) {
        char prefix[1100];
        snprintf(prefix, sizeof prefix, "%.1000s: ", path);
        prefix_error(ctx, st, prefix);
    }
    return st;
}

/* ------------------------------------------------------------------------ */
/* Output                                                                    */
/* ------------------------------------------------------------------------ */

static json_object *number(double v, int32_t precision) {
    if (precision < 0)
        return eoi_json_double(v);
    char buf[400];
    snprintf(buf, sizeof buf, "%.*f", (int)precision, v);
    char *dot = strchr(buf, '.');
    if (dot) {
        char *e = buf + strlen(buf) - 1;
        while (e > dot && *e == '0')
            *e-- = '\0';
        if (e == dot)
            *e = '\0';
    }
    if (strcmp(buf, "-0") == 0)
        strcpy(buf, "0");
    return json_object_new_double_s(strtod(buf, NULL), buf);
}

/* Append v to arr; false (and v released) on failure. */
static bool add(json_object *arr, json_object *v) {
    if (!v)
        return false;
    if (json_object_array_add(arr, v) != 0) {
        json_object_put(v);
        return false;
    }
    return true;
}

static json_object *ring_json(eo_ctx *ctx, const GEOSGeometry *ring, bool want_ccw,
                              int32_t precision) {
    const GEOSCoordSequence *cs = GEOSGeom_getCoordSeq_r(ctx->geos, ring);
    unsigned n = 0;
    char ccw = 0;
    if (!cs || !GEOSCoordSeq_getSize_r(ctx->geos, cs, &n) ||
        !GEOSCoordSeq_isCCW_r(ctx->geos, cs, &ccw))
        return NULL;
    bool reverse = (ccw != 0) != want_ccw;
    json_object *arr = json_object_new_array_ext((int)n);
    if (!arr)
        return NULL;
    for (unsigned i = 0; i < n; i++) {
        double x, y;
        json_object *pt = json_object_new_array_ext(2);
        if (!pt || !GEOSCoordSeq_getXY_r(ctx->geos, cs, reverse ? n - 1 - i : i, &x, &y) ||
            !add(pt, number(x, precision)) || !add(pt, number(y, precision))) {
            json_object_put(pt);
            json_object_put(arr);
            return NULL;
        }
        if (!add(arr, pt)) { /* add released pt */
            json_object_put(arr);
            return NULL;
        }
    }
    return arr;
}

static json_object *polygon_json(eo_ctx *ctx, const GEOSGeometry *poly, int32_t precision) {
    int nh = GEOSGetNumInteriorRings_r(ctx->geos, poly);
    json_object *arr = nh >= 0 ? json_object_new_array_ext(nh + 1) : NULL;
    if (!arr)
        return NULL;
    for (int r = 0; r <= nh; r++) {
        const GEOSGeometry *ring = r == 0 ? GEOSGetExteriorRing_r(ctx->geos, poly)
                                          : GEOSGetInteriorRingN_r(ctx->geos, poly, r - 1);
        /* RFC 7946: exterior rings counter-clockwise, holes clockwise */
        if (!ring || !add(arr, ring_json(ctx, ring, r == 0, precision))) {
            json_object_put(arr);
            return NULL;
        }
    }
    return arr;
}

eo_status eo_geom_to_geojson(eo_ctx *ctx, char **out_json, const eo_geom *g, int32_t precision) {
    if (!ctx)
        return EO_E_ARG;
    EOI_CHECK_ARG(ctx, out_json);
    *out_json = NULL;
    EOI_CHECK_ARG(ctx, g);
    if (precision < -1 || precision > 17)
        return eoi_fail(ctx, EO_E_ARG, "precision %d is out of range (-1 for exact, or 0..17)",
                        (int)precision);
    int np = GEOSGetNumGeometries_r(ctx->geos, g->g);
    if (np < 1)
        return eoi_geos_fail(ctx, "reading the geometry");
    json_object *coords = NULL;
    if (np == 1) {
        coords = polygon_json(ctx, GEOSGetGeometryN_r(ctx->geos, g->g, 0), precision);
    } else {
        coords = json_object_new_array_ext(np);
        for (int i = 0; i < np && coords; i++) {
            if (!add(coords,
                     polygon_json(ctx, GEOSGetGeometryN_r(ctx->geos, g->g, i), precision))) {
                json_object_put(coords);
                coords = NULL;
            }
        }
    }
    json_object *root = coords ? json_object_new_object() : NULL;
    json_object *type = root ? json_object_new_string(np == 1 ? "Polygon" : "MultiPolygon") : NULL;
    if (!type || json_object_object_add(root, "type", type) != 0) {
        json_object_put(type);
        json_object_put(coords);
        json_object_put(root);
        return eoi_fail(ctx, EO_E_NOMEM, "out of memory writing the AOI as GeoJSON");
    }
    if (json_object_object_add(root, "coordinates", coords) != 0) {
        json_object_put(coords);
        json_object_put(root);
        return eoi_fail(ctx, EO_E_NOMEM, "out of memory writing the AOI as GeoJSON");
    }
    eo_status st = eoi_json_dump(ctx, out_json, root, false);
    json_object_put(root);
    return st;
}
