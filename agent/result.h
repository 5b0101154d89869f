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
 * What a phase cost this process: wall time and CPU (getrusage: every thread).
 * result_cost_begin() at its start, result_cost_end() once it is done turns
 * the readings into the phase's own.
 */
struct result_cost {
	double elapsed_s;
	double cpu_user_s;
	double cpu_sys_s;
};
void result_cost_begin(struct result_cost *c);
void result_cost_end(struct result_cost *c);

/* A load phase as asked for, and what it cost this agent (see engine_load). */
struct result_load {
	uint64_t rate_per_s;     /* offered: --load-rate */
	double duration_s;       /* --load-duration: how long sends were scheduled */
	struct result_cost cost; /* elapsed: the schedule's start to its last echo verified */
};

/* A churn phase as asked for, and what it cost this agent (see engine_churn). */
struct result_churn {
	uint64_t rate_per_s;     /* --churn-rate */
	double duration_s;       /* --churn-duration */
	struct result_cost cost; /* elapsed: its start to the last one closed */
};

/*
 * {"attempted","established","failed":{"refused",...,"other"},"max_concurrent",
 *  "echo_ok","echo_errors","latency":{"connect":summary,"echo":summary},
 *  "hist":{"connect":sparse,"echo":sparse}} plus "current","aborted","lost",
 *  "connect_failed","echo_rounds"; with `load` (NULL: no load phase ran) also
 *  "load":{"rate_per_s","duration_s","elapsed_s","sent","verified","errors",
 *  "behind_schedule","achieved_per_s","latency","hist","agent_cpu_user_s",
 *  "agent_cpu_sys_s","agent_cpu_us_per_msg"}; with `churn` also "churn":{"rate_per_s",
 *  "duration_s","elapsed_s","attempted","ok","failed":{reason: n},"achieved_per_s",
 *  "latency":{"connect","first_echo": connect() start to its echo verified},
 *  "agent_cpu_us_per_conn"}. A new reference or NULL.
 */
json_t *result_to_json(const struct engine_result *r, const struct result_load *load,
                       const struct result_churn *churn);

/* The standalone summary: counters, failures by reason, latency percentiles. */
void result_print_table(FILE *out, const struct engine_result *r, uint64_t target, double connect_s,
                        double echo_s, const struct result_load *load,
                        const struct result_churn *churn);

/*
 * Standalone pass: every connection established, every echo verified, nothing
 * lost, every churn connection verified, and every load message its schedule
 * held sent (a rate the server or this agent could not keep is not a pass).
 */
bool result_passed(const struct engine_result *r, uint64_t target, bool echoed);

/*
 * Says on `out` why a load or a churn fell short of what was asked, and is
 * true if one did: a load that sent fewer messages than its schedule held; a
 * churn that opened fewer than rate x duration connections (by more than 1%,
 * or one), or lost any.
 * NULL for a phase that did not run.
 */
bool result_work_short(FILE *out, const struct engine_result *r, const struct result_load *load,
                       const struct result_churn *churn);

#endif
