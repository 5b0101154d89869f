#include <stdio.h>
#include <string.h>

#include "sample.h"

static long sum_rss_kb(const struct server_sampler *s)
{
	long sum = 0;

	for (int i = 0; i < s->cfg->processes; i++) {
		struct host_procmem pm;
		if (s->pids[i] > 0 && host_procmem_read(s->pids[i], &pm) == 0)
			sum += pm.rss_kb;
	}
	return sum;
}

void server_sampler_init(struct server_sampler *s, const struct server_config *cfg,
                         struct server_counters *counters, const pid_t *pids,
                         const struct host_capacity *capacity)
{
	memset(s, 0, sizeof(*s));
	s->cfg = cfg;
	s->counters = counters;
	s->pids = pids;
	s->capacity = *capacity;
	clock_gettime(CLOCK_MONOTONIC, &s->started);
	if (host_meminfo_read(&s->base_mem) < 0)
		memset(&s->base_mem, 0, sizeof(s->base_mem));
	s->base_rss_kb = sum_rss_kb(s);
}

static void add_procs(const struct server_sampler *s, struct server_stats *out)
{
	for (int i = 0; i < s->cfg->processes; i++) {
		struct host_procmem pm;
		if (s->pids[i] <= 0 || host_procmem_read(s->pids[i], &pm) < 0)
			continue; /* a worker being restarted: its memory is gone too */
		out->rss_kb += pm.rss_kb;
		out->hwm_kb += pm.hwm_kb;
		out->pss_kb += pm.pss_kb > 0 ? pm.pss_kb : 0;
		out->threads += pm.threads;
		out->fds += pm.fds;
	}
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

void server_sampler_collect(const struct server_sampler *s, struct server_stats *out)
{
	struct server_counters *c = s->counters;
	struct timespec now;

	memset(out, 0, sizeof(*out));
	snprintf(out->model, sizeof(out->model), "%s",
	         s->cfg->model == SERVER_MODEL_THREADS ? "threads" : "epoll");
	out->processes = s->cfg->processes;
	out->stack_size = s->cfg->model == SERVER_MODEL_THREADS ? (int64_t)s->cfg->stack_size : 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	out->uptime_ms =
	    (now.tv_sec - s->started.tv_sec) * 1000 + (now.tv_nsec - s->started.tv_nsec) / 1000000;
	out->conns_current = atomic_load(&c->current);
	out->conns_max = atomic_load(&c->max);
	out->conns_total = atomic_load(&c->total);
	out->resets = atomic_load(&c->resets);
	for (int r = 0; r < STATS_REFUSED_COUNT; r++)
		out->refused[r] = atomic_load(&c->refused[r]);
	add_procs(s, out);
	add_kernel(s, out);
	if (out->conns_current > 0) {
		double n = (double)out->conns_current;
		out->user_kb_per_conn = (double)(out->rss_kb - s->base_rss_kb) / n;
		out->kernel_kb_per_conn =
		    (double)(out->kernel_stack_kb + out->slab_kb + out->page_tables_kb) / n;
	}
	out->capacity = s->capacity.conns;
	snprintf(out->capacity_limit, sizeof(out->capacity_limit), "%s", s->capacity.sentence);
}

void server_print_summary(const struct server_sampler *s, const struct server_stats *st, FILE *out)
{
	fprintf(out, "server: summary (%s, %lld process%s)\n", st->model, (long long)st->processes,
	        st->processes == 1 ? "" : "es");
	fprintf(out, "  resident        %lld kB\n", (long long)st->rss_kb);
	fprintf(out, "  Max conc        %lld\n", (long long)st->conns_max);
	fprintf(out, "  Total           %lld\n", (long long)st->conns_total);
	if (s->cfg->processes > 1) {
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
	fprintf(out, "  kernel stack    %+lld kB since start (host)\n",
	        (long long)st->kernel_stack_kb);
	fprintf(out, "  slab            %+lld kB since start (host)\n", (long long)st->slab_kb);
	fprintf(out, "  page tables     %+lld kB since start (host)\n",
	        (long long)st->page_tables_kb);
	fflush(out);
}
