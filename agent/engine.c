/*
 * engine — the control side: creates the workers, starts phases, waits for
 * them, and reads counters and histograms. The data plane is in worker.c.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "engine_int.h"

static const char *const reason_names[ENGINE_REASON_COUNT] = {
#define ENGINE_REASON_NAME(id, name, doc) [ENGINE_##id] = name,
    REASON_LIST(ENGINE_REASON_NAME)
#undef ENGINE_REASON_NAME
};

const char *engine_reason_name(enum engine_reason r)
{
	return (unsigned)r < ENGINE_REASON_COUNT ? reason_names[r] : "?";
}

/* Publishes a new phase and wakes every worker. Caller holds e->lock. */
static void engine_phase_start(struct engine *e, int phase)
{
	uint64_t one = 1;
	unsigned i;

	e->phase = phase;
	e->phase_gen++;
	e->workers_done = 0;
	atomic_store(&e->gen, e->phase_gen);
	for (i = 0; i < e->nworkers; i++) {
		/*
		 * A failed write can only be EAGAIN (counter full: the worker has
		 * a wake-up pending anyway); workers also poll `gen` every turn.
		 */
		if (e->workers[i].evfd >= 0 && write(e->workers[i].evfd, &one, sizeof(one)) < 0)
			continue;
	}
}

static bool engine_busy(const struct engine *e)
{
	return (e->phase == ENGINE_PHASE_CONNECT || e->phase == ENGINE_PHASE_ECHO ||
	        e->phase == ENGINE_PHASE_LOAD || e->phase == ENGINE_PHASE_CHURN) &&
	       e->workers_done < e->nworkers;
}

struct engine *engine_create(const struct engine_params *params, char *errbuf, size_t errlen)
{
	struct engine *e;
	pthread_condattr_t ca;
	sigset_t all, old;
	unsigned i;
	long ncpu;
	int rc;

	e = calloc(1, sizeof(*e));
	if (!e) {
		snprintf(errbuf, errlen, "engine: out of memory");
		return NULL;
	}
	e->p = *params;
	if (e->p.payload_bytes == 0)
		e->p.payload_bytes = 1;
	e->phase_payload = e->p.payload_bytes;
	if (e->p.nsources) {
		e->sources = calloc(e->p.nsources, sizeof(*e->sources));
		if (!e->sources)
			goto nomem;
		memcpy(e->sources, params->sources, e->p.nsources * sizeof(*e->sources));
		e->p.sources = e->sources;
	}
	if (e->p.threads == 0) {
		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
		e->p.threads = ncpu > 0 ? (unsigned)ncpu : 1;
	}
	pthread_mutex_init(&e->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&e->cond, &ca);
	pthread_condattr_destroy(&ca);
	e->workers = calloc(e->p.threads, sizeof(*e->workers));
	if (!e->workers)
		goto nomem;
	for (i = 0; i < e->p.threads; i++) {
		e->nworkers = i + 1;
		rc = worker_init(&e->workers[i], e, i);
		if (rc < 0) {
			snprintf(errbuf, errlen, "engine: worker %u: %s", i, strerror(-rc));
			goto fail;
		}
	}
	/* Workers never take signals: the control thread owns SIGINT/SIGTERM. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	for (i = 0; i < e->nworkers; i++) {
		rc = pthread_create(&e->workers[i].tid, NULL, worker_main, &e->workers[i]);
		if (rc) {
			pthread_sigmask(SIG_SETMASK, &old, NULL);
			snprintf(errbuf, errlen, "engine: starting worker %u: %s", i, strerror(rc));
			goto fail;
		}
		e->workers[i].started = true;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return e;
nomem:
	snprintf(errbuf, errlen, "engine: out of memory");
fail:
	engine_destroy(e);
	return NULL;
}

void engine_destroy(struct engine *e)
{
	unsigned i;

	if (!e)
		return;
	if (e->workers) {
		pthread_mutex_lock(&e->lock);
		engine_phase_start(e, ENGINE_PHASE_STOP);
		pthread_mutex_unlock(&e->lock);
		for (i = 0; i < e->nworkers; i++)
			if (e->workers[i].started)
				pthread_join(e->workers[i].tid, NULL);
		for (i = 0; i < e->nworkers; i++)
			worker_fini(&e->workers[i]);
		free(e->workers);
		pthread_cond_destroy(&e->cond);
		pthread_mutex_destroy(&e->lock);
	}
	free(e->sources);
	free(e);
}

int engine_connect(struct engine *e, uint64_t total_target)
{
	uint64_t cur, burst, rate = e->p.rate;

	pthread_mutex_lock(&e->lock);
	if (engine_busy(e)) {
		pthread_mutex_unlock(&e->lock);
		return -EBUSY;
	}
	cur = atomic_load(&e->st.current);
	/* Enough credit for ~20 ms, so a worker sleeping 1 ms at a time keeps the rate. */
	burst = rate / 50 ? rate / 50 : 1;
	tbucket_init(&e->tb, rate, burst, clock_us() * 1000);
	atomic_store(&e->ticket_limit,
	             atomic_load(&e->ticket) + (total_target > cur ? total_target - cur : 0));
	engine_phase_start(e, ENGINE_PHASE_CONNECT);
	pthread_mutex_unlock(&e->lock);
	return 0;
}

int engine_echo(struct engine *e)
{
	pthread_mutex_lock(&e->lock);
	if (engine_busy(e)) {
		pthread_mutex_unlock(&e->lock);
		return -EBUSY;
	}
	e->phase_payload = e->p.payload_bytes;
	engine_phase_start(e, ENGINE_PHASE_ECHO);
	pthread_mutex_unlock(&e->lock);
	return 0;
}

int engine_load(struct engine *e, const struct engine_load *load)
{
	uint64_t held;
	double interval;

	if (!(load->rate_per_s > 0) || load->duration_ms == 0)
		return -EINVAL;
	pthread_mutex_lock(&e->lock);
	if (engine_busy(e)) {
		pthread_mutex_unlock(&e->lock);
		return -EBUSY;
	}
	held = atomic_load(&e->st.current);
	e->phase_payload = load->payload_bytes ? load->payload_bytes : e->p.payload_bytes;
	/* Each of the held connections sends once per interval: rate in all. */
	interval = (double)(held ? held : 1) * 1e6 / load->rate_per_s;
	/* Under 1 us, or past any duration (a year), the schedule is the same. */
	e->load_interval_us = interval < 1        ? 1
	                      : interval > 3.2e13 ? 32000000000000u
	                                          : (uint64_t)(interval + 0.5);
	e->load_duration_us = load->duration_ms * 1000;
	/* A moment for every worker to see the phase before the first send is due. */
	e->load_t0_us = clock_us() + 1000;
	engine_phase_start(e, ENGINE_PHASE_LOAD);
	pthread_mutex_unlock(&e->lock);
	return 0;
}

double engine_load_elapsed_s(struct engine *e)
{
	uint64_t last = 0, t0;

	for (unsigned i = 0; i < e->nworkers; i++) {
		uint64_t w =
		    atomic_load_explicit(&e->workers[i].load_last_us, memory_order_relaxed);
		last = w > last ? w : last;
	}
	pthread_mutex_lock(&e->lock);
	t0 = e->load_t0_us;
	pthread_mutex_unlock(&e->lock);
	return last > t0 ? (double)(last - t0) / 1e6 : 0;
}

int engine_churn(struct engine *e, double rate_per_s, uint64_t duration_ms)
{
	if (!(rate_per_s >= 1) || duration_ms == 0)
		return -EINVAL;
	pthread_mutex_lock(&e->lock);
	if (engine_busy(e)) {
		pthread_mutex_unlock(&e->lock);
		return -EBUSY;
	}
	e->phase_payload = e->p.payload_bytes;
	e->churn_rate = rate_per_s;
	e->churn_total = (uint64_t)(rate_per_s * (double)duration_ms / 1000.0 + 0.5);
	atomic_store(&e->churn_next, 0);
	e->churn_t0_us = clock_us();
	e->churn_end_us = e->churn_t0_us + duration_ms * 1000;
	engine_phase_start(e, ENGINE_PHASE_CHURN);
	pthread_mutex_unlock(&e->lock);
	return 0;
}

int engine_close(struct engine *e)
{
	pthread_mutex_lock(&e->lock);
	/* No attempt may start after this: the workers see the new limit first. */
	atomic_store(&e->ticket_limit, atomic_load(&e->ticket));
	engine_phase_start(e, ENGINE_PHASE_CLOSE);
	pthread_mutex_unlock(&e->lock);
	return 0;
}

bool engine_wait(struct engine *e, unsigned timeout_ms)
{
	struct timespec dl;
	bool done;

	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += timeout_ms / 1000;
	dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (dl.tv_nsec >= 1000000000L) {
		dl.tv_sec++;
		dl.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&e->lock);
	for (;;) {
		done = e->phase == ENGINE_PHASE_IDLE || e->workers_done >= e->nworkers;
		if (done || pthread_cond_timedwait(&e->cond, &e->lock, &dl) == ETIMEDOUT)
			break;
	}
	done = e->phase == ENGINE_PHASE_IDLE || e->workers_done >= e->nworkers;
	pthread_mutex_unlock(&e->lock);
	return done;
}

void engine_snapshot(struct engine *e, struct engine_counts *out)
{
	struct engine_stats *st = &e->st;
	int r;

	out->attempted = atomic_load(&st->attempted);
	out->established = atomic_load(&st->established);
	out->aborted = atomic_load(&st->aborted);
	out->current = atomic_load(&st->current);
	out->max_concurrent = atomic_load(&st->max_concurrent);
	for (r = 0; r < ENGINE_REASON_COUNT; r++)
		out->failed[r] = atomic_load(&st->failed[r]);
	out->connect_failed = atomic_load(&st->connect_failed);
	out->echo_ok = atomic_load(&st->echo_ok);
	out->echo_errors = atomic_load(&st->echo_errors);
	out->echo_rounds = atomic_load(&st->echo_rounds);
	out->lost = atomic_load(&st->lost);
	out->load_scheduled = atomic_load(&st->load_scheduled);
	out->load_sent = atomic_load(&st->load_sent);
	out->load_verified = atomic_load(&st->load_verified);
	out->load_behind = atomic_load(&st->load_behind);
	out->load_errors = atomic_load(&st->load_errors);
	out->churn_attempted = atomic_load(&st->churn_attempted);
	out->churn_ok = atomic_load(&st->churn_ok);
	for (r = 0; r < ENGINE_REASON_COUNT; r++)
		out->churn_failed[r] = atomic_load(&st->churn_failed[r]);
}

void engine_load_hist(struct engine *e, struct hist *out)
{
	hist_init(out);
	for (unsigned i = 0; i < e->nworkers; i++) {
		struct worker *w = &e->workers[i];

		pthread_mutex_lock(&w->hist_lock);
		hist_merge(out, &w->h_load);
		pthread_mutex_unlock(&w->hist_lock);
	}
}

void engine_result(struct engine *e, struct engine_result *out)
{
	unsigned i;

	engine_snapshot(e, &out->counts);
	hist_init(&out->connect);
	hist_init(&out->echo);
	hist_init(&out->load);
	hist_init(&out->churn_connect);
	hist_init(&out->churn_echo);
	for (i = 0; i < e->nworkers; i++) {
		struct worker *w = &e->workers[i];

		pthread_mutex_lock(&w->hist_lock);
		hist_merge(&out->connect, &w->h_connect);
		hist_merge(&out->echo, &w->h_echo);
		hist_merge(&out->load, &w->h_load);
		hist_merge(&out->churn_connect, &w->h_churn_connect);
		hist_merge(&out->churn_echo, &w->h_churn_echo);
		pthread_mutex_unlock(&w->hist_lock);
	}
}
