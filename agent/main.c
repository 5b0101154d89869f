/*
 * agent — standalone mode: connect N -> echo K rounds -> hold -> close,
 * driven through the same phase API the coordinator client will use.
 *
 * Exit status: 0 every connection established and every echo verified,
 * 1 some failed (or interrupted), 2 bad invocation or preflight refusal.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "control.h"
#include "engine.h"
#include "host.h"
#include "keys.h"
#include "options.h"
#include "preflight.h"
#include "result.h"

#define CLOSE_DEADLINE_MS 30000

static volatile sig_atomic_t agent_stop;

static void agent_on_signal(int sig)
{
	(void)sig;
	agent_stop = 1;
}

struct progress {
	bool tty;
	double started;
	double last_print;
	double last_t;
	uint64_t last_count; /* established, or load messages verified */
	bool dirty;          /* a \r line is on screen */
};

static void progress_print(struct progress *pg, struct engine *e, const char *phase,
                           uint64_t target, bool force)
{
	struct engine_counts c;
	double now = clock_s(), rate;
	uint64_t failed = 0, count;
	bool load;
	int i;

	if (!force && now - pg->last_print < (pg->tty ? 0.2 : 1.0))
		return;
	engine_snapshot(e, &c);
	for (i = 0; i < ENGINE_REASON_COUNT; i++)
		failed += c.failed[i];
	/* Connections a second while connecting; verified messages a second under load. */
	load = strcmp(phase, "load") == 0;
	count = load ? c.load_verified : c.established;
	rate = now > pg->last_t && count >= pg->last_count
	           ? (double)(count - pg->last_count) / (now - pg->last_t)
	           : 0;
	fprintf(stderr,
	        "%sagent: %-7s %6.1fs  established %llu/%llu  current %llu  failed %llu  "
	        "%.0f %s  echo ok %llu%s",
	        pg->tty ? "\r" : "", phase, now - pg->started, (unsigned long long)c.established,
	        (unsigned long long)target, (unsigned long long)c.current,
	        (unsigned long long)failed, rate, load ? "msg/s" : "conn/s",
	        (unsigned long long)c.echo_ok, pg->tty ? "\033[K" : "\n");
	pg->dirty = pg->tty;
	pg->last_print = now;
	pg->last_t = now;
	pg->last_count = count;
}

/* Waits for the current phase with progress; false if interrupted by a signal. */
static bool agent_wait_phase(struct engine *e, struct progress *pg, const char *phase,
                             uint64_t target)
{
	for (;;) {
		if (agent_stop)
			return false;
		if (engine_wait(e, 100))
			break;
		progress_print(pg, e, phase, target, false);
	}
	progress_print(pg, e, phase, target, true);
	return true;
}

/* Refuses, with a sentence naming the limit, what would otherwise fail halfway. */
static int agent_preflight(const struct agent_options *o)
{
	struct host_limits lim;
	char msg[512];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned threads = o->threads ? o->threads : (ncpu > 0 ? (unsigned)ncpu : 1);
	int rc;

	rc = preflight_raise_nofile();
	if (rc < 0)
		fprintf(stderr, "agent: warning: cannot raise RLIMIT_NOFILE: %s\n", strerror(-rc));
	rc = host_limits_read(&lim);
	if (rc < 0) {
		fprintf(stderr, "agent: preflight: cannot read host limits: %s\n", strerror(-rc));
		return rc;
	}
	rc = preflight_sources(o->sources, o->nsources, msg, sizeof(msg));
	if (rc == 0)
		rc = preflight_limits(&lim, o->n, threads, o->nsources, msg, sizeof(msg));
	if (rc < 0)
		fprintf(stderr, "%s\n", msg);
	else if (preflight_port_warning(&lim, o->n, o->nsources, msg, sizeof(msg)))
		fprintf(stderr, "%s\n", msg);
	return rc;
}

/* A standalone run: its engine, progress line, and what each phase asked for and took. */
struct standalone {
	struct engine *e;
	struct progress pg;
	double t_connect, t_echo;
	struct result_load load;   /* rate 0: no load phase */
	struct result_churn churn; /* rate 0: no churn phase */
};

static struct engine *standalone_engine(const struct agent_options *o)
{
	struct engine_params p;
	char msg[512];

	memset(&p, 0, sizeof(p));
	p.target = o->target;
	p.sources = o->sources;
	p.nsources = o->nsources;
	p.threads = o->threads;
	p.rate = o->rate;
	p.connect_timeout_ms = o->connect_timeout_ms;
	p.payload_bytes = o->payload;
	p.rounds = o->rounds;
	p.interval_ms = o->interval_ms;
	p.echo_timeout_ms = o->echo_timeout_ms;
	struct engine *e = engine_create(&p, msg, sizeof(msg));
	if (e == NULL)
		fprintf(stderr, "agent: %s\n", msg);
	return e;
}

/* Connect, then echo, load, churn and hold as asked; false once interrupted. */
static bool standalone_phases(const struct agent_options *o, struct standalone *s)
{
	double t0 = clock_s();

	engine_connect(s->e, o->n);
	bool ok = agent_wait_phase(s->e, &s->pg, "connect", o->n);
	s->t_connect = clock_s() - t0;
	if (ok && o->rounds > 0) {
		t0 = clock_s();
		engine_echo(s->e);
		ok = agent_wait_phase(s->e, &s->pg, "echo", o->n);
		s->t_echo = clock_s() - t0;
	}
	if (ok && o->load_rate > 0) {
		struct engine_load l = {(double)o->load_rate, o->load_duration_ms, o->load_payload};

		s->load.rate_per_s = o->load_rate;
		s->load.duration_s = (double)o->load_duration_ms / 1000.0;
		result_cost_begin(&s->load.cost);
		engine_load(s->e, &l);
		ok = agent_wait_phase(s->e, &s->pg, "load", o->n);
		result_cost_end(&s->load.cost);
		s->load.cost.elapsed_s = engine_load_elapsed_s(s->e);
	}
	if (ok && o->churn_rate > 0) {
		s->churn.rate_per_s = o->churn_rate;
		s->churn.duration_s = (double)o->churn_duration_ms / 1000.0;
		result_cost_begin(&s->churn.cost);
		engine_churn(s->e, (double)o->churn_rate, o->churn_duration_ms);
		ok = agent_wait_phase(s->e, &s->pg, "churn", o->n);
		result_cost_end(&s->churn.cost);
	}
	double until = clock_s() + o->hold_s;
	while (ok && o->hold_s > 0 && !agent_stop && clock_s() < until) {
		struct timespec ts = {0, 100 * 1000000L};

		nanosleep(&ts, NULL);
		progress_print(&s->pg, s->e, "hold", o->n, false);
	}
	return ok && !agent_stop;
}

/* The result on stdout (JSON or the table); true if it was a pass and was written. */
static bool standalone_report(const struct agent_options *o, const struct standalone *s,
                              const struct engine_result *r, bool ok)
{
	const struct result_load *load = s->load.rate_per_s ? &s->load : NULL;
	const struct result_churn *churn = s->churn.rate_per_s ? &s->churn : NULL;
	bool passed = ok && result_passed(r, o->n, o->rounds > 0);
	uint64_t failed = 0;

	for (int i = 0; i < ENGINE_REASON_COUNT; i++)
		failed += r->counts.failed[i];
	/* Said on stderr too: with --json, stdout is for the JSON alone. */
	if (failed > 0) {
		fprintf(stderr,
		        "agent: %llu of %llu connections failed:", (unsigned long long)failed,
		        (unsigned long long)o->n);
		for (int i = 0; i < ENGINE_REASON_COUNT; i++)
			if (r->counts.failed[i] > 0)
				fprintf(stderr, " %s %llu",
				        engine_reason_name((enum engine_reason)i),
				        (unsigned long long)r->counts.failed[i]);
		fputc('\n', stderr);
	}
	if (result_work_short(stderr, r, load, churn))
		passed = false;
	if (o->json) {
		json_t *j = result_to_json(r, load, churn);

		if (!j || json_dumpf(j, stdout, JSON_COMPACT) < 0) {
			fprintf(stderr, "agent: cannot write the JSON result\n");
			passed = false;
		}
		fputc('\n', stdout);
		json_decref(j);
	} else {
		result_print_table(stdout, r, o->n, s->t_connect, s->t_echo, load, churn);
	}
	return fflush(stdout) == 0 && passed;
}

static int agent_run_standalone(const struct agent_options *o)
{
	struct standalone s;
	struct engine_result *r;

	if (agent_preflight(o) < 0)
		return AGENT_EXIT_USAGE;
	memset(&s, 0, sizeof(s));
	s.e = standalone_engine(o);
	if (s.e == NULL)
		return AGENT_EXIT_FAILED;
	s.pg.tty = isatty(STDERR_FILENO);
	s.pg.started = s.pg.last_t = clock_s();

	bool ok = standalone_phases(o, &s);
	engine_close(s.e);
	if (!engine_wait(s.e, CLOSE_DEADLINE_MS))
		fprintf(stderr, "agent: warning: closing took longer than %d ms\n",
		        CLOSE_DEADLINE_MS);
	if (s.pg.dirty)
		fprintf(stderr, "\n");
	if (!ok)
		fprintf(stderr, "agent: interrupted; results so far:\n");
	r = malloc(sizeof(*r));
	if (r == NULL) {
		engine_destroy(s.e);
		fprintf(stderr, "agent: out of memory\n");
		return AGENT_EXIT_FAILED;
	}
	engine_result(s.e, r);
	engine_destroy(s.e);
	bool passed = standalone_report(o, &s, r, ok);
	free(r);
	return passed ? AGENT_EXIT_OK : AGENT_EXIT_FAILED;
}

/* --gen-keys DIR: NAME.pub and NAME.key, NAME being --name or the hostname. */
static int agent_gen_keys(const struct agent_options *o)
{
	char host[64] = "agent", pub[4096], secret[4096], err[512];

	if (o->name == NULL && gethostname(host, sizeof(host) - 1) < 0)
		snprintf(host, sizeof(host), "agent");
	if (keys_generate(o->gen_keys, o->name ? o->name : host, pub, secret, sizeof(pub), err,
	                  sizeof(err)) < 0) {
		fprintf(stderr, "agent: %s\n", err);
		return AGENT_EXIT_USAGE;
	}
	printf("agent: public key %s\nagent: secret key %s (mode 0600)\n", pub, secret);
	return fflush(stdout) == 0 ? AGENT_EXIT_OK : AGENT_EXIT_FAILED;
}

int main(int argc, char **argv)
{
	struct agent_options o;
	struct sigaction sa;
	char err[512];
	int rc;

	if (options_parse(argc, argv, &o, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		return AGENT_EXIT_USAGE;
	}
	if (o.mode == AGENT_MODE_HELP) {
		fputs(options_usage, stdout);
		return AGENT_EXIT_OK;
	}
	if (o.mode == AGENT_MODE_GEN_KEYS) {
		rc = agent_gen_keys(&o);
		options_free(&o);
		return rc;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = agent_on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (o.mode == AGENT_MODE_CONTROL)
		rc = control_run(&o, &agent_stop);
	else
		rc = agent_run_standalone(&o);
	options_free(&o);
	return rc;
}
