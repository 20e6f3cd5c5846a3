/* cli_fetch.c - the CLI's fetcher of tile URLs over HTTP(S) with libcurl.
 *
 * The library reads URL templates only through a host callback
 * (eo_ctx_set_tile_url_fetcher); this is the CLI's. Semantics, as GDAL's
 * WMS/TMS driver and web-map clients treat tile servers:
 *   - 2xx with a body: the tile's bytes; 404 and 204: a missing tile;
 *   - 429, 5xx, a timeout, a refused or dropped connection, a truncated
 *     body: retried (--retries N, default 3) after 0.25 s, 0.5 s, 1 s, ...
 *     (capped at 8 s; a Retry-After header is honoured up to 30 s);
 *   - anything else (other 4xx, too many redirects, a bad host name, a body
 *     over 64 MiB): an error at once.
 * Errors name the HTTP status (or the transport error), the URL and the
 * attempts. Redirects are followed (http and https only); each attempt
 * times out after EOPROC_HTTP_TIMEOUT seconds (default 30).
 *
 * Options: -H/--header "Name: value" (repeatable) on every request;
 * --user USER:PASS (or EOPROC_HTTP_USER) for basic auth; --max-connections N
 * (default 8) transfers in flight at once, the others wait on a counting
 * semaphore; --tile-cache DIR (or EOPROC_TILE_CACHE), a disk cache of fetched
 * tiles shared with the Python package (eoproc/_fetch.py), one file per URL:
 *   DIR/KK/REST.tile, KKREST the 64-bit FNV-1a hash of the URL in hex (16
 *   digits), holding "eoproc-tile 1\n" URL "\n" 200|404 "\n" body;
 * a file naming another URL (a hash collision) or malformed is a miss. A
 * file is written under a temporary name in its folder and renamed, so that
 * readers never see half of one; 404s (and 204s) are kept as 404. The cache
 * is bounded (--tile-cache-max-mb, EOPROC_TILE_CACHE_MAX_MB, default 2048
 * MiB, 0 for none), least recently used out first: a hit touches its file's
 * modification time; the process sums the folder once, at its first write,
 * keeps the sum up to date, and when it passes the bound removes the files
 * used longest ago down to 90% of it. Those scans also remove temporary
 * files more than an hour old (writers killed mid-write). The Python
 * fetcher does the same on the same folder.
 *
 * The library calls the fetcher from several threads at once: each call
 * takes an easy handle from a pool (kept between calls for their open
 * connections) and gives it back. libcurl is initialised once, at the first
 * fetch, so that commands without a URL never load it. */
#define _POSIX_C_SOURCE 200809L
#include "cli_fetch.h"

#include <ctype.h>
#include <curl/curl.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MAX_BODY ((size_t)64 << 20) /* the library refuses bigger tiles anyway */
#define POOL_MAX 32
#define BACKOFF_FIRST_S 0.25
#define BACKOFF_MAX_S 8.0
#define RETRY_AFTER_MAX_S 30L
#define URL_SHOWN 160 /* characters of a URL in a message (the sink keeps 255) */

#define CACHE_MAGIC "eoproc-tile 1\n"
#define CACHE_KEEP 0.9         /* an eviction leaves this share of the bound */
#define CACHE_STALE_TMP_S 3600 /* older temporary files are a killed writer's */

static struct {
    int retries;
    double timeout_s;
    char bad_env[256]; /* why an EOPROC_HTTP_* variable is refused, or "" */
    struct curl_slist *headers;
    char *user;          /* USER:PASS, or NULL */
    char *cache_dir;     /* or NULL */
    int64_t cache_max;   /* bytes, 0: no bound */
    int64_t cache_total; /* bytes of the folder's tiles, -1: not summed yet */
    int slots;           /* transfers that may start now */
    pthread_cond_t slot_freed;
    unsigned long tmp_seq;
    const volatile sig_atomic_t *stop;
    char agent[64];
    pthread_mutex_t mu;
    CURL *idle[POOL_MAX];
    int nidle;
} F = {.mu = PTHREAD_MUTEX_INITIALIZER, .slot_freed = PTHREAD_COND_INITIALIZER};

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static CURLcode g_init_rc = CURLE_FAILED_INIT;

static void global_init(void) { g_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

struct body {
    unsigned char *p;
    size_t n, cap;
    int too_big;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *user) {
    struct body *b = user;
    size_t n = size * nmemb;
    if (n > MAX_BODY - b->n) {
        b->too_big = 1;
        return 0; /* aborts the transfer: CURLE_WRITE_ERROR */
    }
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        while (cap < b->n + n)
            cap *= 2;
        unsigned char *q = realloc(b->p, cap);
        if (!q)
            return 0;
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, ptr, n);
    b->n += n;
    return n;
}

static int on_progress(void *user, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un) {
    (void)user, (void)dt, (void)dn, (void)ut, (void)un;
    return F.stop && *F.stop; /* non-zero aborts the transfer */
}

static CURL *take_handle(void) {
    CURL *h = NULL;
    pthread_mutex_lock(&F.mu);
    if (F.nidle > 0)
        h = F.idle[--F.nidle];
    pthread_mutex_unlock(&F.mu);
    return h ? h : curl_easy_init();
}

static void give_handle(CURL *h) {
    pthread_mutex_lock(&F.mu);
    if (F.nidle < POOL_MAX) {
        F.idle[F.nidle++] = h;
        h = NULL;
    }
    pthread_mutex_unlock(&F.mu);
    if (h)
        curl_easy_cleanup(h);
}

static const char *reason(long code) {
    switch (code) {
    case 400:
        return " Bad Request";
    case 401:
        return " Unauthorized";
    case 403:
        return " Forbidden";
    case 408:
        return " Request Timeout";
    case 410:
        return " Gone";
    case 429:
        return " Too Many Requests";
    case 500:
        return " Internal Server Error";
    case 502:
        return " Bad Gateway";
    case 503:
        return " Service Unavailable";
    case 504:
        return " Gateway Timeout";
    default:
        return "";
    }
}

static int transient(CURLcode cc) {
    switch (cc) {
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_COULDNT_CONNECT:
    case CURLE_GOT_NOTHING:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_PARTIAL_FILE:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
        return 1;
    default:
        return 0;
    }
}

static void sleep_s(double s) {
    /* in slices, so that Ctrl-C does not wait for the backoff */
    while (s > 0 && !(F.stop && *F.stop)) {
        double d = s < 0.05 ? s : 0.05;
        struct timespec ts = {(time_t)d, (long)((d - (double)(time_t)d) * 1e9)};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
        s -= d;
    }
}

/* The URL for a message, shortened to URL_SHOWN characters. */
static void short_url(char *buf, size_t cap, const char *url) {
    size_t n = strlen(url);
    if (n <= URL_SHOWN)
        snprintf(buf, cap, "%s", url);
    else
        snprintf(buf, cap, "%.*s...", URL_SHOWN - 3, url);
}

/* ---- the tile cache --------------------------------------------------------- */

static uint64_t fnv1a64(const char *s) {
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= UINT64_C(0x100000001b3);
    }
    return h;
}

/* DIR/KK/REST.tile for url; with sub, DIR/KK only. */
static void cache_path(char *buf, size_t cap, const char *url, int sub) {
    char hex[17];
    snprintf(hex, sizeof hex, "%016" PRIx64, fnv1a64(url));
    if (sub)
        snprintf(buf, cap, "%s/%.2s", F.cache_dir, hex);
    else
        snprintf(buf, cap, "%s/%.2s/%s.tile", F.cache_dir, hex, hex + 2);
}

/* 1 and *code (200 or 404) with the body in b when the cache holds url; 0 for
 * a miss (no file, another URL's file, a malformed one). */
static int cache_read(const char *url, long *code, struct body *b) {
    char path[4096];
    cache_path(path, sizeof path, url, 0);
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    size_t ul = strlen(url), ml = strlen(CACHE_MAGIC);
    char *head = malloc(ml + ul + 6);
    int hit = 0;
    if (head && fread(head, 1, ml + ul + 5, f) == ml + ul + 5 &&
        memcmp(head, CACHE_MAGIC, ml) == 0 && memcmp(head + ml, url, ul) == 0 &&
        head[ml + ul] == '\n' && head[ml + ul + 4] == '\n' &&
        (memcmp(head + ml + ul + 1, "200", 3) == 0 || memcmp(head + ml + ul + 1, "404", 3) == 0)) {
        *code = head[ml + ul + 1] == '2' ? 200 : 404;
        char buf[65536];
        size_t n;
        hit = 1;
        b->n = 0;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0)
            if (on_data(buf, 1, n, b) != n) {
                hit = 0;
                break;
            }
        if (ferror(f))
            hit = 0;
    }
    free(head);
    fclose(f);
    if (hit) /* recently used: the last to go (a failure only ages it) */
        (void)utimensat(AT_FDCWD, path, NULL, 0);
    return hit;
}

struct centry {
    char *path;
    int64_t size;
    struct timespec used;
};

static int centry_older(const void *a, const void *b) {
    const struct centry *x = a, *y = b;
    if (x->used.tv_sec != y->used.tv_sec)
        return x->used.tv_sec < y->used.tv_sec ? -1 : 1;
    return x->used.tv_nsec < y->used.tv_nsec ? -1 : x->used.tv_nsec > y->used.tv_nsec;
}

/* Sums the folder's tile files into F.cache_total and removes stale
 * temporary files; with evict, also removes the least recently used tiles
 * down to CACHE_KEEP of the bound. Under F.mu. Files that vanish meanwhile
 * (another process evicting) are not errors; without memory for the list
 * nothing is evicted this time. */
static void cache_scan(int evict) {
    DIR *d = opendir(F.cache_dir);
    struct centry *v = NULL;
    size_t n = 0, cap = 0;
    int64_t total = 0;
    time_t now = time(NULL);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (strlen(e->d_name) != 2 || !isxdigit((unsigned char)e->d_name[0]) ||
            !isxdigit((unsigned char)e->d_name[1]))
            continue;
        char sub[4096];
        snprintf(sub, sizeof sub, "%s/%s", F.cache_dir, e->d_name);
        DIR *s = opendir(sub);
        struct dirent *f;
        while (s && (f = readdir(s))) {
            size_t len = strlen(f->d_name);
            int tile = len > 5 && strcmp(f->d_name + len - 5, ".tile") == 0;
            int tmp = len > 4 && strcmp(f->d_name + len - 4, ".tmp") == 0;
            char p[4400];
            struct stat st;
            snprintf(p, sizeof p, "%s/%s", sub, f->d_name);
            if ((!tile && !tmp) || stat(p, &st) != 0 || !S_ISREG(st.st_mode))
                continue;
            if (tmp) {
                if (now - st.st_mtime > CACHE_STALE_TMP_S)
                    (void)remove(p);
                continue;
            }
            total += (int64_t)st.st_size;
            if (!evict)
                continue;
            if (n == cap) {
                size_t nc = cap ? 2 * cap : 256;
                struct centry *nv = realloc(v, nc * sizeof *v);
                if (!nv) {
                    evict = 0;
                    continue;
                }
                v = nv;
                cap = nc;
            }
            if (!(v[n].path = strdup(p))) {
                evict = 0;
                continue;
            }
            v[n].size = (int64_t)st.st_size;
            v[n++].used = st.st_mtim;
        }
        if (s)
            closedir(s);
    }
    if (d)
        closedir(d);
    if (evict && total > F.cache_max) {
        int64_t keep = (int64_t)(CACHE_KEEP * (double)F.cache_max);
        qsort(v, n, sizeof *v, centry_older);
        for (size_t i = 0; i < n && total > keep; i++)
            if (remove(v[i].path) == 0 || errno == ENOENT)
                total -= v[i].size;
    }
    for (size_t i = 0; i < n; i++)
        free(v[i].path);
    free(v);
    F.cache_total = total;
}

/* A file of bytes was added to the cache: keep it within its bound. */
static void cache_account(int64_t bytes) {
    if (!F.cache_max)
        return;
    pthread_mutex_lock(&F.mu);
    if (F.cache_total < 0)
        cache_scan(0); /* the first write: what the folder holds, this file included */
    else
        F.cache_total += bytes;
    if (F.cache_total > F.cache_max)
        cache_scan(1);
    pthread_mutex_unlock(&F.mu);
}

/* Keep url's answer (code 200 with body, or 404): 0, or -1 with a message. */
static int cache_write(const char *url, long code, const unsigned char *p, size_t n, char *msg,
                       size_t cap) {
    char dir[4096], path[4200], tmp[4300];
    if (strchr(url, '\n'))
        return 0; /* cannot be a line of the file: not cached */
    cache_path(dir, sizeof dir, url, 1);
    cache_path(path, sizeof path, url, 0);
    if ((mkdir(F.cache_dir, 0777) != 0 && errno != EEXIST) ||
        (mkdir(dir, 0777) != 0 && errno != EEXIST)) {
        snprintf(msg, cap, "cannot create the tile cache folder %.200s: %s", dir, strerror(errno));
        return -1;
    }
    pthread_mutex_lock(&F.mu);
    unsigned long seq = ++F.tmp_seq;
    pthread_mutex_unlock(&F.mu);
    snprintf(tmp, sizeof tmp, "%s.%ld.%lu.tmp", path, (long)getpid(), seq);
    FILE *f = fopen(tmp, "wb");
    int ok = f != NULL;
    if (ok) {
        ok = fprintf(f, "%s%s\n%ld\n", CACHE_MAGIC, url, code) > 0;
        if (ok && n)
            ok = fwrite(p, 1, n, f) == n;
        ok = (fclose(f) == 0) && ok;
    }
    if (ok)
        ok = rename(tmp, path) == 0;
    if (!ok) {
        int e = errno;
        remove(tmp);
        snprintf(msg, cap, "cannot write the tile cache file %.200s: %s", path, strerror(e));
        return -1;
    }
    cache_account((int64_t)(strlen(CACHE_MAGIC) + strlen(url) + 5 + n));
    return 0;
}

/* The counting semaphore of --max-connections. */
static void slot_take(void) {
    pthread_mutex_lock(&F.mu);
    while (F.slots <= 0)
        pthread_cond_wait(&F.slot_freed, &F.mu);
    F.slots--;
    pthread_mutex_unlock(&F.mu);
}

static void slot_give(void) {
    pthread_mutex_lock(&F.mu);
    F.slots++;
    pthread_cond_signal(&F.slot_freed);
    pthread_mutex_unlock(&F.mu);
}

static int fetch(void *user, const char *url, eo_tile_sink *sink) {
    (void)user;
    char u[URL_SHOWN + 4], msg[512];
    short_url(u, sizeof u, url);
    if (F.bad_env[0]) {
        eo_tile_sink_set_error(sink, F.bad_env);
        return 1;
    }
    if (F.cache_dir) {
        struct body cb = {0};
        long ccode = 0;
        if (cache_read(url, &ccode, &cb)) {
            int r = 0;
            if (ccode == 200 && eo_tile_sink_set(sink, cb.p, cb.n) != EO_OK) {
                snprintf(msg, sizeof msg, "cannot keep the %zu bytes of %s", cb.n, u);
                eo_tile_sink_set_error(sink, msg);
                r = 1;
            }
            free(cb.p);
            return r;
        }
        free(cb.p);
    }
    pthread_once(&g_once, global_init);
    if (g_init_rc != CURLE_OK) {
        snprintf(msg, sizeof msg, "libcurl did not initialise (%s) for %s",
                 curl_easy_strerror(g_init_rc), u);
        eo_tile_sink_set_error(sink, msg);
        return 1;
    }
    CURL *h = take_handle();
    if (!h) {
        snprintf(msg, sizeof msg, "out of memory for an HTTP request to %s", u);
        eo_tile_sink_set_error(sink, msg);
        return 1;
    }
    struct body b = {0};
    char cerr[CURL_ERROR_SIZE];
    long code = 0;
    CURLcode cc = CURLE_OK;
    int rc = 1, attempt = 0;
    long timeout_ms = (long)(F.timeout_s * 1000 + 0.5);
    double delay = BACKOFF_FIRST_S;
    for (;; attempt++) {
        b.n = 0;
        b.too_big = 0;
        cerr[0] = '\0';
        code = 0;
        curl_easy_reset(h);
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &b);
        curl_easy_setopt(h, CURLOPT_ERRORBUFFER, cerr);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L); /* threads: no SIGALRM for DNS timeouts */
        curl_easy_setopt(h, CURLOPT_USERAGENT, F.agent);
        curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
        curl_easy_setopt(h, CURLOPT_MAXREDIRS, 10L);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, ""); /* what libcurl can decode */
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
        curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
        if (F.headers)
            curl_easy_setopt(h, CURLOPT_HTTPHEADER, F.headers);
        if (F.user) {
            curl_easy_setopt(h, CURLOPT_USERPWD, F.user);
            curl_easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
        }
        slot_take();
        cc = curl_easy_perform(h);
        slot_give();
        if (cc == CURLE_OK)
            curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        int again;
        if (cc == CURLE_OK)
            again = code == 429 || (code >= 500 && code <= 599);
        else
            again = transient(cc);
        if (!again || attempt >= F.retries || (F.stop && *F.stop))
            break;
        double wait = delay;
        curl_off_t ra = -1;
        if (cc == CURLE_OK && curl_easy_getinfo(h, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
            wait = (double)(ra < RETRY_AFTER_MAX_S ? ra : RETRY_AFTER_MAX_S);
        sleep_s(wait);
        delay = delay * 2 < BACKOFF_MAX_S ? delay * 2 : BACKOFF_MAX_S;
    }
    int tries = attempt + 1;
    const char *s = tries == 1 ? "" : "s";
    if (cc == CURLE_OK && code >= 200 && code <= 299 && code != 204) {
        rc = eo_tile_sink_set(sink, b.p, b.n) == EO_OK ? 0 : 1;
        if (rc)
            snprintf(msg, sizeof msg, "cannot keep the %zu bytes of %s", b.n, u);
        else if (F.cache_dir)
            rc = cache_write(url, 200, b.p, b.n, msg, sizeof msg) ? 1 : 0;
    } else if (cc == CURLE_OK && (code == 404 || code == 204)) {
        rc = 0; /* a missing tile: no bytes */
        if (F.cache_dir)
            rc = cache_write(url, 404, NULL, 0, msg, sizeof msg) ? 1 : 0;
    } else if (cc == CURLE_OK) {
        snprintf(msg, sizeof msg, "HTTP %ld%s from %s (%d attempt%s)", code, reason(code), u, tries,
                 s);
    } else if (cc == CURLE_OPERATION_TIMEDOUT) {
        snprintf(msg, sizeof msg,
                 "timed out after %g s (EOPROC_HTTP_TIMEOUT) fetching %s (%d "
                 "attempt%s)",
                 F.timeout_s, u, tries, s);
    } else if (cc == CURLE_WRITE_ERROR && b.too_big) {
        snprintf(msg, sizeof msg, "more than 64 MiB from %s", u);
    } else if (cc == CURLE_ABORTED_BY_CALLBACK) {
        snprintf(msg, sizeof msg, "interrupted while fetching %s", u);
    } else {
        snprintf(msg, sizeof msg, "%s fetching %s (%d attempt%s)",
                 cerr[0] ? cerr : curl_easy_strerror(cc), u, tries, s);
    }
    if (rc)
        eo_tile_sink_set_error(sink, msg);
    free(b.p);
    give_handle(h);
    return rc;
}

int cli_fetch_check(const char *what, const char *value, char *err, size_t cap) {
    if (strcmp(what, "header") == 0) {
        const char *c = strchr(value, ':');
        size_t nl = c ? (size_t)(c - value) : 0;
        int ok = c && nl > 0 && !strpbrk(value, "\r\n") && strcspn(value, " \t") >= nl;
        if (!ok)
            snprintf(err, cap, "--header: expected \"Name: value\", got '%.60s'", value);
        return ok ? 0 : -1;
    }
    if (strcmp(what, "user") == 0) {
        const char *c = strchr(value, ':');
        if (!c || c == value || strpbrk(value, "\r\n")) {
            snprintf(err, cap, "--user: expected USER:PASS, got '%.*s'", c ? (int)(c - value) : 20,
                     value); /* never the password */
            return -1;
        }
        return 0;
    }
    if (strcmp(what, "tile-cache-max-mb") == 0) {
        char *end = NULL;
        errno = 0;
        double v = strtod(value, &end);
        if (!*value || *end || errno || !(v >= 0 && v <= CLI_FETCH_CACHE_MAX_MB_MAX)) {
            snprintf(err, cap,
                     "--tile-cache-max-mb: expected MiB (0 for no bound, at most %g), got "
                     "'%.40s'",
                     CLI_FETCH_CACHE_MAX_MB_MAX, value);
            return -1;
        }
        return 0;
    }
    /* tile-cache: an existing folder, or one that can be created */
    struct stat st;
    if (!*value) {
        snprintf(err, cap, "--tile-cache: expected a folder, got ''");
        return -1;
    }
    if (stat(value, &st) == 0 && !S_ISDIR(st.st_mode)) {
        snprintf(err, cap, "--tile-cache: '%.160s' is not a folder", value);
        return -1;
    }
    if (mkdir(value, 0777) != 0 && errno != EEXIST) {
        snprintf(err, cap, "--tile-cache: cannot create the folder '%.160s': %s", value,
                 strerror(errno));
        return -1;
    }
    return 0;
}

int cli_fetch_init(eo_ctx *ctx, const cli_fetch_opts *o, const volatile sig_atomic_t *stop,
                   char *err, size_t cap) {
    const char *t = getenv("EOPROC_HTTP_TIMEOUT");
    double timeout = 30;
    F.bad_env[0] = '\0';
    if (t && *t) {
        char *end = NULL;
        errno = 0;
        timeout = strtod(t, &end);
        if (*end || errno || !(timeout > 0 && timeout <= 86400)) {
            /* an error of the fetches only: commands without a URL still run */
            snprintf(F.bad_env, sizeof F.bad_env,
                     "EOPROC_HTTP_TIMEOUT: expected seconds (more than 0, at most "
                     "86400), got '%.40s'",
                     t);
            timeout = 30;
        }
    }
    F.retries = o->retries;
    F.timeout_s = timeout;
    F.slots = o->max_connections > 0 ? o->max_connections : CLI_FETCH_CONNECTIONS_DEFAULT;
    for (int i = 0; i < o->nheaders; i++) {
        struct curl_slist *l = curl_slist_append(F.headers, o->headers[i]);
        if (!l) {
            snprintf(err, cap, "out of memory for the HTTP headers");
            return -1;
        }
        F.headers = l;
    }
    const char *user = o->user, *cache = o->cache_dir;
    char eerr[200];
    if (!user && (user = getenv("EOPROC_HTTP_USER")) && *user &&
        cli_fetch_check("user", user, eerr, sizeof eerr) != 0) {
        snprintf(F.bad_env, sizeof F.bad_env, "EOPROC_HTTP_USER%s", eerr + 6);
        user = NULL;
    }
    if (!cache && (cache = getenv("EOPROC_TILE_CACHE")) && *cache &&
        cli_fetch_check("tile-cache", cache, eerr, sizeof eerr) != 0) {
        snprintf(F.bad_env, sizeof F.bad_env, "EOPROC_TILE_CACHE%s", eerr + 12);
        cache = NULL;
    }
    double max_mb = o->cache_max_mb;
    const char *menv = getenv("EOPROC_TILE_CACHE_MAX_MB");
    if (max_mb < 0 && menv && *menv) {
        if (cli_fetch_check("tile-cache-max-mb", menv, eerr, sizeof eerr) != 0)
            snprintf(F.bad_env, sizeof F.bad_env, "EOPROC_TILE_CACHE_MAX_MB%s", eerr + 19);
        else
            max_mb = strtod(menv, NULL);
    }
    if (max_mb < 0)
        max_mb = CLI_FETCH_CACHE_MAX_MB_DEFAULT;
    F.cache_max = (int64_t)(max_mb * 1048576.0);
    F.cache_total = -1;
    F.user = user && *user ? strdup(user) : NULL;
    F.cache_dir = cache && *cache ? strdup(cache) : NULL;
    if ((user && *user && !F.user) || (cache && *cache && !F.cache_dir)) {
        snprintf(err, cap, "out of memory for the fetcher's settings");
        return -1;
    }
    F.stop = stop;
    snprintf(F.agent, sizeof F.agent, "eoproc/%s", EO_VERSION_STRING);
    if (eo_ctx_set_tile_url_fetcher(ctx, fetch, NULL) != EO_OK) {
        snprintf(err, cap, "cannot register the tile fetcher");
        return -1;
    }
    return 0;
}

void cli_fetch_done(void) {
    pthread_mutex_lock(&F.mu);
    for (int i = 0; i < F.nidle; i++)
        curl_easy_cleanup(F.idle[i]);
    F.nidle = 0;
    pthread_mutex_unlock(&F.mu);
    curl_slist_free_all(F.headers);
    F.headers = NULL;
    free(F.user);
    free(F.cache_dir);
    F.user = F.cache_dir = NULL;
    /* pthread_once ran global_init only if something was fetched */
    if (g_init_rc == CURLE_OK) {
        curl_global_cleanup();
        g_init_rc = CURLE_FAILED_INIT;
    }
}
