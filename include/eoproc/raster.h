/*
 * eoproc/raster.h - datasets (lazy sources) and rasters (pixels + georeferencing).
 */
#ifndef EOPROC_RASTER_H
#define EOPROC_RASTER_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Pixel data types. Numbers never change. */
typedef int32_t eo_dtype;
#define EO_DT_UNKNOWN 0
#define EO_DT_U8 1
#define EO_DT_I8 2
#define EO_DT_U16 3
#define EO_DT_I16 4
#define EO_DT_U32 5
#define EO_DT_I32 6
#define EO_DT_U64 7
#define EO_DT_I64 8
#define EO_DT_F32 9
#define EO_DT_F64 10

/** Bytes per sample, 0 for an unknown type. @since 1.0 */
EO_API size_t eo_dtype_size(eo_dtype dt);
/** "uint8", "int16", "float32", ...; "unknown" otherwise. @since 1.0 */
EO_API const char *eo_dtype_name(eo_dtype dt);
/** Inverse of eo_dtype_name (also accepts "byte", "u8", "f32", ...);
 *  EO_DT_UNKNOWN when the name is not known. @since 1.0 */
EO_API eo_dtype eo_dtype_from_name(const char *name);

/* Resampling methods. */
#define EO_RESAMPLE_NEAREST 0
#define EO_RESAMPLE_BILINEAR 1
#define EO_RESAMPLE_CUBIC 2
#define EO_RESAMPLE_AVERAGE 3
#define EO_RESAMPLE_MODE 4
#define EO_RESAMPLE_LANCZOS 5

/** "nearest", "bilinear", ...; NULL for an unknown method. @since 1.0 */
EO_API const char *eo_resampling_name(int32_t method);
/** -1 when the name is not known. @since 1.0 */
EO_API int32_t eo_resampling_from_name(const char *name);

/* ------------------------------------------------------------------------ */
/* Rasters: pixels in memory, band-sequential, rows top to bottom.           */
/* Sample (band b, row y, col x) is at ((b * height + y) * width + x).       */
/* ------------------------------------------------------------------------ */
typedef struct eo_raster eo_raster;

/** A zero-filled raster with no georeferencing. @since 1.0 */
EO_API eo_status eo_raster_new(eo_ctx *ctx, eo_raster **out, int64_t width, int64_t height,
                               int32_t bands, eo_dtype dtype);
/** Accepts NULL. @since 1.0 */
EO_API void eo_raster_free(eo_raster *r);

EO_API int64_t eo_raster_width(const eo_raster *r);
EO_API int64_t eo_raster_height(const eo_raster *r);
EO_API int32_t eo_raster_band_count(const eo_raster *r);
EO_API eo_dtype eo_raster_dtype(const eo_raster *r);
/** Pixels (borrowed; valid until eo_raster_free). @since 1.0 */
EO_API void *eo_raster_data(eo_raster *r);
/** Size of eo_raster_data in bytes. @since 1.0 */
EO_API size_t eo_raster_nbytes(const eo_raster *r);
/** Copy the pixels into a caller buffer of capacity bytes (at least
 *  eo_raster_nbytes). @since 1.0 */
EO_API eo_status eo_raster_copy_to(eo_ctx *ctx, const eo_raster *r, void *buf, size_t capacity);

/** GDAL-order geotransform: x = gt[0] + col*gt[1] + row*gt[2],
 *  y = gt[3] + col*gt[4] + row*gt[5]. A raster without one has the identity
 *  (0,1,0,0,0,1) and eo_raster_has_geotransform() == 0. @since 1.0 */
EO_API void eo_raster_get_geotransform(const eo_raster *r, double gt[6]);
EO_API int32_t eo_raster_has_geotransform(const eo_raster *r);
EO_API eo_status eo_raster_set_geotransform(eo_ctx *ctx, eo_raster *r, const double gt[6]);
/** CRS as WKT (borrowed), "" when unknown. @since 1.0 */
EO_API const char *eo_raster_crs_wkt(const eo_raster *r);
/** Set the CRS from any definition PROJ/GDAL accept ("EPSG:32633", WKT,
 *  PROJJSON); NULL or "" clears it. @since 1.0 */
EO_API eo_status eo_raster_set_crs(eo_ctx *ctx, eo_raster *r, const char *crs);
/** Nodata value shared by all bands; *has_nodata = 0 when there is none. @since 1.0 */
EO_API void eo_raster_get_nodata(const eo_raster *r, double *value, int32_t *has_nodata);
EO_API eo_status eo_raster_set_nodata(eo_ctx *ctx, eo_raster *r, double value);
EO_API void eo_raster_clear_nodata(eo_raster *r);

/* Options for writing a raster to a file through GDAL. */
typedef struct eo_write_opts eo_write_opts;
EO_API eo_status eo_write_opts_new(eo_ctx *ctx, eo_write_opts **out);
EO_API void eo_write_opts_free(eo_write_opts *o);
/** "none" (default), "deflate", "lzw", "zstd". @since 1.0 */
EO_API eo_status eo_write_opts_set_compress(eo_ctx *ctx, eo_write_opts *o, const char *method);
/** Tiled with this block size (16..4096, multiple of 16), or 0 for strips
 *  (the default). @since 1.0 */
EO_API eo_status eo_write_opts_set_tiled(eo_ctx *ctx, eo_write_opts *o, int32_t blocksize);

/** Write a GeoTIFF through GDAL, to a temporary name beside path that is
 *  renamed into place on success and removed on failure. opts may be NULL.
 *  @since 1.0 */
EO_API eo_status eo_raster_write(eo_ctx *ctx, const eo_raster *r, const char *path,
                                 const eo_write_opts *opts);

/* ------------------------------------------------------------------------ */
/* Datasets: lazy sources (a file GDAL reads).                               */
/* ------------------------------------------------------------------------ */
typedef struct eo_dataset eo_dataset;

/** Open any raster GDAL reads, read-only. Nothing is ever written beside
 *  it. Errors: io.NotFound, io.Read, source.Invalid. @since 1.0 */
EO_API eo_status eo_dataset_open(eo_ctx *ctx, eo_dataset **out, const char *path);
/** Open several rasters as one dataset (a mosaic): they must share the CRS,
 *  band count, data types and resolution and be north-up; otherwise
 *  source.Mismatch names the file that differs and how. Where files
 *  overlap, the later one wins. @since 1.0 */
EO_API eo_status eo_dataset_open_mosaic(eo_ctx *ctx, eo_dataset **out, const char *const *paths,
                                        int32_t count);
/** Accepts NULL. @since 1.0 */
EO_API void eo_dataset_close(eo_dataset *ds);

EO_API int64_t eo_dataset_width(const eo_dataset *ds);
EO_API int64_t eo_dataset_height(const eo_dataset *ds);
EO_API int32_t eo_dataset_band_count(const eo_dataset *ds);
/** Data type of band (1-based). EO_DT_UNKNOWN for a bad band. @since 1.0 */
EO_API eo_dtype eo_dataset_band_dtype(const eo_dataset *ds, int32_t band);
/** Geotransform; the identity with return 0 when the file has none. @since 1.0 */
EO_API int32_t eo_dataset_get_geotransform(const eo_dataset *ds, double gt[6]);
/** CRS as WKT (borrowed), "" when unknown. @since 1.0 */
EO_API const char *eo_dataset_crs_wkt(const eo_dataset *ds);
/** Number of overview levels (of band 1). @since 1.0 */
EO_API int32_t eo_dataset_overview_count(const eo_dataset *ds);

/** Metadata as a JSON object (release with eo_free): path, driver, width,
 *  height, band count, bands (type, nodata, description, colour
 *  interpretation, overviews), CRS (EPSG code where one matches, WKT),
 *  geotransform, pixel size, rotation, footprint in EPSG:4326 as a GeoJSON
 *  polygon, bbox in EPSG:4326. @since 1.0 */
EO_API eo_status eo_dataset_info(eo_ctx *ctx, char **out_json, eo_dataset *ds);

/* Options for reading a window. */
typedef struct eo_read_opts eo_read_opts;
EO_API eo_status eo_read_opts_new(eo_ctx *ctx, eo_read_opts **out);
EO_API void eo_read_opts_free(eo_read_opts *o);
/** Output data type; default: the type of the first band read. @since 1.0 */
EO_API eo_status eo_read_opts_set_dtype(eo_ctx *ctx, eo_read_opts *o, eo_dtype dtype);
/** Bands to read (1-based, in this order); default all. @since 1.0 */
EO_API eo_status eo_read_opts_set_bands(eo_ctx *ctx, eo_read_opts *o, const int32_t *bands,
                                        int32_t count);
/** Output size; default the window's size. A smaller size reads from the
 *  overview whose resolution is just finer than the output. @since 1.0 */
EO_API eo_status eo_read_opts_set_out_size(eo_ctx *ctx, eo_read_opts *o, int64_t width,
                                           int64_t height);
/** Resampling when the output size differs from the window's (default
 *  nearest). @since 1.0 */
EO_API eo_status eo_read_opts_set_resampling(eo_ctx *ctx, eo_read_opts *o, int32_t method);
/** Read the bands' validity masks (GDAL mask bands: 0 = invalid, 255 =
 *  valid, from nodata, an alpha band, a mask file or all valid) instead of
 *  their pixels, as uint8, with the same window, size and resampling. @since 1.1 */
EO_API eo_status eo_read_opts_set_masks(eo_ctx *ctx, eo_read_opts *o, int32_t on);

/** Read a window (NULL: the whole raster) into a new raster carrying the
 *  window's georeferencing, the CRS and the nodata value of the first band
 *  read. The window must lie inside the raster. opts may be NULL. @since 1.0 */
EO_API eo_status eo_dataset_read(eo_ctx *ctx, eo_raster **out, eo_dataset *ds,
                                 const eo_window *window, const eo_read_opts *opts);

/** A CRS (EPSG:n, WKT, PROJ string, PROJJSON: anything GDAL's
 *  OSRSetFromUserInput takes) described as a JSON object: "name", "wkt"
 *  (WKT1_GDAL), "wkt2" (WKT2_2019), "proj4", "projjson", "geographic",
 *  "projected", "units" and "units_factor" (metre or radian per unit), and
 *  "matches": the authority entries that match it, best first, each
 *  {"authority", "code", "confidence"} (GDAL's OSRFindMatches). Errors:
 *  crs.Invalid. Release with eo_free(). @since 1.1 */
EO_API eo_status eo_crs_describe(eo_ctx *ctx, char **out_json, const char *crs);

#ifdef __cplusplus
}
#endif
#endif /* EOPROC_RASTER_H */
