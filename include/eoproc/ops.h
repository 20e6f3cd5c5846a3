/*
 * eoproc/ops.h - the operation registry: every capability as a named
 * operation taking JSON parameters (checked against a JSON Schema) and
 * returning a JSON result.
 */
#ifndef EOPROC_OPS_H
#define EOPROC_OPS_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/** JSON array of {"name", "summary", "cli"} (release with eo_free). @since 1.0 */
EO_API eo_status eo_ops_list(eo_ctx *ctx, char **out_json);
/** JSON Schema of an operation's parameters (release with eo_free).
 *  op.Unknown for an unknown name. @since 1.0 */
EO_API eo_status eo_op_schema(eo_ctx *ctx, const char *name, char **out_json);
/** JSON Schema of an operation's result object: its fields, their types
 *  and meaning (release with eo_free). op.Unknown for an unknown name.
 *  @since 1.1 */
EO_API eo_status eo_op_result_schema(eo_ctx *ctx, const char *name, char **out_json);
/** Run an operation: params_json is a JSON object checked against the
 *  schema (a bad parameter fails with param.Invalid naming the field and
 *  what was expected); *out_json receives the JSON result (release with
 *  eo_free). @since 1.0 */
EO_API eo_status eo_op_run(eo_ctx *ctx, const char *name, const char *params_json, char **out_json);

#ifdef __cplusplus
}
#endif
#endif /* EOPROC_OPS_H */
