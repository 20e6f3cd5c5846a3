/* test_onnx_conformance.c - the ONNX project's own tests (ONNX 1.12's
 * backend test data, Debian's libonnx-testdata: the 932 node tests of one
 * operator each, and the 140 small models of pytorch-converted,
 * pytorch-operator and simple) on every SIMD path this CPU has. Each test
 * is a model.onnx and data sets of input_N.pb / output_N.pb tensors, the
 * outputs computed by ONNX's reference implementation. Every test must
 * either be refused at load (or at planning, for models whose input values
 * decide shapes) with model.UnsupportedOp / model.Unsupported, or run and
 * give every expected output at ONNX's tolerances (rtol 1e-3, atol 1e-5,
 * NaN where NaN is expected). The refused ones must be those listed, with
 * a reason, in tests/infer/onnx_refused.txt, so that a test newly refused
 * (a lost operator) or newly passing (a list to update) fails here.
 *
 * Tests are named folder/test_name. EOPROC_ONNX_TESTDATA overrides the
 * data folder (the one holding node/ and the others);
 * EOPROC_ONNX_REFUSED_OUT=path writes the refused list found (to update the
 * committed one after adding operators). The last line printed is the
 * summary scripts/test.sh shows. */
#define _POSIX_C_SOURCE 200809L
#include "eoi.h"
#include "tap.h"

#include "../../src/infer/infer_int.h"

#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifndef EOPROC_SOURCE_DIR
#define EOPROC_SOURCE_DIR EOPROC_FIXTURE_DIR "/../../.."
#endif

static uint8_t *read_bytes(const char *path, size_t *n) { return tap_read(path, n); }

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted names of the entries of dir starting with prefix. */
static char **list_dir(const char *dir, const char *prefix, int *count) {
    *count = 0;
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    char **names = NULL;
    int cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, prefix, strlen(prefix)) != 0)
            continue;
        if (*count == cap) {
            cap = cap ? 2 * cap : 64;
            names = realloc(names, (size_t)cap * sizeof *names);
        }
        names[(*count)++] = strdup(e->d_name);
    }
    closedir(d);
    if (*count)
        qsort(names, (size_t)*count, sizeof *names, cmp_str);
    return names;
}

static void free_list(char **l, int n) {
    for (int i = 0; i < n; i++)
        free(l[i]);
    free(l);
}

/* One tensor file into t (arena a); 0 on failure. */
static int load_tensor(eo_ctx *ctx, eoi_arena *a, const char *path, eoi_tensor *t) {
    size_t n = 0;
    uint8_t *b = read_bytes(path, &n);
    if (!b)
        return 0;
    eo_status st = eoi_onnx_parse_tensor(ctx, a, b, n, t);
    free(b);
    return st == EO_OK;
}

/* ONNX 1.12's test data stores bfloat16 tensors as uint16 bit patterns:
 * those of an input or output the model declares bfloat16 (elem 16) are
 * turned into the floats they stand for. */
static void bf16_bits_to_float(eoi_tensor *t, int32_t elem) {
    if (elem != 16 || t->dtype != EOI_I64)
        return;
    float *f = (float *)t->data; /* in place: 4 of each 8 bytes */
    for (int64_t i = 0; i < t->n; i++) {
        uint32_t u = (uint32_t)(((int64_t *)t->data)[i] & 0xffff) << 16;
        memcpy(&f[i], &u, 4);
    }
    t->dtype = EOI_F32;
}

/* The expected output against the one computed; a message into why. */
static int compare(const eoi_tensor *want, eo_dtype dt, const int64_t *dims, int32_t ndim,
                   const void *got, char *why, size_t cap) {
    if (ndim != want->ndim) {
        snprintf(why, cap, "rank %d, expected %d", (int)ndim, (int)want->ndim);
        return 0;
    }
    for (int32_t i = 0; i < ndim; i++)
        if (dims[i] != want->dims[i]) {
            snprintf(why, cap, "size %lld on axis %d, expected %lld", (long long)dims[i], (int)i,
                     (long long)want->dims[i]);
            return 0;
        }
    if ((dt == EO_DT_I64) != (want->dtype == EOI_I64)) {
        snprintf(why, cap, "%s output, expected %s", dt == EO_DT_I64 ? "integer" : "float",
                 want->dtype == EOI_I64 ? "integer" : "float");
        return 0;
    }
    for (int64_t i = 0; i < want->n; i++) {
        if (dt == EO_DT_I64) {
            int64_t g = ((const int64_t *)got)[i], w = ((const int64_t *)want->data)[i];
            if (g != w) {
                snprintf(why, cap, "element %lld is %lld, expected %lld", (long long)i,
                         (long long)g, (long long)w);
                return 0;
            }
            continue;
        }
        double g = ((const float *)got)[i], w = ((const float *)want->data)[i];
        int ok = isnan(w) ? isnan(g) : isinf(w) ? g == w : fabs(g - w) <= 1e-5 + 1e-3 * fabs(w);
        if (!ok) {
            snprintf(why, cap, "element %lld is %.9g, expected %.9g", (long long)i, g, w);
            return 0;
        }
    }
    return 1;
}

enum { R_PASS, R_FAIL, R_REFUSED };

/* Tests whose expected data is wrong in ONNX 1.12 (not run; the summary
 * counts them). */
static const char *const SKIP[][2] = {
    {"node/test_cast_FLOAT_to_BFLOAT16",
     "the expected output truncates to bfloat16; ONNX 1.13 and PyTorch round to nearest even, "
     "as eoproc does"},
    {"node/test_castlike_FLOAT_to_BFLOAT16_expanded",
     "input 'like' is declared 3x4 but the data is of shape [1]; truncates as above"},
    {"node/test_castlike_BFLOAT16_to_FLOAT_expanded",
     "input 'like' is declared 3x4 but the data is of shape [1]"},
};

static const char *skip_reason(const char *test) {
    for (size_t i = 0; i < sizeof SKIP / sizeof SKIP[0]; i++)
        if (strcmp(SKIP[i][0], test) == 0)
            return SKIP[i][1];
    return NULL;
}

/* Run one test folder on the current SIMD path: R_PASS, R_FAIL (why says
 * what differs) or R_REFUSED (why gives the reason). */
static int run_one(eo_ctx *ctx, const char *dir, char *why, size_t cap) {
    char path[1024];
    if (snprintf(path, sizeof path, "%s/model.onnx", dir) >= (int)sizeof path)
        return R_FAIL;
    eo_model *m = NULL;
    eo_status st = eo_model_load(ctx, &m, path, NULL);
    if (st != EO_OK) {
        const char *msg = eo_ctx_errmsg(ctx);
        const char *tail = strstr(msg, "model.onnx: ");
        snprintf(why, cap, "%s: %s", eo_status_id(st), tail ? tail + 12 : msg);
        return st == EO_E_MODEL_UNSUPPORTED_OP || st == EO_E_MODEL_UNSUPPORTED ? R_REFUSED : R_FAIL;
    }
    /* the declared element types, for the bfloat16 quirk */
    eoi_onnx decl;
    size_t mlen = 0;
    uint8_t *mbytes = read_bytes(path, &mlen);
    int32_t gin[64];
    if (!mbytes || eoi_onnx_parse(ctx, &decl, mbytes, mlen) != EO_OK) {
        free(mbytes);
        eo_model_free(m);
        snprintf(why, cap, "loads, but cannot be parsed again");
        return R_FAIL;
    }
    free(mbytes);
    int32_t ngin = eoi_onnx_graph_inputs(&decl, gin, 64);
    int nsets = 0, res = R_PASS;
    char **sets = list_dir(dir, "test_data_set_", &nsets);
    for (int s = 0; s < nsets && res == R_PASS; s++) {
        eoi_arena a = {0};
        eo_tensors *in = NULL, *out = NULL;
        eo_tensors_new(ctx, &in);
        int32_t nin = eo_model_input_count(m);
        for (int32_t i = 0; i < nin && res == R_PASS; i++) {
            eoi_tensor t;
            const char *name = NULL;
            eo_dtype dt = 0;
            if (snprintf(path, sizeof path, "%s/%s/input_%d.pb", dir, sets[s], (int)i) >=
                (int)sizeof path)
                path[0] = '\0';
            eo_model_input_info(ctx, m, i, &name, &dt, NULL, 0, NULL);
            if (!load_tensor(ctx, &a, path, &t)) {
                snprintf(why, cap, "cannot read %.200s: %.300s", path, eo_ctx_errmsg(ctx));
                res = R_FAIL;
            } else if ((bf16_bits_to_float(&t, i < ngin ? decl.inputs[gin[i]].elem : 0), 0)) {
            } else if ((dt == EO_DT_I64) != (t.dtype == EOI_I64)) {
                snprintf(why, cap, "input %d: the data's type differs from the model's", (int)i);
                res = R_FAIL;
            } else {
                eo_tensors_set(ctx, in, name, dt, t.dims, t.ndim, t.data);
            }
        }
        if (res == R_PASS) {
            st = eo_model_run_named(ctx, m, in, &out);
            if (st == EO_E_MODEL_UNSUPPORTED_OP || st == EO_E_MODEL_UNSUPPORTED) {
                snprintf(why, cap, "%s: %s", eo_status_id(st), eo_ctx_errmsg(ctx));
                res = R_REFUSED;
            } else if (st != EO_OK) {
                snprintf(why, cap, "run: %s: %s", eo_status_id(st), eo_ctx_errmsg(ctx));
                res = R_FAIL;
            }
        }
        for (int32_t k = 0; res == R_PASS && k < eo_tensors_count(out); k++) {
            eoi_tensor want;
            if (snprintf(path, sizeof path, "%s/%s/output_%d.pb", dir, sets[s], (int)k) >=
                (int)sizeof path)
                path[0] = '\0';
            const char *name = NULL;
            eo_dtype dt = 0;
            int64_t dims[EOI_MAXDIM];
            int32_t nd = 0;
            const void *data = NULL;
            char w2[300];
            eo_tensors_get(ctx, out, k, &name, &dt, dims, EOI_MAXDIM, &nd, &data);
            if (!load_tensor(ctx, &a, path, &want)) {
                snprintf(why, cap, "cannot read %.200s: %.300s", path, eo_ctx_errmsg(ctx));
                res = R_FAIL;
            } else if ((bf16_bits_to_float(&want, k < decl.noutputs ? decl.outputs[k].elem : 0),
                        0)) {
            } else if (!compare(&want, dt, dims, nd, data, w2, sizeof w2)) {
                snprintf(why, cap, "%s output '%s': %s", sets[s], name, w2);
                res = R_FAIL;
            }
        }
        eo_tensors_free(in);
        eo_tensors_free(out);
        eoi_arena_free(&a);
    }
    free_list(sets, nsets);
    eoi_onnx_free(&decl);
    eo_model_free(m);
    eo_ctx_clear_error(ctx);
    return res;
}

/* The committed refused list: test names (the text before ':' on each
 * line not starting with '#'). */
static char **read_refused(const char *path, int *n) {
    *n = 0;
    size_t len = 0;
    char *text = (char *)read_bytes(path, &len);
    if (!text)
        return NULL;
    char **names = NULL;
    int cap = 0;
    char *save = NULL;
    text = realloc(text, len + 1);
    text[len] = '\0';
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#' || line[0] == '\0')
            continue;
        char *colon = strchr(line, ':');
        if (colon)
            *colon = '\0';
        if (*n == cap) {
            cap = cap ? 2 * cap : 256;
            names = realloc(names, (size_t)cap * sizeof *names);
        }
        names[(*n)++] = strdup(line);
    }
    free(text);
    if (*n)
        qsort(names, (size_t)*n, sizeof *names, cmp_str);
    return names;
}

int main(void) {
    const char *root = getenv("EOPROC_ONNX_TESTDATA");
    if (!root || !*root)
        root = "/usr/share/libonnx-testdata/data";
    /* every test of the four folders, as folder/test_name */
    static const char *const folders[] = {"node", "pytorch-converted", "pytorch-operator",
                                          "simple"};
    int ntests = 0, nnode = 0;
    char **tests = NULL;
    for (size_t f = 0; f < sizeof folders / sizeof folders[0]; f++) {
        char sub[1024];
        int k = 0;
        snprintf(sub, sizeof sub, "%s/%s", root, folders[f]);
        char **l = list_dir(sub, "test_", &k);
        CHECKF(k > 0, "no ONNX tests in %s: install libonnx-testdata (scripts/deps.sh)", sub);
        tests = realloc(tests, (size_t)(ntests + k + 1) * sizeof *tests);
        for (int i = 0; i < k; i++) {
            size_t len = strlen(folders[f]) + strlen(l[i]) + 2;
            tests[ntests + i] = malloc(len);
            snprintf(tests[ntests + i], len, "%s/%s", folders[f], l[i]);
        }
        ntests += k;
        nnode += f == 0 ? k : 0;
        free_list(l, k);
    }
    if (!ntests) {
        free(tests);
        return tap_done();
    }
    char listpath[1024];
    snprintf(listpath, sizeof listpath, "%s/onnx_refused.txt", EOPROC_FIXTURE_DIR "/..");
    int nlisted = 0;
    char **listed = read_refused(listpath, &nlisted);
    CHECKF(nlisted > 0, "cannot read the refused list %s", listpath);
    eo_ctx *ctx = NULL;
    eo_ctx_new(&ctx);
    eo_ctx_set_threads(ctx, 2);
    const char *paths[] = {"portable", "avx2", "avx512"};
    char *refused = calloc((size_t)ntests, 1);
    char **reason = calloc((size_t)ntests, sizeof *reason);
    int npaths = 0, run = 0, pass = 0, failed = 0, nskip = 0;
    char pathnames[64] = "";
    for (int p = 0; p < 3; p++) {
        if (!eo_exp_force_kernels(paths[p]))
            continue;
        npaths++;
        snprintf(pathnames + strlen(pathnames), sizeof pathnames - strlen(pathnames), "%s%s",
                 npaths > 1 ? " " : "", paths[p]);
        for (int t = 0; t < ntests; t++) {
            char dir[1024], why[600] = "";
            if (skip_reason(tests[t])) {
                nskip += npaths == 1;
                continue;
            }
            if (snprintf(dir, sizeof dir, "%s/%s", root, tests[t]) >= (int)sizeof dir)
                continue;
            int r = run_one(ctx, dir, why, sizeof why);
            if (r == R_REFUSED) {
                if (npaths == 1) {
                    refused[t] = 1;
                    reason[t] = strdup(why);
                }
                CHECKF(refused[t], "%s [%s]: refused on this path only: %s", tests[t], paths[p],
                       why);
                continue;
            }
            CHECKF(!refused[t], "%s [%s]: runs here but was refused on %s", tests[t], paths[p],
                   paths[0]);
            run++;
            pass += r == R_PASS;
            failed += r == R_FAIL;
            CHECKF(r == R_PASS, "%s [%s]: %s", tests[t], paths[p], why);
        }
    }
    eo_exp_force_kernels(NULL);
    int nref = 0;
    for (int t = 0; t < ntests; t++) {
        if (!refused[t])
            continue;
        nref++;
        const char *key = tests[t];
        CHECKF(bsearch(&key, listed, (size_t)nlisted, sizeof *listed, cmp_str),
               "%s is refused but not in onnx_refused.txt (an operator lost?): %s", tests[t],
               reason[t]);
    }
    for (int i = 0; i < nlisted; i++) {
        int found = 0;
        for (int t = 0; t < ntests && !found; t++)
            found = refused[t] && strcmp(tests[t], listed[i]) == 0;
        CHECKF(found, "%s is in onnx_refused.txt but is not refused: remove it", listed[i]);
    }
    const char *outp = getenv("EOPROC_ONNX_REFUSED_OUT");
    if (outp && *outp) {
        FILE *f = fopen(outp, "w");
        if (f) {
            fprintf(f, "# ONNX 1.12 tests (libonnx-testdata) that eoproc refuses at load,\n"
                       "# with the reason it gives. tests/c/test_onnx_conformance.c checks\n"
                       "# this list; regenerate it with EOPROC_ONNX_REFUSED_OUT=path.\n");
            for (int t = 0; t < ntests; t++)
                if (refused[t])
                    fprintf(f, "%s: %s\n", tests[t], reason[t]);
            fclose(f);
        }
    }
    printf("onnx conformance: %d tests (%d node, %d model), per SIMD path (%s): %d run, "
           "%d passed, %d failed, %d refused, %d skipped (bad ONNX 1.12 data)\n",
           ntests, nnode, ntests - nnode, pathnames, npaths ? run / npaths : 0,
           npaths ? pass / npaths : 0, npaths ? failed / npaths : 0, nref, nskip);
    for (int t = 0; t < ntests; t++)
        free(reason[t]);
    free(reason);
    free(refused);
    free_list(tests, ntests);
    free_list(listed, nlisted);
    eo_ctx_free(ctx);
    return tap_done();
}
