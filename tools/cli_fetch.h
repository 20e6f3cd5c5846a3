/* cli_fetch.h - the CLI's fetcher of tile URLs (libcurl), registered on its
 * context so that URL templates ("https://host/{z}/{x}/{y}.png") open as
 * sources; the library itself does no networking. */
#ifndef EOPROC_CLI_FETCH_H
#define EOPROC_CLI_FETCH_H

#include <eoproc.h>

#include <signal.h>
#include <stddef.h>

#define CLI_FETCH_RETRIES_DEFAULT 3
#define CLI_FETCH_RETRIES_MAX 100
#define CLI_FETCH_CONNECTIONS_DEFAULT 8
#define CLI_FETCH_CONNECTIONS_MAX 256
#define CLI_FETCH_HEADERS_MAX 64

/* The fetcher's settings (general options of the CLI). */
typedef struct cli_fetch_opts {
    int retries;
    int max_connections;                        /* transfers in flight at once, at least 1 */
    const char *headers[CLI_FETCH_HEADERS_MAX]; /* "Name: value", -H/--header */
    int nheaders;
    const char *user;      /* "USER:PASS" for basic auth, or NULL (--user, EOPROC_HTTP_USER) */
    const char *cache_dir; /* the tile cache, or NULL (--tile-cache, EOPROC_TILE_CACHE) */
    double cache_max_mb;   /* its bound in MiB, 0 none; < 0: EOPROC_TILE_CACHE_MAX_MB or
                              CLI_FETCH_CACHE_MAX_MB_DEFAULT (--tile-cache-max-mb) */
} cli_fetch_opts;

#define CLI_FETCH_CACHE_MAX_MB_DEFAULT 2048.0
#define CLI_FETCH_CACHE_MAX_MB_MAX 1e9

/* Check one option's value: 0, or -1 with a one-line message in err.
 * what: "header", "user" or "tile-cache". */
int cli_fetch_check(const char *what, const char *value, char *err, size_t cap);

/* Register the fetcher on ctx: retries after a 429, a 5xx, a timeout or a
 * dropped connection (with backoff); at most o->max_connections transfers
 * at once; the headers and basic auth on every request; fetched tiles (and
 * 404s) kept in and read from o->cache_dir when set; each attempt times out after
 * EOPROC_HTTP_TIMEOUT seconds (default 30); a transfer stops when *stop
 * becomes non-zero (Ctrl-C). libcurl is initialised at the first fetch.
 * A bad EOPROC_HTTP_TIMEOUT fails each fetch, naming it. 0, or -1 with a
 * one-line message in err. */
int cli_fetch_init(eo_ctx *ctx, const cli_fetch_opts *o, const volatile sig_atomic_t *stop,
                   char *err, size_t cap);
/* Release what the fetcher holds (after the contexts using it are freed). */
void cli_fetch_done(void);

#endif
