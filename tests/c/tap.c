#include "tap.h"

#include <stdarg.h>
#include <stdlib.h>

int tap_pass, tap_fail;

void tap_check(int ok, const char *file, int line, const char *expr, const char *fmt, ...) {
    if (ok) {
        tap_pass++;
        return;
    }
    tap_fail++;
    fprintf(stderr, "FAIL %s:%d: %s", file, line, expr);
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        fputs(" -- ", stderr);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
    }
    fputc('\n', stderr);
}

int tap_done(void) {
    printf("%d passed, %d failed\n", tap_pass, tap_fail);
    return tap_fail ? 1 : 0;
}

static const char *join(const char *env, const char *dflt, const char *name) {
    static char buf[4][1024];
    static int k;
    const char *dir = getenv(env);
    char *b = buf[k++ & 3];
    snprintf(b, sizeof buf[0], "%s/%s", dir && *dir ? dir : dflt, name);
    return b;
}

const char *tap_data(const char *name) { return join("EOPROC_DATA", ".cache/data", name); }
const char *tap_tmp(const char *name) { return join("EOPROC_TMP", "/tmp", name); }
const char *tap_fixture(const char *name) {
    return join("EOPROC_FIXTURES", EOPROC_FIXTURE_DIR, name);
}

unsigned char *tap_read(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    *n = 0;
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *p = malloc(len > 0 ? (size_t)len : 1);
    *n = p && len >= 0 && fread(p, 1, (size_t)len, f) == (size_t)len ? (size_t)len : 0;
    fclose(f);
    return p;
}
