/*
 * raster_int.h - internals of the raster layer: the layouts of eo_raster,
 * eo_dataset and the option objects, the dtype / resampling mappings to
 * GDAL, the window reader and strip runner, and AOI coverage. Higher layers
 * (cog, tiles, analytics, ...) include this to reach the GDAL handle of a
 * dataset or the pixels of a raster. Never installed.
 */
#ifndef EOPROC_RASTER_INT_H
#define EOPROC_RASTER_INT_H

#include "eoi.h"

#include <gdal.h>

/* Pixel buffers are aligned to this many bytes (one cache line, one
 * AVX-512 register). */
#define EOI_RASTER_ALIGN 64

struct eo_raster {
    int64_t width;
    int64_t height;
    int32_t bands;
    eo_dtype dtype;
    void *data;  /* EOI_RASTER_ALIGN-aligned, inside alloc */
    void *alloc; /* what eoi_malloc returned */
    size_t nbytes;
    double gt[6];
    int32_t has_gt;
    char *wkt; /* never NULL once built: "" when unknown */
    double nodata;
    int32_t has_nodata;
    uint64_t nodata_bits; /* exact nodata of a 64-bit type (eoi_nodata_bits) */
};

struct eo_dataset {
    GDALDatasetH h;
    /* Opened on first need with OVERVIEW_LEVEL=NONE: a reduced-resolution
     * read at full resolution must not be redirected by GDAL to an
     * overview coarser than the one eoproc picked. */
    GDALDatasetH h_full;
    char *path;         /* names the dataset in messages and info */
    char *source;       /* what GDAL opens: the path, or a mosaic's VRT in /vsimem */
    bool owns_source;   /* source is an in-memory file to remove at close */
    const char *driver; /* GDAL short name, static storage of GDAL */
    /* " (a PNG file, though named .tif)" when the name says GeoTIFF and the
     * content is another format, else "": appended to the path in messages
     * about what such a file lacks */
    char kind_note[80];
    int64_t width;
    int64_t height;
    int32_t band_count;
    eo_dtype *dtypes; /* band_count entries, index 0 = band 1 */
    double gt[6];
    int32_t has_gt;
    char *wkt; /* WKT2:2019 on one line; "" when unknown */
    int32_t overview_count;
    /* What the tiles layer attaches to a dataset. The raster layer sits
     * below it and calls it only through these pointers, set with the
     * objects they take (tiles/tile_render.c, tiles/tilesrc.c). */
    struct eoi_tile_renderer *tiles; /* eo_tile_read's renderer, kept between tiles */
    void (*tiles_free)(struct eoi_tile_renderer *tr);
    struct eoi_tilesrc *tilesrc; /* a tile dataset's source, else NULL */
    /* eoi_tilesrc_read and eoi_tilesrc_release (tiles_int.h) */
    eo_status (*tilesrc_read)(eo_ctx *ctx, struct eoi_tilesrc *s, const char *what,
                              const eo_window *win, const int32_t *bands, int32_t nb, void *dst);
    void (*tilesrc_release)(struct eoi_tilesrc *s);
};

struct eo_write_opts {
    char compress[16]; /* "NONE", "DEFLATE", "LZW", "ZSTD" */
    int32_t blocksize; /* 0 = strips */
};

#define EOI_READ_MAX_BANDS 65536

struct eo_read_opts {
    eo_dtype dtype; /* EO_DT_UNKNOWN = type of the first band read */
    int32_t *bands; /* NULL = all */
    int32_t band_count;
    int64_t out_width; /* 0 = window size */
    int64_t out_height;
    int32_t resampling;
    int32_t masks; /* read the GDAL mask bands instead of the pixels */
};

/* ---- dtype.c ----------------------------------------------------------- */
/* GDAL type that holds dt (GDT_Byte for EO_DT_I8, written with
 * PIXELTYPE=SIGNEDBYTE); GDT_Unknown for an unknown type. */
GDALDataType eoi_dtype_to_gdal(eo_dtype dt);
/* eoproc type of a GDAL band (EO_DT_I8 for a SIGNEDBYTE byte band),
 * EO_DT_UNKNOWN for complex and unknown types. */
eo_dtype eoi_dtype_of_band(GDALRasterBandH band);
/* true for EO_DT_F32 / EO_DT_F64 */
bool eoi_dtype_is_float(eo_dtype dt);
/* Store v into sample i of buf of type dt: rounded to nearest (half away
 * from zero) and saturated for integer types; NaN becomes 0. */
void eoi_dtype_store(void *buf, eo_dtype dt, size_t i, double v);
/* Sample i of buf of type dt as a double. */
double eoi_dtype_load(const void *buf, eo_dtype dt, size_t i);
/* Nodata of the 64-bit integer types: a double cannot hold every Int64 /
 * UInt64 value (2^53 + 1 rounds), so the exact value travels beside the
 * double as bits (the uint64, or the int64's two's complement). The bits
 * count only while they agree with the double (a path that sets the double
 * alone gets the double's value, saturated to the type). */
bool eoi_dtype_is_64(eo_dtype dt);
/* A band's nodata without GDAL's "approximate value" warning: the double,
 * and in *bits (may be NULL) the exact value for a 64-bit type. */
double eoi_band_nodata(GDALRasterBandH band, eo_dtype dt, int *has, uint64_t *bits);
/* The exact bits of nodata v of type dt given candidate bits (see above). */
uint64_t eoi_nodata_bits(eo_dtype dt, double v, uint64_t bits);
/* Set a band's nodata: exactly (GDAL's 64-bit setters) for 64-bit types. */
CPLErr eoi_band_set_nodata(GDALRasterBandH band, eo_dtype dt, double v, uint64_t bits);
/* Nodata as the GDAL_NODATA tag's text: "nan", "inf", "-inf", an exact
 * integer for 64-bit types, else %.17g. */
void eoi_nodata_text(char *buf, size_t cap, eo_dtype dt, double v, uint64_t bits);
/* GDAL resampling of an EO_RESAMPLE_* method (nearest for unknown ones). */
GDALRIOResampleAlg eoi_resample_to_gdal(int32_t method);

/* ---- raster.c ---------------------------------------------------------- */
/* Set the raster's CRS WKT as is (no normalization); NULL clears. */
eo_status eoi_raster_set_wkt(eo_ctx *ctx, eo_raster *r, const char *wkt);

/* ---- dataset.c ---------------------------------------------------------- */
/* Open source with GDAL into ds (whose path names it in messages) and read
 * its size, bands, geotransform and CRS. */
eo_status eoi_dataset_open_source(eo_ctx *ctx, eo_dataset *ds, bool is_dir);
/* EO_E_ARG naming the dataset unless w lies inside it. */
eo_status eoi_dataset_check_window(eo_ctx *ctx, const eo_dataset *ds, const eo_window *w);

/* Read window win of ds at full resolution, bands (1-based, nb of them) as
 * float32 planes (band-sequential, win->width * win->height each) into
 * dst. A tile dataset reads only the tiles under the window (a corrupt one
 * fails this read, naming z/x/y, not its neighbours'); any other through
 * GDAL. (dataset.c) */
eo_status eoi_dataset_read_f32(eo_ctx *ctx, const eo_dataset *ds, const eo_window *win,
                               const int32_t *bands, int32_t nb, float *dst);

/* ---- the window reader and the strip runner (strips.c) ------------------- */
/* A source: a GDAL-openable path and the bands read from it as float32,
 * with nodata turned into NaN and value * scale + offset applied. */
typedef struct eoi_source {
    const char *path; /* what GDAL opens: eo_dataset's source (a mosaic's VRT) */
    int32_t nbands;
    const int32_t *bands;
    float scale, offset;
} eoi_source;

/* Windows of one or more sources read as float32 planes by up to 64
 * workers, each with its own GDAL handles and buffers (made on its first
 * window, reused for the next ones). srcs must outlive the reader; area is
 * the part of the sources that will be read (checked against each). */
typedef struct eoi_reader eoi_reader;
eo_status eoi_reader_new(eo_ctx *ctx, eoi_reader **out, const eoi_source *srcs, int32_t nsrc,
                         const eo_window *area);
void eoi_reader_free(eoi_reader *r);
/* Planes of all the sources' bands, in order. */
int32_t eoi_reader_planes(const eoi_reader *r);
/* Read window win (pixels of the sources) on worker's handles: *planes
 * receives the planes (the worker's, valid until its next read), each
 * win->width * win->height samples. Never two calls at once for one
 * worker; does not touch a context: on failure records it in err
 * and returns the status. */
eo_status eoi_reader_read(eoi_reader *r, int32_t worker, const eo_window *win,
                          float *const **planes, eoi_werr *err);

/* Called per window with the window and the float32 planes of all
 * sources' bands (in order), each win->width * win->height samples. On
 * failure record it in err (eoi_werr_set) and return the status. */
typedef eo_status (*eoi_strip_fn)(void *user, int32_t worker, const eo_window *win,
                                  float *const *planes, eoi_werr *err);
/* Run fn over area (a window of every source) in windows of strip_rows
 * rows and a few hundred thousand pixels, on the context's threads, for
 * results kept in memory (rasters written to files go through the COG
 * writer, which pulls windows from a reader itself). Workers number
 * eoi_strips_workers(): callers size their per-worker state by it. */
eo_status eoi_strips_run(eo_ctx *ctx, const eoi_source *srcs, int32_t nsrc, const eo_window *area,
                         int64_t strip_rows, eoi_strip_fn fn, void *user, const char *stage);
int32_t eoi_strips_workers(eo_ctx *ctx, const eo_window *area, int64_t strip_rows);

/* ---- AOI coverage (coverage.c) ------------------------------------------- */
/* An AOI prepared for per-pixel inclusion on a raster grid: its rings in
 * pixel coordinates (column, row) of the geotransform. Read-only once made:
 * several threads may compute coverage from one. */
typedef struct eoi_coverage eoi_coverage;
/* aoi must be in the raster's CRS. */
eo_status eoi_coverage_new(eo_ctx *ctx, eoi_coverage **out, const eo_geom *aoi_in_raster_crs,
                           const double gt[6]);
void eoi_coverage_free(eoi_coverage *c);
/* The window of a width x height raster the AOI touches; false when the AOI
 * misses the raster. */
bool eoi_coverage_window(const eoi_coverage *c, int64_t width, int64_t height, eo_window *out);
/* out[row * win.width + col] = inclusion of the pixel (win.x + col, win.y +
 * row): 0 or 1 for EO_COVERAGE_CENTER / _ALL_TOUCHED, the share of its area
 * inside the AOI for _EXACT. row_buf holds win.width + 2 doubles. */
void eoi_coverage_compute(const eoi_coverage *c, const eo_window *win, int32_t mode, float *out,
                          double *row_buf);
/* The centre rule's included columns of raster row y within columns [x, x +
 * width): the first and last (relative to x), from the row's boundary
 * crossings alone (no per-pixel work), exactly the pixels
 * eoi_coverage_compute marks 1 in EO_COVERAGE_CENTER; false when none.
 * tmp holds eoi_coverage_segments(c) entries. */
typedef struct eoi_crossing {
    int64_t j;
    int32_t d;
} eoi_crossing;
size_t eoi_coverage_segments(const eoi_coverage *c);
bool eoi_coverage_centre_span(const eoi_coverage *c, int64_t x, int64_t width, int64_t y,
                              eoi_crossing *tmp, int64_t *first, int64_t *last);
/* One-call form: prepare, compute, free. */
eo_status eoi_aoi_coverage(eo_ctx *ctx, const eo_geom *aoi_in_raster_crs, const double gt[6],
                           eo_window win, int32_t mode, float *out);
/* The AOI in the CRS of raster ds (a copy or a reprojection). On a
 * geographic raster, parts of the AOI a whole turn (360 degrees) away from
 * the raster's columns are added where they fall on them: an AOI split at
 * the antimeridian (RFC 7946) or running past 180 covers all it should.
 * A raster without a geotransform fails here (EO_E_SOURCE, naming it). */
eo_status eoi_aoi_to_raster_crs(eo_ctx *ctx, eo_geom **out, const eo_geom *aoi,
                                const eo_dataset *ds);

#endif /* EOPROC_RASTER_INT_H */
