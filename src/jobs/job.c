/* job.c - the detect job: its state in SQLite (a file job.sqlite in the job
 * folder, WAL, one transaction per change of state; in memory for a plain
 * eo_detect), its partitions run one by one, killed runs resumed, failed
 * partitions restarted, and the finalize step that merges the partitions'
 * features across their seams into the output.
 *
 * Tables: meta (key, value): version, params (the detect parameters as
 * JSON), status, started, finished, cancel, result; partitions (id, window,
 * status, attempts, timings, error, pixel and tile counts); features (the
 * partitions' polygons in the source's pixel grid as WKB, with class, pixel
 * count, probability sum, first pixel and seam flag): exactly what merging
 * needs, so finalize gives the features of one pass. */
#include "jobs_int.h"

#include "../tiles/tiles_int.h"
#include "../vector/vector_int.h"
#include "geom_int.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define JOB_DB "job.sqlite"
#define JOB_VERSION "1"

struct eo_job {
    sqlite3 *db;
    char *dir;           /* NULL: in memory */
    json_object *params; /* as stored */
    eo_dataset *src;     /* a host's dataset (borrowed) */
    bool host_source;    /* the job was made with one */
    eoi_plan plan;
    bool planned;
    int lock_fd;
};

static double wall(void) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- SQLite helpers ------------------------------------------------------- */

/* A text column, "" for NULL (a store from elsewhere may hold NULL anywhere). */
static const char *col_text(sqlite3_stmt *s, int i) {
    const char *v = (const char *)sqlite3_column_text(s, i);
    return v ? v : "";
}

/* The store's error as eoproc's category: a full disk or a failed write or
 * sync is io.Write, a failed read io.Read, anything else io.Error. */
static eo_status db_status(sqlite3 *db) {
    switch (sqlite3_extended_errcode(db)) {
    case SQLITE_FULL:
    case SQLITE_IOERR_WRITE:
    case SQLITE_IOERR_FSYNC:
    case SQLITE_IOERR_DIR_FSYNC:
    case SQLITE_IOERR_TRUNCATE:
    case SQLITE_IOERR_SHMSIZE:
    case SQLITE_IOERR_DELETE:
        return EO_E_IO_WRITE;
    case SQLITE_IOERR_READ:
    case SQLITE_IOERR_SHORT_READ:
        return EO_E_IO_READ;
    default:
        return EO_E_IO;
    }
}

static eo_status db_fail(eo_ctx *ctx, eo_job *j, const char *what) {
    return eoi_fail(ctx, db_status(j->db), "job %s: %s: %s", j->dir ? j->dir : "(in memory)", what,
                    sqlite3_errmsg(j->db));
}

static eo_status exec(eo_ctx *ctx, eo_job *j, const char *sql) {
    char *err = NULL;
    if (sqlite3_exec(j->db, sql, NULL, NULL, &err) != SQLITE_OK) {
        eo_status st = eoi_fail(ctx, db_status(j->db), "job %s: %s",
                                j->dir ? j->dir : "(in memory)", err ? err : sqlite3_errmsg(j->db));
        sqlite3_free(err);
        return st;
    }
    return EO_OK;
}

static eo_status prep(eo_ctx *ctx, eo_job *j, sqlite3_stmt **st, const char *sql) {
    if (sqlite3_prepare_v2(j->db, sql, -1, st, NULL) != SQLITE_OK)
        return db_fail(ctx, j, "preparing a query");
    return EO_OK;
}

static eo_status meta_set(eo_ctx *ctx, eo_job *j, const char *key, const char *value) {
    sqlite3_stmt *s = NULL;
    EOI_TRY_RET(prep(ctx, j, &s, "INSERT OR REPLACE INTO meta(key, value) VALUES (?1, ?2)"));
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    if (value)
        sqlite3_bind_text(s, 2, value, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(s, 2);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? EO_OK : db_fail(ctx, j, "writing the job's state");
}

static eo_status meta_setf(eo_ctx *ctx, eo_job *j, const char *key, double v) {
    char b[64];
    snprintf(b, sizeof b, "%.17g", v);
    return meta_set(ctx, j, key, b);
}

/* meta value (a copy; NULL when absent) */
static char *meta_get(eo_job *j, const char *key) {
    sqlite3_stmt *s = NULL;
    char *v = NULL;
    if (sqlite3_prepare_v2(j->db, "SELECT value FROM meta WHERE key = ?1", -1, &s, NULL) !=
        SQLITE_OK)
        return NULL;
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
        v = eoi_strdup(NULL, (const char *)sqlite3_column_text(s, 0));
    sqlite3_finalize(s);
    return v;
}

static double meta_num(eo_job *j, const char *key, double dflt) {
    char *v = meta_get(j, key);
    double d = v ? strtod(v, NULL) : dflt;
    eoi_free(v);
    return d;
}

/* How db_open finds the store: DB_NEW makes it (in rollback mode, as the
 * temporary file is renamed into place when complete), DB_PLACED opens the
 * store just renamed into place and switches it to WAL (a setting kept in the
 * file, so that runs in several processes do not block status queries),
 * DB_EXISTING opens a store without changing the file: a status query or a
 * cancel leaves it as it was. */
enum db_mode { DB_NEW, DB_PLACED, DB_EXISTING };

static eo_status db_open(eo_ctx *ctx, eo_job *j, const char *path, enum db_mode mode) {
    bool create = mode == DB_NEW;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
    if (sqlite3_open_v2(path, &j->db, flags, NULL) != SQLITE_OK)
        return eoi_fail(ctx, create ? EO_E_IO_WRITE : EO_E_IO_NOT_FOUND, "job %s: %s",
                        j->dir ? j->dir : "(in memory)",
                        j->db ? sqlite3_errmsg(j->db) : "cannot open the job store");
    sqlite3_busy_timeout(j->db, 30000);
    if (mode == DB_PLACED)
        EOI_TRY_RET(exec(ctx, j, "PRAGMA journal_mode=WAL"));
    if (j->dir && !create) /* this connection's setting: nothing in the file */
        EOI_TRY_RET(exec(ctx, j, "PRAGMA synchronous=NORMAL"));
    return EO_OK;
}

static const char SCHEMA_SQL[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT);"
    "CREATE TABLE IF NOT EXISTS partitions(id INTEGER PRIMARY KEY, x INTEGER, y INTEGER,"
    " w INTEGER, h INTEGER, status TEXT NOT NULL DEFAULT 'UNPROCESSED',"
    " attempts INTEGER NOT NULL DEFAULT 0, started REAL, finished REAL, seconds REAL,"
    " code INTEGER, error TEXT, aoi_px INTEGER, valid_px INTEGER, tiles_run INTEGER,"
    " fetched INTEGER, missing INTEGER, corrupt INTEGER, hist BLOB, features INTEGER);"
    "CREATE TABLE IF NOT EXISTS features(part INTEGER, idx INTEGER, cls REAL, pixels INTEGER,"
    " psum REAL, top INTEGER, edge INTEGER, wkb BLOB, PRIMARY KEY(part, idx));";

/* ---- the plan of a job -------------------------------------------------------- */

static eo_status ensure_plan(eo_ctx *ctx, eo_job *j) {
    if (j->planned)
        return EO_OK;
    if (j->host_source && !j->src)
        return eoi_fail(ctx, EO_E_STATE,
                        "job %s was made with a host's dataset: give it again "
                        "(eo_job_set_source)",
                        j->dir ? j->dir : "(in memory)");
    json_object *params = NULL;
    eo_status st = eoi_json_parse(ctx, &params,
                                  json_object_to_json_string_ext(j->params, JSON_C_TO_STRING_PLAIN),
                                  "job parameters", EO_E_STATE);
    if (st != EO_OK)
        return st;
    st = eoi_plan_make(ctx, &j->plan, params, j->src, NULL);
    json_object_put(params);
    if (st != EO_OK)
        return st;
    /* the stored partitions must be the plan's */
    sqlite3_stmt *s = NULL;
    EOI_TRY(st, prep(ctx, j, &s, "SELECT id, x, y, w, h FROM partitions ORDER BY id"));
    int64_t n = 0;
    bool same = true;
    while (sqlite3_step(s) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(s, 0);
        const eo_window *w = id < j->plan.nparts ? &j->plan.parts[id] : NULL;
        same = same && id == n && w && w->x == sqlite3_column_int64(s, 1) &&
               w->y == sqlite3_column_int64(s, 2) && w->width == sqlite3_column_int64(s, 3) &&
               w->height == sqlite3_column_int64(s, 4);
        n++;
    }
    sqlite3_finalize(s);
    if (!same || n != j->plan.nparts) {
        st = eoi_fail(ctx, EO_E_STATE,
                      "job %s: the source or the parameters no longer give the job's %lld "
                      "partitions (%lld now): start a new job",
                      j->dir ? j->dir : "(in memory)", (long long)n, (long long)j->plan.nparts);
        goto done;
    }
    j->planned = true;
done:
    if (st != EO_OK)
        eoi_plan_clear(&j->plan);
    return st;
}

/* ---- create / open / close ----------------------------------------------------- */

static eo_job *job_alloc(eo_ctx *ctx, const char *dir) {
    eo_job *j = eoi_calloc(ctx, 1, sizeof *j);
    if (!j)
        return NULL;
    j->lock_fd = -1;
    if (dir && !(j->dir = eoi_strdup(ctx, dir))) {
        eoi_free(j);
        return NULL;
    }
    return j;
}

void eo_job_close(eo_job *j) {
    if (!j)
        return;
    if (j->planned)
        eoi_plan_clear(&j->plan);
    json_object_put(j->params);
    if (j->lock_fd >= 0)
        close(j->lock_fd);
    sqlite3_close(j->db);
    eoi_free(j->dir);
    eoi_free(j);
}

/* params + the host's AOI and output, as the job keeps them */
static eo_status job_params(eo_ctx *ctx, json_object **out, eo_dataset *src, const eo_geom *aoi,
                            const char *out_path, const eo_detect_opts *opts) {
    json_object *p = NULL;
    eo_status st = EO_OK;
    char *gj = NULL;
    const char *text = opts && opts->params
                           ? json_object_to_json_string_ext(opts->params, JSON_C_TO_STRING_PLAIN)
                           : "{}";
    EOI_TRY(st, eoi_json_parse(ctx, &p, text, "detect options", EO_E_PARAM));
    if (out_path)
        json_object_object_add(p, "out", json_object_new_string(out_path));
    if (aoi) {
        EOI_TRY(st, eo_geom_to_geojson(ctx, &gj, aoi, 17));
        json_object_object_add(p, "aoi", json_object_new_string(gj));
        json_object_object_add(p, "crs", json_object_new_string(eo_geom_crs_wkt(aoi)));
    }
    if (src)
        json_object_object_add(p, "src", json_object_new_string(src->path));
    *out = p;
    p = NULL;
done:
    eo_free(gj);
    json_object_put(p);
    return st;
}

static eo_status job_create(eo_ctx *ctx, eo_job **out, const char *dir, eo_dataset *src,
                            const eo_geom *aoi, const char *out_path, const eo_detect_opts *opts) {
    *out = NULL;
    char path[4200], *tmp = NULL;
    bool made = false; /* the temporary store, so the folder may be ours */
    eo_status st = EO_OK;
    eo_job *j = job_alloc(ctx, dir);
    if (!j)
        return EO_E_NOMEM;
    EOI_TRY(st, job_params(ctx, &j->params, src, aoi, out_path, opts));
    json_object_object_del(j->params, "job");
    json_object_object_del(j->params, "estimate");
    j->src = src;
    j->host_source = src != NULL;
    /* the plan first: a bad parameter or AOI leaves no job folder behind */
    {
        json_object *params = NULL;
        EOI_TRY(st,
                eoi_json_parse(ctx, &params,
                               json_object_to_json_string_ext(j->params, JSON_C_TO_STRING_PLAIN),
                               "job parameters", EO_E_PARAM));
        st = eoi_plan_make(ctx, &j->plan, params, src, NULL);
        json_object_put(params);
        EOI_TRY(st, st);
        j->planned = true;
        /* keep the validated parameters, defaults filled */
        json_object_put(j->params);
        j->params = json_object_get(j->plan.params);
    }
    if (dir) {
        snprintf(path, sizeof path, "%s/" JOB_DB, dir);
        struct stat sb;
        if (stat(path, &sb) == 0) {
            st = eoi_fail(ctx, EO_E_STATE,
                          "%s already holds a job: resume it (eoproc job resume %s) or use "
                          "another folder",
                          dir, dir);
            goto done;
        }
        EOI_TRY(st, eoi_mkdirs(ctx, dir));
        /* built under a temporary name and linked into place when complete:
         * a process opening the folder meanwhile finds no job or a whole one */
        EOI_TRY(st, eoi_tmp_beside(ctx, &tmp, path, ""));
        made = true;
        EOI_TRY(st, db_open(ctx, j, tmp, DB_NEW));
    } else
        EOI_TRY(st, db_open(ctx, j, ":memory:", DB_NEW));
    EOI_TRY(st, exec(ctx, j, "BEGIN IMMEDIATE"));
    EOI_TRY(st, exec(ctx, j, SCHEMA_SQL));
    EOI_TRY(st, meta_set(ctx, j, "version", JOB_VERSION));
    EOI_TRY(st, meta_set(ctx, j, "params",
                         json_object_to_json_string_ext(j->params, JSON_C_TO_STRING_PLAIN)));
    EOI_TRY(st, meta_set(ctx, j, "status", "UNPROCESSED"));
    EOI_TRY(st, meta_set(ctx, j, "host_source", j->host_source ? "1" : "0"));
    EOI_TRY(st, meta_setf(ctx, j, "created", wall()));
    {
        sqlite3_stmt *s = NULL;
        EOI_TRY(st, prep(ctx, j, &s, "INSERT INTO partitions(id, x, y, w, h) VALUES (?,?,?,?,?)"));
        for (int64_t i = 0; i < j->plan.nparts && st == EO_OK; i++) {
            const eo_window *w = &j->plan.parts[i];
            sqlite3_bind_int64(s, 1, i);
            sqlite3_bind_int64(s, 2, w->x);
            sqlite3_bind_int64(s, 3, w->y);
            sqlite3_bind_int64(s, 4, w->width);
            sqlite3_bind_int64(s, 5, w->height);
            if (sqlite3_step(s) != SQLITE_DONE)
                st = db_fail(ctx, j, "writing the partitions");
            sqlite3_reset(s);
        }
        sqlite3_finalize(s);
        EOI_TRY(st, st);
    }
    EOI_TRY(st, exec(ctx, j, "COMMIT"));
    if (dir) {
        sqlite3_close(j->db);
        j->db = NULL;
        /* never replaces a job another process made meanwhile */
        if ((st = eoi_tmp_commit_new(ctx, tmp, path, EO_OK)) != EO_OK) {
            st = st == EO_E_STATE
                     ? eoi_fail(ctx, EO_E_STATE,
                                "%s already holds a job: resume it (eoproc job "
                                "resume %s) or use another folder",
                                dir, dir)
                     : eoi_fail(ctx, EO_E_IO_WRITE, "job %s: %s", dir, strerror(errno));
            eoi_free(tmp);
            tmp = NULL; /* removed */
            goto done;
        }
        eoi_free(tmp);
        tmp = NULL;
        if ((st = db_open(ctx, j, path, DB_PLACED)) != EO_OK) {
            const char *placed = path;
            eoi_out_discard(&placed, 1);
            goto done;
        }
    }
    *out = j;
    j = NULL;
done:
    if (j && dir && made) { /* leave no half-made job behind */
        if (j->db)
            sqlite3_close(j->db);
        j->db = NULL;
        if (tmp) /* the temporary and its journal */
            eoi_tmp_commit(ctx, tmp, path, st);
        rmdir(dir);
    }
    eoi_free(tmp);
    eo_job_close(j);
    return st;
}

eo_status eo_job_create(eo_ctx *ctx, eo_job **out, const char *dir, eo_dataset *src,
                        const eo_geom *aoi, const char *out_path, const eo_detect_opts *opts) {
    EOI_CHECK_ARG(ctx, out);
    *out = NULL;
    EOI_CHECK_ARG(ctx, dir && *dir);
    return job_create(ctx, out, dir, src, aoi, out_path, opts);
}

eo_status eo_job_open(eo_ctx *ctx, eo_job **out, const char *dir) {
    EOI_CHECK_ARG(ctx, out);
    *out = NULL;
    EOI_CHECK_ARG(ctx, dir && *dir);
    char path[4200];
    snprintf(path, sizeof path, "%s/" JOB_DB, dir);
    struct stat sb;
    if (stat(path, &sb) != 0)
        return eoi_fail(ctx, EO_E_IO_NOT_FOUND, "%s: no job here (no %s)", dir, JOB_DB);
    eo_job *j = job_alloc(ctx, dir);
    if (!j)
        return EO_E_NOMEM;
    eo_status st = db_open(ctx, j, path, DB_EXISTING);
    char *params = NULL;
    if (st == EO_OK && !(params = meta_get(j, "params")))
        st = eoi_fail(ctx, EO_E_STATE, "%s: the job store has no parameters", dir);
    if (st == EO_OK)
        st = eoi_json_parse(ctx, &j->params, params, "job parameters", EO_E_STATE);
    eoi_free(params);
    if (st == EO_OK)
        j->host_source = meta_num(j, "host_source", 0) != 0;
    if (st != EO_OK) {
        eo_job_close(j);
        return st;
    }
    *out = j;
    return EO_OK;
}

eo_status eo_job_set_source(eo_ctx *ctx, eo_job *j, eo_dataset *src) {
    EOI_CHECK_ARG(ctx, j && src);
    if (j->planned)
        return eoi_fail(ctx, EO_E_STATE, "the job's source is set already");
    j->src = src;
    return EO_OK;
}

/* ---- the lock of a running job --------------------------------------------------- */

static eo_status take_lock(eo_ctx *ctx, eo_job *j) {
    if (!j->dir || j->lock_fd >= 0)
        return EO_OK;
    char path[4200];
    snprintf(path, sizeof path, "%s/lock", j->dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return eoi_fail(ctx, EO_E_IO_WRITE, "%s: %s", path, strerror(errno));
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        close(fd);
        return eoi_fail(ctx, EO_E_STATE, "job %s is running in another process", j->dir);
    }
    j->lock_fd = fd;
    return EO_OK;
}

static void drop_lock(eo_job *j) {
    if (j->lock_fd >= 0) {
        close(j->lock_fd);
        j->lock_fd = -1;
    }
}

/* ---- running partitions ---------------------------------------------------------- */

typedef struct prog {
    eo_progress_fn fn;
    void *user;
    eo_job *job;
    double lo, hi; /* this partition's share of the bar */
    double next_check;
    bool cancelled;
} prog;

static bool cancel_asked(eo_job *j) {
    sqlite3_stmt *s = NULL;
    bool yes = false;
    if (sqlite3_prepare_v2(j->db, "SELECT value FROM meta WHERE key = 'cancel'", -1, &s, NULL) ==
        SQLITE_OK) {
        if (sqlite3_step(s) == SQLITE_ROW)
            yes = sqlite3_column_int(s, 0) != 0;
        sqlite3_finalize(s);
    }
    return yes;
}

static int on_progress(void *user, double f, const char *stage) {
    prog *p = user;
    double t = wall();
    if (t >= p->next_check) {
        p->next_check = t + 0.25;
        if (cancel_asked(p->job)) {
            p->cancelled = true;
            return 1;
        }
    }
    (void)stage;
    return p->fn ? p->fn(p->user, p->lo + (p->hi - p->lo) * (f < 1 ? f : 1), "detect") : 0;
}

static eo_status store_features(eo_ctx *ctx, eo_job *j, int64_t id, const eo_features *f) {
    sqlite3_stmt *s = NULL;
    GEOSContextHandle_t h = ctx->geos;
    GEOSWKBWriter *w = GEOSWKBWriter_create_r(h);
    eo_status st = EO_OK;
    if (!w)
        return eoi_fail(ctx, EO_E_NOMEM, "out of memory (WKB writer)");
    EOI_TRY(st, prep(ctx, j, &s,
                     "INSERT INTO features(part, idx, cls, pixels, psum, top, edge, wkb) "
                     "VALUES (?,?,?,?,?,?,?,?)"));
    for (size_t i = 0; i < f->n && st == EO_OK; i++) {
        const eoi_feature *ft = &f->v[i];
        size_t len = 0;
        unsigned char *b = GEOSWKBWriter_write_r(h, w, ft->g, &len);
        if (!b) {
            st = eoi_geos_fail(ctx, "storing a feature");
            break;
        }
        sqlite3_bind_int64(s, 1, id);
        sqlite3_bind_int64(s, 2, (int64_t)i);
        sqlite3_bind_double(s, 3, ft->cls);
        sqlite3_bind_int64(s, 4, ft->pixels);
        sqlite3_bind_double(s, 5, ft->psum);
        sqlite3_bind_int64(s, 6, ft->top);
        sqlite3_bind_int(s, 7, ft->edge);
        sqlite3_bind_blob(s, 8, b, (int)len, SQLITE_TRANSIENT);
        if (sqlite3_step(s) != SQLITE_DONE)
            st = db_fail(ctx, j, "storing the features");
        sqlite3_reset(s);
        GEOSFree_r(h, b);
    }
done:
    sqlite3_finalize(s);
    GEOSWKBWriter_destroy_r(h, w);
    return st;
}

static eo_status part_done(eo_ctx *ctx, eo_job *j, int64_t id, const eoi_part_result *r,
                           double t0) {
    eo_status st = EO_OK;
    sqlite3_stmt *s = NULL;
    EOI_TRY(st, exec(ctx, j, "BEGIN IMMEDIATE"));
    {
        char q[64];
        snprintf(q, sizeof q, "DELETE FROM features WHERE part = %lld", (long long)id);
        EOI_TRY(st, exec(ctx, j, q));
    }
    EOI_TRY(st, store_features(ctx, j, id, r->f));
    EOI_TRY(st, prep(ctx, j, &s,
                     "UPDATE partitions SET status = 'OK', finished = ?2, seconds = ?3, "
                     "code = 0, error = NULL, aoi_px = ?4, valid_px = ?5, tiles_run = ?6, "
                     "fetched = ?7, missing = ?8, corrupt = ?9, hist = ?10, features = ?11 "
                     "WHERE id = ?1"));
    double t = wall();
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_double(s, 2, t);
    sqlite3_bind_double(s, 3, t - t0);
    sqlite3_bind_int64(s, 4, r->aoi_px);
    sqlite3_bind_int64(s, 5, r->valid_px);
    sqlite3_bind_int64(s, 6, r->tiles_run);
    sqlite3_bind_int64(s, 7, r->fetched);
    sqlite3_bind_int64(s, 8, r->missing);
    sqlite3_bind_int64(s, 9, r->corrupt);
    sqlite3_bind_blob(s, 10, r->hist, sizeof r->hist, SQLITE_STATIC);
    sqlite3_bind_int64(s, 11, (int64_t)r->f->n);
    if (sqlite3_step(s) != SQLITE_DONE)
        st = db_fail(ctx, j, "recording a finished partition");
    sqlite3_finalize(s);
    s = NULL;
    EOI_TRY(st, st);
    EOI_TRY(st, exec(ctx, j, "COMMIT"));
done:
    if (st != EO_OK)
        sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
    return st;
}

/* Record partition id's state (and its error) in one transaction. */
static eo_status part_state(eo_ctx *ctx, eo_job *j, int64_t id, const char *status, eo_status code,
                            const char *error, bool attempt) {
    sqlite3_stmt *s = NULL;
    EOI_TRY_RET(prep(ctx, j, &s,
                     attempt ? "UPDATE partitions SET status = ?2, attempts = attempts + 1, "
                               "started = ?3 WHERE id = ?1"
                             : "UPDATE partitions SET status = ?2, finished = ?3, code = ?4, "
                               "error = ?5 WHERE id = ?1"));
    sqlite3_bind_int64(s, 1, id);
    sqlite3_bind_text(s, 2, status, -1, SQLITE_STATIC);
    sqlite3_bind_double(s, 3, wall());
    if (!attempt) {
        sqlite3_bind_int(s, 4, code);
        if (error)
            sqlite3_bind_text(s, 5, error, -1, SQLITE_TRANSIENT);
        else
            sqlite3_bind_null(s, 5);
    }
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? EO_OK : db_fail(ctx, j, "recording a partition's state");
}

static const char *part_status(eo_job *j, int64_t id, int64_t *attempts) {
    sqlite3_stmt *s = NULL;
    static const char *const names[] = {"UNPROCESSED", "IN_PROGRESS", "OK", "FAILED"};
    const char *r = NULL;
    if (sqlite3_prepare_v2(j->db, "SELECT status, attempts FROM partitions WHERE id = ?1", -1, &s,
                           NULL) != SQLITE_OK)
        return NULL;
    sqlite3_bind_int64(s, 1, id);
    if (sqlite3_step(s) == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(s, 0);
        for (int i = 0; i < 4 && v; i++)
            if (strcmp(v, names[i]) == 0)
                r = names[i];
        if (attempts)
            *attempts = sqlite3_column_int64(s, 1);
    }
    sqlite3_finalize(s);
    return r;
}

/* Run one partition; a failure of the partition itself is recorded and
 * *failed set (the call succeeds); cancel and store errors fail the call. */
static eo_status run_one(eo_ctx *ctx, eo_job *j, int64_t id, prog *pg, bool *failed) {
    eoi_part_result r;
    eo_status st = EO_OK;
    *failed = false;
    const char *cur = part_status(j, id, NULL);
    if (!cur)
        return eoi_fail(ctx, EO_E_ARG, "job %s: no partition %lld (0 to %lld)",
                        j->dir ? j->dir : "(in memory)", (long long)id,
                        (long long)j->plan.nparts - 1);
    if (strcmp(cur, "OK") == 0)
        return EO_OK;
    if (cancel_asked(j))
        return eoi_fail(ctx, EO_E_CANCELLED, "job %s was cancelled", j->dir ? j->dir : "");
    EOI_TRY_RET(part_state(ctx, j, id, "IN_PROGRESS", 0, NULL, true));
    double t0 = wall();
    eo_progress_fn ufn = ctx->progress_fn;
    void *uuser = ctx->progress_user;
    ctx->progress_fn = on_progress;
    ctx->progress_user = pg;
    st = eoi_plan_run_part(ctx, &j->plan, id, &r);
    ctx->progress_fn = ufn;
    ctx->progress_user = uuser;
    /* a failure while the context is being cancelled (a host fetcher stopped
     * by Ctrl-C fails its tile) is the cancel: the partition stays to resume */
    if (st == EO_E_CANCELLED || pg->cancelled || (st != EO_OK && atomic_load(&ctx->cancelled))) {
        char msg[EOI_MSG_MAX];
        snprintf(msg, sizeof msg, "%s", eo_ctx_errmsg(ctx));
        part_state(ctx, j, id, "UNPROCESSED", 0, NULL, false);
        eo_features_free(r.f);
        return eoi_fail(ctx, EO_E_CANCELLED, "job %s was cancelled",
                        j->dir ? j->dir : "(in memory)");
    }
    if (st != EO_OK) {
        char msg[EOI_MSG_MAX + 64];
        snprintf(msg, sizeof msg, "%s [%s]", eo_ctx_errmsg(ctx), eo_status_id(st));
        eoi_log(ctx, EO_LOG_WARN, "partition %lld failed: %s", (long long)id, msg);
        *failed = true;
        return part_state(ctx, j, id, "FAILED", st, msg, false);
    }
    st = part_done(ctx, j, id, &r, t0);
    eo_features_free(r.f);
    return st;
}

static eo_status count_parts(eo_ctx *ctx, eo_job *j, int64_t *ok, int64_t *failed, int64_t *total) {
    sqlite3_stmt *s = NULL;
    *ok = *failed = *total = 0;
    EOI_TRY_RET(prep(ctx, j, &s, "SELECT status, COUNT(*) FROM partitions GROUP BY status"));
    while (sqlite3_step(s) == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(s, 0);
        int64_t n = sqlite3_column_int64(s, 1);
        *total += n;
        if (v && strcmp(v, "OK") == 0)
            *ok += n;
        else if (v && strcmp(v, "FAILED") == 0)
            *failed += n;
    }
    sqlite3_finalize(s);
    return EO_OK;
}

/* A failed partition's status as the store recorded it. A store edited or
 * damaged by hand can hold any integer there (0 would read as success): what
 * is not an error status eoproc defines becomes state.Invalid. */
static eo_status stored_code(sqlite3_stmt *s, int col) {
    eo_status c = sqlite3_column_int(s, col);
    return c != EO_OK && eoi_status_known(c) ? c : EO_E_STATE;
}

eo_status eo_job_run_partition(eo_ctx *ctx, eo_job *j, int64_t id) {
    EOI_CHECK_ARG(ctx, j);
    EOI_TRY_RET(ensure_plan(ctx, j));
    prog pg = {ctx->progress_fn, ctx->progress_user, j, 0, 1, 0, false};
    bool failed = false;
    eo_status st = run_one(ctx, j, id, &pg, &failed);
    if (st == EO_OK && failed) {
        sqlite3_stmt *s = NULL;
        if (sqlite3_prepare_v2(j->db, "SELECT code, error FROM partitions WHERE id = ?1", -1, &s,
                               NULL) == SQLITE_OK) {
            sqlite3_bind_int64(s, 1, id);
            if (sqlite3_step(s) == SQLITE_ROW)
                st = eoi_fail(ctx, stored_code(s, 0), "partition %lld: %s", (long long)id,
                              col_text(s, 1));
            sqlite3_finalize(s);
        }
        if (st == EO_OK)
            st = eoi_fail(ctx, EO_E_INTERNAL, "partition %lld failed", (long long)id);
    }
    return st;
}

/* The first failure, as the call's error. */
static eo_status failed_error(eo_ctx *ctx, eo_job *j, int64_t nfailed, int64_t total) {
    sqlite3_stmt *s = NULL;
    eo_status st = EO_E_INTERNAL;
    char msg[EOI_MSG_MAX] = "";
    int64_t id = -1;
    if (sqlite3_prepare_v2(j->db,
                           "SELECT id, code, error FROM partitions WHERE status = 'FAILED' "
                           "ORDER BY id LIMIT 1",
                           -1, &s, NULL) == SQLITE_OK) {
        if (sqlite3_step(s) == SQLITE_ROW) {
            id = sqlite3_column_int64(s, 0);
            st = stored_code(s, 1);
            snprintf(msg, sizeof msg, "%s", col_text(s, 2));
            char *bracket = strrchr(msg, '[');
            if (bracket && bracket > msg)
                bracket[-1] = '\0'; /* the id comes back with the status */
            if (st == EO_E_STATE && sqlite3_column_int(s, 1) != EO_E_STATE) {
                size_t n = strlen(msg);
                snprintf(msg + n, sizeof msg - n,
                         " (the job store's status code %d for it is no "
                         "status eoproc defines)",
                         sqlite3_column_int(s, 1));
            }
        }
        sqlite3_finalize(s);
    }
    return eoi_fail(ctx, st, "%lld of %lld partitions failed (%s); partition %lld: %s",
                    (long long)nfailed, (long long)total,
                    j->dir ? "fix the cause, then: eoproc job restart" : "the others are done",
                    (long long)id, msg);
}

eo_status eo_job_run(eo_ctx *ctx, char **out_json, eo_job *j) {
    EOI_CHECK_ARG(ctx, j);
    if (out_json)
        *out_json = NULL;
    eo_status st = EO_OK;
    int64_t *ids = NULL;
    size_t n = 0, cap = 0;
    EOI_TRY(st, take_lock(ctx, j));
    EOI_TRY(st, ensure_plan(ctx, j));
    EOI_TRY(st, meta_set(ctx, j, "cancel", "0"));
    EOI_TRY(st, meta_set(ctx, j, "status", "IN_PROGRESS"));
    if (meta_num(j, "started", 0) == 0)
        EOI_TRY(st, meta_setf(ctx, j, "started", wall()));
    {
        sqlite3_stmt *s = NULL;
        EOI_TRY(st, prep(ctx, j, &s,
                         "SELECT id FROM partitions WHERE status IN ('UNPROCESSED', "
                         "'IN_PROGRESS') ORDER BY id"));
        while (sqlite3_step(s) == SQLITE_ROW) {
            if (!eoi_grow(ctx, (void **)&ids, &cap, n + 1, sizeof *ids, 64)) {
                sqlite3_finalize(s);
                st = EO_E_NOMEM;
                goto done;
            }
            ids[n++] = sqlite3_column_int64(s, 0);
        }
        sqlite3_finalize(s);
    }
    int64_t ok0, f0, total;
    EOI_TRY(st, count_parts(ctx, j, &ok0, &f0, &total));
    prog pg = {ctx->progress_fn, ctx->progress_user, j, 0, 1, 0, false};
    /* the tile cache keeps what the partitions still to run share (halos) */
    for (size_t i = 0; i < n; i++)
        eoi_plan_expect(&j->plan, ids[i], 1);
    for (size_t i = 0; i < n; i++) {
        bool failed;
        pg.lo = 0.97 * (double)(ok0 + f0 + (int64_t)i) / (double)(total ? total : 1);
        pg.hi = 0.97 * (double)(ok0 + f0 + (int64_t)i + 1) / (double)(total ? total : 1);
        st = run_one(ctx, j, ids[i], &pg, &failed);
        eoi_plan_expect(&j->plan, ids[i], -1);
        if (st == EO_E_CANCELLED)
            meta_set(ctx, j, "status", "CANCELLED");
        EOI_TRY(st, st);
        if (ctx->progress_fn && ctx->progress_fn(ctx->progress_user, pg.hi, "detect")) {
            meta_set(ctx, j, "status", "CANCELLED");
            st = eoi_fail(ctx, EO_E_CANCELLED, "cancelled");
            goto done;
        }
    }
    int64_t ok, nf;
    EOI_TRY(st, count_parts(ctx, j, &ok, &nf, &total));
    if (nf) {
        meta_set(ctx, j, "status", "FAILED");
        meta_setf(ctx, j, "finished", wall());
        st = failed_error(ctx, j, nf, total);
        goto done;
    }
    st = eo_job_finalize(ctx, out_json, j);
done:
    if (j->plan.ds && j->plan.ds->tilesrc)
        eoi_tilesrc_expect_clear(j->plan.ds->tilesrc);
    drop_lock(j);
    eoi_free(ids);
    return st;
}

eo_status eo_job_restart(eo_ctx *ctx, eo_job *j) {
    EOI_CHECK_ARG(ctx, j);
    eo_status st = exec(ctx, j,
                        "BEGIN IMMEDIATE; UPDATE partitions SET status = 'UNPROCESSED' WHERE "
                        "status = 'FAILED'; UPDATE meta SET value = 'UNPROCESSED' WHERE key = "
                        "'status' AND value = 'FAILED'; COMMIT");
    if (st != EO_OK)
        sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
    /* a source kept open from the failed run fetches its failed tiles again */
    else if (j->plan.ds && j->plan.ds->tilesrc)
        eoi_tilesrc_retry_failed(j->plan.ds->tilesrc);
    return st;
}

eo_status eo_job_cancel(eo_ctx *ctx, const char *dir) {
    eo_job *j = NULL;
    eo_status st = eo_job_open(ctx, &j, dir);
    if (st != EO_OK)
        return st;
    st = meta_set(ctx, j, "cancel", "1");
    /* a job nobody runs is cancelled at once */
    if (st == EO_OK && take_lock(ctx, j) == EO_OK) {
        char *cur = meta_get(j, "status");
        if (!cur || strcmp(cur, "OK") != 0)
            st = meta_set(ctx, j, "status", "CANCELLED");
        eoi_free(cur);
    }
    eo_ctx_clear_error(ctx);
    eo_job_close(j);
    return st;
}

/* ---- finalize -------------------------------------------------------------------- */

static eo_status load_features(eo_ctx *ctx, eo_job *j, eo_features *f, eoi_part_result *tot) {
    GEOSContextHandle_t h = ctx->geos;
    GEOSWKBReader *rd = GEOSWKBReader_create_r(h);
    sqlite3_stmt *s = NULL;
    eo_status st = EO_OK;
    if (!rd)
        return eoi_fail(ctx, EO_E_NOMEM, "out of memory (WKB reader)");
    EOI_TRY(st, prep(ctx, j, &s,
                     "SELECT part, cls, pixels, psum, top, edge, wkb FROM features "
                     "ORDER BY part, idx"));
    while (st == EO_OK && sqlite3_step(s) == SQLITE_ROW) {
        eoi_feature ft = {0};
        ft.part = (int32_t)sqlite3_column_int64(s, 0);
        ft.cls = sqlite3_column_double(s, 1);
        ft.pixels = sqlite3_column_int64(s, 2);
        ft.psum = sqlite3_column_double(s, 3);
        ft.top = sqlite3_column_int64(s, 4);
        ft.edge = sqlite3_column_int(s, 5) != 0;
        const unsigned char *b = sqlite3_column_blob(s, 6);
        int len = sqlite3_column_bytes(s, 6);
        if (!b || !(ft.g = GEOSWKBReader_read_r(h, rd, b, (size_t)len)))
            st = eoi_fail(ctx, EO_E_STATE, "job %s: a stored feature of partition %d is damaged",
                          j->dir ? j->dir : "(in memory)", (int)ft.part);
        else
            st = eoi_features_push(ctx, f, &ft);
    }
    sqlite3_finalize(s);
    s = NULL;
    EOI_TRY(st, st);
    EOI_TRY(st, prep(ctx, j, &s,
                     "SELECT aoi_px, valid_px, tiles_run, fetched, missing, corrupt, hist "
                     "FROM partitions"));
    memset(tot, 0, sizeof *tot);
    while (sqlite3_step(s) == SQLITE_ROW) {
        tot->aoi_px += sqlite3_column_int64(s, 0);
        tot->valid_px += sqlite3_column_int64(s, 1);
        tot->tiles_run += sqlite3_column_int64(s, 2);
        tot->fetched += sqlite3_column_int64(s, 3);
        tot->missing += sqlite3_column_int64(s, 4);
        tot->corrupt += sqlite3_column_int64(s, 5);
        const int64_t *hist = sqlite3_column_blob(s, 6);
        if (hist && sqlite3_column_bytes(s, 6) == (int)sizeof tot->hist)
            for (int c = 0; c < 256; c++)
                tot->hist[c] += hist[c];
    }
done:
    sqlite3_finalize(s);
    GEOSWKBReader_destroy_r(h, rd);
    return st;
}

eo_status eo_job_finalize(eo_ctx *ctx, char **out_json, eo_job *j) {
    EOI_CHECK_ARG(ctx, j);
    if (out_json)
        *out_json = NULL;
    eo_features *f = NULL;
    json_object *res = NULL;
    eoi_part_result tot;
    eo_status st = EO_OK;
    int64_t ok, nf, total;
    EOI_TRY(st, ensure_plan(ctx, j));
    EOI_TRY(st, count_parts(ctx, j, &ok, &nf, &total));
    if (ok != total) {
        st = nf ? failed_error(ctx, j, nf, total)
                : eoi_fail(ctx, EO_E_STATE, "job %s: %lld of %lld partitions are not done yet",
                           j->dir ? j->dir : "(in memory)", (long long)(total - ok),
                           (long long)total);
        goto done;
    }
    eoi_plan *p = &j->plan;
    EOI_TRY(st, eoi_features_new(ctx, &f, p->gt, p->wkt,
                                 (int32_t)json_object_get_int(
                                     json_object_object_get(p->params, "connectivity"))));
    f->has_score = true;
    EOI_TRY(st, load_features(ctx, j, f, &tot));
    f->win = p->area;
    EOI_TRY(st, eoi_features_stitch(ctx, f));
    eoi_features_sort(f);
    /* one form for each geometry (rings from their least vertex, in a fixed
     * order): simplification then gives the same result whether a feature
     * was traced at once or merged across a seam */
    for (size_t i = 0; i < f->n; i++)
        if (GEOSNormalize_r(ctx->geos, f->v[i].g) != 0) {
            st = eoi_geos_fail(ctx, "normalizing a feature");
            goto done;
        }
    res = json_object_new_object();
    json_object_object_add(res, "status", json_object_new_string("OK"));
    json_object_object_add(res, "partitions", json_object_new_int64(total));
    st = eoi_plan_finish(ctx, p, f, &tot, res);
    if (st != EO_OK) {
        char msg[EOI_MSG_MAX];
        snprintf(msg, sizeof msg, "%s", eo_ctx_errmsg(ctx));
        meta_set(ctx, j, "status", "FAILED");
        meta_set(ctx, j, "error", msg);
        eoi_fail(ctx, st, "%s", msg);
        goto done;
    }
    double started = meta_num(j, "started", 0), t = wall();
    json_object_object_add(res, "elapsed_s",
                           eoi_json_double(round((started > 0 ? t - started : 0) * 100) / 100));
    if (j->dir)
        json_object_object_add(res, "job", json_object_new_string(j->dir));
    {
        /* the result and the status OK in one transaction. When the store
         * cannot take them the output just written goes too: the job stays
         * resumable, and no output stands beside a store that says "not done" */
        json_object *copy = NULL;
        json_object_deep_copy(res, &copy, NULL);
        json_object_object_del(copy, "geojson");
        st = exec(ctx, j, "BEGIN IMMEDIATE");
        if (st == EO_OK)
            st = meta_set(ctx, j, "result",
                          json_object_to_json_string_ext(copy, JSON_C_TO_STRING_PLAIN));
        json_object_put(copy);
        if (st == EO_OK)
            st = meta_set(ctx, j, "status", "OK");
        if (st == EO_OK)
            st = meta_setf(ctx, j, "finished", t);
        if (st == EO_OK)
            st = exec(ctx, j, "COMMIT");
        if (st != EO_OK) {
            sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
            json_object *o = json_object_object_get(res, "out");
            if (o) {
                const char *placed = json_object_get_string(o);
                eoi_out_discard(&placed, 1);
            }
            goto done;
        }
    }
    if (out_json)
        st = eoi_json_dump(ctx, out_json, res, false);
done:
    json_object_put(res);
    eo_features_free(f);
    return st;
}

/* ---- status ------------------------------------------------------------------------ */

/* *sum += n for a count read from the store; true when n is negative or the
 * sum overflows (a damaged store) */
static bool add_count(int64_t *sum, int64_t n) {
    return n < 0 || __builtin_add_overflow(*sum, n, sum);
}

eo_status eo_job_status(eo_ctx *ctx, char **out_json, eo_job *j) {
    EOI_CHECK_ARG(ctx, out_json);
    *out_json = NULL;
    EOI_CHECK_ARG(ctx, j);
    sqlite3_stmt *s = NULL;
    eo_status st = EO_OK;
    json_object *o = json_object_new_object(), *fails = json_object_new_array();
    int64_t counts[4] = {0, 0, 0, 0}, total = 0, fetched = 0, missing = 0, corrupt = 0;
    double secs_done = 0;
    static const char *const names[] = {"UNPROCESSED", "IN_PROGRESS", "OK", "FAILED"};
    EOI_TRY(st, prep(ctx, j, &s,
                     "SELECT id, status, seconds, fetched, missing, corrupt, error "
                     "FROM partitions ORDER BY id"));
    while (sqlite3_step(s) == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(s, 1);
        total++;
        for (int i = 0; i < 4; i++)
            if (v && strcmp(v, names[i]) == 0)
                counts[i]++;
        if (v && strcmp(v, "OK") == 0)
            secs_done += sqlite3_column_double(s, 2);
        if (add_count(&fetched, sqlite3_column_int64(s, 3)) ||
            add_count(&missing, sqlite3_column_int64(s, 4)) ||
            add_count(&corrupt, sqlite3_column_int64(s, 5))) {
            st = eoi_fail(ctx, EO_E_STATE,
                          "job %s: partition %lld: its tile counts are not counts (a damaged "
                          "job store)",
                          j->dir ? j->dir : "(in memory)", (long long)sqlite3_column_int64(s, 0));
            goto done;
        }
        if (v && strcmp(v, "FAILED") == 0) {
            json_object *e = json_object_new_object();
            json_object_object_add(e, "partition",
                                   json_object_new_int64(sqlite3_column_int64(s, 0)));
            json_object_object_add(e, "error", json_object_new_string(col_text(s, 6)));
            json_object_array_add(fails, e);
        }
    }
    sqlite3_finalize(s);
    s = NULL;
    char *status = meta_get(j, "status");
    bool running = false;
    if (j->dir && j->lock_fd < 0) { /* is a process running it? */
        char path[4200];
        snprintf(path, sizeof path, "%s/lock", j->dir);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            running = flock(fd, LOCK_EX | LOCK_NB) != 0;
            close(fd);
        }
    } else
        running = j->lock_fd >= 0;
    const char *shown = status ? status : "UNPROCESSED";
    if (strcmp(shown, "IN_PROGRESS") == 0 && !running)
        shown = counts[3] ? "FAILED" : "IN_PROGRESS"; /* killed: resumable */
    json_object_object_add(o, "status", json_object_new_string(shown));
    json_object_object_add(o, "running", json_object_new_boolean(running));
    double pct = total ? 100.0 * (double)(counts[2] + counts[3]) / (double)total : 0;
    if (strcmp(shown, "OK") == 0)
        pct = 100;
    json_object_object_add(o, "percentCompleted", eoi_json_double(round(pct * 10) / 10));
    json_object *parts = json_object_new_object();
    json_object_object_add(parts, "total", json_object_new_int64(total));
    json_object_object_add(parts, "done", json_object_new_int64(counts[2]));
    json_object_object_add(parts, "failed", json_object_new_int64(counts[3]));
    json_object_object_add(parts, "in_progress", json_object_new_int64(counts[1]));
    json_object_object_add(parts, "pending", json_object_new_int64(counts[0] + counts[1]));
    json_object_object_add(o, "partitions", parts);
    json_object *tiles = json_object_new_object();
    json_object_object_add(tiles, "fetched", json_object_new_int64(fetched));
    json_object_object_add(tiles, "missing", json_object_new_int64(missing));
    json_object_object_add(tiles, "corrupt", json_object_new_int64(corrupt));
    json_object_object_add(o, "tiles", tiles);
    double started = meta_num(j, "started", 0), finished = meta_num(j, "finished", 0);
    double end = running || finished < started ? wall() : finished;
    json_object_object_add(o, "elapsed_s",
                           eoi_json_double(started > 0 ? round((end - started) * 10) / 10 : 0));
    int64_t pending = counts[0] + counts[1];
    json_object_object_add(
        o, "eta_s",
        counts[2] && pending
            ? eoi_json_double(round(secs_done / (double)counts[2] * (double)pending * 10) / 10)
        : pending ? NULL
                  : eoi_json_double(0));
    json_object_object_add(o, "errors", fails);
    fails = NULL;
    char *result = meta_get(j, "result"), *err = meta_get(j, "error");
    json_object *r = NULL;
    if (result && eoi_json_parse(ctx, &r, result, "job result", EO_E_STATE) == EO_OK)
        json_object_object_add(o, "result", r);
    if (err && strcmp(shown, "FAILED") == 0)
        json_object_object_add(o, "error", json_object_new_string(err));
    eo_ctx_clear_error(ctx);
    eoi_free(result);
    eoi_free(err);
    eoi_free(status);
    if (j->dir)
        json_object_object_add(o, "job", json_object_new_string(j->dir));
    st = eoi_json_dump(ctx, out_json, o, false);
done:
    sqlite3_finalize(s);
    json_object_put(fails);
    json_object_put(o);
    return st;
}

eo_status eo_job_partitions(eo_ctx *ctx, char **out_json, eo_job *j) {
    EOI_CHECK_ARG(ctx, out_json);
    *out_json = NULL;
    EOI_CHECK_ARG(ctx, j);
    sqlite3_stmt *s = NULL;
    json_object *a = json_object_new_array();
    eo_status st = prep(ctx, j, &s,
                        "SELECT id, x, y, w, h, status, attempts, seconds, error, features "
                        "FROM partitions ORDER BY id");
    while (st == EO_OK && sqlite3_step(s) == SQLITE_ROW) {
        const char *status = (const char *)sqlite3_column_text(s, 5);
        if (!status) { /* the column is NOT NULL: a damaged or foreign store */
            st = eoi_fail(ctx, EO_E_STATE,
                          "job %s: partition %lld has no status (a damaged job store)",
                          j->dir ? j->dir : "(in memory)", (long long)sqlite3_column_int64(s, 0));
            break;
        }
        json_object *o = json_object_new_object(), *w = json_object_new_array();
        json_object_object_add(o, "id", json_object_new_int64(sqlite3_column_int64(s, 0)));
        for (int i = 1; i <= 4; i++)
            json_object_array_add(w, json_object_new_int64(sqlite3_column_int64(s, i)));
        json_object_object_add(o, "window", w);
        json_object_object_add(o, "status", json_object_new_string(status));
        json_object_object_add(o, "attempts", json_object_new_int64(sqlite3_column_int64(s, 6)));
        if (sqlite3_column_type(s, 7) != SQLITE_NULL)
            json_object_object_add(o, "seconds", eoi_json_double(sqlite3_column_double(s, 7)));
        if (sqlite3_column_type(s, 8) != SQLITE_NULL)
            json_object_object_add(o, "error", json_object_new_string(col_text(s, 8)));
        if (sqlite3_column_type(s, 9) != SQLITE_NULL)
            json_object_object_add(o, "features",
                                   json_object_new_int64(sqlite3_column_int64(s, 9)));
        json_object_array_add(a, o);
    }
    sqlite3_finalize(s);
    if (st == EO_OK)
        st = eoi_json_dump(ctx, out_json, a, false);
    json_object_put(a);
    return st;
}

/* ---- the one-call forms ------------------------------------------------------------ */

eo_status eo_detect(eo_ctx *ctx, char **out_json, eo_dataset *src, const eo_geom *aoi,
                    const char *out, const eo_detect_opts *opts) {
    if (!ctx)
        return EO_E_ARG;
    if (out_json)
        *out_json = NULL;
    json_object *v = NULL;
    const char *dir = opts && opts->params && json_object_object_get_ex(opts->params, "job", &v)
                          ? json_object_get_string(v)
                          : NULL;
    if (opts && opts->params && json_object_object_get_ex(opts->params, "estimate", &v) &&
        json_object_get_boolean(v))
        return eo_detect_estimate(ctx, out_json, src, aoi, opts);
    eo_job *j = NULL;
    eo_status st = job_create(ctx, &j, dir, src, aoi, out, opts);
    if (st == EO_OK)
        st = eo_job_run(ctx, out_json, j);
    eo_job_close(j);
    return st;
}

eo_status eo_detect_estimate(eo_ctx *ctx, char **out_json, eo_dataset *src, const eo_geom *aoi,
                             const eo_detect_opts *opts) {
    EOI_CHECK_ARG(ctx, out_json);
    *out_json = NULL;
    json_object *params = NULL, *res = NULL;
    eoi_plan p;
    bool planned = false;
    eo_status st = EO_OK;
    EOI_TRY(st, job_params(ctx, &params, src, aoi, NULL, opts));
    EOI_TRY(st, eoi_plan_make(ctx, &p, params, src, NULL));
    planned = true;
    res = json_object_new_object();
    EOI_TRY(st, eoi_plan_estimate(ctx, &p, res));
    st = eoi_json_dump(ctx, out_json, res, false);
done:
    json_object_put(res);
    json_object_put(params);
    if (planned)
        eoi_plan_clear(&p);
    return st;
}

/* ---- options ----------------------------------------------------------------------- */

eo_status eo_detect_opts_new(eo_ctx *ctx, eo_detect_opts **out) {
    EOI_CHECK_ARG(ctx, out);
    eo_detect_opts *o = eoi_calloc(ctx, 1, sizeof *o);
    if (!o)
        return EO_E_NOMEM;
    if (!(o->params = json_object_new_object())) {
        eoi_free(o);
        return eoi_fail(ctx, EO_E_NOMEM, "out of memory");
    }
    *out = o;
    return EO_OK;
}

void eo_detect_opts_free(eo_detect_opts *o) {
    if (!o)
        return;
    json_object_put(o->params);
    eoi_free(o);
}

/* Check v (taken) against property name of props (detect's schema's) and
 * set it. */
static eo_status opts_put_in(eo_ctx *ctx, eo_detect_opts *o, json_object *props, const char *name,
                             json_object *v) {
    json_object *prop = NULL;
    if (!json_object_object_get_ex(props, name, &prop)) {
        json_object_put(v);
        return eoi_fail(ctx, EO_E_PARAM, "detect has no option '%.60s'", name);
    }
    json_object *one = json_object_new_object();
    json_object_object_add(one, name, json_object_get(v));
    json_object *wrap = json_object_new_object();
    json_object_object_add(wrap, "type", json_object_new_string("object"));
    json_object *pp = json_object_new_object();
    json_object_object_add(pp, name, json_object_get(prop));
    json_object_object_add(wrap, "properties", pp);
    eo_status st = eoi_schema_validate(ctx, wrap, one, "");
    json_object_put(wrap);
    json_object_put(one);
    if (st == EO_OK)
        json_object_object_add(o->params, name, v);
    else
        json_object_put(v);
    return st;
}

static eo_status opts_put(eo_ctx *ctx, eo_detect_opts *o, const char *name, json_object *v) {
    /* check the one value against the schema's property */
    json_object *schema = NULL, *props = NULL;
    eo_status st = eoi_detect_schema(ctx, &schema);
    if (st != EO_OK) {
        json_object_put(v);
        return st;
    }
    json_object_object_get_ex(schema, "properties", &props);
    st = opts_put_in(ctx, o, props, name, v);
    json_object_put(schema);
    return st;
}

eo_status eo_detect_opts_set(eo_ctx *ctx, eo_detect_opts *o, const char *name,
                             const char *json_value) {
    EOI_CHECK_ARG(ctx, o && name && json_value);
    json_object *v = NULL;
    EOI_TRY_RET(eoi_json_parse(ctx, &v, json_value, name, EO_E_PARAM));
    return opts_put(ctx, o, name, v);
}

eo_status eo_detect_opts_set_model(eo_ctx *ctx, eo_detect_opts *o, const char *path) {
    EOI_CHECK_ARG(ctx, o && path);
    return opts_put(ctx, o, "model", json_object_new_string(path));
}

eo_status eo_detect_opts_set_zoom(eo_ctx *ctx, eo_detect_opts *o, int32_t zoom) {
    EOI_CHECK_ARG(ctx, o);
    return opts_put(ctx, o, "zoom", json_object_new_int(zoom));
}

eo_status eo_detect_opts_set_job_dir(eo_ctx *ctx, eo_detect_opts *o, const char *dir) {
    EOI_CHECK_ARG(ctx, o && dir);
    return opts_put(ctx, o, "job", json_object_new_string(dir));
}

eo_status eo_detect_opts_set_json(eo_ctx *ctx, eo_detect_opts *o, const char *json) {
    EOI_CHECK_ARG(ctx, o && json);
    json_object *all = NULL, *schema = NULL, *props = NULL;
    eo_status st = EO_OK;
    EOI_TRY(st, eoi_json_parse(ctx, &all, json, "detect options", EO_E_PARAM));
    if (!json_object_is_type(all, json_type_object)) {
        st = eoi_fail(ctx, EO_E_PARAM, "detect options must be a JSON object");
        goto done;
    }
    EOI_TRY(st, eoi_detect_schema(ctx, &schema));
    json_object_object_get_ex(schema, "properties", &props);
    json_object_object_foreach(all, name, v) {
        EOI_TRY(st, opts_put_in(ctx, o, props, name, json_object_get(v)));
    }
done:
    json_object_put(schema);
    json_object_put(all);
    return st;
}

eo_status eo_detect_schema(eo_ctx *ctx, char **out_json) {
    EOI_CHECK_ARG(ctx, out_json);
    *out_json = NULL;
    json_object *schema = NULL;
    EOI_TRY_RET(eoi_detect_schema(ctx, &schema));
    eo_status st = eoi_json_dump(ctx, out_json, schema, false);
    json_object_put(schema);
    return st;
}
