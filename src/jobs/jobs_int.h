/*
 * jobs_int.h - internals of the jobs layer, the work that combines layers:
 * the detect job's plan (parameters resolved into a source, an AOI, a model
 * and partitions; detect.c), the job store (SQLite; job.c) and the
 * sliding-window segmentation (segment.c). Never installed.
 */
#ifndef EOI_JOBS_INT_H
#define EOI_JOBS_INT_H

#include "eoi.h"
#include "eoi_param.h"

#include <sqlite3.h>

/* The schema validator of the registry (src/ops/schema.c), used here to
 * check and complete the parameters a job keeps. */
eo_status eoi_schema_validate(eo_ctx *ctx, json_object *schema, json_object *value,
                              const char *path);

/* The "detect" operation's parameter schema (detect.c). */
/* The detect job's parameters (detect_params.c), and their JSON Schema. */
extern const eoi_param eoi_detect_params[];
#define EOI_DETECT_REQUIRED "src,aoi"
#define EOI_DETECT_POSITIONAL "src,aoi,out"
eo_status eoi_detect_schema(eo_ctx *ctx, json_object **out);

struct eo_detect_opts {
    json_object *params; /* set parameters, not yet defaults */
};

#define EOI_MAX_CLASSES 255

/* Post-processing blocks. */
enum { BLK_MIN_AREA, BLK_FILL_HOLES, BLK_SIMPLIFY, BLK_REGULARIZE, BLK_CLASSIFY, BLK_N };

/* A detect run resolved from its parameters. */
typedef struct eoi_tile_cache eoi_tile_cache; /* below */

typedef struct eoi_plan {
    double t0;           /* monotonic seconds when planning began */
    json_object *params; /* validated, defaults filled (owned) */
    eo_dataset *ds;      /* the source */
    bool own_ds;
    eo_geom *aoi; /* as given (owned copy) */
    struct eoi_coverage *cov;
    eo_model *model;
    struct eo_segment_opts *so;
    double gt[6];
    char *wkt;
    int64_t width, height; /* the source's size */
    eo_window area;        /* the AOI's window of the source */
    int64_t tile, overlap, step;
    eo_window *parts;
    int64_t nparts;
    char *class_names[EOI_MAX_CLASSES + 1];
    int32_t nclass_names;
    int32_t background;
    bool blocks[BLK_N];
    double aoi_km2;
    /* a tile source */
    bool is_tiles;
    int32_t zoom, scheme;
    char *src_label;
    /* tile counts already attributed to partitions in this process: every
     * fetch (the plan's own reads too) is counted once, by the partition
     * that runs next */
    int64_t counted_decoded, counted_missing, counted_corrupt;
    eoi_tile_cache *cache; /* model tiles on the partitions' seams, or NULL */
} eoi_plan;

/* Resolve params (validated here) with an optional host dataset and AOI.
 * Checks the limits before any work. */
eo_status eoi_plan_make(eo_ctx *ctx, eoi_plan *p, json_object *params, eo_dataset *src,
                        const eo_geom *aoi);
void eoi_plan_clear(eoi_plan *p);

/* What a partition gave. */
typedef struct eoi_part_result {
    eo_features *f;
    int64_t aoi_px, valid_px, tiles_run;
    int64_t hist[256];
    int64_t fetched, missing, corrupt;
} eoi_part_result;

/* Announce (delta 1) or withdraw (-1) partition i's reads (its window
 * and the model tiles' halo) to a tile source, which keeps their tiles. */
void eoi_plan_expect(eoi_plan *p, int64_t i, int32_t delta);
/* Run partition i of the plan. */
eo_status eoi_plan_run_part(eo_ctx *ctx, eoi_plan *p, int64_t i, eoi_part_result *r);
/* Post-process merged features, add warnings/coverage checks; writes the
 * output. totals: the partitions' counts summed. */
eo_status eoi_plan_finish(eo_ctx *ctx, eoi_plan *p, eo_features *f, const eoi_part_result *tot,
                          json_object *result);
/* The estimate of a plan into result. */
eo_status eoi_plan_estimate(eo_ctx *ctx, eoi_plan *p, json_object *result);

/* Schema-validate params (filling defaults). */
eo_status eoi_detect_validate(eo_ctx *ctx, json_object *params);

/* ---- segment.c ----------------------------------------------------------- */
/* Load a model for segmentation: planned for want (batch, channels, tile
 * height, tile width) on its dynamic axes, its fixed ones kept. */
eo_status eoi_segment_model_load(eo_ctx *ctx, eo_model **out, const char *path,
                                 const int64_t want[4], const char *precision);

/* Segmentation of one window into memory (detect's partitions): the
 * pixels are those eo_segment gives for the same window of a whole run
 * (the tile grid is the raster's), nothing is written to disk. */
/* Model outputs of segmentation tiles kept between calls of
 * eoi_segment_mem on one grid (tile_cache.c): the tiles along a partition
 * seam run once. Not thread-safe: one caller at a time. */
typedef struct eoi_tile_key {
    int64_t ky, kx;         /* the tile */
    int32_t k;              /* its planes */
    int64_t th, tw, sy, sx; /* the grid: tile size and step */
} eoi_tile_key;
/* A cache of at most cap tiles (least recently used ones replaced). */
eo_status eoi_tile_cache_new(eo_ctx *ctx, eoi_tile_cache **out, int32_t cap);
void eoi_tile_cache_free(eoi_tile_cache *c);
/* The tile's probabilities and nodata flags. The entry is pinned: no put
 * replaces it, and the pointers stay valid, until eoi_tile_cache_unpin. */
bool eoi_tile_cache_get(eoi_tile_cache *c, const eoi_tile_key *key, const float **p,
                        const uint8_t **nod);
void eoi_tile_cache_unpin(eoi_tile_cache *c);
/* Keep a copy (silently nothing when memory is short or every entry is
 * pinned: the tile runs again). */
void eoi_tile_cache_put(eo_ctx *ctx, eoi_tile_cache *c, const eoi_tile_key *key, const float *p,
                        const uint8_t *nod);

typedef struct eoi_seg_mem {
    eo_window area;  /* the window segmented: the request within the AOI's window */
    int32_t classes; /* model output channels (1: one probability, class 1 = p >= threshold) */
    uint8_t *cls;    /* area.width x area.height classes, 255 = nodata / outside the AOI */
    float *prob;     /* the same: probability of the pixel's class, NaN = nodata */
    float *probs;    /* with want_probs: a plane per channel (NaN = nodata) */
    bool want_probs; /* in */
    eoi_tile_cache *cache; /* in: tiles shared with other calls on the same grid, or NULL */
    int64_t aoi_px;        /* pixels of the area inside the AOI (all without one) */
    int64_t valid_px;      /* of those, pixels with imagery */
    int64_t hist[256];     /* classes of the valid pixels */
    int64_t tiles_run;     /* model tiles run (not those taken from the cache) */
} eoi_seg_mem;
/* Segment window win of ds (within aoi when not NULL) into out (its
 * buffers are allocated here; release with eoi_seg_mem_clear). An area
 * that misses the AOI gives area.width == 0 and no buffers. */
eo_status eoi_segment_mem(eo_ctx *ctx, eoi_seg_mem *out, const eo_model *model,
                          const eo_dataset *ds, const eo_geom *aoi, const eo_window *win,
                          const eo_segment_opts *opts);
void eoi_seg_mem_clear(eoi_seg_mem *m);
/* Read band `band` too and treat pixels where it is 0 as nodata (a tile
 * dataset's alpha band); 0 = none. */
void eoi_segment_opts_set_mask_band(eo_segment_opts *o, int32_t band);
/* The model-input options of a validated parameter object, shared by
 * eo_segment_opts_set_json (the segment operation's) and the detect job:
 * "scale" (a number, or a fraction such as "1/255"), "mean", "std",
 * "bands", "threshold", "activation". Missing keys keep o's values.
 * *nbands: the bands given, 0 without. */
eo_status eoi_segment_opts_from_json(eo_ctx *ctx, eo_segment_opts *o, json_object *params,
                                     int32_t *nbands);

#endif
