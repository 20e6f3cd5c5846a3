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

/* Register the fetcher on ctx: retries after a 429, a 5xx, a timeout or a
 * dropped connection (with backoff); each attempt times out after
 * EOPROC_HTTP_TIMEOUT seconds (default 30); a transfer stops when *stop
 * becomes non-zero (Ctrl-C). libcurl is initialised at the first fetch.
 * A bad EOPROC_HTTP_TIMEOUT fails each fetch, naming it. 0, or -1 with a
 * one-line message in err. */
int cli_fetch_init(eo_ctx *ctx, int retries, const volatile sig_atomic_t *stop, char *err,
                   size_t cap);
/* Release what the fetcher holds (after the contexts using it are freed). */
void cli_fetch_done(void);

#endif
