/*
 * eoproc/cog.h - the Cloud-Optimized GeoTIFF writer.
 *
 * Tiled (256 or 512 px), compressed (ZSTD, DEFLATE, LZW or none), with
 * overviews down to one tile, per-band statistics in the GDAL metadata tag,
 * GeoKeys, nodata, band descriptions. The layout is the COG one: all IFDs
 * at the start (full resolution first), then the tiles, smallest overview
 * first, tiles of a level in row-major order. Up to 4 bands of 8 bits are
 * pixel-interleaved; anything else is band-interleaved (PlanarConfiguration
 * 2), the bands of one tile stored next to each other.
 *
 * The writer streams: it pulls one row of tiles at a time from the source,
 * so memory is bounded by the width, the tile size and the thread count,
 * never by the raster's height. Tiles compress on the context's threads and
 * the file is the same byte for byte whatever the thread count. The file is
 * written to a temporary name beside the target and renamed at the end; on
 * any error nothing is left at the target and the temporary is removed.
 *
 * Process-wide: GDAL's block cache is one per process. While it reads its
 * source the writer keeps that cache under 96 MiB by evicting the least
 * recently used blocks (GDALFlushCacheBlock), whoever they belong to, so
 * that memory stays bounded on rasters of any size; a host using GDAL
 * itself in the same process may see its own cached blocks dropped (they
 * are read again, nothing is lost). Every operation that writes a raster
 * (index, band math, change, clip, segment, tiles_read, ...) writes it
 * through this writer.
 */
#ifndef EOPROC_COG_H
#define EOPROC_COG_H

#include "core.h"
#include "raster.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Options (NULL = defaults). */
typedef struct eo_cog_opts eo_cog_opts;

/** @since 1.0 */
EO_API eo_status eo_cog_opts_new(eo_ctx *ctx, eo_cog_opts **out);
/** Accepts NULL. @since 1.0 */
EO_API void eo_cog_opts_free(eo_cog_opts *o);
/** "zstd" (default), "deflate", "lzw" or "none". @since 1.0 */
EO_API eo_status eo_cog_opts_set_compress(eo_ctx *ctx, eo_cog_opts *o, const char *method);
/** Compression level: ZSTD 1..22 (default 9), DEFLATE 1..12 (default 6);
 *  0 = the default. Ignored for LZW and none. @since 1.0 */
EO_API eo_status eo_cog_opts_set_level(eo_ctx *ctx, eo_cog_opts *o, int32_t level);
/** "none" (default), "horizontal" (integer types) or "float" (float types).
 *  @since 1.0 */
EO_API eo_status eo_cog_opts_set_predictor(eo_ctx *ctx, eo_cog_opts *o, const char *predictor);
/** Tile size: 256 or 512 (default). @since 1.0 */
EO_API eo_status eo_cog_opts_set_blocksize(eo_ctx *ctx, eo_cog_opts *o, int32_t blocksize);
/** Overview levels: -1 = auto (halve until the level fits in one tile, the
 *  default), 0 = none, N = at most N levels. @since 1.0 */
EO_API eo_status eo_cog_opts_set_overviews(eo_ctx *ctx, eo_cog_opts *o, int32_t levels);
/** Overview resampling, an EO_RESAMPLE_* method (nearest, average, mode,
 *  bilinear, cubic or lanczos, each as GDAL's overviews compute it; the
 *  convolutions use kernels stretched by the reduction), or -1 = auto (the
 *  default): nearest for categorical data (integers with a colour table or
 *  a raster attribute table), average otherwise. @since 1.0 */
EO_API eo_status eo_cog_opts_set_resampling(eo_ctx *ctx, eo_cog_opts *o, int32_t method);
/** Nodata value written to the file (overrides the source's). It must be a
 *  value of the data type (NaN is allowed for floats). @since 1.0 */
EO_API eo_status eo_cog_opts_set_nodata(eo_ctx *ctx, eo_cog_opts *o, double nodata);
/** BigTIFF: "auto" (default: when the file could pass 4 GiB), "yes", "no".
 *  @since 1.0 */
EO_API eo_status eo_cog_opts_set_bigtiff(eo_ctx *ctx, eo_cog_opts *o, const char *mode);
/** Threads for compression; 0 = the context's (default). The output does
 *  not depend on it. @since 1.0 */
EO_API eo_status eo_cog_opts_set_threads(eo_ctx *ctx, eo_cog_opts *o, int32_t threads);
/** Compute and embed per-band statistics (default 1). @since 1.0 */
EO_API eo_status eo_cog_opts_set_stats(eo_ctx *ctx, eo_cog_opts *o, int32_t enable);

/** Write a COG at path from a dataset: every band, at full resolution (the
 *  source's own overviews are not used), with its CRS, geotransform,
 *  nodata, band descriptions, colour interpretation and colour table.
 *  Errors: io.Write (including a full disk), io.Read, arg.Invalid,
 *  unsupported, cancelled. @since 1.0 */
EO_API eo_status eo_cog_write(eo_ctx *ctx, const char *path, const eo_dataset *src,
                              const eo_cog_opts *opts);
/** The same from a raster in memory. @since 1.0 */
EO_API eo_status eo_cog_write_raster(eo_ctx *ctx, const char *path, const eo_raster *r,
                                     const eo_cog_opts *opts);

#ifdef __cplusplus
}
#endif
#endif /* EOPROC_COG_H */
