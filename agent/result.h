/*
 * result — an engine result as the JSON object the coordinator aggregates, and
 * as the human summary table of standalone mode.
 */
#ifndef CONNSCALE_RESULT_H
#define CONNSCALE_RESULT_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>

#include "engine.h"

/*
 * {"attempted","established","failed":{"refused",...,"other"},"max_concurrent",
 *  "echo_ok","echo_errors","latency":{"connect":summary,"echo":summary},
 *  "hist":{"connect":sparse,"echo":sparse}} plus "current","aborted","lost",
 *  "connect_failed","echo_rounds". Returns a new reference or NULL (no memory).
 */
json_t *result_to_json(const struct engine_result *r);

/* The standalone summary: counters, failures by reason, latency percentiles. */
void result_print_table(FILE *out, const struct engine_result *r, uint64_t target, double connect_s,
                        double echo_s);

/* Standalone pass: every connection established, every echo verified, nothing lost. */
bool result_passed(const struct engine_result *r, uint64_t target, bool echoed);

#endif
