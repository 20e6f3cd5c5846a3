/*
 * eoproc/tilesrc.h - rasters out of a web-mercator tile pyramid: a lazy
 * dataset in EPSG:3857 at one zoom's resolution over a chosen extent, backed
 * by a folder of tiles ({z}/{x}/{y}.png|jpg|webp in XYZ or TMS row order, or
 * {quadkey}.png|jpg|webp), an MBTiles file, or a host callback that returns
 * the encoded bytes of a tile (the library itself does no networking).
 *
 * The dataset is an ordinary eo_dataset: everything that takes one (reads,
 * tiles, clipping, indices, zonal statistics, COG writing, inference) works
 * on it unchanged, on any number of threads. Tiles are decoded on demand
 * (PNG, JPEG, WebP) into a bounded cache shared by all readers of the
 * dataset, each tile decoded once while it stays in the cache.
 */
#ifndef EOPROC_TILESRC_H
#define EOPROC_TILESRC_H

#include "core.h"
#include "geom.h"
#include "raster.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Row order / naming of the tiles of a folder. */
#define EO_TILE_SCHEME_AUTO (-1) /* TMS when the folder has tilemapresource.xml, QuadKey when
                                    it has no {z}/ folder but {quadkey}.ext files, else XYZ */
#define EO_TILE_SCHEME_XYZ 0     /* {z}/{x}/{y}.ext, row 0 at the north */
#define EO_TILE_SCHEME_TMS 1     /* {z}/{x}/{y}.ext, row 0 at the south */
#define EO_TILE_SCHEME_QUADKEY 2 /* {quadkey}.ext, all in the folder itself */

/* Options of a tile dataset. The zoom and the extent are required. */
typedef struct eo_tilesrc_opts eo_tilesrc_opts;
EO_API eo_status eo_tilesrc_opts_new(eo_ctx *ctx, eo_tilesrc_opts **out);
EO_API void eo_tilesrc_opts_free(eo_tilesrc_opts *o);
/** The zoom whose tiles are read (0..30); the dataset has its resolution.
 *  @since 1.0 */
EO_API eo_status eo_tilesrc_opts_set_zoom(eo_ctx *ctx, eo_tilesrc_opts *o, int32_t zoom);
/** The extent as a box in "EPSG:3857" (metres) or "EPSG:4326" (longitude,
 *  latitude; clamped to the grid's +-85.0511 degrees); NULL crs means
 *  EPSG:4326. The dataset covers the pixels of the zoom's grid that the box
 *  touches. Replaces an AOI given before. @since 1.0 */
EO_API eo_status eo_tilesrc_opts_set_bbox(eo_ctx *ctx, eo_tilesrc_opts *o, const eo_bbox *bbox,
                                          const char *crs);
/** The extent as the bounding box of an AOI (any CRS), reprojected to
 *  EPSG:3857. The AOI is copied: only the tiles of its cover (the tiles
 *  whose interior meets the polygon's, eo_tiles_cover) are fetched, each
 *  once; the pixels of the other tiles of the box read as missing (alpha 0
 *  or nodata) without being fetched or counted missing. @since 1.0 */
EO_API eo_status eo_tilesrc_opts_set_aoi(eo_ctx *ctx, eo_tilesrc_opts *o, const eo_geom *aoi);
/** EO_TILE_SCHEME_AUTO (default), _XYZ, _TMS or _QUADKEY; folders only
 *  (MBTiles are TMS as their specification says; a callback is asked in XYZ
 *  order; a URL template says its order with {y} or {-y}). @since 1.0 */
EO_API eo_status eo_tilesrc_opts_set_scheme(eo_ctx *ctx, eo_tilesrc_opts *o, int32_t scheme);
/** Tile size in pixels (default 256; 1..4096). A tile of another size is an
 *  error. @since 1.0 */
EO_API eo_status eo_tilesrc_opts_set_tile_size(eo_ctx *ctx, eo_tilesrc_opts *o, int32_t size);
/** Bands of the dataset, all uint8: 4 (default: red, green, blue, alpha),
 *  3 (red, green, blue), 2 (gray, alpha) or 1 (gray). Tiles of any colour
 *  type are converted (gray is replicated; "gray" of a colour tile is its
 *  red channel). With an alpha band, missing tiles have alpha 0; without
 *  one they are the nodata value (eo_tilesrc_opts_set_nodata). @since 1.0 */
EO_API eo_status eo_tilesrc_opts_set_bands(eo_ctx *ctx, eo_tilesrc_opts *o, int32_t bands);
/** Nodata value (0..255, default 0) of a dataset without an alpha band.
 *  @since 1.0 */
EO_API eo_status eo_tilesrc_opts_set_nodata(eo_ctx *ctx, eo_tilesrc_opts *o, int32_t value);
/** Bound of the decoded-tile cache in bytes (default 64 MiB; at least one
 *  row of tiles is kept whatever the bound). @since 1.0 */
EO_API eo_status eo_tilesrc_opts_set_cache_bytes(eo_ctx *ctx, eo_tilesrc_opts *o, int64_t bytes);
/** A tile that cannot be decoded is an error naming it (default, 0), or,
 *  with 1, read as missing and counted as corrupt. @since 1.0 */
EO_API eo_status eo_tilesrc_opts_set_corrupt_as_missing(eo_ctx *ctx, eo_tilesrc_opts *o,
                                                        int32_t yes);

/* A host callback hands over the encoded bytes of a tile through a sink. */
typedef struct eo_tile_sink eo_tile_sink;
/** Give the encoded bytes of the tile (PNG, JPEG or WebP); they are copied,
 *  so the host may free them when this returns. @since 1.0 */
EO_API eo_status eo_tile_sink_set(eo_tile_sink *sink, const void *data, size_t size);
/** A message for a non-zero return of the callback (copied). @since 1.0 */
EO_API void eo_tile_sink_set_error(eo_tile_sink *sink, const char *message);

/** Fetch tile z/x/y (XYZ rows): return 0 after eo_tile_sink_set, or 0
 *  without it for a tile that does not exist (missing), or non-zero for a
 *  failure (optionally described with eo_tile_sink_set_error), which fails
 *  the read with io.Read naming the tile. Called from any thread that reads
 *  the dataset, possibly from several at once (never twice at once for the
 *  same tile), and only between eo_dataset_open_tiles_callback and
 *  eo_dataset_close. */
typedef int (*eo_tile_fetch_fn)(void *user, int32_t z, int32_t x, int32_t y, eo_tile_sink *sink);

/** Fetch the tile at url (a dataset opened from a URL template) for the
 *  host, which does the networking: return 0 after eo_tile_sink_set, 0
 *  without it for a tile that does not exist (HTTP 404 / 204), non-zero for
 *  a failure after the host's own retries (described with
 *  eo_tile_sink_set_error: it reaches the caller's message with z/x/y and
 *  the URL). Called from any thread, possibly several at once (never twice
 *  at once for the same tile). @since 1.0 */
typedef int (*eo_tile_url_fn)(void *user, const char *url, eo_tile_sink *sink);

/** Let datasets opened on this context (and the worker contexts made from
 *  it) read http:// and https:// URL templates through fn (NULL removes
 *  it). user must outlive those datasets. @since 1.0 */
EO_API eo_status eo_ctx_set_tile_url_fetcher(eo_ctx *ctx, eo_tile_url_fn fn, void *user);

/** Open a tile pyramid as a dataset: path is a folder of tiles, an MBTiles
 *  file, or a URL template: {z}, {x}, {y} (XYZ row), {-y} (TMS row) and
 *  {q} (QuadKey) are replaced, e.g. "https://host/{z}/{x}/{y}.png" (fetched
 *  by the context's eo_ctx_set_tile_url_fetcher: the library does no
 *  networking) or "/data/{z}/{x}/{-y}.jpg" (read as files).
 *  opts (required) give the zoom and the extent. Errors:
 *  io.NotFound, source.Invalid (not an MBTiles file, a truncated one, no
 *  folder for the zoom), arg.Invalid (no zoom or extent), limit.Exceeded
 *  (an extent wider or taller than 2^31 - 1 pixels). Missing tiles are read
 *  as nodata / alpha 0 and counted (eo_dataset_tiles_missing); a corrupt
 *  tile fails the read with io.Read naming z/x/y and the file. @since 1.0 */
EO_API eo_status eo_dataset_open_tiles(eo_ctx *ctx, eo_dataset **out, const char *path,
                                       const eo_tilesrc_opts *opts);
/** The same over a host callback (user is passed to it). @since 1.0 */
EO_API eo_status eo_dataset_open_tiles_callback(eo_ctx *ctx, eo_dataset **out, eo_tile_fetch_fn fn,
                                                void *user, const eo_tilesrc_opts *opts);
/** Tiles of a tile dataset found missing so far (each counted once), 0 for
 *  any other dataset. @since 1.0 */
EO_API int64_t eo_dataset_tiles_missing(const eo_dataset *ds);
/** A tile dataset's source and counters as a JSON object (release with
 *  eo_free): source, kind ("folder", "mbtiles", "callback", "url",
 *  "template"), zoom, scheme, tile_size, the tile range (x_min, y_min,
 *  x_max, y_max, XYZ), cover (tiles to fetch: the AOI's cover, else the
 *  range), fetched (fetches that returned bytes, each tile once while the
 *  dataset is open unless it left the cache), found (distinct tiles
 *  decoded), missing, corrupt, failed (fetch errors), failures (up to 100
 *  objects {z, x, y, where (file or URL), kind ("corrupt", "error"),
 *  error}), decoded (decodes so far, a tile decoded again after leaving the
 *  cache counts again), cache_hits, cache_bytes, cache_max_bytes,
 *  last_error, and gdal_path: a name GDAL opens in this process (a VRT) for
 *  as long as the dataset is open. source.Invalid for another dataset.
 *  @since 1.0 */
EO_API eo_status eo_dataset_tiles_info(eo_ctx *ctx, char **out_json, const eo_dataset *ds);

/** Why a read of a tile dataset found nothing (or little): one line for an
 *  error message or a warning, e.g. "no tile at z18 in XYZ order in DIR (12
 *  of 12 missing); the folder has tilemapresource.xml: is it TMS (scheme
 *  tms)?; the folder has zooms 14..16"; it names tiles found at other zooms,
 *  rows that exist in the other row order, and an AOI (optional, any CRS)
 *  whose coordinates look swapped (latitude first) when the swapped AOI
 *  meets existing tiles. Probes at most a few tiles of a callback or URL
 *  source. Release with eo_free. @since 1.0 */
EO_API eo_status eo_tilesrc_diagnose(eo_ctx *ctx, char **out_msg, const eo_dataset *ds,
                                     const eo_geom *aoi);

/** The name GDAL opens for any dataset (borrowed; "" for NULL): the file's
 *  path, or, for a mosaic or a tile dataset, an in-memory VRT that GDAL
 *  opens in this process while the dataset is open. Lets a host hand a
 *  tile dataset to code that takes a path. @since 1.0 */
EO_API const char *eo_dataset_gdal_path(const eo_dataset *ds);

#ifdef __cplusplus
}
#endif
#endif /* EOPROC_TILESRC_H */
