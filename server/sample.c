/*
 * sample — the server's numbers for stats_req and the summary: the built-in
 * server's shared counters, or a watched process's (watch.c), plus /proc
 * memory of every process in the pid list and the host's deltas since start.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "sample.h"
#include "watch.h"

/* The baseline: the processes' RSS and threads. */
static void sum_base(struct server_sampler *s)
{
	for (int i = 0; i < s->npids; i++) {
		struct host_procmem pm;
		if (s->pids[i] > 0 && host_procmem_read_mem(s->pids[i], &pm) == 0) {
			s->base_rss_kb += pm.rss_kb;
			s->base_threads += pm.threads;
		}
	}
}

void server_sampler_init(struct server_sampler *s, const struct server_config *cfg,
                         struct server_counters *counters, const pid_t *pids, int npids,
                         const struct host_capacity *capacity)
{
	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->counters = counters;
	s->pids = pids;
	s->npids = npids;
	s->capacity = *capacity;
	clock_gettime(CLOCK_MONOTONIC, &s->started);
	if (host_meminfo_read(&s->base_mem) < 0)
		memset(&s->base_mem, 0, sizeof(s->base_mem));
	sum_base(s);
	if (host_cpustat_read(&s->base_cpu) < 0)
		memset(&s->base_cpu, 0, sizeof(s->base_cpu));
	(void)stats_boot_id_read(s->boot_id, sizeof(s->boot_id)); /* unreadable: "", unknown */
}

/*
 * Each process's /proc memory. -ESRCH when a watched process could not be
 * read: it is gone, and so are its numbers. A watcher's fds are those its
 * tally counted in the same walk that found its sockets.
 */
static int add_procs(const struct server_sampler *s, struct server_stats *out)
{
	for (int i = 0; i < s->npids; i++) {
		struct host_procmem pm;
		int rc = s->pids[i] <= 0 ? -ESRCH
		         : s->watch      ? host_procmem_read_mem(s->pids[i], &pm)
		                         : host_procmem_read(s->pids[i], &pm);

		if (rc < 0 && s->watch)
			return -ESRCH;
		if (rc < 0)
			continue; /* a worker being restarted: its memory is gone too */
		out->rss_kb += pm.rss_kb;
		out->hwm_kb += pm.hwm_kb;
		out->pss_kb += pm.pss_kb > 0 ? pm.pss_kb : 0;
		out->threads += pm.threads;
		out->fds += pm.fds; /* 0 from host_procmem_read_mem() */
	}
	if (s->watch)
		out->fds = s->watch->fds;
	return 0;
}

static void add_kernel(const struct server_sampler *s, struct server_stats *out)
{
	struct host_meminfo now;

	if (host_meminfo_read(&now) < 0)
		return;
	out->kernel_stack_kb = now.kernel_stack_kb - s->base_mem.kernel_stack_kb;
	out->slab_kb = now.slab_kb - s->base_mem.slab_kb;
	out->page_tables_kb = now.page_tables_kb - s->base_mem.page_tables_kb;
}

/*
 * The page fragments the server's threads keep (server_stats.page_frag_kb): the
 * built-in server counts its threads that have sent. Which threads of a watched
 * process have sent cannot be seen: each thread it gained since the watcher
 * started is taken to have sent (a thread per connection does, to echo), its
 * first threads are left out, and fewer threads than at start count none.
 */
static void add_page_frags(const struct server_sampler *s, struct server_stats *out)
{
	int64_t threads = 0;

	if (s->counters != NULL)
		for (int i = 0; i < s->cfg->processes; i++)
			threads += atomic_load(&s->counters->senders[i]);
	else if (out->threads > s->base_threads)
		threads = out->threads - s->base_threads;
	out->page_frag_kb = threads * stats_page_frag_kb();
}

static int64_t tv_us(struct timeval tv)
{
	return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

/*
 * The server's CPU and context switches: every process, every thread, live or
 * exited. /proc/PID/stat has the whole process's CPU (in ticks), but /proc
 * has no process-wide context switches: /proc/PID/status
 * counts one thread's, /proc/PID/task/ forgets exited threads (and a
 * threads-model worker ends a thread per connection), and walking 30,000
 * tasks per sample would cost more than it measures. getrusage(RUSAGE_SELF) counts
 * a whole process, exited threads included, but only for the caller. So:
 *  - each live worker publishes its own RUSAGE_SELF into shared memory every
 *    SERVER_USAGE_PERIOD_MS (server_usage_tick()): up to 100 ms stale, never
 *    lower than before;
 *  - a worker that died and was reaped is in the supervisor's RUSAGE_CHILDREN
 *    (its final figure, complete), and its slot is zeroed at the reap;
 *  - the supervisor's own RUSAGE_SELF (ZeroMQ, this sampling) is added: it is
 *    one of the server's processes. It costs per sample, not per message.
 */
static void add_usage(const struct server_sampler *s, struct server_stats *out)
{
	struct rusage self, children;
	int64_t user_us = 0, sys_us = 0;

	memset(&self, 0, sizeof(self));
	memset(&children, 0, sizeof(children));
	getrusage(RUSAGE_SELF, &self);
	getrusage(RUSAGE_CHILDREN, &children);
	user_us = tv_us(self.ru_utime) + tv_us(children.ru_utime);
	sys_us = tv_us(self.ru_stime) + tv_us(children.ru_stime);
	out->ctxsw_voluntary = (int64_t)self.ru_nvcsw + (int64_t)children.ru_nvcsw;
	out->ctxsw_involuntary = (int64_t)self.ru_nivcsw + (int64_t)children.ru_nivcsw;
	for (int i = 0; i < s->npids; i++) {
		const struct server_usage *u = &s->counters->usage[i];

		user_us += atomic_load(&u->user_us);
		sys_us += atomic_load(&u->sys_us);
		out->ctxsw_voluntary += atomic_load(&u->nvcsw);
		out->ctxsw_involuntary += atomic_load(&u->nivcsw);
	}
	out->cpu_user_s = (double)user_us / 1e6;
	out->cpu_sys_s = (double)sys_us / 1e6;
}

/*
 * The host's CPU since the server started, in seconds. user includes nice;
 * sys includes hard irq (usually tiny); softirq stays apart (most of the
 * TCP/IP stack runs there, and with IRQ time accounting no process is charged
 * for it, so the server's own sys time misses it); idle includes iowait. steal
 * is left out, and guest is already inside user.
 */
static void add_host_cpu(const struct server_sampler *s, struct server_stats *out)
{
	const struct host_cpustat *b = &s->base_cpu;
	struct host_cpustat now;
	long hz = sysconf(_SC_CLK_TCK);

	if (hz <= 0 || b->user + b->system + b->idle == 0 || host_cpustat_read(&now) < 0)
		return;
	out->host_cpu_user_s = (double)(now.user + now.nice - b->user - b->nice) / (double)hz;
	out->host_cpu_sys_s = (double)(now.system + now.irq - b->system - b->irq) / (double)hz;
	out->host_cpu_softirq_s = (double)(now.softirq - b->softirq) / (double)hz;
	out->host_cpu_idle_s = (double)(now.idle + now.iowait - b->idle - b->iowait) / (double)hz;
}

/* The built-in server's own counts, from the block its workers share. */
static void add_counters(const struct server_sampler *s, struct server_stats *out)
{
	struct server_counters *c = s->counters;

	snprintf(out->model, sizeof(out->model), "%s",
	         s->cfg->model == SERVER_MODEL_THREADS ? "threads" : "epoll");
	out->processes = s->cfg->processes;
	out->stack_size = s->cfg->model == SERVER_MODEL_THREADS ? (int64_t)s->cfg->stack_size : 0;
	out->conns_current = atomic_load(&c->current);
	out->conns_max = atomic_load(&c->max);
	out->conns_total = atomic_load(&c->total);
	out->resets = atomic_load(&c->resets);
	for (int r = 0; r < STATS_REFUSED_COUNT; r++)
		out->refused[r] = atomic_load(&c->refused[r]);
}

int server_sampler_collect(const struct server_sampler *s, struct server_stats *out)
{
	struct timespec now;

	memset(out, 0, sizeof(*out));
	clock_gettime(CLOCK_MONOTONIC, &now);
	out->uptime_ms =
	    (now.tv_sec - s->started.tv_sec) * 1000 + (now.tv_nsec - s->started.tv_nsec) / 1000000;
	if (s->watch == NULL)
		add_counters(s, out);
	else if (server_watch_fill(s->watch, out) < 0)
		return -ESRCH;
	if (add_procs(s, out) < 0)
		return -ESRCH;
	add_kernel(s, out);
	add_page_frags(s, out);
	if (s->watch == NULL)
		add_usage(s, out);
	add_host_cpu(s, out);
	if (out->conns_current > 0) {
		double n = (double)out->conns_current;
		out->user_kb_per_conn = (double)(out->rss_kb - s->base_rss_kb) / n;
		out->kernel_kb_per_conn = (double)(out->kernel_stack_kb + out->slab_kb +
		                                   out->page_tables_kb + out->page_frag_kb) /
		                          n;
	}
	memcpy(out->boot_id, s->boot_id, sizeof(out->boot_id));
	out->capacity = s->capacity.conns;
	snprintf(out->capacity_limit, sizeof(out->capacity_limit), "%s", s->capacity.sentence);
	/*
	 * Read from a process that died or began to exit meanwhile (or a new one
	 * with its pid), or numbers no live process has: not live.
	 */
	if (s->watch != NULL &&
	    (server_watch_alive(s->watch) < 0 || server_watch_whole(s->watch, out) < 0))
		return -ESRCH;
	return 0;
}

void server_print_summary(const struct server_sampler *s, const struct server_stats *st, FILE *out)
{
	fprintf(out, "server: summary (%s%s%s, %lld process%s)\n", st->model,
	        st->process[0] ? ": " : "", st->process, (long long)st->processes,
	        st->processes == 1 ? "" : "es");
	fprintf(out, "  resident        %lld kB\n", (long long)st->rss_kb);
	fprintf(out, "  Max conc        %lld\n", (long long)st->conns_max);
	fprintf(out, "  Total           %lld\n", (long long)st->conns_total);
	if (s->counters != NULL && s->cfg->processes > 1) {
		fprintf(out, "  by worker      ");
		for (int i = 0; i < s->cfg->processes; i++)
			fprintf(out, " %lld", (long long)atomic_load(&s->counters->served[i]));
		fprintf(out, "\n");
	}
	fprintf(out, "  Now             %lld\n", (long long)st->conns_current);
	fprintf(out, "  refused        ");
	for (int r = 0; r < STATS_REFUSED_COUNT; r++)
		fprintf(out, " %s=%lld", stats_refusal_name(r), (long long)st->refused[r]);
	fprintf(out, "\n");
	fprintf(out, "  resets          %lld\n", (long long)st->resets);
	fprintf(out, "  threads         %lld\n", (long long)st->threads);
	fprintf(out, "  fds             %lld\n", (long long)st->fds);
	fprintf(out, "  peak resident   %lld kB (VmHWM)\n", (long long)st->hwm_kb);
	fprintf(out, "  pss             %lld kB\n", (long long)st->pss_kb);
	fprintf(out, "  cpu             %.2f s user, %.2f s sys\n", st->cpu_user_s, st->cpu_sys_s);
	fprintf(out, "  ctx switches    %lld voluntary, %lld involuntary\n",
	        (long long)st->ctxsw_voluntary, (long long)st->ctxsw_involuntary);
	fprintf(out, "  kernel stack    %+lld kB since start (host)\n",
	        (long long)st->kernel_stack_kb);
	fprintf(out, "  slab            %+lld kB since start (host)\n", (long long)st->slab_kb);
	fprintf(out, "  page tables     %+lld kB since start (host)\n",
	        (long long)st->page_tables_kb);
	fprintf(out, "  page fragments  %+lld kB since start (%s x %lld kB%s)\n",
	        (long long)st->page_frag_kb,
	        s->counters != NULL ? "threads that sent" : "threads gained since start",
	        (long long)stats_page_frag_kb(), s->counters != NULL ? "" : ", estimated");
	fflush(out);
}
