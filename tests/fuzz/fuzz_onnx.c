/* fuzz_onnx.c - fuzz target for the ONNX loader: any bytes in, a clean
 * status out (model.Invalid, model.UnsupportedOp, unsupported, arg.Invalid
 * or a limit); a model that loads must also run (on zeros) without a
 * crash, and report its shapes. */
#include <eoproc.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static eo_ctx *ctx;
    if (!ctx && eo_ctx_new(&ctx) != EO_OK)
        return 0;
    eo_ctx_set_limit(ctx, EO_LIMIT_MAX_BYTES, (int64_t)1 << 30);
    eo_model *m = NULL;
    eo_status st = eo_model_load_memory(ctx, &m, data, size, NULL);
    if (st != EO_OK) {
        int cat = EO_STATUS_CATEGORY(st);
        if (m || (cat != EO_E_MODEL && cat != EO_E_UNSUPPORTED && cat != EO_E_ARG &&
                  cat != EO_E_LIMIT && cat != EO_E_NOMEM))
            abort();
        return 0;
    }
    int64_t in[EO_MODEL_MAX_DIMS], out[EO_MODEL_MAX_DIMS];
    int32_t nin = 0, nout = 0;
    st = eo_model_input_shape(ctx, m, in, EO_MODEL_MAX_DIMS, &nin);
    if (st == EO_E_ARG) {
        /* a model planned when it runs (several inputs, or shapes that its
         * input values decide) has no fixed shape to ask for: documented */
        eo_model_free(m);
        return 0;
    }
    if (st != EO_OK || eo_model_output_shape(ctx, m, out, EO_MODEL_MAX_DIMS, &nout) != EO_OK)
        abort();
    size_t ni = 1, no = 1;
    for (int32_t i = 0; i < nin; i++)
        ni *= (size_t)in[i];
    for (int32_t i = 0; i < nout; i++)
        no *= (size_t)out[i];
    if (ni <= ((size_t)1 << 20) && no <= ((size_t)1 << 22)) {
        float *x = calloc(ni, sizeof *x), *y = malloc((no ? no : 1) * sizeof *y);
        if (x && y && eo_model_run(ctx, m, x, in, nin, y, no) != EO_OK &&
            EO_STATUS_CATEGORY(eo_ctx_status(ctx)) != EO_E_LIMIT &&
            eo_ctx_status(ctx) != EO_E_NOMEM)
            abort();
        free(x);
        free(y);
    }
    eo_model_free(m);
    return 0;
}
