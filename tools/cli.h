/* cli.h - helpers of the command-line tool shared across tools/cli_*.c. */
#ifndef EOPROC_CLI_H
#define EOPROC_CLI_H

#include <stddef.h>

/* "eoproc job SUB DIR": the operation's command name into buf ("job-status");
 * 0 to go on, -1 after printing the help, else the usage error's exit status. */
int cli_job_command(char *buf, size_t cap, int argc, char **argv);
/* A progress sink writing one JSON line per update to stderr. */
int cli_progress_json(void *user, double fraction, const char *stage);
/* " ETA 1m05s" for the bar at fraction f (from the first call's time), or "". */
void cli_progress_eta(char *buf, size_t cap, double f);

#endif
