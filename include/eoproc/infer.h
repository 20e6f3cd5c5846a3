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
 *  model's input has dynamic sizes, and must agree with its fixed ones.
 *  @since 1.0 */
EO_API eo_status eo_model_opts_set_input_shape(eo_ctx *ctx, eo_model_opts *opts,
                                               const int64_t *dims, int32_t ndim);

/** Load an ONNX file (opset 7 to 18; the operators of common segmentation
 *  and classification networks). A truncated or corrupt file fails with
 *  EO_E_MODEL (model.Invalid), an operator eoproc does not run with
 *  EO_E_MODEL_UNSUPPORTED_OP (model.UnsupportedOp) naming the operator and
 *  the node. *out is NULL on failure. @since 1.0 */
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

#ifdef __cplusplus
}
#endif
#endif /* EOPROC_INFER_H */
