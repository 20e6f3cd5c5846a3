/*
 * eoproc/infer.h - running ONNX models (segmentation and classification
 * networks exported from PyTorch) on the CPU.
 *
 * A model is loaded for one fixed input shape: shapes are inferred, shape
 * computations folded to constants, batch norm folded into convolution
 * weights and a buffer plan made once. A loaded model is immutable and may
 * be run from several threads at once, each with its own context; every
 * run takes a work buffer from the model's pool (made on first need,
 * reused afterwards).
 *
 * Tensors are float32, row-major (NCHW for images), in caller-owned
 * buffers.
 */
#ifndef EOPROC_INFER_H
#define EOPROC_INFER_H

#include "core.h"
#include "raster.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct eo_model eo_model;
typedef struct eo_model_opts eo_model_opts;

/** The most dimensions a model tensor may have. @since 1.0 */
#define EO_MODEL_MAX_DIMS 8

/** Load options; NULL everywhere means defaults. @since 1.0 */
EO_API eo_status eo_model_opts_new(eo_ctx *ctx, eo_model_opts **out);
/** Accepts NULL. @since 1.0 */
EO_API void eo_model_opts_free(eo_model_opts *opts);
/** The input shape to plan for (e.g. {1, 3, 512, 512}); needed when the
 *  model's input has dynamic sizes and no model card fixes them (a card
 *  gives batch 1 or its input.batch, its band count and its tile), and
 *  must agree with its fixed ones. @since 1.0 */
EO_API eo_status eo_model_opts_set_input_shape(eo_ctx *ctx, eo_model_opts *opts,
                                               const int64_t *dims, int32_t ndim);

/** Arithmetic of the convolutions: "fp32" (the default) or "bf16"
 *  (weights rounded to bfloat16 at load, products in bfloat16 summed in
 *  FP32; about 3 significant digits). BF16 runs where the CPU has
 *  AVX512_BF16 and EOPROC_SIMD leaves AVX-512 on; elsewhere the model runs
 *  in FP32 with a warning in the log. Anything else is EO_E_ARG.
 *  eo_model_info's "precision" says which one runs. @since 1.1 */
EO_API eo_status eo_model_opts_set_precision(eo_ctx *ctx, eo_model_opts *opts,
                                             const char *precision);

/** A model whose IR version (3 to 8) or default-domain opset (6 to 18) is
 *  outside what eoproc runs (model.Unsupported). @since 1.1 */
#define EO_E_MODEL_UNSUPPORTED (EO_E_MODEL | (2 << 8))
/** A model whose input does not fit the raster it is run on: its channel
 *  count against the bands selected (model.InputMismatch). @since 1.1 */
#define EO_E_MODEL_INPUT_MISMATCH (EO_E_MODEL | (3 << 8))

/** Load an ONNX file (IR 3 to 8, opset 6 to 18; the operators of common
 *  segmentation, classification and transformer networks). A truncated or
 *  corrupt file fails with EO_E_MODEL (model.Invalid), an IR version or
 *  opset outside that range with EO_E_MODEL_UNSUPPORTED, an operator or
 *  attribute eoproc does not run with EO_E_MODEL_UNSUPPORTED_OP
 *  (model.UnsupportedOp) naming it and the node. The model is planned at
 *  load when its input shapes are fixed (or given in opts); one that needs
 *  input values to plan (shapes or weights given as inputs) is planned by
 *  eo_model_run_named for the values it gets. *out is NULL on failure.
 *  @since 1.0 */
EO_API eo_status eo_model_load(eo_ctx *ctx, eo_model **out, const char *path,
                               const eo_model_opts *opts);
/** The same from an ONNX file's bytes in memory (not kept). @since 1.0 */
EO_API eo_status eo_model_load_memory(eo_ctx *ctx, eo_model **out, const void *data, size_t size,
                                      const eo_model_opts *opts);
/** Accepts NULL. No run may be in progress. @since 1.0 */
EO_API void eo_model_free(eo_model *model);

/** Shape of the model's input / output: *ndim values into dims[capacity]
 *  (EO_E_ARG if capacity is too small). @since 1.0 */
EO_API eo_status eo_model_input_shape(eo_ctx *ctx, const eo_model *model, int64_t *dims,
                                      int32_t capacity, int32_t *ndim);
/** @since 1.0 */
EO_API eo_status eo_model_output_shape(eo_ctx *ctx, const eo_model *model, int64_t *dims,
                                       int32_t capacity, int32_t *ndim);

/** JSON description: input and output shapes, node count, FLOPs per run,
 *  work buffer bytes, opset, SIMD path (release with eo_free). @since 1.0 */
EO_API eo_status eo_model_info(eo_ctx *ctx, char **out_json, const eo_model *model);

/** Run the model on `in` (a tensor of the input shape, given as shape[ndim]
 *  for checking) into `out`, which holds `capacity` floats (at least the
 *  output's element count). Safe to call from several threads at once on
 *  one model, each with its own ctx. Convolutions use OpenBLAS's threads;
 *  the other kernels use the context's thread count. @since 1.0 */
EO_API eo_status eo_model_run(eo_ctx *ctx, const eo_model *model, const float *in,
                              const int64_t *shape, int32_t ndim, float *out, size_t capacity);

/* ---- model cards ----------------------------------------------------------
 *
 * A model card says how to run a model right: the source bands it takes and
 * their order, scale / mean / std, the pixel size (m/px) and web-map zoom it
 * was trained for, tile size and overlap, its classes (which one is the
 * background), activation and threshold, and default post-processing
 * (minimum area, simplification, regularization). It is a JSON document
 * (schemas/model_card.schema.json; README "Model cards") stored in the ONNX
 * file's metadata_props under the key "eoproc.card", or beside the model as
 * MODEL.onnx.json for a file the user cannot rewrite. When both exist the
 * sidecar wins.
 */
typedef struct eo_model_card eo_model_card;

/** Parse a card from JSON text and check it on its own (known keys, types,
 *  ranges): EO_E_MODEL (model.Invalid) naming the field otherwise.
 *  @since 1.0 */
EO_API eo_status eo_model_card_parse(eo_ctx *ctx, eo_model_card **out, const char *json);
/** The card of the model at path (sidecar, else embedded), checked against
 *  the model: a card whose bands, classes or tile contradict the model
 *  fails with EO_E_MODEL naming the field. *out is NULL (and EO_OK) when
 *  the model has no card. @since 1.0 */
EO_API eo_status eo_model_card_load(eo_ctx *ctx, eo_model_card **out, const char *model_path);
/** Accepts NULL. @since 1.0 */
EO_API void eo_model_card_free(eo_model_card *card);
/** The card as JSON (compact; release with eo_free). @since 1.0 */
EO_API eo_status eo_model_card_to_json(eo_ctx *ctx, char **out_json, const eo_model_card *card);
/** Where the card came from: "embedded", "sidecar" or "json" (parsed from
 *  text). Borrowed. @since 1.0 */
EO_API const char *eo_model_card_source(const eo_model_card *card);
/** A number field by its path: "input.scale", "input.zoom", "input.tile",
 *  "input.overlap", "input.batch", "input.band_count",
 *  "input.pixel_size_m.min" / ".max" / ".nominal", "output.threshold",
 *  "output.class_count", "output.background" (index of the background
 *  class), "postprocess.min_area_m2", "postprocess.simplify_m",
 *  "postprocess.fill_holes_m2", "postprocess.regularize" (0 or 1). *out
 *  is NaN when the card leaves the field unset; an unknown path is
 *  EO_E_ARG. @since 1.0 */
EO_API eo_status eo_model_card_get_number(eo_ctx *ctx, const eo_model_card *card, const char *field,
                                          double *out);
/** An array field ("input.bands", "input.mean", "input.std"): *n values
 *  into vals[capacity] (0 when unset; EO_E_ARG if capacity is too small).
 *  @since 1.0 */
EO_API eo_status eo_model_card_get_numbers(eo_ctx *ctx, const eo_model_card *card,
                                           const char *field, double *vals, int32_t capacity,
                                           int32_t *n);
/** A string field: "name", "output.activation", "output.classes.name" and
 *  "input.band_names" (item index). Borrowed from the card; NULL when
 *  unset. @since 1.0 */
EO_API eo_status eo_model_card_get_string(eo_ctx *ctx, const eo_model_card *card, const char *field,
                                          int32_t index, const char **out);
/** Check a card against a loaded model (bands = input channels, classes =
 *  output channels, tile = a fixed input size): EO_E_MODEL naming the
 *  field. @since 1.0 */
EO_API eo_status eo_model_card_check(eo_ctx *ctx, const eo_model_card *card, const eo_model *model);
/** Store card in the ONNX file at model_path (NULL removes it): only the
 *  top-level metadata_props entry "eoproc.card" changes, every other byte
 *  of the model is kept; written through a temporary name. The card is
 *  checked against the model first. @since 1.0 */
EO_API eo_status eo_model_card_write(eo_ctx *ctx, const char *model_path,
                                     const eo_model_card *card);
/** The card a model was loaded with (eo_model_load reads it, sidecar
 *  first; eo_model_load_memory the embedded one), or NULL. Borrowed: lives
 *  as long as the model. @since 1.0 */
EO_API const eo_model_card *eo_model_get_card(const eo_model *model);
/* ---- named tensors: models with several inputs and outputs ---------------
 * Tensors are EO_DT_F32 (ONNX float; float16, bfloat16 and double inputs and
 * outputs are given and returned as float32) or EO_DT_I64 (ONNX int64, and
 * int32 and bool, 0 or 1, given and returned as int64). */

typedef struct eo_tensors eo_tensors;

/** An empty set of named tensors. @since 1.1 */
EO_API eo_status eo_tensors_new(eo_ctx *ctx, eo_tensors **out);
/** Accepts NULL. @since 1.1 */
EO_API void eo_tensors_free(eo_tensors *t);
/** Add a copy of a tensor (dtype EO_DT_F32 or EO_DT_I64, dims[ndim], ndim
 *  0 to EO_MODEL_MAX_DIMS, sizes >= 0; data may be NULL when it has no
 *  elements) under name; an existing tensor of that name is replaced.
 *  @since 1.1 */
EO_API eo_status eo_tensors_set(eo_ctx *ctx, eo_tensors *t, const char *name, eo_dtype dtype,
                                const int64_t *dims, int32_t ndim, const void *data);
/** Number of tensors (0 for NULL). @since 1.1 */
EO_API int32_t eo_tensors_count(const eo_tensors *t);
/** Index of the tensor named name, -1 if none. @since 1.1 */
EO_API int32_t eo_tensors_find(const eo_tensors *t, const char *name);
/** The i-th tensor: name, type, *ndim dims into dims[capacity], and its data
 *  (borrowed: valid until the set changes or is freed). Any out pointer may
 *  be NULL. @since 1.1 */
EO_API eo_status eo_tensors_get(eo_ctx *ctx, const eo_tensors *t, int32_t i, const char **name,
                                eo_dtype *dtype, int64_t *dims, int32_t capacity, int32_t *ndim,
                                const void **data);

/** Number of graph inputs (initializers excluded) / outputs. @since 1.1 */
EO_API int32_t eo_model_input_count(const eo_model *model);
/** @since 1.1 */
EO_API int32_t eo_model_output_count(const eo_model *model);
/** The i-th input: name (owned by the model), type, and shape as planned at
 *  load (or as declared, -1 on a dynamic axis, when the model is planned at
 *  run time). @since 1.1 */
EO_API eo_status eo_model_input_info(eo_ctx *ctx, const eo_model *model, int32_t i,
                                     const char **name, eo_dtype *dtype, int64_t *dims,
                                     int32_t capacity, int32_t *ndim);
/** @since 1.1 */
EO_API eo_status eo_model_output_info(eo_ctx *ctx, const eo_model *model, int32_t i,
                                      const char **name, eo_dtype *dtype, int64_t *dims,
                                      int32_t capacity, int32_t *ndim);

/** Run the model on the named tensors `in` (one per model input, of its
 *  type; a shape other than the planned one makes and keeps a plan for it)
 *  and return every model output in a new set *out (free with
 *  eo_tensors_free; NULL on failure). A missing, extra or mistyped input
 *  fails with EO_E_ARG naming it. Thread-safe like eo_model_run. @since 1.1 */
EO_API eo_status eo_model_run_named(eo_ctx *ctx, const eo_model *model, const eo_tensors *in,
                                    eo_tensors **out);

#ifdef __cplusplus
}
#endif
#endif /* EOPROC_INFER_H */
