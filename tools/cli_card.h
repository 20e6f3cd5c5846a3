/* cli_card.h - `eoproc model-card show|set|remove` (cli_card.c). */
#ifndef EOPROC_CLI_CARD_H
#define EOPROC_CLI_CARD_H

#include <eoproc.h>

/* argv[0] is the subcommand; returns the exit status. */
int cli_model_card(eo_ctx *ctx, int argc, char **argv);

#endif
