/*
 * eoproc/analytics.h - spectral indices, band math, zonal statistics,
 * change detection and time series.
 *
 * An expression (eo_expr) is parsed once, from band-math text such as
 * "(N - R) / (N + R)" or "where(b4 > 0, b3 / b4, 0)", or taken from the
 * index catalog by name ("NDVI"). It refers to bands by symbol (B, G, R, N,
 * RE1, RE2, RE3, N2, S1, S2, T, ... or their long names blue, green, red,
 * nir, ...) or by 1-based number (b1, b2, ...), and to named constants
 * (L, g, C1, C2, ...) that have defaults. Symbols are bound to band numbers
 * when the expression is evaluated on a dataset: from an explicit mapping
 * ("R=3,N=4"), a known sensor layout ("landsat7", "sentinel2", ...), or the
 * bands' descriptions and colour interpretation, in that order.
 *
 * Evaluation is in float32. A nodata input gives nodata; so does a division
 * by zero, the square root or logarithm of a negative number, and any other
 * result that would be infinite or NaN: the output never holds inf or NaN,
 * only values and the output nodata value (-9999 unless set).
 */
#ifndef EOPROC_ANALYTICS_H
#define EOPROC_ANALYTICS_H

#include "cog.h"
#include "core.h"
#include "geom.h"
#include "raster.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A parsed band-math expression or catalog index. */
typedef struct eo_expr eo_expr;

/** Options shared by the analytics calls (each call documents the ones it
 *  uses). NULL everywhere means the defaults. */
typedef struct eo_analytics_opts eo_analytics_opts;

/* Pixel inclusion rules for an AOI. */
#define EO_COVERAGE_CENTER 0      /* pixels whose centre lies inside (GDAL's rasterize rule) */
#define EO_COVERAGE_ALL_TOUCHED 1 /* pixels that share any area with the AOI */
#define EO_COVERAGE_EXACT 2       /* every pixel weighted by the share of its area inside */

/** The index catalog as a JSON array of {name, long_name, formula, bands,
 *  constants, reference} (release with eo_free). @since 1.0 */
EO_API eo_status eo_indices_list(eo_ctx *ctx, char **out_json);

/** Parse band-math text. A syntax error fails with expr.Syntax and names
 *  the 1-based position in the text. @since 1.0 */
EO_API eo_status eo_expr_parse(eo_ctx *ctx, eo_expr **out, const char *text);
/** The expression of a catalog index (case-insensitive name); index.Invalid
 *  for an unknown name. @since 1.0 */
EO_API eo_status eo_expr_from_index(eo_ctx *ctx, eo_expr **out, const char *name);
/** Accepts NULL. @since 1.0 */
EO_API void eo_expr_free(eo_expr *e);
/** The expression's text (borrowed; the formula for a catalog index). @since 1.0 */
EO_API const char *eo_expr_text(const eo_expr *e);
/** The catalog index's name (borrowed), or NULL for an expression parsed
 *  from text. @since 1.1 */
EO_API const char *eo_expr_index_name(const eo_expr *e);
/** The band each input of e reads from ds, as opts map them: a JSON object
 *  {"N": 4, "R": 3} (band symbols) or {"b1": 1} (band numbers); release
 *  with eo_free. Fails as evaluation would (a symbol the bands or the
 *  sensor do not map, a band ds lacks). opts may be NULL. @since 1.1 */
EO_API eo_status eo_expr_bands(eo_ctx *ctx, char **out_json, const eo_expr *e, eo_dataset *ds,
                               const eo_analytics_opts *opts);

EO_API eo_status eo_analytics_opts_new(eo_ctx *ctx, eo_analytics_opts **out);
/** Accepts NULL. @since 1.0 */
EO_API void eo_analytics_opts_free(eo_analytics_opts *o);
/** Explicit band mapping, "R=3,N=4" (symbols or long names, 1-based band
 *  numbers). @since 1.0 */
EO_API eo_status eo_analytics_opts_set_bands(eo_ctx *ctx, eo_analytics_opts *o,
                                             const char *mapping);
/** Known sensor layout: "landsat5", "landsat7", "landsat8", "landsat9",
 *  "sentinel2" (the band order of the sensor's products). @since 1.0 */
EO_API eo_status eo_analytics_opts_set_sensor(eo_ctx *ctx, eo_analytics_opts *o,
                                              const char *sensor);
/** Value of a named constant (overrides the index's default). @since 1.0 */
EO_API eo_status eo_analytics_opts_set_constant(eo_ctx *ctx, eo_analytics_opts *o, const char *name,
                                                double value);
/** Input samples become value * scale + offset before evaluation (e.g.
 *  reflectance from digital numbers); default 1 and 0. @since 1.0 */
EO_API eo_status eo_analytics_opts_set_scale(eo_ctx *ctx, eo_analytics_opts *o, double scale,
                                             double offset);
/** Output nodata value (finite; default -9999). @since 1.0 */
EO_API eo_status eo_analytics_opts_set_nodata(eo_ctx *ctx, eo_analytics_opts *o, double nodata);
/** Band whose values zonal statistics summarize when no expression is given
 *  (default 1). @since 1.0 */
EO_API eo_status eo_analytics_opts_set_band(eo_ctx *ctx, eo_analytics_opts *o, int32_t band);
/** AOI pixel rule: EO_COVERAGE_* (default EO_COVERAGE_CENTER). @since 1.0 */
EO_API eo_status eo_analytics_opts_set_coverage(eo_ctx *ctx, eo_analytics_opts *o, int32_t mode);
/** Percentiles (0..100) zonal statistics report; default none. @since 1.0 */
EO_API eo_status eo_analytics_opts_set_percentiles(eo_ctx *ctx, eo_analytics_opts *o,
                                                   const double *q, int32_t count);
/** Histogram of bins equal bins over [lo, hi] (lo == hi: the values' min
 *  and max), as numpy.histogram; bins 0 (default) for none. @since 1.0 */
EO_API eo_status eo_analytics_opts_set_histogram(eo_ctx *ctx, eo_analytics_opts *o, int32_t bins,
                                                 double lo, double hi);
/** Change threshold (> 0): a change above it is a gain, below minus it a
 *  loss (default 0.2). @since 1.0 */
EO_API eo_status eo_analytics_opts_set_threshold(eo_ctx *ctx, eo_analytics_opts *o,
                                                 double threshold);
/** An AOI restricting change detection and time series (borrowed: keep it
 *  alive while the options are used). @since 1.0 */
EO_API eo_status eo_analytics_opts_set_aoi(eo_ctx *ctx, eo_analytics_opts *o, const eo_geom *aoi);
/** A point (longitude, latitude in EPSG:4326) for time series. @since 1.0 */
EO_API eo_status eo_analytics_opts_set_point(eo_ctx *ctx, eo_analytics_opts *o, double lon,
                                             double lat);

/** Options of the rasters an analysis writes (eo_expr_write,
 *  eo_change_detect): each is a COG with these options (copied; NULL: the
 *  defaults: ZSTD, 512 px tiles, overviews, statistics). Their nodata
 *  value, if set, is ignored: an output's nodata is the analysis's. A class
 *  raster takes nearest or mode overviews whatever the resampling (auto
 *  and the others: nearest), and no float predictor (none instead).
 *  @since 1.0 */
EO_API eo_status eo_analytics_opts_set_cog_opts(eo_ctx *ctx, eo_analytics_opts *o,
                                                const eo_cog_opts *cog);

/** Evaluate e over a window of ds (NULL: all of it) into a new float32
 *  raster with the window's georeferencing and the output nodata value.
 *  Uses bands, sensor, constants, scale, nodata. Errors: index.BandMissing
 *  names a band the mapping cannot find. @since 1.0 */
EO_API eo_status eo_expr_eval(eo_ctx *ctx, eo_raster **out, eo_dataset *ds, const eo_expr *e,
                              const eo_window *window, const eo_analytics_opts *opts);
/** Evaluate e over all of ds and write a float32 Cloud-Optimized GeoTIFF
 *  (the COG options of opts: ZSTD, overviews and statistics by default;
 *  the band's description is the index name or the expression), streamed
 *  window by window on the context's threads (memory does not grow with
 *  the raster's height), to a temporary name renamed into place at the
 *  end. @since 1.0 */
EO_API eo_status eo_expr_write(eo_ctx *ctx, eo_dataset *ds, const eo_expr *e, const char *path,
                               const eo_analytics_opts *opts);

/** Zonal statistics of e (NULL: of the band set by _set_band) over aoi (any
 *  CRS; reprojected to the raster's), as a JSON object (release with
 *  eo_free): count, nodata_count, pixels, min, max, mean, std, sum, median,
 *  percentiles, histogram, and the coverage rule. With EO_COVERAGE_EXACT,
 *  counts and moments are weighted by each pixel's share inside the AOI.
 *  @since 1.0 */
EO_API eo_status eo_zonal_stats(eo_ctx *ctx, char **out_json, eo_dataset *ds, const eo_geom *aoi,
                                const eo_expr *e, const eo_analytics_opts *opts);

/** Change of e between before and after (resampled bilinearly onto the
 *  before's grid when the grids differ): writes out_dir/change.tif (float32,
 *  after minus before) and out_dir/class.tif (uint8: 0 no change, 1 gain,
 *  2 loss, 255 nodata; a colour table, and the class names as band
 *  metadata CLASS_0..CLASS_2), both COGs (the COG options of opts) written
 *  in one pass, and returns statistics as JSON: per class the pixel
 *  count, area in m², percent of the valid area, mean change. Uses
 *  threshold and aoi besides the evaluation options. @since 1.0 */
EO_API eo_status eo_change_detect(eo_ctx *ctx, char **out_json, eo_dataset *before,
                                  eo_dataset *after, const eo_expr *e, const char *out_dir,
                                  const eo_analytics_opts *opts);

/** e per date over count rasters (paths[i] taken at dates[i], ISO
 *  YYYY-MM-DD), at the point or as zonal statistics over the AOI of opts;
 *  JSON series sorted by date. @since 1.0 */
EO_API eo_status eo_time_series(eo_ctx *ctx, char **out_json, const char *const *paths,
                                const char *const *dates, int32_t count, const eo_expr *e,
                                const eo_analytics_opts *opts);

#ifdef __cplusplus
}
#endif
#endif /* EOPROC_ANALYTICS_H */
