/* version.c - versions and build information. */
#include "eoi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <threads.h>

#include <gdal.h>
#include <tiffio.h>
#include <zstd.h>

int eo_version(void) { return EO_VERSION_NUMBER; }

const char *eo_version_string(void) { return EO_VERSION_STRING; }

/* The widest SIMD instruction set this CPU offers that eoproc has code for;
 * EOPROC_SIMD=portable|avx2|avx512 in the environment can lower it. */
const char *eoi_simd_path(void);
static once_flag simd_once = ONCE_FLAG_INIT;
static const char *simd_path; /* set once, under simd_once */

static void pick_simd(void) {
    const char *p = "portable";
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        p = "avx2";
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl"))
        p = "avx512";
#endif
    const char *force = getenv("EOPROC_SIMD");
    if (force && (strcmp(force, "portable") == 0 ||
                  (strcmp(force, "avx2") == 0 && strcmp(p, "portable") != 0)))
        p = strcmp(force, "portable") == 0 ? "portable" : "avx2";
    simd_path = p;
}

const char *eoi_simd_path(void) {
    call_once(&simd_once, pick_simd);
    return simd_path;
}

static once_flag info_once = ONCE_FLAG_INIT;
static char info_buf[1024];

static void make_info(void) {
    int pmaj, pmin, ppat;
    PJ_INFO pi = proj_info();
    pmaj = pi.major;
    pmin = pi.minor;
    ppat = pi.patch;
    char tiff[64];
    snprintf(tiff, sizeof tiff, "%s", TIFFGetVersion());
    char *nl = strchr(tiff, '\n');
    if (nl)
        *nl = '\0';
    const char *tv = strrchr(tiff, ' ');
    snprintf(info_buf, sizeof info_buf,
             "{\"version\": \"%s\", \"abi\": 1, \"simd\": \"%s\", "
             "\"gdal\": \"%s\", \"geos\": \"%s\", \"proj\": \"%d.%d.%d\", "
             "\"json-c\": \"%s\", \"libtiff\": \"%s\", \"zstd\": \"%s\", "
             "\"compiler\": \"%s\"}",
             EO_VERSION_STRING, eoi_simd_path(), GDALVersionInfo("RELEASE_NAME"), GEOSversion(),
             pmaj, pmin, ppat, json_c_version(), tv ? tv + 1 : tiff, ZSTD_versionString(),
#if defined(__clang__)
             "clang " __clang_version__
#elif defined(__GNUC__)
             "gcc " __VERSION__
#else
             "unknown"
#endif
    );
}

const char *eo_build_info(void) {
    call_once(&info_once, make_info);
    return info_buf;
}
