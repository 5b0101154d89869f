#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "host.h"
#include "report.h"
#include "timeline.h"

static const char *state_name(enum agent_state s, bool running)
{
	switch (s) {
	case AGENT_READY:
		/* Mid-run it is taking part; at the end it never answered the close. */
		return running ? "running" : "incomplete";
	case AGENT_DONE:
		return "done";
	case AGENT_LOST:
		return "lost";
	case AGENT_REJECTED:
		return "rejected";
	default:
		return "incomplete";
	}
}

static void iso_time(time_t t, char *buf, size_t size)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/*
 * A histogram's summary (proto/hist.c), with null, not 0, for every figure
 * of an empty one: nothing was measured.
 */
static json_t *summary_json(const struct hist *h)
{
	static const char *const keys[] = {"p50", "p90", "p99", "p999", "max", "mean"};
	json_t *j = hist_summary_json(h);

	for (size_t i = 0; j != NULL && h->count == 0 && i < sizeof(keys) / sizeof(keys[0]); i++)
		json_object_set_new(j, keys[i], json_null());
	return j;
}

static json_t *latency_json(const struct hist *connect, const struct hist *echo)
{
	return json_pack("{s:o, s:o}", "connect", summary_json(connect), "echo",
	                 summary_json(echo));
}

/* Each plateau's held connections, and the last one's as a number (null before any). */
static void held_json(json_t *j, const int64_t *held, int nsteps)
{
	json_t *steps = json_array();

	for (int k = 0; k < nsteps; k++)
		json_array_append_new(steps, json_integer(held[k]));
	json_object_set_new(j, "held", nsteps > 0 ? json_integer(held[nsteps - 1]) : json_null());
	json_object_set_new(j, "held_steps", steps);
}

static json_t *agent_json(const struct coord *c, const struct coord_agent *a, bool running)
{
	json_t *j = msg_counts_pack(&a->counts);
	int64_t held[MSG_MAX_STEPS];

	/* An agent lost in a step held nothing from then on. */
	for (int k = 0; k < c->nsteps_done; k++)
		held[k] = a->lost_step >= 0 && k >= a->lost_step ? 0 : a->held[k];
	held_json(j, held, c->nsteps_done);

	json_object_set_new(j, "name", json_string(a->id));
	json_object_set_new(j, "host", json_string(a->hello.host));
	json_object_set_new(j, "assigned", json_integer(a->assign.connections));
	json_object_set_new(j, "state", json_string(state_name(a->state, running)));
	/* The names server_stats uses for the same facts about the server's host. */
	json_object_set_new(j, "capacity", json_integer(a->hello.max_connections));
	json_object_set_new(j, "capacity_limit", json_string(a->hello.capacity));
	if (a->why[0])
		json_object_set_new(j, "why", json_string(a->why));
	if (a->result)
		json_object_set_new(j, "latency",
		                    latency_json(&a->result->connect, &a->result->echo));
	return j;
}

struct totals {
	struct msg_counts counts;
	int64_t assigned;
	int lost;
	struct hist connect;
	struct hist echo;
};

static void add_totals(struct totals *t, const struct coord_agent *a)
{
	const struct msg_counts *k = &a->counts;

	t->assigned += a->assign.connections;
	t->lost += a->state == AGENT_LOST;
	t->counts.attempted += k->attempted;
	t->counts.established += k->established;
	t->counts.current += k->current;
	t->counts.max_concurrent += k->max_concurrent;
	t->counts.echo_ok += k->echo_ok;
	t->counts.echo_errors += k->echo_errors;
	t->counts.lost += k->lost;
	for (int r = 0; r < MSG_REASON_COUNT; r++)
		t->counts.failed[r] += k->failed[r];
	if (a->result) {
		hist_merge(&t->connect, &a->result->connect);
		hist_merge(&t->echo, &a->result->echo);
	}
}

static double ms(const struct hist *h, double q)
{
	return h->count ? (double)hist_percentile(h, q) / 1000.0 : NAN;
}

/* The last plateau at which the server answered, or NULL. */
static const struct coord_step *last_plateau(const struct coord *c)
{
	for (int k = c->nsteps_done - 1; k >= 0; k--)
		if (c->steps[k].have_server)
			return &c->steps[k];
	return NULL;
}

/* The worst plateau: held over planned; NaN (not measured) when no plateau was reached. */
static double held_ratio(const struct coord *c)
{
	double worst = c->nsteps_done > 0 ? 1.0 : NAN;

	for (int k = 0; k < c->nsteps_done; k++) {
		double r = (double)c->steps[k].held / (double)c->steps[k].connections;
		if (r < worst)
			worst = r;
	}
	return worst;
}

/* The higher of two, or NaN if either is: an unmeasured entry stays unmeasured. */
static double worst_high(double a, double b)
{
	return isnan(a) || isnan(b) ? NAN : fmax(a, b);
}

static double worst_low(double a, double b)
{
	return isnan(a) || isnan(b) ? NAN : fmin(a, b);
}

/* A load entry's latency at q (1: the max), in ms; NaN without samples. */
static double load_ms(const struct coord_load *l, double q)
{
	if (l->latency == NULL || l->latency->count == 0)
		return NAN;
	return q < 1 ? ms(l->latency, q) : (double)l->latency->max_us / 1000.0;
}

/*
 * The load sweep's metrics, each on its worst entry (every step's every rate
 * run): the lowest achieved ratio, the highest latencies, the highest server
 * CPU per message (over the entries that have the server's stats), the sum of
 * late sends. Not measured (NaN, which no threshold passes) without a load
 * entry; the ratio and the latencies also when an entry has none (nothing
 * verified, no time elapsed): an unmeasured rate cannot be the worst one passed.
 * Each figure is computed as load_json() computes it, so a threshold's value
 * is one of the report's steps[].load[] figures.
 */
static void load_metrics(const struct coord *c, double *v)
{
	static const struct {
		enum threshold_metric m;
		double q;
	} lat[] = {{TM_LOAD_P50_MS, 0.5},
	           {TM_LOAD_P90_MS, 0.9},
	           {TM_LOAD_P99_MS, 0.99},
	           {TM_LOAD_P999_MS, 0.999},
	           {TM_LOAD_MAX_MS, 1}};
	enum { NLAT = sizeof(lat) / sizeof(lat[0]) };
	double ratio = INFINITY, high[NLAT], cpu = -INFINITY, behind = 0;
	int n = 0;

	for (int q = 0; q < NLAT; q++)
		high[q] = -INFINITY;
	for (int k = 0; k < c->nsteps_done; k++) {
		for (int r = 0; r < c->steps[k].nloads; r++) {
			const struct coord_load *l = &c->steps[k].load[r];
			double verified = (double)l->verified;

			n++;
			behind += (double)l->behind;
			ratio = worst_low(ratio, l->rate_per_s > 0 && l->elapsed_s > 0
			                             ? verified / l->elapsed_s / l->rate_per_s
			                             : NAN);
			for (int q = 0; q < NLAT; q++)
				high[q] = worst_high(high[q], load_ms(l, lat[q].q));
			if (l->have_server && verified > 0)
				cpu = fmax(cpu, l->server_cpu_s * 1e6 / verified);
		}
	}
	v[TM_ACHIEVED_RATIO] = n > 0 ? ratio : NAN;
	v[TM_BEHIND_SCHEDULE] = n > 0 ? behind : NAN;
	for (int q = 0; q < NLAT; q++)
		v[lat[q].m] = n > 0 ? high[q] : NAN;
	v[TM_SERVER_CPU_US_PER_MSG] = isinf(cpu) ? NAN : cpu;
}

/*
 * The churn's metrics: the lowest achieved ratio of any step (as churn_json()
 * computes it) and every step's failures summed; NaN without a churn.
 */
static void churn_metrics(const struct coord *c, double *v)
{
	double ratio = INFINITY, failed = 0;
	int n = 0;

	for (int k = 0; k < c->nsteps_done; k++) {
		const struct coord_churn *ch = &c->steps[k].churn;
		double asked = ch->rate_per_s * c->plan->churn_duration_s;

		if (ch->rate_per_s <= 0)
			continue;
		n++;
		ratio = fmin(ratio, asked > 0 ? (double)ch->ok / asked : NAN);
		for (int r = 0; r < MSG_REASON_COUNT; r++)
			failed += (double)ch->failed[r];
	}
	v[TM_CHURN_ACHIEVED_RATIO] = n > 0 ? ratio : NAN;
	v[TM_CHURN_FAILED] = n > 0 ? failed : NAN;
}

/* A plateau's memory per connection; NaN without a plateau answer or a connection. */
static double per_conn(const struct coord_step *plateau, double kb)
{
	return plateau != NULL && plateau->server.conns_current > 0 ? kb : NAN;
}

static void metrics(const struct coord *c, const struct totals *t, double *v)
{
	const struct coord_step *plateau = last_plateau(c);

	v[TM_HELD_RATIO] = held_ratio(c);
	v[TM_HELD] = c->nsteps_done > 0 ? (double)c->steps[c->nsteps_done - 1].held : NAN;

	v[TM_ESTABLISHED_RATIO] = (double)t->counts.established / (double)c->plan->connections;
	v[TM_ESTABLISHED] = (double)t->counts.established;
	v[TM_FAILED] = (double)msg_failed_total(&t->counts);
	v[TM_ECHO_ERRORS] = (double)t->counts.echo_errors;
	v[TM_LOST_AGENTS] = t->lost;
	v[TM_CONNECT_P50_MS] = ms(&t->connect, 0.5);
	v[TM_CONNECT_P90_MS] = ms(&t->connect, 0.9);
	v[TM_CONNECT_P99_MS] = ms(&t->connect, 0.99);
	v[TM_CONNECT_P999_MS] = ms(&t->connect, 0.999);
	v[TM_CONNECT_MAX_MS] = t->connect.count ? (double)t->connect.max_us / 1000.0 : NAN;
	v[TM_ECHO_P50_MS] = ms(&t->echo, 0.5);
	v[TM_ECHO_P90_MS] = ms(&t->echo, 0.9);
	v[TM_ECHO_P99_MS] = ms(&t->echo, 0.99);
	v[TM_ECHO_P999_MS] = ms(&t->echo, 0.999);
	v[TM_ECHO_MAX_MS] = t->echo.count ? (double)t->echo.max_us / 1000.0 : NAN;
	v[TM_SERVER_USER_KB_PER_CONN] =
	    per_conn(plateau, plateau ? plateau->server.user_kb_per_conn : 0);
	v[TM_SERVER_KERNEL_KB_PER_CONN] =
	    per_conn(plateau, plateau ? plateau->server.kernel_kb_per_conn : 0);
	/* A server that stopped answering has no final count: the last one is stale. */
	v[TM_SERVER_MAX_CONNS] =
	    c->have_last_stats && !c->server_gone ? (double)c->last_stats.conns_max : NAN;
	load_metrics(c, v);
	churn_metrics(c, v);
}

static json_t *number_or_null(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

/*
 * The plan's thresholds, or by default: every planned connection held at
 * every plateau, not one refused, reset, timed out or closed early, every
 * echo verified, and with a churn, every churn connection verified (churn
 * connections are counted apart from `failed`).
 */
static json_t *thresholds_json(const struct plan *p, const double *v, bool *all_ok)
{
	static const char *defaults[] = {"held_ratio >= 1.0", "failed == 0", "echo_errors == 0",
	                                 "churn_failed == 0"};
	enum { NDEFAULTS = sizeof(defaults) / sizeof(defaults[0]) };
	json_t *arr = json_array();
	struct threshold dflt[NDEFAULTS];
	const struct threshold *ts = p->thresholds;
	int n = (int)p->nthresholds;
	struct proto_err err;

	if (n == 0) {
		n = p->churn_rate_per_s > 0 ? NDEFAULTS : NDEFAULTS - 1;
		for (int i = 0; i < n; i++)
			threshold_parse(defaults[i], &dflt[i], &err);
		ts = dflt;
	}
	*all_ok = true;
	for (int i = 0; i < n; i++) {
		bool ok = threshold_eval(&ts[i], v);
		*all_ok = *all_ok && ok;
		json_array_append_new(arr, json_pack("{s:s, s:o, s:b}", "expr", ts[i].expr, "value",
		                                     number_or_null(v[ts[i].metric]), "ok", ok));
	}
	return arr;
}

/*
 * One server answer. What it could not measure is null, not the 0 the wire
 * carries: memory per connection without a connection, and what a watched
 * (external) server's view from outside cannot give (its accepted total,
 * refusals, resets).
 */
static json_t *server_stats_json(const struct server_stats *s)
{
	static const char *const unseen[] = {"conns_total", "refused", "resets"};
	json_t *j = stats_pack(s);
	bool external = strcmp(s->model, "external") == 0;

	if (j == NULL)
		return NULL;
	/* The envelope belongs on the wire, not inside a report. */
	json_object_del(j, "v");
	json_object_del(j, "type");
	/* Its kernel's identity is for the comparison in kernel_scope(), not for a report. */
	json_object_del(j, "boot_id");
	/* Left out on the wire by an older server: in a report, every key is there. */
	if (s->page_frag_kb == STATS_UNKNOWN)
		json_object_set_new(j, "page_frag_kb", json_null());
	if (s->conns_current <= 0) {
		json_object_set_new(j, "user_kb_per_conn", json_null());
		json_object_set_new(j, "kernel_kb_per_conn", json_null());
	}
	for (size_t i = 0; external && i < sizeof(unseen) / sizeof(unseen[0]); i++)
		json_object_set_new(j, unseen[i], json_null());
	return j;
}

/*
 * What the server's kernel memory deltas (kernel_stack_kb, slab_kb,
 * page_tables_kb, kernel_kb_per_conn) cover. They are the host's
 * /proc/meminfo, and an agent on the same kernel (same boot id: the same
 * host, or a container or network namespace on it, as the lab's "hosts" are)
 * puts its end of every connection there too: "host, shared with N agents".
 * "host" when every agent said a kernel and none is the server's; "host,
 * unknown whether shared" when the server or an agent did not say; null
 * without a server answer.
 */
static json_t *kernel_scope(const struct coord *c)
{
	const char *server = c->have_last_stats ? c->last_stats.boot_id : "";
	int shared = 0, unknown = 0;
	char text[96];

	if (!c->have_last_stats)
		return json_null();
	for (int i = 0; i < c->nagents; i++) {
		const char *agent = c->agents[i].hello.boot_id;
		if (!server[0] || !agent[0])
			unknown++;
		else if (strcmp(agent, server) == 0)
			shared++;
	}
	if (shared > 0)
		snprintf(text, sizeof(text), "host, shared with %d agent%s", shared,
		         shared == 1 ? "" : "s");
	else
		snprintf(text, sizeof(text), "%s",
		         unknown > 0 || !server[0] ? "host, unknown whether shared" : "host");
	return json_string(text);
}

static json_t *server_json(const struct coord *c)
{
	json_t *samples = json_array();
	const struct coord_step *plateau = last_plateau(c);

	for (int i = 0; i < c->nsamples; i++) {
		const struct server_stats *s = &c->samples[i].stats;
		json_array_append_new(
		    samples,
		    json_pack("{s:f, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:f, s:f, s:I, s:I}",
		              "t", c->samples[i].t_s, "conns_current", (json_int_t)s->conns_current,
		              "threads", (json_int_t)s->threads, "rss_kb", (json_int_t)s->rss_kb,
		              "pss_kb", (json_int_t)s->pss_kb, "kernel_stack_kb",
		              (json_int_t)s->kernel_stack_kb, "slab_kb", (json_int_t)s->slab_kb,
		              "page_tables_kb", (json_int_t)s->page_tables_kb, "page_frag_kb",
		              s->page_frag_kb == STATS_UNKNOWN ? json_null()
		                                               : json_integer(s->page_frag_kb),
		              "cpu_user_s", s->cpu_user_s, "cpu_sys_s", s->cpu_sys_s,
		              "ctxsw_voluntary", (json_int_t)s->ctxsw_voluntary,
		              "ctxsw_involuntary", (json_int_t)s->ctxsw_involuntary));
	}
	/* A server that stopped answering has no final word: its last one is not it. */
	json_t *j = json_pack(
	    "{s:o, s:o, s:o, s:o}", "samples", samples, "final",
	    c->have_last_stats && !c->server_gone ? server_stats_json(&c->last_stats) : json_null(),
	    "user_kb_per_conn",
	    number_or_null(per_conn(plateau, plateau ? plateau->server.user_kb_per_conn : 0)),
	    "kernel_kb_per_conn",
	    number_or_null(per_conn(plateau, plateau ? plateau->server.kernel_kb_per_conn : 0)));
	if (j != NULL)
		json_object_set_new(j, "kernel_scope", kernel_scope(c));
	if (j != NULL && c->stats_endpoint[0]) {
		json_object_set_new(j, "stats", json_string(c->stats_endpoint));
		json_object_set_new(
		    j, "last_answer_s",
		    c->last_answer_ms
		        ? json_real((double)(c->last_answer_ms - c->started_ms) / 1000.0)
		        : json_null());
	}
	if (j != NULL && c->server_gone)
		json_object_set_new(j, "error", json_string(c->server_error));
	return j;
}

static json_t *step_latency_json(const struct hist *h)
{
	struct hist empty;

	if (h != NULL)
		return summary_json(h);
	hist_init(&empty);
	return summary_json(&empty);
}

/* x / n, or null when there is nothing to divide by. */
/* A number, or null when it is not one (NaN, infinite): never a missing value. */
static json_t *num(double x)
{
	return isfinite(x) ? json_real(x) : json_null();
}

static json_t *per(double x, double n)
{
	return n > 0 ? num(x / n) : json_null();
}

/*
 * One rate of a step's load: asked, sent and verified (achieved = verified /
 * the slowest agent's elapsed time, which includes the echoes' tail), the
 * latency from the scheduled send times, and what each message cost: the
 * server's CPU and context switches (null without its stats), the agents' CPU.
 * The host's shares (of all its CPUs' time, from /proc/stat) are tick-sampled
 * by the kernel: under a light, bursty load they read low; at saturation,
 * where they matter, they hold.
 */
static json_t *load_json(const struct plan *p, const struct coord_load *l)
{
	double n = (double)l->verified;
	json_t *j = json_pack(
	    "{s:o, s:o, s:I, s:o, s:o, s:I, s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o}",
	    "rate_per_s", num(l->rate_per_s), "duration_s", num(p->load_duration_s),
	    "payload_bytes", (json_int_t)p->load_payload_bytes, "elapsed_s", num(l->elapsed_s),
	    "achieved_per_s", per(n, l->elapsed_s), "sent", (json_int_t)l->sent, "verified",
	    (json_int_t)l->verified, "errors", (json_int_t)l->errors, "behind_schedule",
	    (json_int_t)l->behind, "latency", step_latency_json(l->latency), "agent_cpu_us_per_msg",
	    per(l->agent_cpu_s * 1e6, n), "server_cpu_us_per_msg",
	    l->have_server ? per(l->server_cpu_s * 1e6, n) : json_null(), "ctxsw_per_msg",
	    l->have_server ? per((double)l->server_ctxsw, n) : json_null(), "host_softirq_share",
	    l->have_server ? per(l->host_softirq_s, l->host_total_s) : json_null(),
	    "host_busy_share", l->have_server ? per(l->host_busy_s, l->host_total_s) : json_null());

	if (j != NULL)
		json_object_set_new(j, "achieved_ratio",
		                    l->rate_per_s > 0 && l->elapsed_s > 0
		                        ? num(n / l->elapsed_s / l->rate_per_s)
		                        : json_null());
	/*
	 * What the agents put on the wire a second of the schedule, and what the
	 * schedule held but the duration ended before it could be sent (the server
	 * or the agents could not keep up: sent is below scheduled).
	 */
	if (j != NULL) {
		json_object_set_new(j, "offered_per_s", per((double)l->sent, p->load_duration_s));
		json_object_set_new(j, "scheduled", json_integer((json_int_t)l->scheduled));
		json_object_set_new(j, "unsent",
		                    json_integer((json_int_t)(l->scheduled - l->sent)));
	}
	return j;
}

static json_t *step_loads_json(const struct coord *c, const struct coord_step *s)
{
	json_t *arr = json_array();

	/* An entry that cannot be built (out of memory) stays a null, never a gap. */
	for (int r = 0; arr != NULL && r < s->nloads; r++) {
		json_t *l = load_json(c->plan, &s->load[r]);
		json_array_append_new(arr, l != NULL ? l : json_null());
	}
	return arr;
}

/*
 * A step's churn, or null without one: asked, opened, verified and closed
 * (ok), failures by reason, the time from connect() to the first echo, and
 * the cost per connection; server_accepted is the server's own count of them.
 */
static json_t *churn_json(const struct coord *c, const struct coord_churn *ch)
{
	const struct plan *p = c->plan;
	/* A watched (external) server does not count the connections it accepts. */
	bool counted = ch->have_server && strcmp(c->last_stats.model, "external") != 0;
	json_t *failed = json_object();
	double n = (double)ch->ok;

	if (ch->rate_per_s <= 0) {
		json_decref(failed);
		return json_null();
	}
	for (int r = 0; failed != NULL && r < MSG_REASON_COUNT; r++)
		json_object_set_new(failed, msg_reason_name((enum msg_reason)r),
		                    json_integer((json_int_t)ch->failed[r]));
	return json_pack(
	    "{s:o, s:o, s:o, s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "rate_per_s",
	    num(ch->rate_per_s), "duration_s", num(p->churn_duration_s), "elapsed_s",
	    num(ch->elapsed_s), "attempted", (json_int_t)ch->attempted, "ok", (json_int_t)ch->ok,
	    "failed", failed, "achieved_per_s", per(n, p->churn_duration_s), "achieved_ratio",
	    per(n, p->churn_duration_s * ch->rate_per_s), "latency", step_latency_json(ch->latency),
	    "agent_cpu_us_per_conn", per(ch->agent_cpu_s * 1e6, n), "server_cpu_us_per_conn",
	    ch->have_server ? per(ch->server_cpu_s * 1e6, n) : json_null(), "ctxsw_per_conn",
	    ch->have_server ? per((double)ch->server_ctxsw, n) : json_null(), "server_accepted",
	    counted ? json_integer((json_int_t)ch->server_accepted) : json_null());
}

static json_t *steps_json(const struct coord *c)
{
	json_t *arr = json_array();

	for (int k = 0; k < c->nsteps_done; k++) {
		const struct coord_step *s = &c->steps[k];
		json_t *st = json_pack(
		    "{s:I, s:I, s:I, s:f, s:f, s:o, s:o, s:f, s:{s:o, s:o}, s:o, s:o, s:o}",
		    "connections", (json_int_t)s->connections, "established",
		    (json_int_t)s->established, "held", (json_int_t)s->held, "held_ratio",
		    (double)s->held / (double)s->connections, "connect_s", s->connect_s,
		    "accept_lag_s", s->accept_lag_s >= 0 ? json_real(s->accept_lag_s) : json_null(),
		    "accept_lag_complete",
		    s->accept_lag_s >= 0 ? json_boolean(s->accepted_all) : json_null(), "echo_s",
		    s->echo_s, "latency", "connect", step_latency_json(s->connect), "echo",
		    step_latency_json(s->echo), "server",
		    s->have_server ? server_stats_json(&s->server) : json_null(), "load",
		    step_loads_json(c, s), "churn", churn_json(c, &s->churn));

		/* A step that cannot be built (out of memory) stays a null, never a gap. */
		json_array_append_new(arr, st != NULL ? st : json_null());
	}
	return arr;
}

static const char *status_of(const struct coord *c, const struct totals *t, bool ok, int *code)
{
	if (c->aborted || c->failure[0]) {
		*code = COORD_RUN_FAILED;
		return "aborted";
	}
	/* An agent lost, or a server whose memory was asked for and not measured. */
	if (t->lost > 0 || c->server_gone) {
		*code = COORD_RUN_FAILED;
		return "degraded";
	}
	*code = ok ? COORD_PASS : COORD_FAIL;
	return ok ? "pass" : "fail";
}

/* running: the run goes on (a checkpoint): status "running", ended_at null. */
static json_t *build(const struct coord *c, const struct report_times *tm, bool running,
                     int *exit_code)
{
	struct totals *t = calloc(1, sizeof(*t));
	double v[TM_METRIC_COUNT];
	char started[32], ended[32];
	bool ok;

	if (t == NULL)
		return NULL;
	hist_init(&t->connect);
	hist_init(&t->echo);
	json_t *agents = json_array();
	for (int i = 0; i < c->nagents; i++) {
		add_totals(t, &c->agents[i]);
		json_array_append_new(agents, agent_json(c, &c->agents[i], running));
	}
	metrics(c, t, v);
	json_t *thresholds = thresholds_json(c->plan, v, &ok);
	json_t *totals = msg_counts_pack(&t->counts);
	json_object_set_new(totals, "assigned", json_integer(t->assigned));
	json_object_set_new(totals, "held",
	                    isnan(v[TM_HELD]) ? json_null() : json_integer((json_int_t)v[TM_HELD]));
	json_object_set_new(totals, "held_ratio", number_or_null(v[TM_HELD_RATIO]));
	json_object_set_new(totals, "established_ratio", json_real(v[TM_ESTABLISHED_RATIO]));
	json_object_set_new(totals, "lost_agents", json_integer(t->lost));
	json_object_set_new(totals, "latency", latency_json(&t->connect, &t->echo));
	iso_time(tm->started, started, sizeof(started));
	iso_time(tm->ended, ended, sizeof(ended));
	const char *status = status_of(c, t, ok, exit_code);
	if (running)
		status = "running";
	json_t *r =
	    json_pack("{s:i, s:O, s:s, s:s, s:o, s:{s:s, s:I}, s:o, s:o, s:o, s:o, s:o, s:I}", "v",
	              REPORT_VERSION, "plan", c->plan->json, "status", status, "started_at",
	              started, "ended_at", running ? json_null() : json_string(ended), "target",
	              "host", c->target_host, "port", (json_int_t)c->target_port, "agents", agents,
	              "totals", totals, "server", server_json(c), "steps", steps_json(c),
	              "thresholds", thresholds, "dropped_messages", (json_int_t)c->dropped);
	if (r != NULL)
		json_object_set_new(r, "timeline", timeline_json(c));
	if (r != NULL)
		json_object_set_new(r, "timing",
		                    json_pack("{s:f, s:f, s:f, s:f}", "joined_s",
		                              c->joined_ms / 1e3, "ready_s", c->ready_ms / 1e3,
		                              "closed_s", c->closed_ms / 1e3, "results_s",
		                              c->results_ms / 1e3));
	if (r != NULL && c->failure[0])
		json_object_set_new(r, "error", json_string(c->failure));
	/* When this checkpoint was written: a crash's report says how old it is. */
	if (r != NULL && running)
		json_object_set_new(r, "updated_at", json_string(ended));
	free(t);
	return r;
}

json_t *report_build(const struct coord *c, const struct report_times *tm, int *exit_code)
{
	return build(c, tm, false, exit_code);
}

int report_write_running(const struct coord *c)
{
	struct report_times tm = {.ended = time(NULL)};
	int code;

	/* The wall clock at the start, from the monotonic time the run has lasted. */
	tm.started = tm.ended - (time_t)((clock_ms() - c->started_ms + 500) / 1000);
	json_t *r = build(c, &tm, true, &code);
	if (r == NULL)
		return -ENOMEM;
	int err = report_write(c->opt->report, r);
	json_decref(r);
	return err;
}

/*
 * PATH.tmp.PID, then renamed over PATH: a crash leaves the old file or the new,
 * whole. The temporary file is created, never opened as found: O_EXCL (with
 * O_NOFOLLOW) refuses a name that exists, so a symlink planted there in a
 * shared directory is not followed. A taken name (a plant, or a crashed run's
 * leftover with our pid) is left alone and the next of a few suffixes is tried.
 */
int report_write_file(const char *path, int (*fill)(FILE *f, const void *arg), const void *arg)
{
	char tmp[4096];
	int err = 0, fd = -1;

	for (int i = 0; i < 8 && fd < 0; i++) {
		int n = i == 0 ? snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid())
		               : snprintf(tmp, sizeof(tmp), "%s.tmp.%d.%d", path, (int)getpid(), i);
		if (n < 0 || (size_t)n >= sizeof(tmp))
			return -ENAMETOOLONG;
		/* 0666: the umask decides, as it did for fopen(). */
		fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
		if (fd < 0 && errno != EEXIST)
			return -errno;
	}
	if (fd < 0)
		return -EEXIST;
	FILE *f = fdopen(fd, "w");
	if (f == NULL) {
		err = -errno;
		close(fd);
		unlink(tmp);
		return err;
	}
	errno = 0;
	if (fill(f, arg) < 0 || fflush(f) != 0 || ferror(f))
		err = errno ? -errno : -EIO;
	/* Durable before it is visible. */
	if (err == 0 && fsync(fileno(f)) < 0)
		err = -errno;
	if (fclose(f) != 0 && err == 0)
		err = -errno;
	if (err == 0 && rename(tmp, path) < 0)
		err = -errno;
	if (err != 0)
		unlink(tmp);
	return err;
}

static int dump_json(FILE *f, const void *report)
{
	if (json_dumpf(report, f, JSON_INDENT(2) | JSON_REAL_PRECISION(6)) < 0)
		return -1;
	return fputc('\n', f) == EOF ? -1 : 0;
}

int report_write(const char *path, const json_t *report)
{
	return report_write_file(path, dump_json, report);
}
