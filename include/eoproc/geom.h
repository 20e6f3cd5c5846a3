/*
 * eoproc/geom.h - areas of interest: GeoJSON polygons, validation, repair,
 * reprojection, geodesic area.
 */
#ifndef EOPROC_GEOM_H
#define EOPROC_GEOM_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A polygonal geometry (Polygon or MultiPolygon) with its CRS. It keeps
 *  the GEOS handle of the context that made it: free it before that context. */
typedef struct eo_geom eo_geom;

/* Options for parsing an AOI. */
typedef struct eo_geom_opts eo_geom_opts;
EO_API eo_status eo_geom_opts_new(eo_ctx *ctx, eo_geom_opts **out);
EO_API void eo_geom_opts_free(eo_geom_opts *o);
/** CRS of the coordinates when the GeoJSON does not name one (default
 *  "EPSG:4326", longitude first). @since 1.0 */
EO_API eo_status eo_geom_opts_set_crs(eo_ctx *ctx, eo_geom_opts *o, const char *crs);
/** Repair an invalid geometry (make-valid) instead of failing; default 0. @since 1.0 */
EO_API eo_status eo_geom_opts_set_repair(eo_ctx *ctx, eo_geom_opts *o, int32_t repair);
/** Accept positions with a third (altitude) value, as RFC 7946 allows, and
 *  drop it; default 1. 0 is strict mode: a 3D position is reported
 *  (geometry.Invalid naming it). @since 1.0 */
EO_API eo_status eo_geom_opts_set_allow_z(eo_ctx *ctx, eo_geom_opts *o, int32_t allow);
/** Refuse an AOI of more than max vertices (aoi.TooLarge), counted before
 *  it is parsed; default: the context's EO_LIMIT_AOI_VERTICES. max must be
 *  positive (else arg.Invalid). @since 1.1 */
EO_API eo_status eo_geom_opts_set_max_vertices(eo_ctx *ctx, eo_geom_opts *o, int64_t max);
/** Refuse an AOI of more than max features (aoi.TooLarge), counted on the
 *  text as it is read; default: the context's EO_LIMIT_AOI_FEATURES. max
 *  must be positive (else arg.Invalid). @since 1.1 */
EO_API eo_status eo_geom_opts_set_max_features(eo_ctx *ctx, eo_geom_opts *o, int64_t max);
/** Refuse an AOI whose GeoJSON text is longer than max bytes (aoi.TooLarge);
 *  a file is read in pieces and reading stops past the limit; default: the
 *  context's EO_LIMIT_AOI_BYTES. max must be positive (else arg.Invalid).
 *  @since 1.1 */
EO_API eo_status eo_geom_opts_set_max_bytes(eo_ctx *ctx, eo_geom_opts *o, int64_t max);

/** Parse and validate a GeoJSON geometry, Feature or FeatureCollection of
 *  Polygons / MultiPolygons (features are unioned into one MultiPolygon).
 *  The first problem is reported with its location as geometry.Invalid
 *  (aoi.TooLarge past EO_LIMIT_AOI_VERTICES, EO_LIMIT_AOI_FEATURES or
 *  EO_LIMIT_AOI_BYTES, or the options' limits). opts may be NULL. @since 1.0 */
EO_API eo_status eo_geom_from_geojson(eo_ctx *ctx, eo_geom **out, const char *json,
                                      const eo_geom_opts *opts);
/** The same, reading the file at path. @since 1.0 */
EO_API eo_status eo_geom_from_geojson_file(eo_ctx *ctx, eo_geom **out, const char *path,
                                           const eo_geom_opts *opts);
/** Accepts NULL. @since 1.0 */
EO_API void eo_geom_free(eo_geom *g);

/** GeoJSON geometry text (release with eo_free); precision = decimals
 *  (-1: round-trip exact). @since 1.0 */
EO_API eo_status eo_geom_to_geojson(eo_ctx *ctx, char **out_json, const eo_geom *g,
                                    int32_t precision);
/** CRS as WKT (borrowed). @since 1.0 */
EO_API const char *eo_geom_crs_wkt(const eo_geom *g);
/** Number of polygons, and of vertices in all rings. @since 1.0 */
EO_API int64_t eo_geom_polygon_count(const eo_geom *g);
EO_API int64_t eo_geom_vertex_count(const eo_geom *g);
/** Bounding box in the geometry's CRS. @since 1.0 */
EO_API eo_status eo_geom_bbox(eo_ctx *ctx, const eo_geom *g, eo_bbox *out);

/** Reproject into dst_crs (any definition PROJ accepts). Axis order is the
 *  traditional GIS one: x = easting / longitude. Edges are densified so that
 *  the result follows the curved image of a straight edge. @since 1.0 */
EO_API eo_status eo_geom_transform(eo_ctx *ctx, eo_geom **out, const eo_geom *g,
                                   const char *dst_crs);
/** Geodesic area in km² on the WGS84 ellipsoid (holes subtracted). @since 1.0 */
EO_API eo_status eo_geom_area_km2(eo_ctx *ctx, const eo_geom *g, double *km2);

#ifdef __cplusplus
}
#endif
#endif /* EOPROC_GEOM_H */
