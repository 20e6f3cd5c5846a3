/* hello.c - the smallest program using eoproc.
 *
 *   hello RASTER [AOI.geojson]
 *
 * Prints the library version, the raster's metadata as JSON and, when an AOI
 * is given, its geodesic area. On failure prints the status id and the
 * message of the context and exits 1.
 *
 * Build against an installed eoproc:
 *   cc hello.c $(pkg-config --cflags --libs eoproc)      (see Makefile)
 *   cmake -S . -B build && cmake --build build            (see CMakeLists.txt)
 */
#include <eoproc.h>

#include <stdio.h>

static int fail(eo_ctx *ctx, eo_status st, const char *what) {
    fprintf(stderr, "hello: %s: %s: %s\n", what, eo_status_id(st),
            ctx ? eo_ctx_errmsg(ctx) : eo_status_str(st));
    return 1;
}

int main(int argc, char **argv) {
    eo_ctx *ctx = NULL;
    eo_dataset *ds = NULL;
    eo_geom *aoi = NULL;
    char *info = NULL;
    eo_status st;
    int rc = 1;

    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s RASTER [AOI.geojson]\n", argv[0]);
        return 2;
    }
    printf("eoproc %s (header %s)\n", eo_version_string(), EO_VERSION_STRING);
    if (eo_version() / 10000 != EO_VERSION_MAJOR) {
        fprintf(stderr, "hello: library major version differs from the header's\n");
        return 1;
    }

    if ((st = eo_ctx_new(&ctx)) != EO_OK)
        return fail(NULL, st, "eo_ctx_new");

    if ((st = eo_dataset_open(ctx, &ds, argv[1])) != EO_OK) {
        rc = fail(ctx, st, argv[1]);
        goto done;
    }
    printf("size: %lld x %lld, %d band(s)\n", (long long)eo_dataset_width(ds),
           (long long)eo_dataset_height(ds), (int)eo_dataset_band_count(ds));
    if ((st = eo_dataset_info(ctx, &info, ds)) != EO_OK) {
        rc = fail(ctx, st, "eo_dataset_info");
        goto done;
    }
    printf("%s\n", info);

    if (argc == 3) {
        double km2 = 0;
        if ((st = eo_geom_from_geojson_file(ctx, &aoi, argv[2], NULL)) != EO_OK) {
            rc = fail(ctx, st, argv[2]);
            goto done;
        }
        if ((st = eo_geom_area_km2(ctx, aoi, &km2)) != EO_OK) {
            rc = fail(ctx, st, "eo_geom_area_km2");
            goto done;
        }
        printf("area of %s: %.6f km2\n", argv[2], km2);
    }
    rc = 0;

done:
    eo_free(info);
    eo_geom_free(aoi);
    eo_dataset_close(ds);
    eo_ctx_free(ctx);
    return rc;
}
