/*
 * sample — what the supervisor knows about its workers: shared counters plus
 * each worker's /proc memory, and the host's kernel memory and CPU split as
 * deltas since start. Per-connection costs are (now - baseline) / current
 * connections. The server's own CPU and context switches: see add_usage() in
 * sample.c.
 */
#ifndef CONNSCALE_SERVER_SAMPLE_H
#define CONNSCALE_SERVER_SAMPLE_H

#include <sys/types.h>
#include <time.h>

#include "host.h"
#include "server.h"
#include "stats.h"

struct server_sampler {
	const struct server_config *cfg;
	struct server_counters *counters;
	const pid_t *pids; /* the workers, cfg->processes of them */
	struct timespec started;
	struct host_meminfo base_mem;
	struct host_cpustat base_cpu; /* host /proc/stat at start; all 0 if unreadable */
	long base_rss_kb;
	struct host_capacity capacity;
};

/* Takes the baseline; call once the workers are up and idle. */
void server_sampler_init(struct server_sampler *s, const struct server_config *cfg,
                         struct server_counters *counters, const pid_t *pids,
                         const struct host_capacity *capacity);
void server_sampler_collect(const struct server_sampler *s, struct server_stats *out);
/*
 * The summary printed on SIGINT/SIGTERM (the original server's field names
 * first); with several workers, what each one served.
 */
void server_print_summary(const struct server_sampler *s, const struct server_stats *st, FILE *out);

#endif
