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

struct server_watch;

struct server_sampler {
	const struct server_config *cfg;
	struct server_counters *counters; /* the built-in server's; NULL when watching */
	struct server_watch *watch;       /* --watch: what is watched (watch.c); else NULL */
	const pid_t *pids;                /* the workers, or the watched processes */
	int npids;
	struct timespec started;
	struct host_meminfo base_mem;
	struct host_cpustat base_cpu; /* host /proc/stat at start; all 0 if unreadable */
	long base_rss_kb;
	long base_threads; /* the processes' threads at start (a watched process has some) */
	struct host_capacity capacity;
	char boot_id[STATS_BOOT_ID_MAX]; /* this kernel's, read at start; "" if unreadable */
};

/*
 * Takes the baseline; call once the workers are up and idle. A watcher passes
 * counters NULL and sets s->watch after it.
 */
void server_sampler_init(struct server_sampler *s, const struct server_config *cfg,
                         struct server_counters *counters, const pid_t *pids, int npids,
                         const struct host_capacity *capacity);
/*
 * Fills out; 0, or -ESRCH when a watched process is gone (out is then not to
 * be reported: its numbers are not live). The built-in server always gets 0.
 */
int server_sampler_collect(const struct server_sampler *s, struct server_stats *out);
/*
 * The summary printed on SIGINT/SIGTERM (the original server's field names
 * first); with several workers, what each one served.
 */
void server_print_summary(const struct server_sampler *s, const struct server_stats *st, FILE *out);

#endif
