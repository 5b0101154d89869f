/*
 * plan — plan.json, the test a coordinator runs (examples/plans; docs/design.md, "The
 * coordinator: one run").
 *
 * Parsing is strict: unknown keys, duplicate keys, wrong types and
 * out-of-range values are errors, and every error names the file and the
 * path, or the line:column for malformed JSON:
 *   "plan.json: ramp.rate_per_s: expected a positive number, got -5"
 *   "plan.json:3:14: not JSON: ..."
 */
#ifndef CONNSCALE_PLAN_H
#define CONNSCALE_PLAN_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "msg.h"
#include "proto.h"
#include "threshold.h"

#define PLAN_MAX_BYTES       (1024 * 1024)
#define PLAN_MAX_DEPTH       16 /* nesting of arrays/objects; a valid plan nests 3 deep */
#define PLAN_MAX_AGENTS      1024
#define PLAN_MAX_THRESHOLDS  32
#define PLAN_MAX_CONNECTIONS MSG_MAX_CONNECTIONS
#define PLAN_MAX_ARGS        256  /* local.server.command: arguments, the program included */
#define PLAN_MAX_ARG_BYTES   4096 /* bytes of one argument, its NUL included */
#define PLAN_PORT_TOKEN      "{port}"

struct plan_agent_weight {
	char name[MSG_NAME_MAX];
	double weight;
};

struct plan {
	char name[MSG_NAME_MAX];           /* "name" (required) */
	char target_name[MSG_NAME_MAX];    /* target.host as written: dotted quad or host name */
	char target_host[MSG_NAME_MAX];    /* the dotted quad agents connect to (see plan_load) */
	int64_t target_port;               /* target.port: 1..65535; 0 only with "local" */
	int64_t agents_count;              /* agents.count (required, 1..PLAN_MAX_AGENTS) */
	double join_timeout_s;             /* agents.join_timeout_s, default 30 */
	int64_t nnames;                    /* agents.names: if given, exactly these agents */
	char (*names)[MSG_NAME_MAX];       /*   (malloc'ed; count must equal nnames) */
	int64_t nweights;                  /* agents.weights: {"name": weight > 0} */
	struct plan_agent_weight *weights; /*   (malloc'ed) */
	int64_t connections;               /* "connections" (required, >= 1) */
	int64_t nsteps;                    /* "steps": increasing, last == connections; */
	int64_t steps[MSG_MAX_STEPS];      /*   default one step == connections */
	double rate_per_s;                 /* ramp.rate_per_s, default 0 = unlimited */
	int64_t connect_timeout_ms;        /* ramp.connect_timeout_ms, default 3000 */
	int64_t payload_bytes;             /* echo.payload_bytes, default 64, 1..1 MiB */
	int64_t rounds;                    /* echo.rounds, default 1, 0..1e6 */
	int64_t interval_ms;               /* echo.interval_ms, default 0 */
	int64_t echo_timeout_ms;           /* echo.timeout_ms, default 5000 */
	int64_t nload_rates;               /* load.rate_per_s: 0 = no load phase */
	double load_rates[MSG_MAX_LOADS];  /*   a number or a list, increasing, > 0 */
	double load_duration_s;            /* load.duration_s, default 10 */
	int64_t load_payload_bytes;        /* load.payload_bytes, default echo.payload_bytes */
	double churn_rate_per_s;           /* churn.rate_per_s: 0 = no churn phase */
	double churn_duration_s;           /* churn.duration_s, default 10 */
	double hold_s;                     /* "hold_s", default 0 */
	char server_stats[MSG_TEXT_MAX];   /* server.stats endpoint, "" = none */
	int64_t server_interval_ms;        /* server.interval_ms, default 500 */
	int64_t nthresholds;
	struct threshold thresholds[PLAN_MAX_THRESHOLDS];
	bool local;                /* "local" present */
	int64_t local_agents;      /* local.agents, default agents.count; must equal it */
	char local_model[16];      /* local.server.model: threads|epoll, default threads */
	char local_stack_size[16]; /* local.server.stack_size, default "64k" */
	int64_t local_processes;   /* local.server.processes, default: enough for nofile */
	int64_t local_ncommand;    /* local.server.command: any server's argv, 0 = connscale's */
	char **local_command;      /*   (malloc'ed strings; "{port}" in at least one) */
	double local_ready_s;      /* local.server.ready_timeout_s (command only), default 10 */
	json_t *json;              /* the plan with defaults filled in, for the report */
};

/* Parses len bytes of plan text; `file` prefixes every error. */
int plan_parse(const char *text, size_t len, const char *file, struct plan *p,
               struct proto_err *err);
/*
 * Reads and parses path (at most PLAN_MAX_BYTES), then resolves target.host
 * when it is a host name, once: target_host is its IPv4 address, target_name
 * the name (what the plan in the report shows). plan_parse() does no lookup
 * (it leaves target_host == target_name), so parsing text never waits on DNS.
 */
int plan_load(const char *path, struct plan *p, struct proto_err *err);
/*
 * plan_load()'s second half on a parsed plan: target.host looked up if it is
 * a name, and with "local" checked to be a loopback address once it is one.
 * `file` prefixes the error ("plan.json: target.host: cannot resolve ...").
 */
int plan_resolve(struct plan *p, const char *file, struct proto_err *err);
void plan_free(struct plan *p);

/*
 * local.server.command as an execvp() argv: every "{port}" in every argument
 * replaced by port, NULL-terminated, malloc'ed (free with plan_argv_free).
 * NULL when out of memory.
 */
char **plan_command_argv(const struct plan *p, int port);
void plan_argv_free(char **argv);

/*
 * The plan in plan.json's shape with every default filled in, as
 * stored in p->json: optional parts not given (names, weights, server.stats,
 * local, local.server.processes) stay absent, so it parses back to the same
 * plan. New reference, or NULL when out of memory.
 */
json_t *plan_to_json(const struct plan *p);

#endif
