/*
 * threshold — the plan's pass/fail expressions: "METRIC OP NUMBER", e.g.
 * "established_ratio >= 1.0", "echo_errors == 0", "echo_p99_ms < 50".
 * OP is one of < <= > >= == !=. Metrics are a fixed list, so a typo is a
 * plan error, not a threshold that silently never fails.
 */
#ifndef CONNSCALE_THRESHOLD_H
#define CONNSCALE_THRESHOLD_H

#include <stdbool.h>

#include "proto.h"

enum threshold_metric {
	TM_HELD_RATIO,        /* the worst plateau's held / planned connections (0..1) */
	TM_HELD,              /* connections open and verified at the last plateau */
	TM_ESTABLISHED_RATIO, /* established / planned connections (0..1) */
	TM_ESTABLISHED,       /* connections established, all agents */
	TM_FAILED,            /* connection failures of every reason */
	TM_ECHO_ERRORS,       /* connections whose echo failed */
	TM_LOST_AGENTS,       /* agents marked lost */
	TM_CONNECT_P50_MS,
	TM_CONNECT_P90_MS,
	TM_CONNECT_P99_MS,
	TM_CONNECT_P999_MS,
	TM_CONNECT_MAX_MS,
	TM_ECHO_P50_MS,
	TM_ECHO_P90_MS,
	TM_ECHO_P99_MS,
	TM_ECHO_P999_MS,
	TM_ECHO_MAX_MS,
	TM_SERVER_USER_KB_PER_CONN,   /* at the last plateau */
	TM_SERVER_KERNEL_KB_PER_CONN, /* at the last plateau */
	TM_SERVER_MAX_CONNS,          /* highest concurrent the server counted */
	/*
	 * The plan's "load" sweep, judged on its worst entry (every step's every
	 * rate); not measured (NaN) without a load.
	 */
	TM_ACHIEVED_RATIO,  /* the lowest achieved / asked msg/s */
	TM_BEHIND_SCHEDULE, /* sends that left later than scheduled, summed */
	TM_LOAD_P50_MS,     /* the highest of the entries' latencies */
	TM_LOAD_P90_MS,
	TM_LOAD_P99_MS,
	TM_LOAD_P999_MS,
	TM_LOAD_MAX_MS,
	TM_SERVER_CPU_US_PER_MSG, /* the highest, over the entries with server stats */
	/* The plan's "churn", on its worst step; not measured (NaN) without one. */
	TM_CHURN_ACHIEVED_RATIO, /* the lowest (ok / duration) / asked connections/s */
	TM_CHURN_FAILED,         /* churn connections that failed, every reason, summed */
	TM_METRIC_COUNT
};

enum threshold_op { TO_LT, TO_LE, TO_GT, TO_GE, TO_EQ, TO_NE };

struct threshold {
	char expr[128]; /* as written in the plan, for the report */
	enum threshold_metric metric;
	enum threshold_op op;
	double value;
};

/* "established_ratio", ...; NULL out of range. */
const char *threshold_metric_name(enum threshold_metric m);

/*
 * Parses one expression. On error err says what is wrong and lists the
 * metrics when the name is unknown: "unknown metric \"echo_p98_ms\" (one of
 * established_ratio, ...), or with a load: achieved_ratio, ...", "expected an
 * operator (< <= > >= == !=) after ...".
 */
int threshold_parse(const char *text, struct threshold *t, struct proto_err *err);

/* values[] indexed by metric. NaN (metric not measured) never passes. */
bool threshold_eval(const struct threshold *t, const double values[TM_METRIC_COUNT]);

#endif
