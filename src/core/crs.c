/* crs.c - CRS definitions and transformations through PROJ, on the
 * context's own PJ_CONTEXT. */
#include "eoi.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *proj_msg(eo_ctx *ctx) {
    int e = proj_context_errno(ctx->pj);
    const char *m = e ? proj_context_errno_string(ctx->pj, e) : NULL;
    /* PROJ's generic "Unknown error (code 4096)" tells the user nothing */
    return m && strncmp(m, "Unknown error", 13) != 0 ? m : "not a CRS definition PROJ knows";
}

/* An AUTHORITY:CODE definition (EPSG:4326), the authority's length in *n. */
static bool is_auth_code(const char *def, size_t *n) {
    const char *c = strchr(def, ':');
    if (!c || c == def || !c[1])
        return false;
    for (const char *p = def; p < c; p++)
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z')))
            return false;
    for (const char *p = c + 1; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    *n = (size_t)(c - def);
    return true;
}

eo_status eoi_crs_to_wkt(eo_ctx *ctx, char **out_wkt, const char *def, bool *is_geographic) {
    *out_wkt = NULL;
    if (!def || !*def)
        return eoi_fail(ctx, EO_E_CRS, "empty CRS definition");
    PJ *crs = proj_create(ctx->pj, def);
    size_t an = 0;
    if (!crs && is_auth_code(def, &an))
        return eoi_fail(ctx, EO_E_CRS,
                        "unknown CRS code '%.200s': PROJ's database has no %.*s code %s "
                        "(check the number, e.g. EPSG:4326 or EPSG:32633)",
                        def, (int)an, def, def + an + 1);
    if (!crs)
        return eoi_fail(ctx, EO_E_CRS, "cannot understand CRS '%.200s': %s", def, proj_msg(ctx));
    PJ_TYPE t = proj_get_type(crs);
    if (t == PJ_TYPE_BOUND_CRS) {
        PJ *base = proj_get_source_crs(ctx->pj, crs);
        if (base) {
            proj_destroy(crs);
            crs = base;
            t = proj_get_type(crs);
        }
    }
    bool is_crs = t == PJ_TYPE_GEOGRAPHIC_2D_CRS || t == PJ_TYPE_GEOGRAPHIC_3D_CRS ||
                  t == PJ_TYPE_PROJECTED_CRS || t == PJ_TYPE_COMPOUND_CRS ||
                  t == PJ_TYPE_GEOCENTRIC_CRS || t == PJ_TYPE_ENGINEERING_CRS ||
                  t == PJ_TYPE_OTHER_CRS;
    if (!is_crs) {
        proj_destroy(crs);
        return eoi_fail(ctx, EO_E_CRS, "'%.200s' is not a coordinate reference system", def);
    }
    if (is_geographic)
        *is_geographic = t == PJ_TYPE_GEOGRAPHIC_2D_CRS || t == PJ_TYPE_GEOGRAPHIC_3D_CRS;
    const char *opts[] = {"MULTILINE=NO", NULL};
    const char *wkt = proj_as_wkt(ctx->pj, crs, PJ_WKT2_2019, opts);
    eo_status st = EO_OK;
    if (!wkt)
        st = eoi_fail(ctx, EO_E_CRS, "cannot express CRS '%.200s' as WKT", def);
    else if (!(*out_wkt = eoi_strdup(ctx, wkt)))
        st = EO_E_NOMEM;
    proj_destroy(crs);
    return st;
}

int eoi_crs_epsg(eo_ctx *ctx, const char *wkt) {
    if (!wkt || !*wkt)
        return 0;
    PJ *crs = proj_create(ctx->pj, wkt);
    if (!crs)
        return 0;
    int code = 0;
    const char *auth = proj_get_id_auth_name(crs, 0);
    const char *id = proj_get_id_code(crs, 0);
    if (auth && id && strcmp(auth, "EPSG") == 0) {
        code = atoi(id);
    } else {
        int *conf = NULL;
        PJ_OBJ_LIST *list = proj_identify(ctx->pj, crs, "EPSG", NULL, &conf);
        if (list) {
            int n = proj_list_get_count(list);
            for (int i = 0; i < n && !code; i++) {
                if (conf[i] < 70)
                    continue;
                PJ *m = proj_list_get(ctx->pj, list, i);
                const char *c = m ? proj_get_id_code(m, 0) : NULL;
                if (c)
                    code = atoi(c);
                proj_destroy(m);
            }
            proj_list_destroy(list);
        }
        proj_int_list_destroy(conf);
    }
    proj_destroy(crs);
    proj_errno_reset(NULL);
    return code;
}

void eoi_crs_cache_clear(eo_ctx *ctx) {
    for (size_t i = 0; i < sizeof ctx->pj_cache / sizeof ctx->pj_cache[0]; i++) {
        struct eoi_pj_cache *e = &ctx->pj_cache[i];
        proj_destroy(e->pj);
        free(e->src);
        free(e->dst);
        memset(e, 0, sizeof *e);
    }
}

static char *dup(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    return d ? memcpy(d, s, n) : NULL;
}

/* Keep a clone of a new transformation in the cache (best effort: nothing
 * happens when memory is short). */
static void cache_put(eo_ctx *ctx, const char *src, const char *dst, const PJ *pj) {
    size_t n = sizeof ctx->pj_cache / sizeof ctx->pj_cache[0], victim = 0;
    for (size_t i = 1; i < n; i++)
        if (ctx->pj_cache[i].used < ctx->pj_cache[victim].used)
            victim = i;
    struct eoi_pj_cache *e = &ctx->pj_cache[victim];
    char *s = dup(src), *d = dup(dst);
    PJ *c = s && d ? proj_clone(ctx->pj, pj) : NULL;
    if (!c) {
        free(s);
        free(d);
        return;
    }
    proj_destroy(e->pj);
    free(e->src);
    free(e->dst);
    *e = (struct eoi_pj_cache){.src = s, .dst = d, .pj = c, .used = ++ctx->pj_clock};
}

/* A CRS for messages: its name and AUTHORITY:CODE when it has them
 * ("WGS 84 (EPSG:4326)"), else the start of the definition. */
static void crs_label(eo_ctx *ctx, const char *def, char *buf, size_t cap) {
    PJ *c = proj_create(ctx->pj, def);
    const char *name = c ? proj_get_name(c) : NULL;
    const char *auth = c ? proj_get_id_auth_name(c, 0) : NULL;
    const char *code = c ? proj_get_id_code(c, 0) : NULL;
    if (name && auth && code)
        snprintf(buf, cap, "'%.80s' (%s:%s)", name, auth, code);
    else if (name)
        snprintf(buf, cap, "'%.80s'", name);
    else
        snprintf(buf, cap, "'%.60s...'", def);
    proj_destroy(c);
}

eo_status eoi_crs_transformer(eo_ctx *ctx, PJ **out, const char *src, const char *dst) {
    *out = NULL;
    for (size_t i = 0; i < sizeof ctx->pj_cache / sizeof ctx->pj_cache[0]; i++) {
        struct eoi_pj_cache *e = &ctx->pj_cache[i];
        if (e->pj && strcmp(e->src, src) == 0 && strcmp(e->dst, dst) == 0) {
            PJ *c = proj_clone(ctx->pj, e->pj);
            if (c) {
                e->used = ++ctx->pj_clock;
                *out = c;
                return EO_OK;
            }
            break; /* fall back to creating it */
        }
    }
    PJ *p = proj_create_crs_to_crs(ctx->pj, src, dst, NULL);
    if (!p) {
        char a[160], b[160];
        crs_label(ctx, src, a, sizeof a);
        crs_label(ctx, dst, b, sizeof b);
        return eoi_fail(ctx, EO_E_CRS_TRANSFORM,
                        "no transformation from CRS %s to CRS %s (PROJ knows no operation between "
                        "them; a local or engineering CRS links to no other: give the coordinates "
                        "in the same CRS)",
                        a, b);
    }
    PJ *n = proj_normalize_for_visualization(ctx->pj, p);
    proj_destroy(p);
    if (!n)
        return eoi_fail(ctx, EO_E_CRS_TRANSFORM, "cannot normalize axis order: %s", proj_msg(ctx));
    cache_put(ctx, src, dst, n);
    *out = n;
    return EO_OK;
}
