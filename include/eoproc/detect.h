/*
 * eoproc/detect.h - the main job: objects (building footprints) in an AOI
 * from imagery, in one call, run as a resumable job over partitions.
 *
 * eo_detect reads the source inside the AOI, runs a segmentation model in
 * overlapping tiles, turns each class other than the background into
 * polygons, post-processes them (minimum area, hole filling,
 * simplification, regularization: named blocks, each on or off) and writes
 * them as GeoJSON (RFC 7946), GeoPackage or FlatGeobuf through a temporary
 * name. Nothing intermediate is written to disk.
 *
 * The work is split into partitions: squares of whole model tiles on the
 * model's tile grid, each read, segmented and polygonized on its own (the
 * tiles around a partition's edge are run for it too, so no seam shows);
 * their footprints are merged across the seams into the same set one pass
 * over the whole AOI gives. A job folder (option "job") keeps the
 * parameters, each partition's state, attempts, timings, errors and
 * features in SQLite, so a run killed at any moment resumes where it
 * stopped, and a partition that failed (a corrupt tile, a fetch error)
 * fails alone and can be rerun after the cause is fixed.
 *
 * Process-wide: while a partition's tiles run on several threads, OpenBLAS
 * (whose thread count is one setting for the whole process) runs each GEMM
 * on one thread, as eo_segment does; the count in force before is
 * restored when the last such run in the process ends.
 *
 * Options are the parameters of the registry operation "detect" (eoproc
 * detect --help lists them): set them by name as JSON values.
 */
#ifndef EOPROC_DETECT_H
#define EOPROC_DETECT_H

#include "geom.h"
#include "raster.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eo_detect_opts eo_detect_opts;

/** Options; NULL means defaults. @since 1.0 */
EO_API eo_status eo_detect_opts_new(eo_ctx *ctx, eo_detect_opts **out);
/** Accepts NULL. @since 1.0 */
EO_API void eo_detect_opts_free(eo_detect_opts *o);
/** Set parameter `name` of the "detect" operation to a JSON value
 *  (`"18"`, `"\"models/buildings.onnx\""`, `"[1, 2, 3]"`); checked
 *  against the operation's schema (param.Invalid naming it). @since 1.0 */
EO_API eo_status eo_detect_opts_set(eo_ctx *ctx, eo_detect_opts *o, const char *name,
                                    const char *json_value);
/** The ONNX model (default: the demo building model, see README). @since 1.0 */
EO_API eo_status eo_detect_opts_set_model(eo_ctx *ctx, eo_detect_opts *o, const char *path);
/** The zoom a tile source is read at. @since 1.0 */
EO_API eo_status eo_detect_opts_set_zoom(eo_ctx *ctx, eo_detect_opts *o, int32_t zoom);
/** Keep the job in this folder (resumable; see eo_job_open). @since 1.0 */
EO_API eo_status eo_detect_opts_set_job_dir(eo_ctx *ctx, eo_detect_opts *o, const char *dir);
/** Set every member of a JSON object (`{"zoom": 18, "tile": 256}`) as
 *  eo_detect_opts_set sets one; the first refused stops (param.Invalid
 *  naming it; those before it stay set). @since 1.1 */
EO_API eo_status eo_detect_opts_set_json(eo_ctx *ctx, eo_detect_opts *o, const char *json);
/** The JSON Schema (draft 2020-12) of the options: every parameter with its
 *  type, default, range or choices and description, "required" and
 *  "x-positional" (the command line's order). *out_json: release with
 *  eo_free. @since 1.1 */
EO_API eo_status eo_detect_schema(eo_ctx *ctx, char **out_json);

/** Detect objects in aoi from src and write them to out (NULL: the
 *  FeatureCollection goes into the result's "geojson" member). src may be
 *  NULL when the options name a source ("src": a file, a list of files as
 *  a mosaic, a tile folder or an MBTiles file); aoi may be NULL when they
 *  name one ("aoi"). *out_json (may be NULL; eo_free) receives the result:
 *  features, AOI area, tiles fetched / missing / corrupt, the share of the
 *  AOI with imagery, partitions, timings and warnings. Errors:
 *  aoi.TooLarge (area, vertices or tiles over the limits, before any
 *  work), source.NoDataInAOI (less imagery in the AOI than min_coverage,
 *  with the likely cause), source.PixelSizeTooHigh, model.Invalid,
 *  a partition's failure (the others done; with a job folder they keep).
 *  @since 1.0 */
EO_API eo_status eo_detect(eo_ctx *ctx, char **out_json, eo_dataset *src, const eo_geom *aoi,
                           const char *out, const eo_detect_opts *opts);

/** What a run would take, without running it: AOI area (km2), tiles to
 *  fetch (the polygon's cover at the zoom), pixels, partitions, model
 *  tiles, model GFLOP, the expected time on this machine (from a short
 *  calibration of the model, cached) and, with "price_per_km2", the
 *  cost. @since 1.0 */
EO_API eo_status eo_detect_estimate(eo_ctx *ctx, char **out_json, eo_dataset *src,
                                    const eo_geom *aoi, const eo_detect_opts *opts);

/* ------------------------------------------------------------------------ */
/* Jobs                                                                      */
/* ------------------------------------------------------------------------ */
typedef struct eo_job eo_job;

/** Create a job in folder dir (made if needed; it must not hold a job
 *  already) for a detect run with these options; src and aoi as for
 *  eo_detect (a job made with a host's dataset can be resumed only by a
 *  host that gives it again with eo_job_set_source). Nothing runs yet.
 *  @since 1.0 */
EO_API eo_status eo_job_create(eo_ctx *ctx, eo_job **out, const char *dir, eo_dataset *src,
                               const eo_geom *aoi, const char *out_path,
                               const eo_detect_opts *opts);
/** Open the job in dir. @since 1.0 */
EO_API eo_status eo_job_open(eo_ctx *ctx, eo_job **out, const char *dir);
/** Accepts NULL. @since 1.0 */
EO_API void eo_job_close(eo_job *job);
/** Use src (borrowed; it must outlive the job) as the job's source.
 *  @since 1.0 */
EO_API eo_status eo_job_set_source(eo_ctx *ctx, eo_job *job, eo_dataset *src);
/** Status JSON: status (UNPROCESSED, IN_PROGRESS, OK, FAILED, CANCELLED),
 *  percentCompleted, partitions (total, done, failed, pending), tiles
 *  fetched / missing / corrupt, elapsed and ETA seconds, the failures'
 *  messages and, when finished, the result. @since 1.0 */
EO_API eo_status eo_job_status(eo_ctx *ctx, char **out_json, eo_job *job);
/** The partitions: id, window, status, attempts, seconds, error.
 *  @since 1.0 */
EO_API eo_status eo_job_partitions(eo_ctx *ctx, char **out_json, eo_job *job);
/** Run one partition (a distributed worker's unit of work): its features
 *  are stored; a partition already OK is not run again. @since 1.0 */
EO_API eo_status eo_job_run_partition(eo_ctx *ctx, eo_job *job, int64_t id);
/** Run every partition not yet OK and not FAILED (a killed run's
 *  unfinished ones too), then finalize. @since 1.0 */
EO_API eo_status eo_job_run(eo_ctx *ctx, char **out_json, eo_job *job);
/** Mark the FAILED partitions for another attempt (eo_job_run runs them).
 *  @since 1.0 */
EO_API eo_status eo_job_restart(eo_ctx *ctx, eo_job *job);
/** Merge every partition's features across the seams, post-process and
 *  write the output: the job's result (all partitions must be OK).
 *  @since 1.0 */
EO_API eo_status eo_job_finalize(eo_ctx *ctx, char **out_json, eo_job *job);
/** Ask the job in dir to stop (from any process): a run stops at its next
 *  check and the job is CANCELLED; resume it with eo_job_run. @since 1.0 */
EO_API eo_status eo_job_cancel(eo_ctx *ctx, const char *dir);

#ifdef __cplusplus
}
#endif
#endif /* EOPROC_DETECT_H */
