/*
 * geom_int.h - internals of the AOI geometry (eo_geom) shared by the core
 * (geojson.c, geom.c) and the layers above it (raster clipping, vector
 * output). Never installed.
 *
 * An eo_geom always holds a valid, non-empty polygonal GEOS geometry (a
 * Polygon or a MultiPolygon) made with the GEOS handle of the context that
 * built it; an eo_geom must therefore be freed before that context.
 * Coordinates are in the traditional GIS axis order: x = easting /
 * longitude, y = northing / latitude.
 */
#ifndef EOI_GEOM_INT_H
#define EOI_GEOM_INT_H

#include "eoi.h"

struct eo_geom {
    GEOSContextHandle_t geos; /* handle of the context that made g */
    GEOSGeometry *g;          /* Polygon or MultiPolygon, valid, non-empty; owned */
    char *crs_wkt;            /* WKT2 of the CRS (eoi_malloc'd) */
    bool is_geographic;       /* lon/lat degrees */
    bool crs_default;         /* neither the GeoJSON nor the options named a CRS */
};

struct eo_geom_opts {
    char *crs_def; /* the definition as given (NULL = EPSG:4326) */
    char *crs_wkt; /* its WKT (NULL = EPSG:4326) */
    bool crs_geographic;
    bool repair;
    bool allow_z;
    int64_t max_vertices; /* > 0: the vertex limit of this parse (else the context's) */
    int64_t max_features; /* > 0: the feature limit of this parse (else the context's) */
    int64_t max_bytes;    /* > 0: the byte limit of this AOI's text (else the context's) */
};

/* The CRS used when neither the options nor the GeoJSON name one. */
#define EOI_GEOM_DEFAULT_CRS "EPSG:4326"

/* ---- a growable list of owned GEOS geometries ------------------------- */
typedef struct eoi_geos_list {
    GEOSGeometry **v;
    size_t n, cap;
} eoi_geos_list;

/* Append take to the list; on failure take is destroyed (EO_E_NOMEM). */
eo_status eoi_geos_list_push(eo_ctx *ctx, eoi_geos_list *l, GEOSGeometry *take);
/* Destroy every geometry in the list and the list's storage. */
void eoi_geos_list_clear(eo_ctx *ctx, eoi_geos_list *l);
/* Append clones of the polygons found in g (recursively through
 * collections; points and lines are skipped). */
eo_status eoi_geos_collect_polygons(eo_ctx *ctx, eoi_geos_list *l, const GEOSGeometry *g);
/* Make a Polygon (one element) or a MultiPolygon (0 or several) of the
 * list's polygons; the list is emptied in any case. */
eo_status eoi_geos_list_to_polygonal(eo_ctx *ctx, GEOSGeometry **out, eoi_geos_list *l);

/* Keep only the polygonal parts of take (a Polygon or MultiPolygon, maybe
 * empty). take is consumed in any case. */
eo_status eoi_geos_polygonal_take(eo_ctx *ctx, GEOSGeometry **out, GEOSGeometry *take);
/* Make take valid (GEOSMakeValid) and keep its polygonal parts; the result
 * may be empty. take is consumed in any case. */
eo_status eoi_geos_repair_take(eo_ctx *ctx, GEOSGeometry **out, GEOSGeometry *take);
/* Record a failed GEOS call (its message is in ctx->geos_msg). */
eo_status eoi_geos_fail(eo_ctx *ctx, const char *what);

/* ---- eo_geom ----------------------------------------------------------- */
/* Wrap a polygonal geometry and a CRS WKT into an eo_geom; both are taken
 * (and released on failure). The geometry is reduced to its polygonal
 * parts and repaired if invalid; an empty result is EO_E_GEOMETRY. */
eo_status eoi_geom_wrap(eo_ctx *ctx, eo_geom **out, GEOSGeometry *take, char *crs_wkt_take,
                        bool is_geographic);
/* The same with any CRS definition PROJ accepts (normalized to WKT).
 * take is consumed in any case. */
eo_status eoi_geom_from_geos_take(eo_ctx *ctx, eo_geom **out, GEOSGeometry *take,
                                  const char *crs_def);
/* Borrowed: the GEOS geometry (Polygon or MultiPolygon, valid). */
const GEOSGeometry *eoi_geom_geos(const eo_geom *g);
/* Whether the CRS is geographic (coordinates in degrees, lon/lat). */
bool eoi_geom_is_geographic(const eo_geom *g);
/* A deep copy of g, possibly on another context. */
eo_status eoi_geom_clone(eo_ctx *ctx, eo_geom **out, const eo_geom *g);

#endif /* EOI_GEOM_INT_H */
