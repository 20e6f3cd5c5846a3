/* cli_card.c - `eoproc model-card`: show, set or remove the model card of an
 * ONNX file (include/eoproc/infer.h, README "Model cards").
 *
 *   eoproc model-card show MODEL.onnx           the card as JSON on stdout
 *   eoproc model-card set MODEL.onnx CARD.json  embed CARD.json in the model
 *   eoproc model-card remove MODEL.onnx         drop the embedded card
 */
#define _POSIX_C_SOURCE 200809L
#include "cli_card.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "Usage: eoproc model-card show MODEL.onnx\n"
    "       eoproc model-card set MODEL.onnx CARD.json\n"
    "       eoproc model-card remove MODEL.onnx\n\n"
    "A model card says how to run a model: its input bands and their order,\n"
    "scale / mean / std, pixel size and zoom, tile and overlap, classes (and\n"
    "which is the background), activation, threshold and post-processing\n"
    "(schemas/model_card.schema.json). It lives in the ONNX file's\n"
    "metadata_props (\"eoproc.card\"), or beside it as MODEL.onnx.json, which\n"
    "wins when both exist.\n\n"
    "  show    print the card (sidecar, else embedded) as JSON; 'null' and a\n"
    "          warning when the model has none\n"
    "  set     check CARD.json on its own and against the model, then write it\n"
    "          into the model's metadata_props; the graph is not touched\n"
    "  remove  drop the embedded card\n";

static void line(const char *kind, const char *msg, const char *id) {
    fprintf(stderr, "eoproc: %s: ", kind);
    for (const char *p = msg; *p; p++)
        fputc(*p == '\n' || *p == '\r' ? ' ' : *p, stderr);
    if (id)
        fprintf(stderr, " [%s]", id);
    fputc('\n', stderr);
}

static int fail(eo_ctx *ctx, eo_status st) {
    const char *msg = eo_ctx_errmsg(ctx);
    line("error", *msg ? msg : eo_status_str(st), eo_status_id(st));
    return 1;
}

static int usage_error(const char *msg) {
    line("error", msg, "arg.Invalid");
    return 2;
}

static void print_pretty(const char *text) {
    json_object *o = json_tokener_parse(text);
    puts(o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                   JSON_C_TO_STRING_NOSLASHESCAPE)
           : text);
    json_object_put(o);
}

/* Print the card of path (or null and a warning). */
static int show(eo_ctx *ctx, const char *path) {
    eo_model_card *card = NULL;
    char *json = NULL;
    eo_status st = eo_model_card_load(ctx, &card, path);
    if (st != EO_OK)
        return fail(ctx, st);
    if (!card) {
        char msg[1200];
        snprintf(msg, sizeof msg,
                 "%s has no model card (neither embedded nor %s.json): set one with eoproc "
                 "model-card set",
                 path, path);
        line("warning", msg, NULL);
        puts("null");
        return 0;
    }
    st = eo_model_card_to_json(ctx, &json, card);
    if (st == EO_OK)
        print_pretty(json);
    eo_free(json);
    eo_model_card_free(card);
    return st == EO_OK ? 0 : fail(ctx, st);
}

/* Read a whole (small) file; NULL with a message on failure. */
static char *slurp(const char *path) {
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f)
        return NULL;
    size_t len = 0, cap = 4096;
    char *text = malloc(cap);
    while (text) {
        size_t got = fread(text + len, 1, cap - len - 1, f);
        len += got;
        if (len + 1 < cap || len > (1u << 20))
            break;
        char *t = realloc(text, cap *= 2);
        if (!t) {
            free(text);
            text = NULL;
        }
        text = t;
    }
    if (f != stdin)
        fclose(f);
    if (text)
        text[len] = '\0';
    return text;
}

int cli_model_card(eo_ctx *ctx, int argc, char **argv) {
    if (argc < 1 || strcmp(argv[0], "--help") == 0 || strcmp(argv[0], "-h") == 0) {
        fputs(usage, argc < 1 ? stderr : stdout);
        return argc < 1 ? 2 : 0;
    }
    const char *sub = argv[0];
    if (strcmp(sub, "show") == 0) {
        if (argc != 2)
            return usage_error("usage: eoproc model-card show MODEL.onnx");
        return show(ctx, argv[1]);
    }
    if (strcmp(sub, "remove") == 0) {
        if (argc != 2)
            return usage_error("usage: eoproc model-card remove MODEL.onnx");
        eo_status st = eo_model_card_write(ctx, argv[1], NULL);
        return st == EO_OK ? 0 : fail(ctx, st);
    }
    if (strcmp(sub, "set") != 0) {
        char msg[300];
        snprintf(msg, sizeof msg, "model-card: unknown subcommand '%.100s' (show, set, remove)",
                 sub);
        return usage_error(msg);
    }
    if (argc != 3)
        return usage_error("usage: eoproc model-card set MODEL.onnx CARD.json");
    char *text = slurp(argv[2]);
    if (!text) {
        char msg[1200];
        snprintf(msg, sizeof msg, "%s: cannot read the card", argv[2]);
        line("error", msg, "io.Read");
        return 1;
    }
    eo_model_card *card = NULL;
    eo_status st = eo_model_card_parse(ctx, &card, text);
    free(text);
    if (st != EO_OK) {
        char msg[2300];
        snprintf(msg, sizeof msg, "%s: %s", argv[2], eo_ctx_errmsg(ctx));
        line("error", msg, eo_status_id(st));
        return 1;
    }
    st = eo_model_card_write(ctx, argv[1], card);
    eo_model_card_free(card);
    if (st != EO_OK)
        return fail(ctx, st);
    return show(ctx, argv[1]);
}
