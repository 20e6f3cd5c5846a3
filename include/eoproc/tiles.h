/*
 * eoproc/tiles.h - the web-mercator tile grid (EPSG:3857): tile bounds,
 * the tile under a point, XYZ / TMS row order, QuadKeys, ground
 * resolution and zoom, and the tiles that cover an AOI.
 *
 * Tiles are addressed z/x/y in XYZ order (row 0 at the north, as OSM and
 * most web maps do); eo_tile_flip_y converts to and from TMS (row 0 at the
 * south). Zoom levels 0 to 30.
 */
#ifndef EOPROC_TILES_H
#define EOPROC_TILES_H

#include "core.h"
#include "geom.h"
#include "raster.h"

#ifdef __cplusplus
extern "C" {
#endif

#define EO_TILE_MAX_ZOOM 30

/** A tile address (XYZ order). A value type; never grows. */
typedef struct eo_tile {
    int32_t z;
    int32_t x;
    int32_t y;
} eo_tile;

/** Bounds of tile z/x/y in EPSG:3857 metres and/or in longitude/latitude
 *  degrees (either pointer may be NULL). @since 1.0 */
EO_API eo_status eo_tile_bounds(eo_ctx *ctx, int32_t z, int32_t x, int32_t y, eo_bbox *mercator,
                                eo_bbox *lonlat);
/** The tile at zoom z that contains the point (lon, lat); latitudes beyond
 *  +-85.0511287798 (the grid's edge) fall in the first / last row. @since 1.0 */
EO_API eo_status eo_tile_at(eo_ctx *ctx, double lon, double lat, int32_t z, int32_t *x, int32_t *y);
/** Row y in XYZ order as a TMS row, and back (the same formula). @since 1.0 */
EO_API int32_t eo_tile_flip_y(int32_t z, int32_t y);
/** The QuadKey of tile z/x/y (z digits and a NUL: capacity >= z + 1). @since 1.0 */
EO_API eo_status eo_tile_quadkey(eo_ctx *ctx, char *buf, size_t capacity, int32_t z, int32_t x,
                                 int32_t y);
/** The tile a QuadKey names ("" is tile 0/0/0). @since 1.0 */
EO_API eo_status eo_tile_from_quadkey(eo_ctx *ctx, int32_t *z, int32_t *x, int32_t *y,
                                      const char *quadkey);
/** Ground resolution (metres per pixel) of zoom z at latitude lat for tiles
 *  of tile_size pixels: 2 pi 6378137 cos(lat) / (tile_size 2^z). 0 for a bad
 *  argument. @since 1.0 */
EO_API double eo_tile_resolution(int32_t z, double lat, int32_t tile_size);
/** The zoom that matches a ground resolution: the lowest zoom whose
 *  resolution at latitude lat is at least as fine as res_m (clamped to
 *  0..30). @since 1.0 */
EO_API eo_status eo_tile_zoom_for_resolution(eo_ctx *ctx, int32_t *z, double res_m, double lat,
                                             int32_t tile_size);
/** The tiles of zoom z whose interior meets the AOI's interior (not merely
 *  its bounding box), in row-major XYZ order. *tiles is released with
 *  eo_free. An AOI whose bounding box spans more than 2^24 tiles at that
 *  zoom is aoi.TooLarge. @since 1.0 */
EO_API eo_status eo_tiles_cover(eo_ctx *ctx, eo_tile **tiles, int64_t *count, const eo_geom *aoi,
                                int32_t z);

/* ------------------------------------------------------------------------ */
/* Tiles out of a raster                                                     */
/* ------------------------------------------------------------------------ */

/* Options for rendering a tile. */
typedef struct eo_tile_opts eo_tile_opts;
EO_API eo_status eo_tile_opts_new(eo_ctx *ctx, eo_tile_opts **out);
EO_API void eo_tile_opts_free(eo_tile_opts *o);
/** Tile size in pixels: 256 (default) or 512 (any 1..4096). @since 1.0 */
EO_API eo_status eo_tile_opts_set_size(eo_ctx *ctx, eo_tile_opts *o, int32_t size);
/** EO_RESAMPLE_NEAREST, _BILINEAR (default), _CUBIC, _AVERAGE, _MODE or
 *  _LANCZOS. @since 1.0 */
EO_API eo_status eo_tile_opts_set_resampling(eo_ctx *ctx, eo_tile_opts *o, int32_t method);
/** Source bands to render (1-based); default: band 1 for a source of one or
 *  two bands, bands 1, 2, 3 otherwise. @since 1.0 */
EO_API eo_status eo_tile_opts_set_bands(eo_ctx *ctx, eo_tile_opts *o, const int32_t *bands,
                                        int32_t count);

/** Render tile z/x/y of a dataset in EPSG:3857: the selected bands in the
 *  source's data type plus a last alpha band of the same type (255 where
 *  the source has data, 0 outside it or on nodata), read from the overview whose
 *  resolution is just finer than the tile's (as gdalwarp -ovr AUTO picks).
 *  The dataset needs a CRS and a geotransform. opts may be NULL. @since 1.0 */
EO_API eo_status eo_tile_read(eo_ctx *ctx, eo_raster **out, eo_dataset *ds, int32_t z, int32_t x,
                              int32_t y, const eo_tile_opts *opts);

/** Encode a raster as "png" (1-4 bands of uint8 or uint16: gray, gray +
 *  alpha, RGB, RGBA), "jpeg" (1 or 3 bands of uint8; a 2nd / 4th band is
 *  taken as alpha and dropped) or "webp" (3 or 4 bands of uint8). quality
 *  1..100 for JPEG and WebP (0: default 75). *out is released with eo_free.
 *  @since 1.0 */
EO_API eo_status eo_raster_encode(eo_ctx *ctx, void **out, size_t *size, const eo_raster *r,
                                  const char *format, int32_t quality);

/* ------------------------------------------------------------------------ */
/* Tile pyramids                                                             */
/* ------------------------------------------------------------------------ */

/* Options for writing a pyramid (eo_tiles_write). */
typedef struct eo_pyramid_opts eo_pyramid_opts;
/** @since 1.1 */
EO_API eo_status eo_pyramid_opts_new(eo_ctx *ctx, eo_pyramid_opts **out);
/** Accepts NULL. @since 1.1 */
EO_API void eo_pyramid_opts_free(eo_pyramid_opts *o);
/** Image format of the tiles: "png" (default), "jpeg", "webp" or "tif"
 *  (a GeoTIFF per tile); quality 1..100 for JPEG and WebP (0: default 75).
 *  @since 1.1 */
EO_API eo_status eo_pyramid_opts_set_format(eo_ctx *ctx, eo_pyramid_opts *o, const char *format,
                                            int32_t quality);
/** Row numbering of the files: 0 XYZ (row 0 at the north, the default), 1
 *  TMS (row 0 at the south). @since 1.1 */
EO_API eo_status eo_pyramid_opts_set_tms(eo_ctx *ctx, eo_pyramid_opts *o, int32_t tms);
/** Also write tiles without data (transparent); default: skip them.
 *  @since 1.1 */
EO_API eo_status eo_pyramid_opts_set_keep_empty(eo_ctx *ctx, eo_pyramid_opts *o,
                                                int32_t keep_empty);

/** Write the tiles of zooms min_zoom..max_zoom that the dataset's outline
 *  covers as DIR/{z}/{x}/{y}.EXT (png, jpg, webp or tif), rendered as
 *  eo_tile_read renders them (tile_opts: size, resampling, bands; may be
 *  NULL) on the context's threads, each file written to a temporary name
 *  and moved into place. *out_json (release with eo_free) is
 *  {"out", "min_zoom", "max_zoom", "scheme", "format", "tiles_written",
 *  "empty_skipped"}. Progress goes to the context's callback; cancelling
 *  stops between tiles (the tiles written stay). opts may be NULL.
 *  @since 1.1 */
EO_API eo_status eo_tiles_write(eo_ctx *ctx, char **out_json, eo_dataset *ds, const char *dir,
                                int32_t min_zoom, int32_t max_zoom, const eo_tile_opts *tile_opts,
                                const eo_pyramid_opts *opts);

/* ------------------------------------------------------------------------ */
/* Previews                                                                  */
/* ------------------------------------------------------------------------ */

/* Options for a preview (thumbnail). */
typedef struct eo_preview_opts eo_preview_opts;
EO_API eo_status eo_preview_opts_new(eo_ctx *ctx, eo_preview_opts **out);
EO_API void eo_preview_opts_free(eo_preview_opts *o);
/** Longest side in pixels (default 1024); a smaller raster is not enlarged.
 *  @since 1.0 */
EO_API eo_status eo_preview_opts_set_size(eo_ctx *ctx, eo_preview_opts *o, int32_t size);
/** Bands to show: 1 (gray) or 3 (red, green, blue), 1-based; default 1, 2, 3
 *  for a source of 3 or more bands, else 1. @since 1.0 */
EO_API eo_status eo_preview_opts_set_bands(eo_ctx *ctx, eo_preview_opts *o, const int32_t *bands,
                                           int32_t count);
/** Contrast stretch of each band to 0..255 between its low and high
 *  percentiles (default 2 and 98) of the preview's valid pixels, or, when
 *  the file embeds statistics and use_stats is set (the default), between
 *  their minimum and maximum. 8-bit sources are shown as they are unless
 *  stretch_8bit is set. @since 1.0 */
EO_API eo_status eo_preview_opts_set_stretch(eo_ctx *ctx, eo_preview_opts *o, double low_pct,
                                             double high_pct, int32_t use_stats,
                                             int32_t stretch_8bit);

/** A uint8 preview of the whole raster, read from its overviews (average
 *  resampling), contrast-stretched, with a last alpha band (0 on nodata).
 *  opts may be NULL. @since 1.0 */
EO_API eo_status eo_preview(eo_ctx *ctx, eo_raster **out, eo_dataset *ds,
                            const eo_preview_opts *opts);

#ifdef __cplusplus
}
#endif
#endif /* EOPROC_TILES_H */
