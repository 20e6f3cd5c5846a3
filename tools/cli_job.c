/* cli_job.c - "eoproc job SUB DIR" for the detect job operations, and the
 * progress outputs (--progress json lines, the bar's ETA). */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static const char *const subs[] = {"status", "partitions", "resume",        "restart",
                                   "cancel", "finalize",   "run-partition", NULL};

int cli_job_command(char *buf, size_t cap, int argc, char **argv) {
    const char *sub = argc > 1 ? argv[1] : "";
    for (int i = 0; subs[i]; i++)
        if (strcmp(sub, subs[i]) == 0) {
            snprintf(buf, cap, "job-%s", sub);
            return 0;
        }
    FILE *f = strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 ? stdout : stderr;
    fprintf(f,
            "%sUsage: eoproc job status|partitions|resume|restart|cancel|finalize DIR\n"
            "       eoproc job run-partition DIR ID\n\n"
            "A detect job kept in DIR (eoproc detect SRC AOI OUT --job DIR):\n"
            "  status       JSON: status, percentCompleted, partitions, tiles, elapsed, ETA\n"
            "  partitions   each partition's window, status, attempts, time, error\n"
            "  resume       run what a kill or a cancel left, then write the output\n"
            "  restart      rerun the failed partitions only, then write the output\n"
            "  cancel       stop a running job cleanly (resume it later)\n"
            "  finalize     merge the partitions and write the output\n"
            "  run-partition one partition (a distributed worker's unit)\n",
            f == stderr ? (*sub ? "eoproc: error: unknown job command [arg.Invalid]\n"
                                : "eoproc: error: missing job command [arg.Invalid]\n")
                        : "");
    return f == stdout ? -1 : 2;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double t_start = -1;

void cli_progress_eta(char *buf, size_t cap, double f) {
    double t = now();
    if (t_start < 0)
        t_start = t;
    buf[0] = '\0';
    if (f > 0.02 && f < 1 && t - t_start > 1) {
        double left = (t - t_start) * (1 - f) / f;
        snprintf(buf, cap, " ETA %dm%02ds", (int)(left / 60), (int)fmod(left, 60));
    }
}

int cli_progress_json(void *user, double f, const char *stage) {
    static int last = -1;
    static char last_stage[32];
    (void)user;
    double t = now();
    if (t_start < 0)
        t_start = t;
    int pct10 = (int)lround(f * 1000);
    if (pct10 == last && strncmp(stage, last_stage, sizeof last_stage - 1) == 0)
        return 0;
    last = pct10;
    snprintf(last_stage, sizeof last_stage, "%s", stage);
    double el = t - t_start;
    fprintf(stderr,
            "{\"stage\": \"%s\", \"fraction\": %.4f, \"percentCompleted\": %.1f, "
            "\"elapsed_s\": %.2f",
            stage, f, 100 * f, el);
    if (f > 0.02 && f < 1)
        fprintf(stderr, ", \"eta_s\": %.1f", el * (1 - f) / f);
    fputs("}\n", stderr);
    fflush(stderr);
    return 0;
}
