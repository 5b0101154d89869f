#ifndef CONNSCALE_SERVER_OPTIONS_H
#define CONNSCALE_SERVER_OPTIONS_H

#include "server.h"

/* Exit codes of `server`. */
enum { SERVER_EXIT_OK = 0, SERVER_EXIT_FAIL = 1, SERVER_EXIT_USAGE = 2 };

/*
 * Parses argv into cfg. Returns 0, 1 when --help was printed or --gen-keys
 * wrote a key pair, or -1 after printing an error that names the option and
 * the value.
 */
int server_options_parse(int argc, char **argv, struct server_config *cfg);

#endif
