/* tap.h - a tiny test harness: CHECK records a failure and goes on;
 * tap_done() prints "N passed, N failed" and gives the exit status. */
#ifndef TAP_H
#define TAP_H
#include <stddef.h>
#include <stdio.h>

extern int tap_pass, tap_fail;
void tap_check(int ok, const char *file, int line, const char *expr, const char *fmt, ...);
int tap_done(void);
/* Folder with the sample rasters (EOPROC_DATA) and a scratch folder. */
const char *tap_data(const char *name);
const char *tap_tmp(const char *name);
/* Path of an inference fixture: tests/infer/fixtures/name of the source
 * tree (EOPROC_FIXTURES overrides the folder). */
const char *tap_fixture(const char *name);
/* The bytes of a file (malloc'd, free it; *n 0 and NULL if unreadable). */
unsigned char *tap_read(const char *path, size_t *n);

#define CHECK(cond) tap_check(!!(cond), __FILE__, __LINE__, #cond, NULL)
#define CHECKF(cond, ...) tap_check(!!(cond), __FILE__, __LINE__, #cond, __VA_ARGS__)
#define CHECK_ST(ctx, expr, want)                                                                  \
    do {                                                                                           \
        eo_status st_ = (expr);                                                                    \
        tap_check(st_ == (want), __FILE__, __LINE__, #expr, "status %s (want %s): %s",             \
                  eo_status_id(st_), eo_status_id(want), eo_ctx_errmsg(ctx));                      \
    } while (0)
#define CHECK_OK(ctx, expr) CHECK_ST(ctx, expr, EO_OK)
#endif
