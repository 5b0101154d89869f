/*
 * run.c — the plan's phases: join -> assign -> per step (connect, echo,
 * hold, plateau sample) -> close -> results. Each phase is a message to
 * every active agent and a bounded wait on a barrier; agents that miss a
 * barrier's deadline or fall silent are marked lost and the run goes on.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coord.h"
#include "progress.h"
#include "report.h"
#include "split.h"

#define READY_TIMEOUT_MS  15000
#define CLOSE_TIMEOUT_MS  15000
#define CLOSE_MS_PER_1000 1000
#define RESULT_TIMEOUT_MS 10000
/* A server with 300K threads takes seconds to walk its maps for Pss. */
#define PLATEAU_SAMPLE_MS 15000
#define DRAIN_TIMEOUT_MS  5000
#define VERIFY_TIMEOUT_MS 10000
#define ACCEPT_WAIT_MS    60000 /* plus 1 ms for each connection the step opens */
#define ACCEPT_POLL_MS    200
/* The accept wait also ends once the server's count has not grown for this long. */
#define ACCEPT_STALL_MS 10000

typedef bool (*coord_pred)(struct coord *c);

static bool wait_until(struct coord *c, coord_pred pred, int64_t timeout_ms, bool interruptible);
static void fail(struct coord *c, const char *fmt, const char *arg);

/* The run stops before its end: on a signal, or once the local server is gone. */
static bool halted(const struct coord *c)
{
	return *c->interrupted || c->server_exited;
}

/*
 * A local server that exits ends the run at once, saying how and when: its
 * connections are gone, and what is left to run would measure nothing.
 */
static void watch_server(struct coord *c)
{
	char how[MSG_TEXT_MAX - 80], why[MSG_TEXT_MAX];

	if (c->server_exited || c->server_exit == NULL ||
	    !c->server_exit(c->server_exit_arg, how, sizeof(how)))
		return;
	c->server_exited = true;
	if (c->cur_phase >= 0)
		coord_text(why, sizeof(why), "%s at t=%.1f s (%s, step %d)", how,
		           (double)(clock_ms() - c->started_ms) / 1000.0, c->phase, c->step + 1);
	else
		coord_text(why, sizeof(why), "%s at t=%.1f s (%s)", how,
		           (double)(clock_ms() - c->started_ms) / 1000.0,
		           c->phase ? c->phase : "start");
	coord_progress_end(c);
	fprintf(stderr, "coordinator: %s; the run stops\n", why);
	fail(c, "%s", why);
	/* Not sampled any more; the sampling's own word, if it came first, stays. */
	coord_server_lost(c, "not sampled after t=%.1f s: the run stopped there",
	                  (double)(clock_ms() - c->started_ms) / 1000.0);
}

static bool wait_for(struct coord *c, coord_pred pred, int64_t timeout_ms)
{
	return wait_until(c, pred, timeout_ms, true);
}

/* Pumps until pred holds; false on deadline or (if interruptible) SIGINT. */
static bool wait_until(struct coord *c, coord_pred pred, int64_t timeout_ms, bool interruptible)
{
	int64_t deadline = clock_ms() + timeout_ms;

	while (pred == NULL || !pred(c)) {
		int64_t left = deadline - clock_ms();
		watch_server(c);
		if ((interruptible && halted(c)) || left <= 0)
			return false;
		coord_pump(c, left < 100 ? (int)left : 100);
	}
	return true;
}

static bool name_planned(const struct plan *p, const char *name)
{
	if (p->nnames == 0)
		return true;
	for (int64_t i = 0; i < p->nnames; i++)
		if (strcmp(p->names[i], name) == 0)
			return true;
	return false;
}

void coord_on_new_agent(struct coord *c, const char *id, const char *key, const struct msg_hello *h)
{
	struct msg_stop st;

	if (!c->joining || c->nagents >= c->plan->agents_count || !name_planned(c->plan, id)) {
		c->dropped++;
		if (!coord_log_allowed(c, &c->log_stop, "hellos without a place in this run"))
			return;
		coord_progress_end(c);
		fprintf(stderr, "coordinator: agent %s has no place in this run (%s)\n", id,
		        !name_planned(c->plan, id) ? "not in agents.names"
		                                   : "every place is taken");
		coord_text(st.reason, sizeof(st.reason), "run \"%s\" %s", c->plan->name,
		           !c->joining ? "is under way" : "has no place for this agent");
		coord_send(c, id, msg_stop_pack(&st));
		return;
	}
	struct coord_agent *a = &c->agents[c->nagents++];
	memset(a, 0, sizeof(*a));
	coord_text(a->id, sizeof(a->id), "%s", id);
	coord_text(a->key, sizeof(a->key), "%s", key);
	a->hello = *h;
	a->state = AGENT_JOINED;
	a->go_phase = -1;
	a->lost_step = -1;
	a->last_seen_ms = clock_ms();
	coord_welcome(c, id);
	coord_progress_end(c);
	if (!c->opt->quiet) {
		/* Its capacity, with the advice to raise a limit only when its share needs it. */
		char cap[MSG_TEXT_MAX + 32];
		coord_join_capacity(c, h, cap, sizeof(cap));
		fprintf(stderr, "coordinator: agent %s joined from %s (%d/%lld): %s\n", id, h->host,
		        c->nagents, (long long)c->plan->agents_count, cap);
	}
}

/*
 * While agents join, one that is lost (killed, or its host went away) gives
 * its place back: nothing was assigned to it yet, and another agent (or the
 * same one, back) may still join in time. Its last words are logged.
 */
static void free_lost_places(struct coord *c)
{
	int kept = 0;

	for (int i = 0; i < c->nagents; i++) {
		struct coord_agent *a = &c->agents[i];
		if (a->state != AGENT_LOST) {
			if (kept != i)
				c->agents[kept] = *a;
			kept++;
			continue;
		}
		coord_progress_end(c);
		fprintf(stderr,
		        "coordinator: agent %s left before the run started (%s); its place "
		        "is open again\n",
		        a->id, a->why);
		free(a->result);
	}
	c->nagents = kept;
}

/* wait_for's test while joining; a lost agent's place is freed first. */
static bool all_joined(struct coord *c)
{
	free_lost_places(c);
	return c->nagents == c->plan->agents_count;
}

static void fail(struct coord *c, const char *fmt, const char *arg)
{
	if (c->failure[0] == '\0')
		coord_text(c->failure, sizeof(c->failure), fmt, arg);
}

/* The report says why the run stopped early: the signal, when, and in which phase. */
static void note_interrupt(struct coord *c)
{
	char why[128], by[32] = "a signal";
	/* The signal's number, or 1 from a caller that knows none. */
	const char *name = *c->interrupted > 1 ? sigabbrev_np(*c->interrupted) : NULL;

	if (name != NULL)
		snprintf(by, sizeof(by), "SIG%s", name);
	coord_text(why, sizeof(why), "interrupted by %s at t=%.1f s (%s)", by,
	           (double)(clock_ms() - c->started_ms) / 1000.0, c->phase ? c->phase : "start");
	fail(c, "%s", why);
	c->aborted = true;
}

/* Stops every agent still taking part, saying why. */
static void stop_all(struct coord *c, const char *reason)
{
	struct msg_stop st;

	coord_text(st.reason, sizeof(st.reason), "%s", reason);
	for (int i = 0; i < c->nagents; i++) {
		struct coord_agent *a = &c->agents[i];
		if (!coord_agent_active(a))
			continue;
		/* A stopped agent closes everything and answers with its result. */
		a->result_due = a->state == AGENT_READY;
		coord_send(c, a->id, msg_stop_pack(&st));
	}
}

static int join(struct coord *c)
{
	char who[400] = "";
	size_t off = 0;

	c->phase = "join";
	c->joining = true;
	bool ok = wait_for(c, all_joined, (int64_t)(c->plan->join_timeout_s * 1000));
	c->joining = false;
	if (ok)
		return 0;
	if (halted(c)) {
		if (*c->interrupted)
			note_interrupt(c);
		stop_all(c, *c->interrupted ? "the coordinator was interrupted" : c->failure);
		return -1;
	}
	for (int i = 0; i < c->nagents && off < sizeof(who) - 1; i++)
		off += (size_t)snprintf(who + off, sizeof(who) - off, "%s%s", i ? ", " : "",
		                        c->agents[i].id);
	char msg[512];
	coord_text(msg, sizeof(msg), "%d of %lld agents joined within %.0f s (joined: %s)",
	           c->nagents, (long long)c->plan->agents_count, c->plan->join_timeout_s,
	           c->nagents ? who : "none");
	/* Name the missing ones when the plan names its agents. */
	for (int64_t k = 0; k < c->plan->nnames; k++)
		if (coord_agent_find(c, c->plan->names[k]) == NULL) {
			size_t l = strlen(msg);
			coord_text(
			    msg + l, sizeof(msg) - l, "%s%s",
			    strstr(msg, "missing") ? ", " : "; missing: ", c->plan->names[k]);
		}
	fail(c, "%s", msg);
	stop_all(c, "not every agent joined");
	return -1;
}

static double weight_of(const struct plan *p, const char *name)
{
	for (int64_t i = 0; i < p->nweights; i++)
		if (strcmp(p->weights[i].name, name) == 0)
			return p->weights[i].weight;
	return 1.0;
}

static void fill_assign(struct coord *c, struct coord_agent *a, const int64_t *steps)
{
	const struct plan *p = c->plan;
	struct msg_assign *m = &a->assign;

	memset(m, 0, sizeof(*m));
	coord_text(m->target_host, sizeof(m->target_host), "%s", c->target_host);
	m->target_port = c->target_port;
	m->nsteps = p->nsteps;
	memcpy(m->steps, steps, sizeof(int64_t) * (size_t)p->nsteps);
	m->connections = steps[p->nsteps - 1];
	m->rate_per_s = p->rate_per_s * (double)m->connections / (double)p->connections;
	m->connect_timeout_ms = p->connect_timeout_ms;
	m->payload_bytes = p->payload_bytes;
	m->rounds = p->rounds;
	m->interval_ms = p->interval_ms;
	m->echo_timeout_ms = p->echo_timeout_ms;
}

static bool all_answered(struct coord *c)
{
	for (int i = 0; i < c->nagents; i++)
		if (c->agents[i].state == AGENT_ASSIGNED)
			return false;
	return true;
}

static int assign(struct coord *c)
{
	int n = c->nagents;
	int64_t *cap = calloc((size_t)n, sizeof(*cap));
	double *w = calloc((size_t)n, sizeof(*w));
	int64_t(*out)[MSG_MAX_STEPS] = calloc((size_t)n, sizeof(*out));
	char why[400];
	int rc = -1;

	c->phase = "assign";
	if (!cap || !w || !out) {
		fail(c, "%s", "out of memory");
		goto out;
	}
	for (int i = 0; i < n; i++) {
		/* The split counts on every agent: one lost while joining ends the run here. */
		if (c->agents[i].state != AGENT_JOINED) {
			coord_text(why, sizeof(why), "agent %s was lost before the run started: %s",
			           c->agents[i].id, c->agents[i].why);
			fail(c, "%s", why);
			stop_all(c, why);
			goto out;
		}
		cap[i] = c->agents[i].hello.max_connections;
		w[i] = weight_of(c->plan, c->agents[i].id);
	}
	if (split_connections(n, cap, w, c->plan->steps, (int)c->plan->nsteps, out, why,
	                      sizeof(why)) < 0) {
		fail(c, "%s", why);
		stop_all(c, why);
		goto out;
	}
	for (int i = 0; i < n; i++) {
		fill_assign(c, &c->agents[i], out[i]);
		c->agents[i].state = AGENT_ASSIGNED;
		coord_send(c, c->agents[i].id, msg_assign_pack(&c->agents[i].assign));
	}
	if (!wait_for(c, all_answered, READY_TIMEOUT_MS) && !halted(c))
		for (int i = 0; i < n; i++)
			if (c->agents[i].state == AGENT_ASSIGNED)
				coord_mark_lost(c, &c->agents[i], "no answer to its assignment");
	for (int i = 0; i < n; i++) {
		if (c->agents[i].state != AGENT_REJECTED)
			continue;
		coord_text(why, sizeof(why), "agent %s refused its slice: %s", c->agents[i].id,
		           c->agents[i].why);
		fail(c, "%s", why);
	}
	if (c->failure[0]) {
		stop_all(c, c->failure);
		goto out;
	}
	rc = 0;
out:
	free(cap);
	free(w);
	free(out);
	return rc;
}

/* Agents still taking part: ready for phases, or done (their result is in). */
static int active_count(struct coord *c)
{
	int n = 0;

	for (int i = 0; i < c->nagents; i++)
		n += c->agents[i].state == AGENT_READY || c->agents[i].state == AGENT_DONE;
	return n;
}

static bool barrier_done(struct coord *c)
{
	for (int i = 0; i < c->nagents; i++)
		if (c->agents[i].state == AGENT_READY && !c->agents[i].phase_done)
			return false;
	return true;
}

/* Sends go to every ready agent and waits for all their phase_done. */
static int run_phase(struct coord *c, enum msg_phase ph, int step, int64_t timeout_ms)
{
	char why[128];

	c->cur_phase = (int)ph;
	c->step = step;
	c->phase = msg_phase_name(ph);
	coord_mark(c, c->phase, step + 1);
	for (int i = 0; i < c->nagents; i++) {
		struct coord_agent *a = &c->agents[i];
		if (a->state != AGENT_READY)
			continue;
		struct msg_go go = {.phase = ph, .step = step};
		if (ph == MSG_PHASE_CONNECT)
			go.target = a->assign.steps[step];
		if (ph == MSG_PHASE_LOAD) {
			go.load = coord_load_share(c, a, step);
			a->go_bound = coord_work_bound(go.load.rate_per_s, go.load.duration_ms,
			                               a->assign.steps[step]);
		}
		if (ph == MSG_PHASE_CHURN) {
			go.churn = coord_churn_share(c, a);
			a->go_bound =
			    coord_work_bound(go.churn.rate_per_s, go.churn.duration_ms, 0);
		}
		/* The phase's own deadline bounds the time (and CPU) an answer may claim. */
		a->go_seconds = (double)timeout_ms / 1000.0;
		a->go_sub = (int)go.load.sub;
		a->phase_done = false;
		a->go_phase = (int)ph;
		a->go_step = step;
		a->result_due = ph == MSG_PHASE_CLOSE;
		if (coord_send(c, a->id, msg_go_pack(&go)) < 0)
			coord_mark_lost(c, a, "unreachable: its go could not be sent");
	}
	bool ok = wait_for(c, barrier_done, timeout_ms);
	if (halted(c))
		return -1;
	if (!ok) {
		coord_text(why, sizeof(why), "did not finish the %s phase within %lld s",
		           msg_phase_name(ph), (long long)(timeout_ms / 1000));
		for (int i = 0; i < c->nagents; i++)
			if (c->agents[i].state == AGENT_READY && !c->agents[i].phase_done)
				coord_mark_lost(c, &c->agents[i], why);
	}
	if (active_count(c) == 0) {
		fail(c, "%s", "every agent was lost");
		return -1;
	}
	return 0;
}

static int64_t connect_timeout(const struct plan *p, int step)
{
	int64_t delta = p->steps[step] - (step > 0 ? p->steps[step - 1] : 0);
	/* Unlimited rate: budget 1 ms a connection, far slower than the engine. */
	double expect_ms =
	    p->rate_per_s > 0 ? (double)delta * 1000.0 / p->rate_per_s : (double)delta;

	/* A day at most: a rate near zero must not overflow the deadline. */
	double budget_ms = fmin(expect_ms * 1.5, 86400000.0);

	return p->connect_timeout_ms + (int64_t)budget_ms + 30000;
}

static int64_t echo_timeout(const struct plan *p)
{
	return p->rounds * (p->interval_ms + p->echo_timeout_ms) + 30000;
}

static bool stats_arrived(struct coord *c)
{
	return c->stats_seq >= c->plateau_seq || c->server_gone;
}

static bool server_answered(struct coord *c)
{
	return c->last_answer_ms != 0 || c->server_gone;
}

/* Once the agents are in, a server that has not answered gets a short while more. */
static void first_answer(struct coord *c)
{
	if (!c->sampling || c->last_answer_ms != 0)
		return;
	coord_request_stats(c, true);
	if (!wait_until(c, server_answered, COORD_STATS_FIRST_MS, true) && !halted(c))
		coord_server_lost(c, "the server never answered at %s", c->stats_endpoint);
}

/* A fresh server sample, bounded; false if the server did not answer. */
static bool sample_now(struct coord *c)
{
	if (!c->sampling || c->server_gone)
		return false;
	uint64_t before = c->stats_sent_seq;
	coord_request_stats(c, true);
	if (c->stats_sent_seq == before)
		return false; /* the request could not even be queued */
	c->plateau_seq = c->stats_sent_seq;
	return wait_until(c, stats_arrived, PLATEAU_SAMPLE_MS, false) && !c->server_gone;
}

/* Connections the agents hold now (a lost agent's are gone). */
static int64_t agents_open(const struct coord *c)
{
	int64_t n = 0;

	for (int i = 0; i < c->nagents; i++)
		if (c->agents[i].state == AGENT_READY || c->agents[i].state == AGENT_DONE)
			n += c->agents[i].counts.current;
	return n;
}

/* Connections the server turned away since it started (refused[], by reason). */
static int64_t refused_total(const struct server_stats *st)
{
	int64_t n = 0;

	for (int r = 0; r < STATS_REFUSED_COUNT; r++)
		n += st->refused[r];
	return n;
}

/* The accept wait gives up: the server took no connection more for ACCEPT_STALL_MS. */
static void say_stalled(struct coord *c, int step, int64_t want)
{
	int64_t held = c->last_stats.conns_current;

	coord_progress_end(c);
	if (held == 0)
		fprintf(
		    stderr,
		    "coordinator: step %d: the server holds none of the agents' %lld connections: "
		    "it accepted none in %d s; the echo goes on\n",
		    step + 1, (long long)want, ACCEPT_STALL_MS / 1000);
	else
		fprintf(
		    stderr,
		    "coordinator: step %d: the server holds %lld of the agents' %lld connections "
		    "and took none more in %d s; the echo goes on\n",
		    step + 1, (long long)held, (long long)want, ACCEPT_STALL_MS / 1000);
}

/*
 * The agents' connect phase ends when the kernel has completed the
 * handshakes, but the server may still be accepting them from its backlog (a
 * thread per connection: a few thousand a second on two cores). An echo or a
 * load then would measure that backlog, so wait, bounded, until the server
 * holds what the agents hold, and report the wait as the step's accept lag:
 * for a thread-per-connection server a cost of its own. Without server stats
 * the lag stays unknown (-1) and the summary says what that means.
 *
 * Connections the server turned away during the step (its refused[] grew:
 * --max-conns, out of threads or fds) will never be held: the wait ends once
 * held + turned away covers the agents' count, rather than at its bound; and
 * once the server's count has not grown for ACCEPT_STALL_MS (a server that
 * never accept()s, or is stuck: the echo that follows says which).
 */
static void wait_accepted(struct coord *c, int step, int64_t refused_before)
{
	struct coord_step *s = &c->steps[step];
	int64_t opened = c->plan->steps[step] - (step > 0 ? c->plan->steps[step - 1] : 0);
	int64_t t0 = clock_ms(), deadline = t0 + ACCEPT_WAIT_MS + opened;
	int64_t want = agents_open(c);
	int64_t most = -1, grew_ms = t0; /* the server's count, and when it last grew */

	s->accept_lag_s = -1;
	s->accepted_all = false;
	if (!c->sampling || c->server_gone)
		return;
	c->phase = "accept";
	coord_mark(c, c->phase, step + 1);
	while (sample_now(c)) {
		s->accept_lag_s = (double)(clock_ms() - t0) / 1000.0;
		/* Asked again each time: connections the agents saw closed are not waited for. */
		want = agents_open(c);
		if (c->last_stats.conns_current >= want) {
			s->accepted_all = true;
			return;
		}
		int64_t away =
		    refused_before >= 0 ? refused_total(&c->last_stats) - refused_before : 0;
		if (away > 0 && c->last_stats.conns_current + away >= want) {
			/* The rest were turned away: accepted_all stays false. */
			coord_progress_end(c);
			fprintf(stderr,
			        "coordinator: step %d: the server holds %lld of the agents' %lld "
			        "connections and turned %lld away (its refused counts)\n",
			        step + 1, (long long)c->last_stats.conns_current, (long long)want,
			        (long long)away);
			return;
		}
		if (c->last_stats.conns_current > most) {
			most = c->last_stats.conns_current;
			grew_ms = clock_ms();
		}
		/* Not accepting at all (or stalled): waiting out the bound would not help. */
		if (clock_ms() - grew_ms >= ACCEPT_STALL_MS) {
			say_stalled(c, step, want);
			return;
		}
		if (clock_ms() >= deadline || halted(c))
			break;
		wait_until(c, NULL, ACCEPT_POLL_MS, true);
	}
	if (halted(c) || s->accept_lag_s < 0)
		return;
	coord_progress_end(c);
	fprintf(stderr,
	        "coordinator: step %d: the server holds %lld of the agents' %lld connections "
	        "after %.1f s; the echo goes on, and measures its backlog too\n",
	        step + 1, (long long)c->last_stats.conns_current, (long long)want, s->accept_lag_s);
}

/* A step's verdict on the target (target.c): said in one line, and the run stops. */
static int target_fails(struct coord *c, const char *why)
{
	coord_progress_end(c);
	fprintf(stderr, "coordinator: step %d: %s\n", c->step + 1, why);
	fail(c, "%s", why);
	return -1;
}

static void record_plateau(struct coord *c, int step, double connect_s, double echo_s)
{
	struct coord_step *s = &c->steps[step];

	s->connections = c->plan->steps[step];
	s->established = s->held = 0;
	/* A lost agent's connections are gone: none of them is held. */
	for (int i = 0; i < c->nagents; i++) {
		const struct coord_agent *a = &c->agents[i];
		if (a->state != AGENT_READY && a->state != AGENT_DONE)
			continue;
		s->established += a->counts.established;
		s->held += a->held[step];
	}
	s->connect_s = connect_s;
	s->echo_s = echo_s;
	s->have_server = sample_now(c);
	if (s->have_server)
		s->server = c->last_stats;
	c->nsteps_done = step + 1;
}

/*
 * The report so far, after each plateau, so a coordinator killed later (kill -9,
 * OOM, a reboot) leaves every step it completed, status "running". A failed
 * write is said and the run goes on: the final report is tried again anyway.
 */
static void checkpoint(struct coord *c, int step)
{
	int64_t t0 = clock_ms();
	int err = report_write_running(c);

	if (err == 0 && c->opt->quiet)
		return;
	coord_progress_end(c);
	if (err < 0)
		fprintf(stderr, "coordinator: cannot write %s after step %d: %s\n", c->opt->report,
		        step + 1, strerror(-err));
	else
		fprintf(stderr, "coordinator: step %d of %lld in %s (%lld ms)\n", step + 1,
		        (long long)c->plan->nsteps, c->opt->report, (long long)(clock_ms() - t0));
}

/* A load runs its schedule, then waits for its last echoes (each bounded). */
static int64_t load_timeout(const struct plan *p)
{
	return (int64_t)(p->load_duration_s * 1000.0) + p->echo_timeout_ms + 30000;
}

/* The plan's load sweep at this plateau: one sub-step per rate, lowest first. */
static int run_loads(struct coord *c, int step)
{
	const struct plan *p = c->plan;
	struct coord_step *s = &c->steps[step];

	for (int r = 0; r < p->nload_rates; r++) {
		struct coord_load *l = &s->load[r];
		struct server_stats before;
		bool have_before = sample_now(c);

		if (have_before)
			before = c->last_stats;
		c->load_sub = r;
		l->rate_per_s = p->load_rates[r];
		s->nloads = r + 1;
		if (run_phase(c, MSG_PHASE_LOAD, step, load_timeout(p)) < 0)
			return -1;
		if (have_before && sample_now(c))
			coord_load_delta(l, &before, &c->last_stats);
	}
	c->load_sub = 0;
	return 0;
}

/* The plan's churn at this plateau, after its load sweep: one phase. */
static int run_churn(struct coord *c, int step)
{
	const struct plan *p = c->plan;
	struct coord_churn *ch = &c->steps[step].churn;
	struct server_stats before;
	bool have_before;

	if (p->churn_rate_per_s <= 0)
		return 0;
	have_before = sample_now(c);
	if (have_before)
		before = c->last_stats;
	ch->rate_per_s = p->churn_rate_per_s;
	coord_churn_split(c, step);
	if (run_phase(c, MSG_PHASE_CHURN, step,
	              (int64_t)(p->churn_duration_s * 1000.0) + p->connect_timeout_ms +
	                  p->echo_timeout_ms + 30000) < 0)
		return -1;
	if (have_before && sample_now(c))
		coord_churn_delta(ch, &before, &c->last_stats);
	return 0;
}

static int run_step(struct coord *c, int step)
{
	const struct plan *p = c->plan;
	int64_t t0 = clock_ms();

	/* The server's refusals so far, to tell the step's from older ones (-1: unknown). */
	int64_t refused_before = c->have_last_stats ? refused_total(&c->last_stats) : -1;
	if (step == 0 && !c->have_last_stats)
		refused_before = 0; /* nothing sampled yet: count from the server's start */
	struct msg_counts *before = coord_counts_snapshot(c);
	int rc = 0;
	if (run_phase(c, MSG_PHASE_CONNECT, step, connect_timeout(p, step)) < 0) {
		free(before);
		return -1;
	}
	int64_t t1 = clock_ms();
	wait_accepted(c, step, refused_before);
	if (halted(c)) {
		free(before);
		return -1;
	}
	char why[320];
	struct msg_counts *before_echo = NULL;
	if (coord_target_unreachable(c, before, why, sizeof(why)))
		rc = target_fails(c, why);
	int64_t ta = clock_ms();
	if (rc == 0 && p->rounds > 0) {
		before_echo = coord_counts_snapshot(c);
		/*
		 * The echo's verdict first; then, when it tried nothing because the server
		 * closed every connection before the echo reached it, the connect's again.
		 */
		if (run_phase(c, MSG_PHASE_ECHO, step, echo_timeout(p)) < 0)
			rc = -1;
		else if (coord_target_not_echo(c, before_echo, why, sizeof(why)) ||
		         coord_target_unreachable(c, before, why, sizeof(why)))
			rc = target_fails(c, why);
	}
	free(before);
	free(before_echo);
	if (rc < 0)
		return -1;
	int64_t t2 = clock_ms();
	if (run_loads(c, step) < 0 || run_churn(c, step) < 0)
		return -1;
	c->phase = "hold";
	coord_mark(c, c->phase, step + 1);
	wait_for(c, NULL, (int64_t)(p->hold_s * 1000));
	if (halted(c))
		return -1;
	/* What is still open after the hold, counted now, not before it. */
	if (run_phase(c, MSG_PHASE_VERIFY, step, VERIFY_TIMEOUT_MS) < 0)
		return -1;
	record_plateau(c, step, (double)(t1 - t0) / 1000.0, (double)(t2 - ta) / 1000.0);
	checkpoint(c, step);
	return 0;
}

static bool all_results(struct coord *c)
{
	for (int i = 0; i < c->nagents; i++)
		if (coord_agent_active(&c->agents[i]))
			return false;
	return true;
}

static void collect_results(struct coord *c)
{
	c->phase = "results";
	if (wait_until(c, all_results, RESULT_TIMEOUT_MS, false))
		return;
	for (int i = 0; i < c->nagents; i++)
		if (coord_agent_active(&c->agents[i]))
			coord_mark_lost(c, &c->agents[i], "no result within 10 s");
}

void coord_run(struct coord *c)
{
	c->started_ms = clock_ms();
	c->cur_phase = -1;
	c->phase_hist = malloc(sizeof(*c->phase_hist));
	if (c->phase_hist == NULL) {
		fail(c, "%s", "out of memory");
		return;
	}
	if (join(c) < 0)
		return;
	c->joined_ms = clock_ms() - c->started_ms;
	first_answer(c);
	if (assign(c) < 0) {
		if (*c->interrupted)
			note_interrupt(c);
		return;
	}
	c->ready_ms = clock_ms() - c->started_ms;
	if (halted(c)) {
		if (*c->interrupted)
			note_interrupt(c);
		stop_all(c, *c->interrupted ? "the coordinator was interrupted" : c->failure);
		collect_results(c);
		return;
	}
	int rc = 0;
	for (int k = 0; k < c->plan->nsteps && rc == 0; k++)
		rc = run_step(c, k);
	if (*c->interrupted) {
		note_interrupt(c);
		coord_progress_end(c);
		fprintf(stderr, "coordinator: interrupted; stopping the agents\n");
		stop_all(c, "the coordinator was interrupted");
	} else if (rc == 0) {
		/* Closing is bounded too, but 600K sockets on two cores take a while. */
		run_phase(c, MSG_PHASE_CLOSE, c->step,
		          CLOSE_TIMEOUT_MS + c->plan->connections * CLOSE_MS_PER_1000 / 1000);
	} else {
		stop_all(c, c->failure[0] ? c->failure : "the run failed");
	}
	c->closed_ms = clock_ms() - c->started_ms;
	collect_results(c);
	c->results_ms = clock_ms() - c->started_ms;
	/*
	 * The server's final word: its total and what is left after the close.
	 * Its threads see the agents' FINs a moment after the agents report the
	 * close, so give it a bounded while to drain before the last sample.
	 */
	int64_t drain_until = clock_ms() + DRAIN_TIMEOUT_MS;
	while (sample_now(c) && c->last_stats.conns_current > 0 && clock_ms() < drain_until)
		wait_until(c, NULL, 100, false);
	c->phase = "done";
	coord_progress_end(c);
}
