/*
 * eoproc - the command-line tool.
 *
 * A thin front end on the operation registry: every registered operation
 * is a command, its options come from the operation's JSON Schema
 * (properties become --options, "x-positional" lists the positional
 * arguments), and its result is printed as JSON on stdout. Errors are one
 * line on stderr, "eoproc: error: MESSAGE [ID]", with exit status 1 (2 for
 * a usage error, 130 when Ctrl-C cancelled the operation).
 */
#define _POSIX_C_SOURCE 200809L
#include <eoproc.h>

#include "cli_card.h"
#include "cli_fetch.h"

#include <dlfcn.h>
#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define EXIT_FAIL 1
#define EXIT_USAGE 2
#define EXIT_SIGINT 130 /* 128 + SIGINT, as shells report a process a ^C ended */

static eo_ctx *g_ctx;
static int g_quiet;
static int g_verbose;
static int g_bar_drawn;
static volatile sig_atomic_t g_interrupted;

/* ---- output helpers ------------------------------------------------------ */

static void one_line(FILE *f, const char *prefix, const char *msg, const char *id) {
    fputs(prefix, f);
    for (const char *p = msg; *p; p++)
        fputc(*p == '\n' || *p == '\r' ? ' ' : *p, f);
    if (id)
        fprintf(f, " [%s]", id);
    fputc('\n', f);
}

static void clear_bar(void) {
    if (g_bar_drawn) {
        fputs("\r\033[K", stderr);
        g_bar_drawn = 0;
    }
}

static int fail_status(eo_status st) {
    clear_bar();
    const char *msg = eo_ctx_errmsg(g_ctx);
    one_line(stderr, "eoproc: error: ", *msg ? msg : eo_status_str(st), eo_status_id(st));
    return st == EO_E_CANCELLED && g_interrupted ? EXIT_SIGINT : EXIT_FAIL;
}

static int usage_error(const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    one_line(stderr, "eoproc: error: ", buf, "arg.Invalid");
    return EXIT_USAGE;
}

static void print_json(const char *text) {
    json_object *o = json_tokener_parse(text);
    if (o) {
        puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                   JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
    } else {
        puts(text);
    }
}

/* ---- progress and log ---------------------------------------------------- */

static int on_progress(void *user, double f, const char *stage) {
    (void)user;
    int width = 40, done = (int)lround(f * width);
    char eta[32] = "";
    cli_progress_eta(eta, sizeof eta, f);
    fprintf(stderr, "\r%-8.8s [", stage);
    for (int i = 0; i < width; i++)
        fputc(i < done ? '=' : (i == done ? '>' : ' '), stderr);
    fprintf(stderr, "] %3d%%%s", (int)lround(f * 100), eta);
    fflush(stderr);
    g_bar_drawn = 1;
    return 0;
}

static void on_log(void *user, int level, const char *msg) {
    (void)user;
    clear_bar();
    const char *name = level >= EO_LOG_ERROR  ? "error"
                       : level >= EO_LOG_WARN ? "warning"
                       : level >= EO_LOG_INFO ? "info"
                                              : "debug";
    fprintf(stderr, "eoproc: %s: %s\n", name, msg);
}

static void on_sigint(int sig) {
    (void)sig;
    g_interrupted = 1;
    eo_ctx_cancel(g_ctx);
}

/* ---- registry helpers ---------------------------------------------------- */

/* The registry entry whose name or CLI name is cmd, or NULL. */
static json_object *find_op(json_object *list, const char *cmd) {
    size_t n = json_object_array_length(list);
    for (size_t i = 0; i < n; i++) {
        json_object *o = json_object_array_get_idx(list, i), *name, *cli;
        json_object_object_get_ex(o, "name", &name);
        json_object_object_get_ex(o, "cli", &cli);
        if (strcmp(json_object_get_string(name), cmd) == 0 ||
            strcmp(json_object_get_string(cli), cmd) == 0)
            return o;
    }
    return NULL;
}

static const char *jstr(json_object *o, const char *key) {
    json_object *v;
    return json_object_object_get_ex(o, key, &v) ? json_object_get_string(v) : "";
}

static int in_positional(json_object *schema, const char *key) {
    json_object *pos;
    if (!json_object_object_get_ex(schema, "x-positional", &pos))
        return 0;
    for (size_t i = 0; i < json_object_array_length(pos); i++)
        if (strcmp(json_object_get_string(json_object_array_get_idx(pos, i)), key) == 0)
            return 1;
    return 0;
}

/* How a raster parameter's list of files is written on the command line. */
#define MOSAIC_HINT " (A.tif,B.tif or @LIST, a file of paths, one per line)"

/* "string", "integer", "object|string", ... */
static void type_name(json_object *prop, char *buf, size_t cap) {
    json_object *t;
    buf[0] = '\0';
    if (!json_object_object_get_ex(prop, "type", &t))
        return;
    if (json_object_is_type(t, json_type_string)) {
        snprintf(buf, cap, "%s", json_object_get_string(t));
        return;
    }
    for (size_t i = 0; i < json_object_array_length(t); i++) {
        size_t l = strlen(buf);
        snprintf(buf + l, cap - l, "%s%s", i ? "|" : "",
                 json_object_get_string(json_object_array_get_idx(t, i)));
    }
}

static void upper_dash(char *dst, size_t cap, const char *src, int upper) {
    size_t i = 0;
    for (; src[i] && i + 1 < cap; i++) {
        char c = src[i] == '_' ? '-' : src[i];
        dst[i] = upper && c >= 'a' && c <= 'z' ? (char)(c - 32) : c;
    }
    dst[i] = '\0';
}

static void op_help(json_object *entry, json_object *schema) {
    const char *cli = jstr(entry, "cli");
    json_object *props = NULL, *pos = NULL, *req = NULL;
    json_object_object_get_ex(schema, "properties", &props);
    json_object_object_get_ex(schema, "x-positional", &pos);
    json_object_object_get_ex(schema, "required", &req);
    printf("Usage: eoproc %s [--help] [--quiet]", cli);
    char name[128], type[64];
    if (props) {
        json_object_object_foreach(props, key, prop) {
            if (in_positional(schema, key))
                continue;
            upper_dash(name, sizeof name, key, 0);
            type_name(prop, type, sizeof type);
            json_object *d = NULL;
            if (strcmp(type, "boolean") == 0)
                printf(json_object_object_get_ex(prop, "default", &d) && json_object_get_boolean(d)
                           ? " [--[no-]%s]"
                           : " [--%s]",
                       name);
            else {
                char meta[128];
                upper_dash(meta, sizeof meta, key, 1);
                printf(" [--%s %s]", name, meta);
            }
        }
    }
    for (size_t i = 0; pos && i < json_object_array_length(pos); i++) {
        upper_dash(name, sizeof name, json_object_get_string(json_object_array_get_idx(pos, i)), 1);
        printf(" %s", name);
    }
    printf("\n\n%s\n", jstr(entry, "summary"));
    if (strcmp(cli, jstr(entry, "name")) != 0)
        printf("(registry operation \"%s\"; also: eoproc run %s PARAMS.json)\n",
               jstr(entry, "name"), jstr(entry, "name"));
    if (!props)
        return;
    if (pos && json_object_array_length(pos)) {
        printf("\nPositional arguments:\n");
        for (size_t i = 0; i < json_object_array_length(pos); i++) {
            const char *key = json_object_get_string(json_object_array_get_idx(pos, i));
            json_object *prop = NULL;
            json_object_object_get_ex(props, key, &prop);
            upper_dash(name, sizeof name, key, 1);
            type_name(prop, type, sizeof type);
            printf("  %-22s %s%s\n", name, prop ? jstr(prop, "description") : "",
                   strcmp(type, "string|array") == 0 ? MOSAIC_HINT : "");
        }
    }
    printf("\nOptions:\n");
    printf("  %-22s %s\n", "--help", "Show this help and exit");
    printf("  %-22s %s\n", "--quiet", "No progress bar");
    printf("  %-22s %s\n", "--threads N", "Worker threads (default: all CPUs)");
    json_object *src = NULL;
    if (json_object_object_get_ex(props, "src", &src) &&
        strstr(jstr(src, "description"), "URL template")) { /* read through cli_fetch.c */
        printf("  %-22s %s\n", "--retries N",
               "Retries of a tile URL after a 429, 5xx or timeout (default 3)");
        printf("  %-22s %s\n", "-H, --header 'N: v'",
               "An HTTP header on tile requests (repeatable)");
        printf("  %-22s %s\n", "--user USER:PASS",
               "Basic auth of tile requests (EOPROC_HTTP_USER)");
        printf("  %-22s %s\n", "--max-connections N",
               "Tile requests in flight at once (default 8)");
        printf("  %-22s %s\n", "--tile-cache DIR",
               "A disk cache of fetched tiles (EOPROC_TILE_CACHE)");
        printf("  %-22s %s\n", "--tile-cache-max-mb N",
               "Its bound, least recently used out (default 2048 MiB, 0: none)");
    }
    json_object_object_foreach(props, key, prop) {
        if (in_positional(schema, key))
            continue;
        char flag[300], meta[128];
        upper_dash(name, sizeof name, key, 0);
        upper_dash(meta, sizeof meta, key, 1);
        type_name(prop, type, sizeof type);
        json_object *e, *d;
        bool on = json_object_object_get_ex(prop, "default", &d) &&
                  json_object_is_type(d, json_type_boolean) && json_object_get_boolean(d);
        if (strcmp(type, "boolean") == 0)
            snprintf(flag, sizeof flag, on ? "--[no-]%s" : "--%s", name);
        else
            snprintf(flag, sizeof flag, "--%s %s", name, meta);
        printf("  %-22s %s", flag, jstr(prop, "description"));
        if (strcmp(type, "string|array") == 0)
            printf("%s", MOSAIC_HINT);
        if (json_object_object_get_ex(prop, "enum", &e)) {
            printf(" (one of:");
            for (size_t i = 0; i < json_object_array_length(e); i++) {
                json_object *v = json_object_array_get_idx(e, i);
                printf("%s %s", i ? "," : "",
                       json_object_is_type(v, json_type_string)
                           ? json_object_get_string(v)
                           : json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
            }
            printf(")");
        }
        if (on)
            printf(" (default: on)");
        else if (json_object_object_get_ex(prop, "default", &d))
            printf(" (default: %s)",
                   json_object_is_type(d, json_type_string)
                       ? json_object_get_string(d)
                       : json_object_to_json_string_ext(d, JSON_C_TO_STRING_PLAIN));
        printf("\n");
    }
}

/* A raster parameter (a path, or a list of paths: a mosaic): a path;
 * A.tif,B.tif when that is not itself a file; or @LIST, a file naming one
 * path per line (as gdalbuildvrt -input_file_list). */
static json_object *file_list(const char *key, const char *text, int *ok) {
    bool at = text[0] == '@' && access(text, F_OK) != 0;
    bool url = strncmp(text, "http://", 7) == 0 || strncmp(text, "https://", 8) == 0;
    if (url || (!at && (!strchr(text, ',') || access(text, F_OK) == 0)))
        return json_object_new_string(text);
    json_object *arr = json_object_new_array();
    char line[4096];
    if (at) {
        FILE *f = fopen(text + 1, "r");
        if (!f) {
            *ok = 0;
            json_object_put(arr);
            usage_error("--%s: cannot read the file list '%s': %s", key, text + 1, strerror(errno));
            return NULL;
        }
        while (fgets(line, sizeof line, f)) {
            line[strcspn(line, "\r\n")] = '\0';
            if (line[0] && line[0] != '#')
                json_object_array_add(arr, json_object_new_string(line));
        }
        fclose(f);
    } else {
        char *copy = strdup(text), *save = NULL;
        for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
            json_object_array_add(arr, json_object_new_string(tok));
        free(copy);
    }
    if (json_object_array_length(arr) == 0) {
        *ok = 0;
        json_object_put(arr);
        usage_error("--%s: the file list '%s' names no file", key, text);
        return NULL;
    }
    return arr;
}

/* Convert a command-line string to the JSON value its schema wants. */
static json_object *convert(json_object *prop, const char *key, const char *text, int *ok) {
    char type[64];
    *ok = 1;
    type_name(prop, type, sizeof type);
    char *end = NULL;
    if (strcmp(type, "integer") == 0) {
        errno = 0;
        long long v = strtoll(text, &end, 10);
        if (!*text || *end || errno) {
            *ok = 0;
            usage_error("--%s: expected an integer, got '%s'", key, text);
            return NULL;
        }
        return json_object_new_int64(v);
    }
    if (strcmp(type, "number") == 0) {
        errno = 0;
        double v = strtod(text, &end);
        if (!*text || *end || errno || !isfinite(v)) {
            *ok = 0;
            usage_error("--%s: expected a number, got '%s'", key, text);
            return NULL;
        }
        return json_object_new_double(v);
    }
    if (strcmp(type, "boolean") == 0) {
        if (strcmp(text, "true") == 0 || strcmp(text, "yes") == 0 || strcmp(text, "1") == 0)
            return json_object_new_boolean(1);
        if (strcmp(text, "false") == 0 || strcmp(text, "no") == 0 || strcmp(text, "0") == 0)
            return json_object_new_boolean(0);
        *ok = 0;
        usage_error("--%s: expected true or false, got '%s'", key, text);
        return NULL;
    }
    if (strcmp(type, "array") == 0) {
        json_object *items = NULL, *arr = json_object_new_array();
        json_object_object_get_ex(prop, "items", &items);
        char *copy = strdup(text), *save = NULL;
        for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
            json_object *v = items ? convert(items, key, tok, ok) : json_object_new_string(tok);
            if (!*ok) {
                json_object_put(arr);
                free(copy);
                return NULL;
            }
            json_object_array_add(arr, v);
        }
        free(copy);
        return arr;
    }
    if (strcmp(type, "object") == 0) {
        json_object *v = json_tokener_parse(text);
        if (!v) {
            *ok = 0;
            usage_error("--%s: expected a JSON object", key);
        }
        return v;
    }
    if (strcmp(type, "string|array") == 0)
        return file_list(key, text, ok);
    return json_object_new_string(text); /* string, object|string, ... */
}

/* Find the schema property an option names (--allow-z or --allow_z). */
static json_object *find_prop(json_object *props, const char *opt, char *key, size_t cap) {
    if (!props)
        return NULL;
    json_object_object_foreach(props, k, prop) {
        char dashed[128];
        upper_dash(dashed, sizeof dashed, k, 0);
        if (strcmp(opt, k) == 0 || strcmp(opt, dashed) == 0) {
            snprintf(key, cap, "%s", k);
            return prop;
        }
    }
    return NULL;
}

static int run_and_print(const char *op, const char *params) {
    char *out = NULL;
    eo_status st = eo_op_run(g_ctx, op, params, &out);
    clear_bar();
    if (st != EO_OK)
        return fail_status(st);
    print_json(out);
    eo_free(out);
    return 0;
}

/* eoproc OP [ARGS...] [--option VALUE...] for any registered operation. */
static int op_command(json_object *entry, int argc, char **argv) {
    const char *name = jstr(entry, "name");
    char *schema_text = NULL;
    eo_status st = eo_op_schema(g_ctx, name, &schema_text);
    if (st != EO_OK)
        return fail_status(st);
    json_object *schema = json_tokener_parse(schema_text);
    eo_free(schema_text);
    json_object *props = NULL, *pos = NULL, *params = json_object_new_object();
    json_object_object_get_ex(schema, "properties", &props);
    json_object_object_get_ex(schema, "x-positional", &pos);
    size_t npos = pos ? json_object_array_length(pos) : 0, ipos = 0;
    int rc = 0;
    for (int i = 0; i < argc && rc == 0; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            op_help(entry, schema);
            goto out;
        }
        if (strncmp(a, "--", 2) == 0 && a[2]) {
            char opt[128], key[128];
            const char *eq = strchr(a + 2, '=');
            snprintf(opt, sizeof opt, "%.*s", (int)(eq ? (size_t)(eq - a - 2) : strlen(a + 2)),
                     a + 2);
            json_object *prop = find_prop(props, opt, key, sizeof key);
            char type[64];
            bool negated = false;
            if (!prop && strncmp(opt, "no-", 3) == 0 && !eq) {
                /* --no-NAME turns a boolean option off */
                prop = find_prop(props, opt + 3, key, sizeof key);
                type_name(prop, type, sizeof type);
                negated = prop && strcmp(type, "boolean") == 0;
                if (!negated)
                    prop = NULL;
            }
            if (!prop || in_positional(schema, key)) {
                rc = usage_error("%s: unknown option --%s (see eoproc %s --help)",
                                 jstr(entry, "cli"), opt, jstr(entry, "cli"));
                break;
            }
            type_name(prop, type, sizeof type);
            const char *val = eq ? eq + 1 : NULL;
            if (!val && strcmp(type, "boolean") == 0)
                val = negated ? "false" : "true";
            if (!val) {
                if (i + 1 >= argc) {
                    rc = usage_error("option --%s needs a value", opt);
                    break;
                }
                val = argv[++i];
            }
            int ok;
            json_object *v = convert(prop, key, val, &ok);
            if (!ok) {
                rc = EXIT_USAGE;
                break;
            }
            json_object_object_add(params, key, v);
            continue;
        }
        if (ipos >= npos) {
            rc = usage_error("%s: unexpected argument '%s' (see eoproc %s --help)",
                             jstr(entry, "cli"), a, jstr(entry, "cli"));
            break;
        }
        const char *key = json_object_get_string(json_object_array_get_idx(pos, ipos));
        json_object *prop = NULL;
        json_object_object_get_ex(props, key, &prop);
        int ok;
        char type[64];
        type_name(prop, type, sizeof type);
        if (ipos + 1 == npos && strcmp(type, "array") == 0) {
            /* a last positional of type array collects every remaining argument */
            json_object *arr = NULL, *items = NULL;
            if (!json_object_object_get_ex(params, key, &arr)) {
                arr = json_object_new_array();
                json_object_object_add(params, key, arr);
            }
            json_object_object_get_ex(prop, "items", &items);
            json_object *v = items ? convert(items, key, a, &ok) : json_object_new_string(a);
            if (!items)
                ok = 1;
            if (!ok) {
                rc = EXIT_USAGE;
                break;
            }
            json_object_array_add(arr, v);
            continue;
        }
        ipos++;
        json_object *v = convert(prop, key, a, &ok);
        if (!ok) {
            rc = EXIT_USAGE;
            break;
        }
        json_object_object_add(params, key, v);
    }
    if (rc == 0 && ipos + 1 == npos &&
        json_object_object_get_ex(
            params, json_object_get_string(json_object_array_get_idx(pos, ipos)), NULL))
        ipos++; /* a trailing array positional that collected arguments */
    /* positionals left out at the end are fine when not required (polygonize's
     * OUT, detect's OUT: the result then holds the output) */
    json_object *reqd = NULL;
    json_object_object_get_ex(schema, "required", &reqd);
    bool missing = false;
    for (size_t k = ipos; rc == 0 && k < npos; k++) {
        const char *key = json_object_get_string(json_object_array_get_idx(pos, k));
        for (size_t r = 0; reqd && r < json_object_array_length(reqd); r++)
            missing = missing ||
                      strcmp(json_object_get_string(json_object_array_get_idx(reqd, r)), key) == 0;
    }
    if (rc == 0 && ipos < npos && missing) {
        char meta[128];
        upper_dash(meta, sizeof meta, json_object_get_string(json_object_array_get_idx(pos, ipos)),
                   1);
        rc = usage_error("%s: missing %s (see eoproc %s --help)", jstr(entry, "cli"), meta,
                         jstr(entry, "cli"));
    }
    json_object *req = NULL;
    json_object_object_get_ex(schema, "required", &req);
    for (size_t i = 0; rc == 0 && req && i < json_object_array_length(req); i++) {
        const char *k = json_object_get_string(json_object_array_get_idx(req, i));
        if (k && !json_object_object_get_ex(params, k, NULL)) {
            char opt[128];
            upper_dash(opt, sizeof opt, k, in_positional(schema, k));
            rc = usage_error("%s: missing %s%s (see eoproc %s --help)", jstr(entry, "cli"),
                             in_positional(schema, k) ? "" : "--", opt, jstr(entry, "cli"));
        }
    }
    if (rc == 0)
        rc = run_and_print(name, json_object_to_json_string_ext(params, JSON_C_TO_STRING_PLAIN));
out:
    json_object_put(params);
    json_object_put(schema);
    return rc;
}

static int unknown_op(const char *cmd) {
    clear_bar();
    char msg[512];
    snprintf(msg, sizeof msg, "unknown operation '%.200s' (see eoproc ops)", cmd);
    one_line(stderr, "eoproc: error: ", msg, "op.Unknown");
    return EXIT_USAGE;
}

/* eoproc ops [OP]: the registry's list, or one entry of it. */
static int ops_command(json_object *list, const char *list_text, int argc, char **argv) {
    if (argc == 0) {
        print_json(list_text);
        return 0;
    }
    if (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
        printf("Usage: eoproc ops [OP]\n\nList the registered operations as JSON, or show one "
               "(name, CLI name, summary).\n");
        return 0;
    }
    if (argc != 1)
        return usage_error("usage: eoproc ops [OP]");
    json_object *entry = find_op(list, argv[0]);
    if (!entry)
        return unknown_op(argv[0]);
    print_json(json_object_to_json_string_ext(entry, JSON_C_TO_STRING_PRETTY));
    return 0;
}

/* eoproc schema OP: the operation's parameter schema (JSON Schema) */
static int schema_command(json_object *list, int argc, char **argv) {
    if (argc >= 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
        printf("Usage: eoproc schema OP [--params | --result]\n\nPrint the JSON Schemas of an "
               "operation: {\"name\", \"parameters\", \"result\"}.\nparameters is what "
               "eoproc run OP PARAMS.json, eo_op_run and the bindings accept;\nresult "
               "describes the JSON object the operation returns.\n\n"
               "  --params   print the parameters' schema only\n"
               "  --result   print the result's schema only\n");
        return 0;
    }
    bool params_only = false, result_only = false;
    const char *name = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--params") == 0)
            params_only = true;
        else if (strcmp(argv[i], "--result") == 0)
            result_only = true;
        else if (!name && argv[i][0] != '-')
            name = argv[i];
        else
            return usage_error("usage: eoproc schema OP [--params | --result]");
    }
    if (!name || (params_only && result_only))
        return usage_error("usage: eoproc schema OP [--params | --result]");
    json_object *entry = find_op(list, name);
    if (!entry)
        return unknown_op(name);
    char *ptext = NULL, *rtext = NULL;
    eo_status st = eo_op_schema(g_ctx, jstr(entry, "name"), &ptext);
    if (st == EO_OK)
        st = eo_op_result_schema(g_ctx, jstr(entry, "name"), &rtext);
    if (st != EO_OK) {
        eo_free(ptext);
        return fail_status(st);
    }
    if (params_only || result_only) {
        print_json(params_only ? ptext : rtext);
    } else {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "name", json_object_new_string(jstr(entry, "name")));
        json_object_object_add(o, "parameters", json_tokener_parse(ptext));
        json_object_object_add(o, "result", json_tokener_parse(rtext));
        print_json(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        json_object_put(o);
    }
    eo_free(ptext);
    eo_free(rtext);
    return 0;
}

/* eoproc run OP PARAMS.json|- */
static int run_command(json_object *list, int argc, char **argv) {
    if (argc >= 1 && (strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0)) {
        printf("Usage: eoproc run OP PARAMS.json\n\nRun any registered operation with its "
               "parameters as a JSON object, read from a file or from standard input (-).\n"
               "eoproc ops lists the operations; eoproc run OP --help (or eoproc OP --help)\n"
               "their parameters; eoproc schema OP the JSON Schema PARAMS.json follows.\n");
        return 0;
    }
    if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        json_object *entry = find_op(list, argv[0]);
        if (!entry)
            return unknown_op(argv[0]);
        char *h[] = {"--help"};
        return op_command(entry, 1, h);
    }
    if (argc != 2)
        return usage_error("usage: eoproc run OP PARAMS.json (or - for standard input)");
    char *text = NULL;
    size_t len = 0, cap = 0;
    FILE *f = strcmp(argv[1], "-") == 0 ? stdin : fopen(argv[1], "rb");
    if (!f) {
        clear_bar();
        char msg[1200];
        snprintf(msg, sizeof msg, "%s: %s", argv[1], strerror(errno));
        one_line(stderr, "eoproc: error: ", msg, errno == ENOENT ? "io.NotFound" : "io.Read");
        return EXIT_FAIL;
    }
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 65536;
            char *t = realloc(text, cap);
            if (!t) {
                free(text);
                if (f != stdin)
                    fclose(f);
                one_line(stderr, "eoproc: error: ", "out of memory", "memory.Exhausted");
                return EXIT_FAIL;
            }
            text = t;
        }
        size_t got = fread(text + len, 1, 4096, f);
        len += got;
        if (got < 4096)
            break;
    }
    if (f != stdin)
        fclose(f);
    text[len] = '\0';
    int rc = run_and_print(argv[0], text);
    free(text);
    return rc;
}

static void main_help(json_object *list) {
    printf("Usage: eoproc [--help] [--version] [--quiet] [--threads N] [-v] COMMAND [ARGS]\n\n"
           "eoproc %s - an embeddable geoprocessing engine: clip, tile, index, segment,\n"
           "vectorize and write Cloud-Optimized GeoTIFFs.\n\n"
           "Commands:\n",
           eo_version_string());
    size_t n = list ? json_object_array_length(list) : 0;
    for (size_t i = 0; i < n; i++) {
        json_object *o = json_object_array_get_idx(list, i);
        printf("  %-12s %s\n", jstr(o, "cli"), jstr(o, "summary"));
    }
    printf("  %-12s %s\n", "job",
           "A detect job: eoproc job status|partitions|resume|restart|"
           "cancel|finalize DIR");
    printf("  %-12s %s\n", "ops", "List the registered operations (JSON); ops OP shows one");
    printf("  %-12s %s\n", "schema", "The JSON Schemas of an operation's parameters and result");
    printf("  %-12s %s\n", "run", "Run any operation: eoproc run OP PARAMS.json");
    printf("  %-12s %s\n", "model-card", "Show or set a model's card: eoproc model-card --help");
    printf("\nGeneral options:\n"
           "  --help, -h      Show this help (eoproc COMMAND --help for a command's options)\n"
           "  --version       Show the version and the build information\n"
           "  --quiet, -q     No progress bar\n"
           "  --threads N     Worker threads (default: all CPUs)\n"
           "  --progress json One JSON line per progress update on stderr\n"
           "  --retries N     Retries of a tile URL after a 429, 5xx or timeout (default 3;\n"
           "                  EOPROC_HTTP_TIMEOUT: seconds per attempt, default 30)\n"
           "  -H, --header 'Name: value'  An HTTP header on every tile request (repeatable)\n"
           "  --user USER:PASS  Basic auth of tile requests (else EOPROC_HTTP_USER)\n"
           "  --max-connections N  Tile requests in flight at once (default 8)\n"
           "  --tile-cache DIR  Keep fetched tiles (and 404s) in DIR and read them from there\n"
           "                  (else EOPROC_TILE_CACHE)\n"
           "  --tile-cache-max-mb N  Bound of the tile cache in MiB, least recently used out\n"
           "                  first (default 2048, 0: none; else EOPROC_TILE_CACHE_MAX_MB)\n"
           "  -v, --verbose   Log warnings (-v) and debug messages (-vv) on stderr\n"
           "\nResults are JSON on stdout; errors are one line on stderr. Exit status: 0 done,\n"
           "1 the operation failed, 2 usage error, 130 interrupted (Ctrl-C).\n");
}

/* GDAL links OpenBLAS (through Armadillo), whose thread pool starts when it
 * is loaded and spins on sched_yield for about 0.1 s waiting for BLAS work;
 * this program gives it none, so the spinning only takes CPU from the
 * work's threads. Stop the pool (OpenBLAS starts it again if a BLAS call
 * ever comes). */
static void stop_blas_threads(void) {
    int (*shutdown_fn)(void) = NULL;
    *(void **)&shutdown_fn = dlsym(RTLD_DEFAULT, "blas_thread_shutdown_"); /* POSIX's idiom */
    if (shutdown_fn)
        shutdown_fn();
}

int main(int argc, char **argv) {
    stop_blas_threads();
    /* general options may stand anywhere; collect the rest */
    char **rest = calloc((size_t)argc + 1, sizeof *rest);
    int nrest = 0, want_help = 0, want_version = 0;
    int32_t threads = 0;
    int progress_json = 0;
    cli_fetch_opts fo = {.retries = CLI_FETCH_RETRIES_DEFAULT,
                         .max_connections = CLI_FETCH_CONNECTIONS_DEFAULT,
                         .cache_max_mb = -1};
    if (!rest)
        return EXIT_FAIL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *fv = NULL;
        int fetch_opt = 0; /* 1 header, 2 user, 3 max-connections, 4 tile-cache, 5 its bound */
        static const char *const fetch_names[] = {"--header", "--user", "--max-connections",
                                                  "--tile-cache", "--tile-cache-max-mb"};
        for (int k = 4; k >= 0 && !fetch_opt; k--) { /* the longest name first */
            size_t n = strlen(fetch_names[k]);
            if (strncmp(a, fetch_names[k], n) == 0 && (a[n] == '\0' || a[n] == '='))
                fetch_opt = k + 1, fv = a[n] == '=' ? a + n + 1 : NULL;
        }
        if (strcmp(a, "-H") == 0)
            fetch_opt = 1;
        if (fetch_opt) {
            const char *name = fetch_names[fetch_opt - 1];
            char ferr[256];
            if (!fv && i + 1 >= argc) {
                free(rest);
                return usage_error("option %s needs a value", name);
            }
            if (!fv)
                fv = argv[++i];
            if (fetch_opt == 3) {
                char *end = NULL;
                long t = strtol(fv, &end, 10);
                if (!*fv || *end || t < 1 || t > CLI_FETCH_CONNECTIONS_MAX) {
                    free(rest);
                    return usage_error(
                        "--max-connections: expected a number from 1 to %d, got '%.40s'",
                        CLI_FETCH_CONNECTIONS_MAX, fv);
                }
                fo.max_connections = (int)t;
                continue;
            }
            if (cli_fetch_check(fetch_opt == 1   ? "header"
                                : fetch_opt == 2 ? "user"
                                : fetch_opt == 4 ? "tile-cache"
                                                 : "tile-cache-max-mb",
                                fv, ferr, sizeof ferr) != 0) {
                free(rest);
                return usage_error("%s", ferr);
            }
            if (fetch_opt == 1) {
                if (fo.nheaders == CLI_FETCH_HEADERS_MAX) {
                    free(rest);
                    return usage_error("--header: at most %d headers", CLI_FETCH_HEADERS_MAX);
                }
                fo.headers[fo.nheaders++] = fv;
            } else if (fetch_opt == 2)
                fo.user = fv;
            else if (fetch_opt == 4)
                fo.cache_dir = fv;
            else
                fo.cache_max_mb = strtod(fv, NULL);
            continue;
        }
        if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0)
            g_quiet = 1;
        else if (strcmp(a, "--progress=json") == 0 ||
                 (strcmp(a, "--progress") == 0 && i + 1 < argc &&
                  strcmp(argv[i + 1], "json") == 0 && ++i))
            progress_json = 1;
        else if (strcmp(a, "-v") == 0 || strcmp(a, "--verbose") == 0)
            g_verbose++;
        else if (strcmp(a, "-vv") == 0)
            g_verbose += 2;
        else if (strcmp(a, "--version") == 0 && nrest == 0)
            want_version = 1;
        else if ((strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) && nrest == 0)
            want_help = 1;
        else if (strcmp(a, "--threads") == 0 || strncmp(a, "--threads=", 10) == 0) {
            const char *v = a[9] == '=' ? a + 10 : (i + 1 < argc ? argv[++i] : NULL);
            char *end = NULL;
            long t = v ? strtol(v, &end, 10) : -1;
            if (!v || !*v || *end || t < 0 || t > 1024) {
                free(rest);
                return usage_error("--threads: expected a number from 0 to 1024");
            }
            threads = (int32_t)t;
        } else if (strcmp(a, "--retries") == 0 || strncmp(a, "--retries=", 10) == 0) {
            const char *v = a[9] == '=' ? a + 10 : (i + 1 < argc ? argv[++i] : NULL);
            char *end = NULL;
            long t = v ? strtol(v, &end, 10) : -1;
            if (!v || !*v || *end || t < 0 || t > CLI_FETCH_RETRIES_MAX) {
                free(rest);
                return usage_error("--retries: expected a number from 0 to %d",
                                   CLI_FETCH_RETRIES_MAX);
            }
            fo.retries = (int)t;
        } else
            rest[nrest++] = argv[i];
    }
    if (want_version) {
        printf("eoproc %s (library %s)\n", EO_VERSION_STRING, eo_version_string());
        print_json(eo_build_info());
        free(rest);
        return 0;
    }
    eo_status st = eo_ctx_new(&g_ctx);
    if (st != EO_OK) {
        one_line(stderr, "eoproc: error: ", "cannot create a context", eo_status_id(st));
        free(rest);
        return EXIT_FAIL;
    }
    eo_ctx_set_threads(g_ctx, threads);
    char ferr[256];
    if (cli_fetch_init(g_ctx, &fo, &g_interrupted, ferr, sizeof ferr) != 0) {
        eo_ctx_free(g_ctx);
        free(rest);
        return usage_error("%s", ferr);
    }
    if (g_verbose)
        eo_ctx_set_log(g_ctx, on_log, NULL, g_verbose >= 2 ? EO_LOG_DEBUG : EO_LOG_WARN);
    if (progress_json)
        eo_ctx_set_progress(g_ctx, cli_progress_json, NULL);
    else if (!g_quiet && isatty(STDERR_FILENO)) /* the bar goes to stderr: stdout may be a file */
        eo_ctx_set_progress(g_ctx, on_progress, NULL);
    signal(SIGINT, on_sigint);

    char *list_text = NULL;
    json_object *list = NULL;
    int rc = 0;
    if ((st = eo_ops_list(g_ctx, &list_text)) != EO_OK) {
        rc = fail_status(st);
        goto out;
    }
    list = json_tokener_parse(list_text);
    if (want_help || nrest == 0) {
        main_help(list);
        rc = nrest == 0 && !want_help ? EXIT_USAGE : 0;
        goto out;
    }
    const char *cmd = rest[0];
    int skip = 0; /* "job SUB" names the operation job_SUB */
    char jobcmd[64];
    if (strcmp(cmd, "job") == 0 && (rc = cli_job_command(jobcmd, sizeof jobcmd, nrest, rest))) {
        rc = rc < 0 ? 0 : rc;
        goto out;
    }
    if (strcmp(cmd, "job") == 0) {
        cmd = jobcmd;
        skip = 1;
    }
    if (strcmp(cmd, "ops") == 0) {
        rc = ops_command(list, list_text, nrest - 1, rest + 1);
    } else if (strcmp(cmd, "schema") == 0) {
        rc = schema_command(list, nrest - 1, rest + 1);
    } else if (strcmp(cmd, "run") == 0) {
        rc = run_command(list, nrest - 1, rest + 1);
    } else if (strcmp(cmd, "model-card") == 0) {
        rc = cli_model_card(g_ctx, nrest - 1, rest + 1);
    } else if (strcmp(cmd, "help") == 0) {
        json_object *entry = nrest > 1 ? find_op(list, rest[1]) : NULL;
        if (entry) {
            char *h[] = {"--help"};
            rc = op_command(entry, 1, h);
        } else
            main_help(list);
    } else {
        json_object *entry = find_op(list, cmd);
        if (!entry) {
            clear_bar();
            char msg[512];
            snprintf(msg, sizeof msg, "unknown command '%.200s' (see eoproc --help)", cmd);
            one_line(stderr, "eoproc: error: ", msg, "op.Unknown");
            rc = EXIT_USAGE;
        } else {
            rc = op_command(entry, nrest - 1 - skip, rest + 1 + skip);
        }
    }
out:
    clear_bar();
    json_object_put(list);
    eo_free(list_text);
    eo_ctx_free(g_ctx);
    cli_fetch_done();
    free(rest);
    return rc;
}
