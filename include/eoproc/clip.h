/*
 * eoproc/clip.h - clipping a raster to an area of interest (AOI).
 *
 * The AOI (any CRS; reprojected to the raster's) selects pixels of the
 * source's own grid: no resampling, a window read and a mask. The output is
 * cropped to the AOI's extent (GDAL's rule for gdalwarp -crop_to_cutline:
 * the AOI's bounding box snapped inwards to the pixel grid, outwards with
 * all_touched or coverage; then limited to the raster) or keeps the raster's
 * extent.
 * A pixel is inside when its centre is inside the AOI (GDAL's default rule;
 * a centre on a left or top edge is outside, on a right or bottom edge
 * inside), or, with all_touched, when any part of it is. Pixels outside are
 * set to the nodata value, and to 0 in an optional alpha band; an optional
 * coverage band holds the exact share of each pixel's area inside the AOI.
 *
 * The output is a Cloud-Optimized GeoTIFF written window by window (memory
 * bounded by the width and the tile size, never by the height), to a
 * temporary name beside the target renamed at the end: nothing is left at
 * the target on any error.
 */
#ifndef EOPROC_CLIP_H
#define EOPROC_CLIP_H

#include "cog.h"
#include "core.h"
#include "geom.h"
#include "raster.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Options (NULL = defaults). */
typedef struct eo_clip_opts eo_clip_opts;

/** @since 1.0 */
EO_API eo_status eo_clip_opts_new(eo_ctx *ctx, eo_clip_opts **out);
/** Accepts NULL. @since 1.0 */
EO_API void eo_clip_opts_free(eo_clip_opts *o);
/** Crop the output to the AOI's extent (1, the default) or keep the whole
 *  raster's extent (0). @since 1.0 */
EO_API eo_status eo_clip_opts_set_crop(eo_ctx *ctx, eo_clip_opts *o, int32_t crop);
/** Include every pixel the AOI touches (1) instead of the pixels whose
 *  centre it contains (0, the default). @since 1.0 */
EO_API eo_status eo_clip_opts_set_all_touched(eo_ctx *ctx, eo_clip_opts *o, int32_t all_touched);
/** The value of pixels outside the AOI, written as the output's nodata
 *  (it must be a value of the output's data type; NaN for floats). Source
 *  nodata pixels inside the AOI are given it too. Default: the source's
 *  nodata, else 0 for integer sources and NaN for floating-point ones.
 *  @since 1.0 */
EO_API eo_status eo_clip_opts_set_nodata(eo_ctx *ctx, eo_clip_opts *o, double nodata);
/** Add an alpha band (last): 255 inside the AOI (127 for int8), 0 outside
 *  and on source nodata. Without an explicit or a source nodata the output
 *  then has no nodata value. @since 1.0 */
EO_API eo_status eo_clip_opts_set_alpha(eo_ctx *ctx, eo_clip_opts *o, int32_t alpha);
/** Add a band (after the data bands, before alpha) with the exact fraction
 *  of each pixel's area inside the AOI, in [0, 1]. Every band then has a
 *  floating-point type: float32 for sources of 8 or 16 bits and float32,
 *  float64 otherwise (data values are kept exactly). @since 1.0 */
EO_API eo_status eo_clip_opts_set_coverage(eo_ctx *ctx, eo_clip_opts *o, int32_t coverage);
/** The source bands to keep, 1-based, in order (NULL / 0 = all). Numbers
 *  are checked against the source by eo_clip (arg.Invalid). @since 1.0 */
EO_API eo_status eo_clip_opts_set_bands(eo_ctx *ctx, eo_clip_opts *o, const int32_t *bands,
                                        int32_t count);
/** COG writer options of the output (copied; NULL = the writer's defaults:
 *  ZSTD, 512 px tiles, overviews, statistics). A nodata set here is
 *  overridden by eo_clip_opts_set_nodata. @since 1.0 */
EO_API eo_status eo_clip_opts_set_cog_opts(eo_ctx *ctx, eo_clip_opts *o, const eo_cog_opts *cog);

/** Clip src to aoi into a COG at path. *result (may be NULL) receives a JSON
 *  object (release with eo_free): path, width, height, bands, dtype,
 *  geotransform, window (x, y, width, height of the source), nodata (null
 *  when none), pixels_inside (by the inclusion rule), pixels_total,
 *  coverage_sum (sum of the fractions, with coverage), aoi_area (in the
 *  raster CRS's units²), bytes. Errors: source.NoDataInAOI (the AOI misses
 *  the raster or covers no pixel by the rule), geometry.Invalid, crs.*,
 *  arg.Invalid (bad band numbers, a nodata value the type cannot hold),
 *  unsupported (bands of different types), io.Read, io.Write, cancelled.
 *  @since 1.0 */
EO_API eo_status eo_clip(eo_ctx *ctx, char **result, const char *path, const eo_dataset *src,
                         const eo_geom *aoi, const eo_clip_opts *opts);

#ifdef __cplusplus
}
#endif
#endif /* EOPROC_CLIP_H */
