/*
 * report — report.json from a run (finished, or so far: after each step): per-agent
 * numbers, totals with latency from merged histograms, the server's timeline and
 * per-step memory, the thresholds evaluated; written atomically (the tables printed
 * from it: summary.h).
 */
#ifndef CONNSCALE_REPORT_H
#define CONNSCALE_REPORT_H

#include <stdio.h>
#include <time.h>

#include <jansson.h>

#include "coord.h"

/*
 * The format's "v". 2: one name a fact (server.samples[].conns_current,
 * server.{user,kernel}_kb_per_conn, agents[].capacity and capacity_limit as
 * in server_stats) and null, not 0, for what was not measured (docs/report.md).
 */
#define REPORT_VERSION 2

struct report_times {
	time_t started;
	time_t ended;
};

/* Builds the report and sets *exit_code (enum coord_exit) from its status. */
json_t *report_build(const struct coord *c, const struct report_times *t, int *exit_code);
/*
 * The report so far, status "running" (ended_at null, updated_at now), over
 * --report the same atomic way: a coordinator killed mid-run leaves the steps
 * it completed. The final report replaces it. 0 or -errno.
 */
int report_write_running(const struct coord *c);
/* temp file + fsync + rename: a reader never sees half a report. 0 or -errno. */
int report_write(const char *path, const json_t *report);
/* The same for any content: fill writes it to f and returns 0 or -1. */
int report_write_file(const char *path, int (*fill)(FILE *f, const void *arg), const void *arg);

#endif
