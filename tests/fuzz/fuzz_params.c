/* fuzz_params.c - fuzz target for the registry's parameter parsing and
 * schema validation: any bytes as the parameters of aoi_area. */
#include <eoproc.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static eo_ctx *ctx;
    if (!ctx && eo_ctx_new(&ctx) != EO_OK)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';
    char *out = NULL;
    eo_status st = eo_op_run(ctx, "aoi_area", text, &out);
    if ((st == EO_OK) != (out != NULL))
        abort();
    eo_free(out);
    free(text);
    return 0;
}
