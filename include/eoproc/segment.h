/*
 * eoproc/segment.h - sliding-window segmentation: a model (eoproc/infer.h)
 * run over a dataset of any size in overlapping tiles, blended without
 * seams, written as a probability COG and a class COG.
 *
 * The raster is cut into tiles of tile x tile pixels that overlap by
 * `overlap` pixels. Each tile's output is weighted by a separable ramp
 * that is positive everywhere: in the outer quarter of the overlap (where
 * zero padding spoils a convolution's output) the weight is ~1e-6, across
 * the middle half it rises as a raised cosine to 1; sides on the raster's
 * edge are not ramped. Each pixel is the weighted mean of the tiles that
 * cover it, so for a fully convolutional model whose receptive field
 * spreads less than overlap / 4 beyond a pixel, the result equals running
 * the whole raster at once (away from the raster's edge).
 *
 * Input: the selected bands (default: all), x = (v * scale - mean[b]) /
 * std[b]; a pixel where a band holds its nodata value (or NaN) is fed as 0
 * and is nodata in the outputs, as are pixels outside the AOI. Outputs: a
 * float32 probability raster (one band per class, or one band for a model
 * with a single output channel; nodata NaN) and a uint8 class raster
 * (argmax, or probability >= threshold for one channel; nodata 255), both
 * COGs (ZSTD). The output is made in column strips of 8192 px: memory is
 * bounded by the tile size and the strip, never by the raster's size.
 */
#ifndef EOPROC_SEGMENT_H
#define EOPROC_SEGMENT_H

#include "cog.h"
#include "geom.h"
#include "infer.h"
#include "raster.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eo_segment_opts eo_segment_opts;

/** Options; NULL means defaults. @since 1.0 */
EO_API eo_status eo_segment_opts_new(eo_ctx *ctx, eo_segment_opts **out);
/** Accepts NULL. @since 1.0 */
EO_API void eo_segment_opts_free(eo_segment_opts *opts);
/** Tile size in pixels (default 512, or the model's input size when its
 *  file fixes it). @since 1.0 */
EO_API eo_status eo_segment_opts_set_tile(eo_ctx *ctx, eo_segment_opts *opts, int32_t tile);
/** Overlap of neighbouring tiles in pixels (default 64; at most half the
 *  tile). @since 1.0 */
EO_API eo_status eo_segment_opts_set_overlap(eo_ctx *ctx, eo_segment_opts *opts, int32_t overlap);
/** Tiles per model run (default: the model's batch size when its file
 *  fixes it, else 1: the tiles run in parallel all the same, and a run of
 *  one tile is the fastest per tile). @since 1.0 */
EO_API eo_status eo_segment_opts_set_batch(eo_ctx *ctx, eo_segment_opts *opts, int32_t batch);
/** The source bands fed to the model, 1-based, in order (default: all).
 *  @since 1.0 */
EO_API eo_status eo_segment_opts_set_bands(eo_ctx *ctx, eo_segment_opts *opts, const int32_t *bands,
                                           int32_t count);
/** Input scale (default 1; e.g. 1/255 for 8-bit imagery). @since 1.0 */
EO_API eo_status eo_segment_opts_set_scale(eo_ctx *ctx, eo_segment_opts *opts, double scale);
/** Per-band mean subtracted after scaling: one value for all bands or one
 *  per selected band (default 0). @since 1.0 */
EO_API eo_status eo_segment_opts_set_mean(eo_ctx *ctx, eo_segment_opts *opts, const double *mean,
                                          int32_t count);
/** Per-band standard deviation divided by (default 1; all > 0). @since 1.0 */
EO_API eo_status eo_segment_opts_set_std(eo_ctx *ctx, eo_segment_opts *opts, const double *std,
                                         int32_t count);
/** Probability threshold of a one-channel model's class raster (default
 *  0.5). @since 1.0 */
EO_API eo_status eo_segment_opts_set_threshold(eo_ctx *ctx, eo_segment_opts *opts,
                                               double threshold);
/** What turns the model's output into probabilities: "auto" (default:
 *  nothing if the model ends in a Sigmoid or Softmax, else a sigmoid for
 *  one channel and a softmax over channels for several), "none",
 *  "sigmoid" or "softmax". @since 1.0 */
EO_API eo_status eo_segment_opts_set_activation(eo_ctx *ctx, eo_segment_opts *opts,
                                                const char *activation);
/** Path of the class raster (default: the probability path with
 *  "_classes" before its extension, e.g. out_classes.tif). @since 1.0 */
EO_API eo_status eo_segment_opts_set_classes_path(eo_ctx *ctx, eo_segment_opts *opts,
                                                  const char *path);
/** Options of the two COGs (copied; NULL: the defaults: ZSTD, 512 px
 *  tiles, overviews, statistics). Their nodata value, if set, is ignored
 *  (NaN for the probabilities, 255 for the classes); the class raster takes
 *  nearest or mode overviews whatever the resampling (others: nearest) and
 *  no float predictor. @since 1.0 */
EO_API eo_status eo_segment_opts_set_cog_opts(eo_ctx *ctx, eo_segment_opts *opts,
                                              const eo_cog_opts *cog);

/** Set options from a JSON object whose members are the registry
 *  operation "segment"'s parameters of those names: "tile", "overlap",
 *  "batch", "bands", "scale" (a number, or a fraction such as "1/255"),
 *  "mean", "std", "threshold", "activation" and "classes" (the class
 *  raster's path), each as its setter above takes it. Another member, or a
 *  value of the wrong JSON type, is param.Invalid naming it; a value out of
 *  range, the setter's error. @since 1.1 */
EO_API eo_status eo_segment_opts_set_json(eo_ctx *ctx, eo_segment_opts *opts, const char *json);

/** Load the ONNX model at path planned for the tiles eo_segment will run
 *  over src with opts (may be NULL), so that it need not plan it again:
 *  batch (opts', else 1), channels (the bands opts selects, else the
 *  model card's, else src's band count) and tile (opts', else the card's,
 *  else 512), on the axes the file leaves dynamic (the sizes it fixes are
 *  kept; eo_segment names a mismatch). precision: "fp32", "bf16" (as
 *  eo_model_opts_set_precision) or NULL for fp32. @since 1.1 */
EO_API eo_status eo_segment_model_load(eo_ctx *ctx, eo_model **out, const char *path,
                                       const eo_dataset *src, const eo_segment_opts *opts,
                                       const char *precision);

/** Run model over src (inside aoi if not NULL: only tiles meeting it run,
 *  and the outputs cover the AOI's window of the raster) and write the
 *  probability COG at path and the class COG beside it. The model's input
 *  must be N x C x H x W with C the number of selected bands and its output
 *  N x K x H x W; a model loaded for another shape is re-planned for the
 *  tile (its input must allow it). Options opts leaves unset (tile,
 *  overlap, bands, scale, mean, std, threshold, activation; opts may be
 *  NULL) come from the model's card when it has one (eo_model_get_card),
 *  else the defaults. Tiles run in parallel on the context's
 *  threads (meanwhile OpenBLAS, a process-wide setting, runs each GEMM on
 *  one thread; the count in force before is restored when the last such
 *  run in the process ends); progress is reported and cancel
 *  honoured. Both outputs appear
 *  only when complete; on failure neither is left. *out_json (may be NULL;
 *  release with eo_free) receives a summary: paths, size, classes, tiles
 *  run. @since 1.0 */
EO_API eo_status eo_segment(eo_ctx *ctx, char **out_json, const char *path, const eo_model *model,
                            const eo_dataset *src, const eo_geom *aoi, const eo_segment_opts *opts);

#ifdef __cplusplus
}
#endif
#endif /* EOPROC_SEGMENT_H */
