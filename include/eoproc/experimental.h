/*
 * eoproc/experimental.h - calls outside the ABI promise.
 *
 * Functions named eo_exp_* may change or go in any release: they are left
 * out of the ABI baseline (abi/experimental.suppr) and <eoproc.h> does not
 * include this header; include it on purpose. They exist for tests,
 * benchmarks and diagnosis, and each one says what it changes for the
 * whole process (they are the library's only process-wide settings besides
 * those documented with eo_segment and eo_cog_write).
 */
#ifndef EOPROC_EXPERIMENTAL_H
#define EOPROC_EXPERIMENTAL_H

#include "core.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Fault injection: make the nth allocation the library makes from now on
 *  (counted across every context and thread of the process) fail as if
 *  memory were exhausted, so that the call making it returns EO_E_NOMEM
 *  and leaves nothing behind; nth = 0 turns this off. Returns the number
 *  of allocations made since the previous call. Process-wide; for tests
 *  (fault loops: for n = 1, 2, ... until the call succeeds). */
EO_API int64_t eo_exp_fail_alloc(int64_t nth);

/** Run inference on the kernels of one instruction set: "portable",
 *  "avx2" or "avx512"; NULL goes back to the widest this CPU offers (the
 *  environment variable EOPROC_SIMD can lower that at start). Returns 1
 *  when set, 0 when this CPU or build has no such kernels (nothing
 *  changes). Process-wide, for every model run after it; for tests and
 *  benchmarks comparing the paths. */
EO_API int32_t eo_exp_force_kernels(const char *name);

/** Decode PNG tiles of tile datasets (eo_dataset_open_tiles*) with
 *  "eoproc", the library's own decoder for 8-bit, non-interlaced tiles
 *  (libdeflate; libpng still reads every other PNG), the default, or with
 *  "libpng" alone; NULL goes back to the default. Returns 1 when set, 0
 *  for an unknown name (nothing changes). Process-wide, for every tile
 *  decoded after it (decoded tiles stay in their dataset's cache); for
 *  tests and benchmarks comparing the two. */
EO_API int32_t eo_exp_png_decoder(const char *name);

#ifdef __cplusplus
}
#endif
#endif /* EOPROC_EXPERIMENTAL_H */
