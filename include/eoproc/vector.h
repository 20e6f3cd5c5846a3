/*
 * eoproc/vector.h - vectorization: masks and class rasters to polygons
 * (polygonize), simplification, regularization of building outlines, seam
 * merging across partitions, and output to GeoJSON, GeoPackage and
 * FlatGeobuf.
 *
 * A feature collection (eo_features) holds polygons in the pixel grid of the
 * dataset they came from (column, row; a pixel is a unit square), with the
 * dataset's geotransform and CRS: polygons straight from eo_polygonize have
 * integer vertices on pixel corners, so their areas are exact pixel counts,
 * neighbours share their edges exactly, and collections polygonized from
 * different windows of one dataset (tiles, stripes, possibly on other
 * machines) can be merged exactly with eo_features_merge_seams.
 */
#ifndef EOPROC_VECTOR_H
#define EOPROC_VECTOR_H

#include "core.h"
#include "raster.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eo_features eo_features;

/* ------------------------------------------------------------------------ */
/* Polygonize                                                                */
/* ------------------------------------------------------------------------ */
typedef struct eo_polygonize_opts eo_polygonize_opts;

/** @since 1.0 */
EO_API eo_status eo_polygonize_opts_new(eo_ctx *ctx, eo_polygonize_opts **out);
/** Accepts NULL. @since 1.0 */
EO_API void eo_polygonize_opts_free(eo_polygonize_opts *o);
/** Band to polygonize (1-based; default 1). @since 1.0 */
EO_API eo_status eo_polygonize_opts_set_band(eo_ctx *ctx, eo_polygonize_opts *o, int32_t band);
/** 4 (edge neighbours, the default) or 8 (corner neighbours too: a region
 *  whose parts touch only at corners is one MultiPolygon feature). @since 1.0 */
EO_API eo_status eo_polygonize_opts_set_connectivity(eo_ctx *ctx, eo_polygonize_opts *o,
                                                     int32_t connectivity);
/** Skip pixels that are nodata or outside the band's mask (default 1); 0
 *  polygonizes every pixel. @since 1.0 */
EO_API eo_status eo_polygonize_opts_set_use_mask(eo_ctx *ctx, eo_polygonize_opts *o,
                                                 int32_t use_mask);
/** Polygonize only this window of the source (a partition: a stripe or a
 *  tile); coordinates stay in the source's pixel grid, so partitions can be
 *  merged with eo_features_merge_seams. Default: the whole raster. @since 1.0 */
EO_API eo_status eo_polygonize_opts_set_window(eo_ctx *ctx, eo_polygonize_opts *o,
                                               const eo_window *window);
/** Rows per stripe (stripes are processed on the context's threads and
 *  stitched); 0 (default) picks a size. Memory is bounded by the threads'
 *  stripes, not by the raster. @since 1.0 */
EO_API eo_status eo_polygonize_opts_set_stripe_rows(eo_ctx *ctx, eo_polygonize_opts *o,
                                                    int64_t rows);
/** A probability raster (same size as the source, borrowed: it must outlive
 *  the eo_polygonize call) whose band's mean inside each polygon becomes its
 *  score. @since 1.0 */
EO_API eo_status eo_polygonize_opts_set_prob(eo_ctx *ctx, eo_polygonize_opts *o, eo_dataset *prob,
                                             int32_t band);

/** One feature per connected region of equal values: a Polygon with its
 *  holes (a MultiPolygon for an 8-connected region whose parts touch at
 *  corners), its class value, pixel count, and score when a probability
 *  raster is given. Boundaries follow pixel edges exactly. opts may be
 *  NULL. Errors: arg.Invalid (band, window), io.Read, source.Mismatch (a
 *  probability raster of another size), cancelled. @since 1.0 */
EO_API eo_status eo_polygonize(eo_ctx *ctx, eo_features **out, eo_dataset *src,
                               const eo_polygonize_opts *opts);
/** The same from a raster in memory (its nodata value is the mask; no
 *  probability raster). @since 1.0 */
EO_API eo_status eo_polygonize_raster(eo_ctx *ctx, eo_features **out, const eo_raster *src,
                                      const eo_polygonize_opts *opts);

/** A consumer of features handed over in batches (eo_polygonize_each): it
 *  may change or drop the batch's features (eo_features_simplify with a
 *  per-feature method, eo_features_filter_min_area, ...) and write them
 *  (eo_features_writer_put); the batch is freed when it returns. A status
 *  other than EO_OK stops the caller, which returns it. @since 1.1 */
typedef eo_status (*eo_features_fn)(eo_ctx *ctx, eo_features *batch, void *user);
/** eo_polygonize, handing the features to fn as soon as the rest of the
 *  raster cannot change them (after each stripe: those the stripe's last
 *  row does not reach, nor any feature joined to one that does), so that
 *  memory follows the features still open at the stripe, not all of them:
 *  a building mask of any height is written with the memory of a few
 *  stripes (a region that spans the raster, such as a background, is held
 *  to the end, with its holes: eo_polygonize_write keeps those on disk). The features and their
 * properties equal eo_polygonize's; each batch is in raster order of the features' first pixels and
 * the batches follow the stripes, so the whole is in the order features end, then start
 * (eo_polygonize's is by first pixel alone). fn is called at least once, with an empty batch when
 * nothing is found. Errors: those of eo_polygonize, and fn's. @since 1.1 */
EO_API eo_status eo_polygonize_each(eo_ctx *ctx, eo_dataset *src, const eo_polygonize_opts *opts,
                                    eo_features_fn fn, void *user);

/* ------------------------------------------------------------------------ */
/* Feature collections                                                       */
/* ------------------------------------------------------------------------ */
/** Accepts NULL. @since 1.0 */
EO_API void eo_features_free(eo_features *f);
/** Number of features. @since 1.0 */
EO_API int64_t eo_features_count(const eo_features *f);
/** Class value, pixel count (of the original polygon) and planar area in
 *  square pixels (the current geometry) of feature i. @since 1.0 */
EO_API eo_status eo_features_get(eo_ctx *ctx, const eo_features *f, int64_t i, double *class_value,
                                 int64_t *pixels, double *area_px);
/** Feature i's geometry as WKT in the CRS of the source (release with
 *  eo_free). @since 1.0 */
EO_API eo_status eo_features_wkt(eo_ctx *ctx, char **out, const eo_features *f, int64_t i);

/** Merge collections polygonized from partitions (windows) of one raster:
 *  features of the same class that share an edge across a seam (or touch at
 *  a corner, for 8-connectivity) become one, so the result equals
 *  polygonizing the whole raster at once. The parts must share the
 *  geotransform, CRS and connectivity (source.Mismatch otherwise); they are
 *  not changed. @since 1.0 */
EO_API eo_status eo_features_merge_seams(eo_ctx *ctx, eo_features **out,
                                         const eo_features *const *parts, int32_t count);

/* ------------------------------------------------------------------------ */
/* Simplification, filters, regularization (in place)                       */
/* ------------------------------------------------------------------------ */
#define EO_SIMPLIFY_DP 0       /* Douglas-Peucker per feature (repaired if invalid) */
#define EO_SIMPLIFY_TOPOLOGY 1 /* topology-preserving per feature (GEOS) */
#define EO_SIMPLIFY_COVERAGE 2 /* shared edges simplified once: neighbours stay shared */

/** Simplify every feature with a tolerance in metres (ground distance).
 *  @since 1.0 */
EO_API eo_status eo_features_simplify(eo_ctx *ctx, eo_features *f, double tolerance_m,
                                      int32_t method);
/** Remove pixel staircases: vertices between two edges of at most one pixel
 *  are dropped where the polygon stays valid. @since 1.0 */
EO_API eo_status eo_features_remove_staircase(eo_ctx *ctx, eo_features *f);
/** Drop features whose geodesic area is below min_area_m2. @since 1.0 */
EO_API eo_status eo_features_filter_min_area(eo_ctx *ctx, eo_features *f, double min_area_m2);
/** Fill holes whose geodesic area is below max_hole_m2. @since 1.0 */
EO_API eo_status eo_features_fill_holes(eo_ctx *ctx, eo_features *f, double max_hole_m2);

typedef struct eo_regularize_opts eo_regularize_opts;
/** @since 1.0 */
EO_API eo_status eo_regularize_opts_new(eo_ctx *ctx, eo_regularize_opts **out);
/** Accepts NULL. @since 1.0 */
EO_API void eo_regularize_opts_free(eo_regularize_opts *o);
/** Largest distance (metres) of the regularized outline from the original;
 *  default 3 pixels. @since 1.0 */
EO_API eo_status eo_regularize_opts_set_max_distance(eo_ctx *ctx, eo_regularize_opts *o,
                                                     double metres);
/** Largest relative change of area (default 0.15). @since 1.0 */
EO_API eo_status eo_regularize_opts_set_max_area_change(eo_ctx *ctx, eo_regularize_opts *o,
                                                        double fraction);
/** Allow 45-degree edges where the outline has them (default 1). @since 1.0 */
EO_API eo_status eo_regularize_opts_set_allow_45(eo_ctx *ctx, eo_regularize_opts *o, int32_t allow);
/** Regularize building outlines: each polygon's edges are snapped to its
 *  dominant orientation (right angles, and 45 degrees where allowed); an
 *  outline that would move further than the bounds is left as it was.
 *  opts may be NULL. @since 1.0 */
EO_API eo_status eo_features_regularize(eo_ctx *ctx, eo_features *f,
                                        const eo_regularize_opts *opts);

/* ------------------------------------------------------------------------ */
/* Output                                                                    */
/* ------------------------------------------------------------------------ */
typedef struct eo_vector_write_opts eo_vector_write_opts;
/** @since 1.0 */
EO_API eo_status eo_vector_write_opts_new(eo_ctx *ctx, eo_vector_write_opts **out);
/** Accepts NULL. @since 1.0 */
EO_API void eo_vector_write_opts_free(eo_vector_write_opts *o);
/** "geojson" (default), "gpkg" or "fgb". @since 1.0 */
EO_API eo_status eo_vector_write_opts_set_format(eo_ctx *ctx, eo_vector_write_opts *o,
                                                 const char *format);
/** Decimals of GeoJSON coordinates (0..17; default 7 in EPSG:4326, 3 in a
 *  native CRS). @since 1.0 */
EO_API eo_status eo_vector_write_opts_set_precision(eo_ctx *ctx, eo_vector_write_opts *o,
                                                    int32_t decimals);
/** 1: write coordinates in the source's CRS instead of EPSG:4326 (GeoJSON
 *  then names it in a "crs" member, as GeoJSON 2008 did). Default 0.
 *  @since 1.0 */
EO_API eo_status eo_vector_write_opts_set_native_crs(eo_ctx *ctx, eo_vector_write_opts *o,
                                                     int32_t native);

/** Write the features (properties id, class, pixels, area_m2 (geodesic),
 *  perimeter_m, score) to path: GeoJSON streamed feature by feature (RFC
 *  7946: EPSG:4326, exterior rings counter-clockwise), GeoPackage or
 *  FlatGeobuf through OGR. Written to a temporary name renamed into place;
 *  nothing is left at path on failure. @since 1.0 */
EO_API eo_status eo_features_write(eo_ctx *ctx, const eo_features *f, const char *path,
                                   const eo_vector_write_opts *opts);
/** The features as a GeoJSON FeatureCollection string (release with
 *  eo_free). @since 1.0 */
EO_API eo_status eo_features_to_geojson(eo_ctx *ctx, char **out, const eo_features *f,
                                        const eo_vector_write_opts *opts);

/** A file written batch by batch, as eo_features_write writes one
 *  collection (the same formats, properties and ids, which run on across
 *  batches). @since 1.1 */
typedef struct eo_features_writer eo_features_writer;
/** Create the writer of path for collections on like's grid and CRS (and
 *  with its score and class names); nothing appears at path before
 *  eo_features_writer_finish. ctx must outlive the writer. Errors:
 *  arg.Invalid, io.Write. @since 1.1 */
EO_API eo_status eo_features_writer_open(eo_ctx *ctx, eo_features_writer **out, const char *path,
                                         const eo_vector_write_opts *opts, const eo_features *like);
/** Append a batch (same grid and CRS as the writer's, else arg.Invalid).
 *  @since 1.1 */
EO_API eo_status eo_features_writer_put(eo_ctx *ctx, eo_features_writer *w,
                                        const eo_features *batch);
/** Complete the file and move it to its path, and free the writer (also
 *  when this fails: then nothing is at path). @since 1.1 */
EO_API eo_status eo_features_writer_finish(eo_ctx *ctx, eo_features_writer *w);
/** Drop an unfinished writer and its file (NULL: nothing). @since 1.1 */
EO_API void eo_features_writer_free(eo_features_writer *w);

/** eo_polygonize straight into a file, as eo_polygonize_each and a writer
 *  would (the same features, properties, ids and order), in memory bounded
 *  by the raster's width rather than its area: the holes of a region still
 *  open at a stripe's end (a background holds one per building it
 *  surrounds) go to an unlinked temporary file in $TMPDIR (else /tmp)
 *  until the region is written. A region with a MultiPolygon part (8-connected
 *  parts touching at a corner) keeps its holes in memory. count (may be
 *  NULL) receives the number of features written. Errors: those of
 *  eo_polygonize and eo_features_writer_open, io.Write (the temporary file
 *  or path). @since 1.1 */
EO_API eo_status eo_polygonize_write(eo_ctx *ctx, eo_dataset *src, const eo_polygonize_opts *opts,
                                     const char *path, const eo_vector_write_opts *wopts,
                                     int64_t *count);

#ifdef __cplusplus
}
#endif
#endif /* EOPROC_VECTOR_H */
