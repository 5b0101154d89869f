/*
 * The run's state machine (run.c over coord.c) without a socket: c->io is a
 * scripted set of agents that answer each message the way a real agent
 * would, or lie, leave or refuse. Each case runs a whole plan through
 * coord_run() and checks what the run concluded: agent states and reasons,
 * held counts per step, the load figures, the failure, and the messages that
 * went out.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "coord.h"

#define NFAKE  3
#define QUEUED 256

enum trick {
	HONEST,
	LOAD_LIAR,    /* its load phase_done says more verified than sent */
	LEAVES,       /* says bye at its first echo */
	REFUSES,      /* rejects its slice */
	EARLY_RESULT, /* sends a result before it is told to close */
	REFUSED,      /* its target refuses every connection */
	NO_REPLY,     /* its target never echoes: each echo times out */
	AHEAD,        /* with its first connect's answer, answers to gos not sent yet */
};

struct fake {
	char name[MSG_NAME_MAX];
	enum trick trick;
	struct msg_assign assign;
	struct msg_counts counts;
	int heard[PROTO_TYPE_COUNT]; /* messages of each type the coordinator sent it */
	int gos[MSG_PHASE_COUNT];
	int64_t last_step;       /* the step of the last go it was sent */
	char stop[MSG_TEXT_MAX]; /* the reason of the last stop it was sent */
};

struct queued {
	int from;
	char *body;
	size_t len;
};

static struct world {
	struct fake fake[NFAKE];
	int nfake;
	struct queued q[QUEUED];
	int nq;
	int64_t next_beat_ms;
	int strangers_heard; /* messages sent to ids no fake has */
	char stranger_stop[MSG_TEXT_MAX];
} W;

static void queue(int from, json_t *msg)
{
	size_t len;
	char *body = proto_encode(msg, &len);

	json_decref(msg);
	CHECK(body != NULL && W.nq < QUEUED, "queue a message");
	if (body == NULL || W.nq == QUEUED) {
		free(body);
		return;
	}
	W.q[W.nq++] = (struct queued){.from = from, .body = body, .len = len};
}

static void say_hello(int i)
{
	struct msg_hello h = {
	    .max_connections = 100000, .threads = 1, .nofile = 20000, .ports_per_source = 28232};

	snprintf(h.name, sizeof(h.name), "%s", W.fake[i].name);
	snprintf(h.version, sizeof(h.version), "test");
	snprintf(h.host, sizeof(h.host), "fakehost");
	queue(i, msg_hello_pack(&h));
}

static void phase_done(int i, const struct msg_go *go)
{
	struct fake *f = &W.fake[i];
	struct msg_progress p = {.phase = go->phase, .step = go->step};

	if (go->phase == MSG_PHASE_CONNECT && f->trick == REFUSED) {
		int64_t more = go->target - f->counts.current;
		f->counts.attempted += more;
		f->counts.failed[MSG_REFUSED] += more;
	} else if (go->phase == MSG_PHASE_ECHO && f->trick == NO_REPLY) {
		f->counts.echo_errors += f->counts.current;
		f->counts.failed[MSG_TIMEOUT] += f->counts.current;
		f->counts.current = 0;
	} else if (go->phase == MSG_PHASE_CONNECT) {
		int64_t more = go->target - f->counts.current;
		f->counts.attempted += more;
		f->counts.established += more;
		f->counts.current = go->target;
		if (f->counts.current > f->counts.max_concurrent)
			f->counts.max_concurrent = f->counts.current;
	} else if (go->phase == MSG_PHASE_ECHO) {
		f->counts.echo_ok += f->counts.current;
	} else if (go->phase == MSG_PHASE_LOAD) {
		int64_t n = (int64_t)(go->load.rate_per_s * (double)go->load.duration_ms / 1000.0);
		p.has_load = true;
		p.load = (struct msg_load_done){.sub = go->load.sub,
		                                .scheduled = n,
		                                .sent = n,
		                                .verified = f->trick == LOAD_LIAR ? n + 5 : n,
		                                .elapsed_s = 0.01,
		                                .cpu_user_s = 0.001};
	} else if (go->phase == MSG_PHASE_CLOSE) {
		f->counts.current = 0;
	}
	p.counts = f->counts;
	queue(i, msg_progress_pack(PROTO_PHASE_DONE, &p));
}

static void result(int i)
{
	struct msg_result *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return;
	r->counts = W.fake[i].counts;
	hist_init(&r->connect);
	hist_init(&r->echo);
	queue(i, msg_result_pack(r));
	free(r);
}

/* What fake i does with a message the coordinator sent it. */
static void hear(int i, enum proto_type type, json_t *msg)
{
	struct fake *f = &W.fake[i];
	struct proto_err err;
	struct msg_go go;
	struct msg_stop st;
	struct msg_reject rj = {0};

	f->heard[type]++;
	switch (type) {
	case PROTO_ASSIGN:
		CHECK(msg_assign_unpack(msg, &f->assign, &err) == 0, "%s", err.msg);
		if (f->trick == REFUSES) {
			snprintf(rj.reason, sizeof(rj.reason), "not today");
			queue(i, msg_reject_pack(PROTO_REJECT, &rj));
		} else {
			queue(i, msg_empty_pack(PROTO_READY));
		}
		break;
	case PROTO_GO:
		CHECK(msg_go_unpack(msg, &go, &err) == 0, "%s", err.msg);
		f->gos[go.phase]++;
		f->last_step = go.step;
		if (f->trick == LEAVES && go.phase == MSG_PHASE_ECHO) {
			snprintf(rj.reason, sizeof(rj.reason), "shutting down");
			queue(i, msg_reject_pack(PROTO_BYE, &rj));
			break;
		}
		if (f->trick == EARLY_RESULT && go.phase == MSG_PHASE_ECHO)
			result(i);
		if (f->trick == AHEAD && go.phase == MSG_PHASE_CONNECT && go.step == 0) {
			struct msg_go verify = {.phase = MSG_PHASE_VERIFY, .step = 0};
			struct msg_progress p = {.phase = MSG_PHASE_CONNECT, .step = 1};
			phase_done(i, &verify);
			queue(i, msg_progress_pack(PROTO_PROGRESS, &p));
		}
		phase_done(i, &go);
		if (go.phase == MSG_PHASE_CLOSE)
			result(i);
		break;
	case PROTO_STOP:
		CHECK(msg_stop_unpack(msg, &st, &err) == 0, "%s", err.msg);
		snprintf(f->stop, sizeof(f->stop), "%s", st.reason);
		/* As a real agent with connections does: it closes them (its close phase at the
		 * step it was at, with progress) and sends its result. */
		if (f->gos[MSG_PHASE_CONNECT] > 0 && f->trick == HONEST) {
			struct msg_go close = {.phase = MSG_PHASE_CLOSE, .step = f->last_step};
			phase_done(i, &close);
			result(i);
		}
		break;
	default:
		break;
	}
}

/* c->io: the coordinator's sends reach the fakes at once; their answers queue. */
static int fake_send(struct coord *c, const char *id, const void *body, size_t len)
{
	enum proto_type type;
	struct proto_err err;
	json_t *msg = proto_decode(body, len, &type, &err);

	(void)c;
	CHECK(msg != NULL, "the coordinator sent something undecodable: %s", err.msg);
	for (int i = 0; msg != NULL && i < W.nfake; i++)
		if (strcmp(W.fake[i].name, id) == 0) {
			hear(i, type, msg);
			json_decref(msg);
			return 0;
		}
	W.strangers_heard++;
	if (msg != NULL && type == PROTO_STOP) {
		struct msg_stop st;
		if (msg_stop_unpack(msg, &st, &err) == 0)
			snprintf(W.stranger_stop, sizeof(W.stranger_stop), "%s", st.reason);
	}
	json_decref(msg);
	return 0;
}

static int fake_stats_send(struct coord *c, uint64_t seq, const void *body, size_t len)
{
	(void)c, (void)seq, (void)body, (void)len;
	errno = EHOSTUNREACH;
	return -1;
}

/*
 * c->io: hands over what the fakes queued, in order, and a heartbeat from
 * each fake every 100 ms as real agents beat; sleeps a little when nothing came.
 */
static bool fake_wait(struct coord *c, int timeout_ms)
{
	int n;
	struct queued q[QUEUED];
	int64_t now = clock_ms();

	if (now >= W.next_beat_ms) {
		W.next_beat_ms = now + 100;
		for (int i = 0; i < W.nfake; i++)
			queue(i, msg_empty_pack(PROTO_HEARTBEAT));
	}
	n = W.nq;

	memcpy(q, W.q, sizeof(q[0]) * (size_t)n);
	W.nq = 0;
	for (int k = 0; k < n; k++) {
		const char *name = q[k].from < 0 ? "stranger" : W.fake[q[k].from].name;
		coord_on_agent(c, (const unsigned char *)name, strlen(name), "", q[k].body,
		               q[k].len);
		free(q[k].body);
	}
	if (n == 0)
		usleep((useconds_t)(timeout_ms < 2 ? timeout_ms : 2) * 1000);
	return true;
}

/* The local server's end, at the start of the phase named here (NULL: it never ends). */
static const char *server_exits_in;

static bool fake_server_exit(void *arg, char *how, size_t size)
{
	const struct coord *c = arg;

	if (server_exits_in == NULL || c->phase == NULL || strcmp(c->phase, server_exits_in) != 0)
		return false;
	server_exits_in = NULL;
	snprintf(how, size, "local.server.command (pid 4242) exited with status 7");
	return true;
}

static const struct coord_io fake_io = {
    .wait = fake_wait, .send = fake_send, .stats_send = fake_stats_send};

struct run {
	struct plan plan;
	struct coord_options opt;
	struct coord c;
	char report[64];
	volatile sig_atomic_t interrupted;
};

/* Runs `plan_json` against fakes with the given tricks; the caller ends it with done(). */
static void run(struct run *r, const char *plan_json, const enum trick *tricks, int n)
{
	struct proto_err err;

	memset(&W, 0, sizeof(W));
	memset(r, 0, sizeof(*r));
	W.nfake = n;
	for (int i = 0; i < n; i++) {
		snprintf(W.fake[i].name, sizeof(W.fake[i].name), "a%d", i + 1);
		W.fake[i].trick = tricks[i];
		say_hello(i);
	}
	if (plan_parse(plan_json, strlen(plan_json), "test", &r->plan, &err) < 0) {
		fprintf(stderr, "the test's plan: %s\n", err.msg);
		exit(1);
	}
	snprintf(r->report, sizeof(r->report), "/tmp/test_run.XXXXXX");
	int fd = mkstemp(r->report);
	if (fd >= 0)
		close(fd);
	r->opt = (struct coord_options){.bind = "fake", .report = r->report, .quiet = true};
	r->c.plan = &r->plan;
	r->c.opt = &r->opt;
	r->c.interrupted = &r->interrupted;
	r->c.agents = calloc((size_t)r->plan.agents_count, sizeof(*r->c.agents));
	r->c.io = &fake_io;
	r->c.server_exit = fake_server_exit;
	r->c.server_exit_arg = &r->c;
	snprintf(r->c.target_host, sizeof(r->c.target_host), "127.0.0.1");
	r->c.target_port = 9;
	coord_beat_set(&r->c, r->plan.agents_count);
	coord_run(&r->c);
}

static void done(struct run *r)
{
	for (int k = 0; k < W.nq; k++)
		free(W.q[k].body);
	W.nq = 0;
	unlink(r->report);
	coord_free(&r->c);
	plan_free(&r->plan);
}

static const char *state_name(enum agent_state s)
{
	static const char *const names[] = {"joined",   "assigned", "ready",
	                                    "rejected", "done",     "lost"};
	return names[s];
}

/* Two agents, 100 connections in two steps, one echo round; hold_s and the rest as given. */
#define PLAN(hold, extra)                                                                          \
	"{\"name\": \"fake\", \"target\": {\"host\": \"127.0.0.1\", \"port\": 9},"                 \
	" \"agents\": {\"count\": 2, \"join_timeout_s\": 5}, \"connections\": 100,"                \
	" \"steps\": [40, 100], \"echo\": {\"rounds\": 1}, \"hold_s\": " hold extra "}"

/* Two honest agents: every phase in order, every connection held, both done. */
static void honest_run(void)
{
	static const enum trick t[] = {HONEST, HONEST};
	struct run r;

	run(&r, PLAN("0", ""), t, 2);
	CHECK_STR_EQ(r.c.failure, "");
	CHECK_EQ(r.c.nagents, 2);
	CHECK_EQ(r.c.nsteps_done, 2);
	CHECK_EQ(r.c.steps[0].held, 40);
	CHECK_EQ(r.c.steps[1].held, 100);
	for (int i = 0; i < 2; i++) {
		struct coord_agent *a = &r.c.agents[i];
		CHECK_STR_EQ(state_name(a->state), "done");
		CHECK_EQ(a->held[0], a->assign.steps[0]);
		CHECK_EQ(a->held[1], a->assign.steps[1]);
		CHECK(a->result != NULL, "agent %s's result kept", a->id);
		CHECK_EQ(W.fake[i].heard[PROTO_WELCOME], 1);
		CHECK_EQ(W.fake[i].heard[PROTO_ASSIGN], 1);
		CHECK_EQ(W.fake[i].heard[PROTO_RESULT_ACK], 1);
		CHECK_EQ(W.fake[i].gos[MSG_PHASE_CONNECT], 2);
		CHECK_EQ(W.fake[i].gos[MSG_PHASE_ECHO], 2);
		CHECK_EQ(W.fake[i].gos[MSG_PHASE_VERIFY], 2);
		CHECK_EQ(W.fake[i].gos[MSG_PHASE_CLOSE], 1);
		CHECK_EQ(W.fake[i].gos[MSG_PHASE_LOAD], 0);
		CHECK_EQ(W.fake[i].heard[PROTO_STOP], 0);
	}
	/* The split: the whole of each level, and no agent past it. */
	CHECK_EQ(r.c.agents[0].assign.steps[0] + r.c.agents[1].assign.steps[0], 40);
	CHECK_EQ(r.c.agents[0].assign.connections + r.c.agents[1].assign.connections, 100);
	CHECK_EQ(r.c.dropped, 0);
	done(&r);
}

/* A load sweep: one go per rate, lowest first, the agents' figures summed per rate. */
static void load_sweep(void)
{
	static const enum trick t[] = {HONEST, HONEST};
	struct run r;

	run(&r, PLAN("0", ", \"load\": {\"rate_per_s\": [200, 400], \"duration_s\": 1}"), t, 2);
	CHECK_STR_EQ(r.c.failure, "");
	for (int k = 0; k < 2; k++) {
		CHECK_EQ(r.c.steps[k].nloads, 2);
		CHECK_EQ((long long)r.c.steps[k].load[0].rate_per_s, 200);
		CHECK_EQ((long long)r.c.steps[k].load[1].rate_per_s, 400);
		CHECK_EQ(r.c.steps[k].load[0].agents, 2);
		CHECK_EQ(r.c.steps[k].load[0].verified, 200);
		CHECK_EQ(r.c.steps[k].load[1].verified, 400);
		CHECK_EQ(r.c.steps[k].load[1].sent, 400);
	}
	CHECK_EQ(W.fake[0].gos[MSG_PHASE_LOAD], 4);
	done(&r);
}

/*
 * A liar's load figures: lost at once, saying why; the run goes on with the
 * other, and the liar, heard again (its heartbeat, in the hold), is told to stop.
 */
static void load_liar(void)
{
	static const enum trick t[] = {HONEST, LOAD_LIAR};
	struct run r;

	run(&r, PLAN("0.3", ", \"load\": {\"rate_per_s\": [200], \"duration_s\": 1}"), t, 2);
	struct coord_agent *liar = &r.c.agents[1];
	CHECK_STR_EQ(liar->id, "a2");
	CHECK_STR_EQ(state_name(liar->state), "lost");
	CHECK_CONTAINS(liar->why, "impossible");
	CHECK_CONTAINS(liar->why, "verified");
	CHECK_EQ(liar->lost_step, 0);
	CHECK_STR_EQ(state_name(r.c.agents[0].state), "done");
	/* Only the honest agent's figures count, at the step it was lost and after. */
	CHECK_EQ(r.c.steps[0].load[0].agents, 1);
	CHECK_EQ(r.c.steps[0].load[0].verified, 100);
	CHECK_EQ(r.c.steps[1].held, r.c.agents[0].assign.steps[1]);
	CHECK_CONTAINS(W.fake[1].stop, "counted lost");
	CHECK(r.c.dropped >= 1, "the lie counted as dropped (%ld)", r.c.dropped);
	done(&r);
}

/* An agent that says bye mid-run is lost with its reason; the other carries on. */
static void agent_leaves(void)
{
	static const enum trick t[] = {LEAVES, HONEST};
	struct run r;

	run(&r, PLAN("0", ""), t, 2);
	CHECK_STR_EQ(state_name(r.c.agents[0].state), "lost");
	CHECK_STR_EQ(r.c.agents[0].why, "it left: shutting down");
	CHECK_STR_EQ(state_name(r.c.agents[1].state), "done");
	CHECK_EQ(r.c.steps[1].held, r.c.agents[1].assign.steps[1]);
	CHECK_STR_EQ(r.c.failure, "");
	CHECK_EQ(W.fake[0].gos[MSG_PHASE_VERIFY], 0);
	done(&r);
}

/* A refused slice fails the run before any go; the other agent is told to stop. */
static void slice_refused(void)
{
	static const enum trick t[] = {HONEST, REFUSES};
	struct run r;

	run(&r, PLAN("0", ""), t, 2);
	CHECK_STR_EQ(r.c.failure, "agent a2 refused its slice: not today");
	CHECK_STR_EQ(state_name(r.c.agents[1].state), "rejected");
	CHECK_EQ(W.fake[0].gos[MSG_PHASE_CONNECT], 0);
	CHECK_EQ(W.fake[0].heard[PROTO_STOP], 1);
	CHECK_CONTAINS(W.fake[0].stop, "refused its slice");
	CHECK_EQ(r.c.nsteps_done, 0);
	done(&r);
}

/* A result before the close is dropped, not taken: the agent's real one counts. */
static void early_result(void)
{
	static const enum trick t[] = {EARLY_RESULT, HONEST};
	struct run r;

	run(&r, PLAN("0", ""), t, 2);
	CHECK_STR_EQ(r.c.failure, "");
	CHECK_STR_EQ(state_name(r.c.agents[0].state), "done");
	CHECK_EQ(r.c.dropped, 2); /* one early result per step */
	CHECK_EQ(W.fake[0].heard[PROTO_RESULT_ACK], 1);
	done(&r);
}

/* Nothing listens: the run stops after the first connect, saying so, before any echo. */
static void dead_target(void)
{
	static const enum trick t[] = {REFUSED, REFUSED};
	struct run r;

	run(&r, PLAN("0", ""), t, 2);
	CHECK_STR_EQ(r.c.failure, "nothing accepts connections at 127.0.0.1:9: 40 of 40 refused");
	CHECK_EQ(W.fake[0].gos[MSG_PHASE_ECHO], 0);
	CHECK_EQ(W.fake[0].gos[MSG_PHASE_CONNECT], 1);
	CHECK_EQ(r.c.nsteps_done, 0);
	done(&r);
}

/* Connections held, no echo back: the run stops after the first echo, saying so. */
static void not_echo(void)
{
	static const enum trick t[] = {NO_REPLY, NO_REPLY};
	struct run r;

	run(&r, PLAN("0", ""), t, 2);
	CHECK_STR_EQ(r.c.failure, "not an echo server (or slower than echo.timeout_ms): 40 of 40 "
	                          "connections waited 5 s for a reply in vain");
	CHECK_EQ(W.fake[1].gos[MSG_PHASE_ECHO], 1);
	CHECK_EQ(W.fake[1].gos[MSG_PHASE_VERIFY], 0);
	CHECK_EQ(r.c.nsteps_done, 0);
	done(&r);
}

/* Answers to gos not sent yet are out of place: dropped and counted, the run unharmed. */
static void answers_ahead(void)
{
	static const enum trick t[] = {AHEAD, HONEST};
	struct run r;

	run(&r, PLAN("0", ""), t, 2);
	CHECK_STR_EQ(r.c.failure, "");
	CHECK_EQ(r.c.dropped, 2);
	CHECK_STR_EQ(state_name(r.c.agents[0].state), "done");
	CHECK_EQ(r.c.steps[1].held, 100);
	done(&r);
}

/*
 * The local server exits in the first hold: the run stops there (no verify, no
 * second step), says how, when and where, and tells the agents why; their close
 * and result, as a stopped agent sends them, are taken without a drop.
 */
static void server_exits(void)
{
	static const enum trick t[] = {HONEST, HONEST};
	struct run r;

	server_exits_in = "hold";
	run(&r, PLAN("0.3", ""), t, 2);
	CHECK_CONTAINS(r.c.failure, "local.server.command (pid 4242) exited with status 7 at t=");
	CHECK_CONTAINS(r.c.failure, " s (hold, step 1)");
	CHECK(r.c.server_exited, "the exit is kept");
	CHECK(r.c.server_gone, "and the server is not sampled any more");
	CHECK_EQ(r.c.nsteps_done, 0);
	for (int i = 0; i < 2; i++) {
		CHECK_EQ(W.fake[i].gos[MSG_PHASE_VERIFY], 0);
		CHECK_EQ(W.fake[i].gos[MSG_PHASE_CONNECT], 1);
		CHECK_EQ(W.fake[i].gos[MSG_PHASE_CLOSE], 0);
		CHECK_EQ(W.fake[i].heard[PROTO_STOP], 1);
		CHECK_STR_EQ(W.fake[i].stop, r.c.failure);
		CHECK_STR_EQ(state_name(r.c.agents[i].state), "done");
		CHECK_EQ(W.fake[i].heard[PROTO_RESULT_ACK], 1);
	}
	CHECK_EQ(r.c.dropped, 0);
	done(&r);
}

/* Too few agents: the join fails after its timeout, naming who came. */
static void join_short(void)
{
	static const enum trick t[] = {HONEST};
	struct run r;

	run(&r,
	    "{\"name\": \"fake\", \"target\": {\"host\": \"127.0.0.1\", \"port\": 9},"
	    " \"agents\": {\"count\": 2, \"join_timeout_s\": 0.3}, \"connections\": 10}",
	    t, 1);
	CHECK_STR_EQ(r.c.failure, "1 of 2 agents joined within 0 s (joined: a1)");
	CHECK_EQ(W.fake[0].heard[PROTO_STOP], 1);
	CHECK_CONTAINS(W.fake[0].stop, "not every agent joined");
	done(&r);
}

int main(int argc, char **argv)
{
	static const struct check_case cases[] = {
	    {"honest_run", honest_run},       {"load_sweep", load_sweep},
	    {"load_liar", load_liar},         {"agent_leaves", agent_leaves},
	    {"slice_refused", slice_refused}, {"early_result", early_result},
	    {"join_short", join_short},       {"dead_target", dead_target},
	    {"not_echo", not_echo},           {"answers_ahead", answers_ahead},
	    {"server_exits", server_exits},
	};

	return CHECK_MAIN(cases);
}
