#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <zmq.h>

#include "auth.h"
#include "clock.h"
#include "control.h"
#include "engine.h"
#include "host.h"
#include "loglimit.h"
#include "msg.h"
#include "preflight.h"
#include "result.h"
#include "version.h"

#define HELLO_MS           1000
#define PROGRESS_MS        500 /* at least; a slow beat (many agents) slows it too */
#define RESULT_RESEND_MS   1000
#define ANSWER_RESEND_MS   1000
#define DEFAULT_DEADMAN_MS 8000
/*
 * The welcome's dead man's switch sets the beat: the coordinator gives 8
 * beats (8 s; longer in a run of many agents) and the agent's heartbeat goes
 * once a beat. The switch is kept within these bounds whatever a coordinator says.
 */
#define DEADMAN_BEATS      8
#define DEADMAN_CONFIRM_MS 250 /* a second look at a silence, the socket read between */
#define DEADMAN_MIN_MS     1000
#define DEADMAN_MAX_MS     600000
#define CLOSE_WAIT_MS      10000
#define WAIT_MAX_MS        1000
#define PHASE_POLL_MS      100   /* a running phase's end is seen by polling the engine */
#define DRAIN_MAX          64    /* messages read per loop pass, at most... */
#define DRAIN_MS           20    /* ...and for at most this long, so heartbeats are never late */
#define RELINK_MIN_MS      1000  /* at most one new coordinator connection a second */
#define SILENT_FIRST_MS    3000  /* an unanswered agent says so after this long... */
#define SILENT_EVERY_MS    10000 /* ...then this often for a minute... */
#define SILENT_LATER_MS    60000 /* ...then this often */

enum control_state {
	CTL_IDLE,     /* saying hello until welcomed */
	CTL_WELCOMED, /* waiting for an assignment */
	CTL_READY,    /* assigned, engine up, taking phases */
	CTL_RESULT,   /* result sent, waiting for its ack */
};

/* Kinds of line a peer can trigger; each kind has its own loglimit. */
enum say_kind {
	SAY_RUN,        /* joined, assigned, refusing an assignment */
	SAY_STOP,       /* stopped by the coordinator */
	SAY_GO,         /* a go refused, ignored or failed */
	SAY_BAD,        /* undecodable messages */
	SAY_UNEXPECTED, /* well-formed messages out of place */
	SAY_LINK,       /* the connection to the coordinator lost */
	SAY_SILENT,     /* the coordinator silent */
	SAY_KIND_COUNT
};

struct control {
	const struct agent_options *o;
	void *ctx;
	void *sock;
	void *monitor;  /* PAIR: the DEALER's connection and handshake events */
	unsigned nopen; /* sockets opened so far (names each monitor endpoint) */
	bool curve;
	struct keys_pair kp; /* read once; every reconnection uses them */
	char server_z85[KEYS_Z85_LEN + 1];
	bool connected;    /* a TCP/IPC connection is up */
	bool linked;       /* ...and it carried a handshake or a message */
	bool in_multipart; /* dropping the rest of a multipart message */
	bool rejoin;       /* the link was lost mid-run: leave the run once a new one is up */
	int64_t opened_ms; /* when the current socket was opened */
	int64_t relink_ms; /* when to replace a lost connection; 0 = not lost */
	int64_t next_silent_ms;
	bool handshake_ok;
	int handshake_logged; /* 0, 1 a failure logged, 2 a refused key logged (until a success) */
	struct loglimit limits[SAY_KIND_COUNT];
	char name[MSG_NAME_MAX];
	enum control_state state;
	struct engine *engine;
	struct msg_assign assign;
	int64_t deadman_ms;
	int64_t deadman_confirm_ms; /* silent past deadman_ms: look again then; 0 = not */
	int64_t beat_ms;            /* heartbeat period: deadman_ms / DEADMAN_BEATS */
	int64_t progress_ms;        /* progress period while a phase runs */
	int64_t last_heard_ms;
	int64_t last_sent_ms; /* any message is a heartbeat: one goes only after a quiet second */
	int64_t next_hello_ms, next_progress_ms, next_result_ms;
	bool phase_running;
	struct msg_go go; /* the phase running or last run */
	json_t *result;   /* resent until acknowledged */
	json_t *answer;   /* ready or phase_done, resent until the next command */
	int64_t next_answer_ms;
	struct engine_result *seen; /* the engine's histograms when the last phase ended */
	struct work_start {         /* a load or churn phase's baseline, for its phase_done */
		struct engine_counts counts;
		struct result_cost cost;
		struct hist *tick_base; /* the load latencies at the last tick (or the start) */
	} work;
};

static void say(const struct control *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* One write per line, so lines of several local agents never interleave. */
static void say(const struct control *c, const char *fmt, ...)
{
	char line[768];
	va_list ap;
	int n = snprintf(line, sizeof(line), "agent %s: ", c->name);

	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	n = (int)strlen(line);
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return; /* nowhere left to complain */
}

static void say_as(struct control *c, enum say_kind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A line a peer can trigger: at most a burst per kind, then a periodic summary (loglimit.h). */
static void say_as(struct control *c, enum say_kind kind, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (loglimit_pass(&c->limits[kind], clock_ms(), line))
		say(c, "%s", line);
}

/* The summaries of lines held back in windows now over. */
static void say_suppressed(struct control *c, int64_t now)
{
	for (int k = 0; k < SAY_KIND_COUNT; k++) {
		unsigned n = loglimit_due(&c->limits[k], now);
		if (n > 0)
			say(c, "(%u more like this suppressed in the last %d s; the last: %s)", n,
			    LOGLIMIT_WINDOW_MS / 1000, c->limits[k].last);
	}
}

/*
 * Sends msg (consumed). Never blocks: with ZMQ_IMMEDIATE a send during a
 * reconnect is dropped. Periodic messages (hello, heartbeat, progress, result)
 * simply go again; one-shot answers are kept in c->answer and resent until
 * the coordinator's next command shows they arrived.
 */
static void send_msg(struct control *c, json_t *msg)
{
	size_t len;
	char *body = msg ? proto_encode(msg, &len) : NULL;

	json_decref(msg);
	if (body != NULL && zmq_send(c->sock, body, len, ZMQ_DONTWAIT) >= 0)
		c->last_sent_ms = clock_ms();
	free(body);
}

static int64_t agent_capacity(const struct control *c, char *why, size_t whylen)
{
	struct host_limits l;
	struct host_capacity cap;
	unsigned nsources = c->o->nsources ? c->o->nsources : 1;

	host_limits_read(&l);
	host_capacity(&l, HOST_MODEL_AGENT, 1, preflight_reserve_fds(c->o->threads), &cap);
	int64_t ports = host_ports_per_source(&l) * (int64_t)nsources;
	if (ports > 0 && ports < cap.conns) {
		snprintf(why, whylen,
		         "capacity %lld connections: %u source address%s x %ld ports "
		         "(net.ipv4.ip_local_port_range) — add --source-ip addresses",
		         (long long)ports, nsources, nsources == 1 ? "" : "es",
		         host_ports_per_source(&l));
		return ports;
	}
	snprintf(why, whylen, "%s", cap.sentence);
	return cap.conns;
}

static json_t *hello_new(const struct control *c)
{
	struct msg_hello h = {0};
	struct host_limits l;

	host_limits_read(&l);
	snprintf(h.name, sizeof(h.name), "%s", c->name);
	snprintf(h.version, sizeof(h.version), "%s", CONNSCALE_VERSION);
	if (gethostname(h.host, sizeof(h.host) - 1) < 0)
		snprintf(h.host, sizeof(h.host), "unknown");
	(void)stats_boot_id_read(h.boot_id, sizeof(h.boot_id)); /* unreadable: "", unknown */
	h.max_connections = agent_capacity(c, h.capacity, sizeof(h.capacity));
	h.threads = c->o->threads;
	h.nofile = l.nofile_soft;
	h.ports_per_source = host_ports_per_source(&l);
	for (unsigned i = 0; i < c->o->nsources && i < MSG_MAX_SOURCES; i++)
		inet_ntop(AF_INET, &c->o->sources[i], h.sources[i], sizeof(h.sources[i]));
	h.nsources = c->o->nsources < MSG_MAX_SOURCES ? c->o->nsources : MSG_MAX_SOURCES;
	return msg_hello_pack(&h);
}

static void counts_from(const struct engine_counts *e, struct msg_counts *m)
{
	m->attempted = (int64_t)e->attempted;
	m->established = (int64_t)e->established;
	m->current = (int64_t)e->current;
	m->max_concurrent = (int64_t)e->max_concurrent;
	for (int r = 0; r < MSG_REASON_COUNT; r++)
		m->failed[r] = (int64_t)e->failed[r];
	m->echo_ok = (int64_t)e->echo_ok;
	m->echo_errors = (int64_t)e->echo_errors;
	m->lost = (int64_t)e->lost;
}

/*
 * The latencies a finished phase measured: the engine's histograms only
 * accumulate, so subtract the snapshot taken when the previous phase ended.
 */
static struct hist *phase_latency(struct control *c)
{
	struct engine_result *now = malloc(sizeof(*now));
	struct hist *delta = NULL;

	if (c->seen == NULL && (c->seen = calloc(1, sizeof(*c->seen))) != NULL) {
		hist_init(&c->seen->connect);
		hist_init(&c->seen->echo);
		hist_init(&c->seen->load);
		hist_init(&c->seen->churn_connect);
		hist_init(&c->seen->churn_echo);
	}
	if (now != NULL && c->seen != NULL && (delta = malloc(sizeof(*delta))) != NULL) {
		engine_result(c->engine, now);
		if (c->go.phase == MSG_PHASE_CONNECT)
			hist_delta(delta, &now->connect, &c->seen->connect);
		else if (c->go.phase == MSG_PHASE_LOAD)
			hist_delta(delta, &now->load, &c->seen->load);
		else if (c->go.phase == MSG_PHASE_CHURN)
			hist_delta(delta, &now->churn_echo, &c->seen->churn_echo);
		else
			hist_delta(delta, &now->echo, &c->seen->echo);
		*c->seen = *now;
	}
	free(now);
	return delta;
}

/* What this load sub-step did: the counters since it began, its time and CPU. */
static void load_done(const struct control *c, const struct engine_counts *now,
                      struct msg_progress *p)
{
	const struct engine_counts *b = &c->work.counts;
	struct result_cost cost = c->work.cost;

	result_cost_end(&cost);
	p->has_load = true;
	p->load.sub = c->go.load.sub;
	p->load.scheduled = (int64_t)(now->load_scheduled - b->load_scheduled);
	p->load.sent = (int64_t)(now->load_sent - b->load_sent);
	p->load.verified = (int64_t)(now->load_verified - b->load_verified);
	p->load.errors = (int64_t)(now->load_errors - b->load_errors);
	p->load.behind = (int64_t)(now->load_behind - b->load_behind);
	p->load.elapsed_s = engine_load_elapsed_s(c->engine);
	p->load.cpu_user_s = cost.cpu_user_s;
	p->load.cpu_sys_s = cost.cpu_sys_s;
}

/* What the churn did: the counters since it began, its time and CPU. */
static void churn_done(const struct control *c, const struct engine_counts *now,
                       struct msg_progress *p)
{
	const struct engine_counts *b = &c->work.counts;
	struct result_cost cost = c->work.cost;

	result_cost_end(&cost);
	p->has_churn = true;
	p->churn.attempted = (int64_t)(now->churn_attempted - b->churn_attempted);
	p->churn.ok = (int64_t)(now->churn_ok - b->churn_ok);
	for (int r = 0; r < MSG_REASON_COUNT; r++)
		p->churn.failed[r] = (int64_t)(now->churn_failed[r] - b->churn_failed[r]);
	p->churn.elapsed_s = cost.elapsed_s;
	p->churn.cpu_user_s = cost.cpu_user_s;
	p->churn.cpu_sys_s = cost.cpu_sys_s;
}

/*
 * A load sub-step as it runs: verified so far, and the latencies recorded
 * since the last tick (from the cumulative histogram, so the workers' hot
 * path records each latency once). Without memory, no tick: it is a view.
 */
static void load_tick(struct control *c, const struct engine_counts *now, struct msg_progress *p)
{
	struct hist *h = malloc(2 * sizeof(*h));

	if (h == NULL || c->work.tick_base == NULL) {
		free(h);
		return;
	}
	engine_load_hist(c->engine, &h[0]);
	hist_delta(&h[1], &h[0], c->work.tick_base);
	*c->work.tick_base = h[0];
	p->has_tick = true;
	p->tick.sub = c->go.load.sub;
	p->tick.verified = (int64_t)(now->load_verified - c->work.counts.load_verified);
	p->tick.count = (int64_t)h[1].count;
	p->tick.p50_us = (int64_t)hist_percentile(&h[1], 0.50);
	p->tick.p99_us = (int64_t)hist_percentile(&h[1], 0.99);
	p->tick.max_us = h[1].count > 0 ? (int64_t)h[1].max_us : 0;
	free(h);
}

/* Keeps a one-shot answer (ready, phase_done) to resend until it is acknowledged by use. */
static void answer(struct control *c, json_t *msg)
{
	json_decref(c->answer);
	c->answer = msg;
	c->next_answer_ms = clock_ms() + ANSWER_RESEND_MS;
}

static void send_progress(struct control *c, enum proto_type type)
{
	struct engine_counts ec;
	struct msg_progress p = {.phase = c->go.phase, .step = c->go.step};

	engine_snapshot(c->engine, &ec);
	counts_from(&ec, &p.counts);
	if (type == PROTO_PHASE_DONE && c->go.phase != MSG_PHASE_CLOSE &&
	    c->go.phase != MSG_PHASE_VERIFY)
		p.hist = phase_latency(c);
	if (type == PROTO_PHASE_DONE && c->go.phase == MSG_PHASE_LOAD)
		load_done(c, &ec, &p);
	if (type == PROTO_PHASE_DONE && c->go.phase == MSG_PHASE_CHURN)
		churn_done(c, &ec, &p);
	if (type == PROTO_PROGRESS && c->go.phase == MSG_PHASE_LOAD)
		load_tick(c, &ec, &p);
	json_t *msg = msg_progress_pack(type, &p);
	free(p.hist);
	if (type == PROTO_PHASE_DONE)
		answer(c, json_incref(msg));
	send_msg(c, msg);
}

/* Builds the result from the engine and starts sending it until acknowledged. */
static void send_result(struct control *c)
{
	struct msg_result *r = calloc(1, sizeof(*r));
	struct engine_result *er = calloc(1, sizeof(*er));

	if (r != NULL && er != NULL) {
		engine_result(c->engine, er);
		counts_from(&er->counts, &r->counts);
		r->connect = er->connect;
		r->echo = er->echo;
		json_decref(c->result);
		c->result = msg_result_pack(r);
	}
	free(r);
	free(er);
	c->state = CTL_RESULT;
	c->next_result_ms = 0;
}

static void engine_drop(struct control *c)
{
	if (c->engine == NULL)
		return;
	engine_close(c->engine);
	engine_wait(c->engine, CLOSE_WAIT_MS);
	engine_destroy(c->engine);
	c->engine = NULL;
	free(c->seen);
	c->seen = NULL;
	free(c->work.tick_base);
	c->work.tick_base = NULL;
}

static void go_idle(struct control *c)
{
	engine_drop(c);
	json_decref(c->result);
	c->result = NULL;
	answer(c, NULL);
	c->phase_running = false;
	c->rejoin = false;
	c->deadman_confirm_ms = 0;
	/*
	 * The next hello keeps its one-second spacing: a coordinator answering
	 * every hello with stop must not make the agent spin (it once logged
	 * 77,521 lines in 30 s).
	 */
	c->state = CTL_IDLE;
}

static int engine_from_assign(struct control *c, char *why, size_t whylen)
{
	const struct msg_assign *a = &c->assign;
	struct host_limits l;
	struct engine_params p = {0};

	p.target.sin_family = AF_INET;
	p.target.sin_port = htons((uint16_t)a->target_port);
	if (inet_pton(AF_INET, a->target_host, &p.target.sin_addr) != 1) {
		snprintf(why, whylen, "target host %s is not an IPv4 address", a->target_host);
		return -1;
	}
	/* Before the engine exists: not one packet to a target outside the fence. */
	if (!fence_allows(&c->o->fence, p.target.sin_addr)) {
		char nets[160];
		fence_format(&c->o->fence, nets, sizeof(nets));
		snprintf(why, whylen,
		         "target %s:%lld is outside this agent's allowed networks (%.80s); see "
		         "agent --allow-target",
		         a->target_host, (long long)a->target_port, nets);
		return -1;
	}
	host_limits_read(&l);
	if (preflight_sources(c->o->sources, c->o->nsources, why, whylen) < 0 ||
	    preflight_limits(&l, (uint64_t)a->connections, c->o->threads, c->o->nsources, why,
	                     whylen) < 0)
		return -1;
	if (preflight_port_warning(&l, (uint64_t)a->connections, c->o->nsources, why, whylen))
		say(c, "%s", why + strlen("agent: "));
	p.sources = c->o->sources;
	p.nsources = c->o->nsources;
	p.threads = c->o->threads;
	/* A share below one connection a second still gets one. */
	p.rate = a->rate_per_s > 0 && a->rate_per_s < 1 ? 1 : (uint64_t)(a->rate_per_s + 0.5);
	p.connect_timeout_ms = (unsigned)a->connect_timeout_ms;
	p.payload_bytes = (unsigned)a->payload_bytes;
	p.rounds = (unsigned)a->rounds;
	p.interval_ms = (unsigned)a->interval_ms;
	p.echo_timeout_ms = (unsigned)a->echo_timeout_ms;
	c->engine = engine_create(&p, why, whylen);
	return c->engine ? 0 : -1;
}

static void on_assign(struct control *c, json_t *msg)
{
	struct proto_err err;
	struct msg_reject rj = {{0}};

	if (c->state != CTL_WELCOMED) {
		say_as(c, SAY_UNEXPECTED, "ignored an assignment outside a run's set-up");
		return;
	}
	if (msg_assign_unpack(msg, &c->assign, &err) < 0) {
		snprintf(rj.reason, sizeof(rj.reason), "%.200s", err.msg);
	} else if (engine_from_assign(c, rj.reason, sizeof(rj.reason)) == 0) {
		say_as(c, SAY_RUN, "assigned %lld connections to %s:%lld",
		       (long long)c->assign.connections, c->assign.target_host,
		       (long long)c->assign.target_port);
		c->state = CTL_READY;
		answer(c, msg_empty_pack(PROTO_READY));
		send_msg(c, json_incref(c->answer));
		return;
	}
	say_as(c, SAY_RUN, "refusing the assignment: %s", rj.reason);
	send_msg(c, msg_reject_pack(PROTO_REJECT, &rj));
	go_idle(c);
}

/*
 * Whether go stays within the assignment (which preflight and the fence
 * accepted): a step it has, and no more connections than that step's level.
 * false with why filled otherwise.
 */
static bool go_within_assignment(const struct control *c, const struct msg_go *go, char *why,
                                 size_t whylen)
{
	const struct msg_assign *a = &c->assign;

	if (go->step < 0 || go->step >= a->nsteps) {
		snprintf(why, whylen, "the assignment has %lld step%s", (long long)a->nsteps,
		         a->nsteps == 1 ? "" : "s");
		return false;
	}
	if (go->phase != MSG_PHASE_CONNECT)
		return true;
	if (go->target > a->connections) {
		snprintf(why, whylen, "more than the %lld connections assigned",
		         (long long)a->connections);
		return false;
	}
	if (go->target > a->steps[go->step]) {
		snprintf(why, whylen, "more than the %lld connections assigned to step %lld",
		         (long long)a->steps[go->step], (long long)go->step);
		return false;
	}
	return true;
}

/*
 * A go beyond the assignment is refused whole, never clamped: the coordinator
 * asking for it is broken or not ours, so the agent leaves the run (bye with
 * the reason, every connection closed) and says hello again.
 */
static void go_refuse(struct control *c, const struct msg_go *go, const char *why)
{
	struct msg_reject bye = {{0}};

	snprintf(bye.reason, sizeof(bye.reason), "refused go %s (step %lld, target %lld): %s",
	         msg_phase_name(go->phase), (long long)go->step, (long long)go->target, why);
	say_as(c, SAY_GO, "%s; leaving the run", bye.reason);
	send_msg(c, msg_reject_pack(PROTO_BYE, &bye));
	go_idle(c);
}

static void on_go(struct control *c, json_t *msg)
{
	struct proto_err err;
	struct msg_go go;
	char why[160];
	int rc = 0;

	if (msg_go_unpack(msg, &go, &err) < 0) {
		say_as(c, SAY_BAD, "dropped a go: %s", err.msg);
		return;
	}
	if (c->state != CTL_READY || c->phase_running) {
		say_as(c, SAY_GO, "ignored go %s: %s", msg_phase_name(go.phase),
		       c->phase_running ? "a phase is running" : "not assigned");
		return;
	}
	if (!go_within_assignment(c, &go, why, sizeof(why))) {
		go_refuse(c, &go, why);
		return;
	}
	if (go.phase == MSG_PHASE_CONNECT)
		rc = engine_connect(c->engine, (uint64_t)go.target);
	else if (go.phase == MSG_PHASE_ECHO)
		rc = engine_echo(c->engine);
	else if (go.phase == MSG_PHASE_CLOSE)
		rc = engine_close(c->engine);
	else if (go.phase == MSG_PHASE_LOAD || go.phase == MSG_PHASE_CHURN) {
		struct engine_load l = {go.load.rate_per_s, (uint64_t)go.load.duration_ms,
		                        (unsigned)go.load.payload_bytes};

		engine_snapshot(c->engine, &c->work.counts);
		result_cost_begin(&c->work.cost);
		if (go.phase == MSG_PHASE_LOAD && c->work.tick_base == NULL)
			c->work.tick_base = malloc(sizeof(*c->work.tick_base));
		if (go.phase == MSG_PHASE_LOAD && c->work.tick_base != NULL)
			engine_load_hist(c->engine, c->work.tick_base);
		/* A churn part of 0 opens nothing: the phase is done at once. */
		if (go.phase == MSG_PHASE_LOAD)
			rc = engine_load(c->engine, &l);
		else if (go.churn.rate_per_s >= 1)
			rc = engine_churn(c->engine, go.churn.rate_per_s,
			                  (uint64_t)go.churn.duration_ms);
	}
	/* verify starts nothing: the idle engine's counts go back at once (tick). */
	if (rc < 0) {
		say_as(c, SAY_GO, "cannot start %s: %s", msg_phase_name(go.phase), strerror(-rc));
		return;
	}
	c->go = go;
	c->phase_running = true;
	c->next_progress_ms = clock_ms() + c->progress_ms;
	answer(c, NULL); /* a go means our last answer arrived */
}

static void on_stop(struct control *c, json_t *msg)
{
	struct proto_err err;
	struct msg_stop st;

	if (msg_stop_unpack(msg, &st, &err) < 0)
		say_as(c, SAY_STOP, "stopped by the coordinator (unreadable reason: %s)", err.msg);
	else
		say_as(c, SAY_STOP, "stopped by the coordinator: %s", st.reason);
	if (c->engine == NULL) {
		go_idle(c);
		return;
	}
	/* Close everything; tick() sends the result once the close is done. */
	answer(c, NULL);
	engine_close(c->engine);
	c->state = CTL_READY;
	c->go.phase = MSG_PHASE_CLOSE;
	c->phase_running = true;
}

/*
 * The coordinator is back after its connection was lost mid-run. What went
 * missing with the connection (a go, a stop, a message too big to take)
 * cannot be told, so the agent leaves the run with a bye naming why, closes
 * its connections and says hello again; the coordinator never counts on an
 * agent that missed part of the conversation.
 */
static void control_rejoin(struct control *c)
{
	struct msg_reject bye = {{0}};
	struct engine_counts ec = {0};

	if (c->engine)
		engine_snapshot(c->engine, &ec);
	say_as(c, SAY_LINK,
	       "reconnected to the coordinator at %s; what the lost connection carried cannot "
	       "be told, so leaving the run (closing %llu connections) and saying hello again",
	       c->o->coordinator, (unsigned long long)ec.current);
	snprintf(bye.reason, sizeof(bye.reason),
	         "lost its connection to the coordinator mid-run (messages may be missing)");
	send_msg(c, msg_reject_pack(PROTO_BYE, &bye));
	go_idle(c);
	c->next_hello_ms = 0;
}

/* The dead man's switch a welcome gives, and the beat and progress periods that follow. */
static void control_set_deadman(struct control *c, int64_t ms)
{
	c->deadman_ms = ms < DEADMAN_MIN_MS   ? DEADMAN_MIN_MS
	                : ms > DEADMAN_MAX_MS ? DEADMAN_MAX_MS
	                                      : ms;
	c->beat_ms = c->deadman_ms / DEADMAN_BEATS;
	c->progress_ms = c->beat_ms / 2 > PROGRESS_MS ? c->beat_ms / 2 : PROGRESS_MS;
}

static void on_message(struct control *c, const void *buf, size_t len)
{
	enum proto_type type;
	struct proto_err err;
	struct msg_welcome w;
	json_t *msg = proto_decode(buf, len, &type, &err);

	if (msg == NULL) {
		say_as(c, SAY_BAD, "dropped a message from the coordinator: %s", err.msg);
		return;
	}
	c->last_heard_ms = clock_ms();
	c->next_silent_ms = 0;
	c->linked = true;
	if (c->rejoin) { /* a message of the conversation the lost connection broke */
		control_rejoin(c);
		json_decref(msg);
		return;
	}
	switch (type) {
	case PROTO_WELCOME:
		if (c->state != CTL_IDLE)
			break;
		if (msg_welcome_unpack(msg, &w, &err) < 0) {
			say_as(c, SAY_BAD, "dropped a welcome: %s", err.msg);
			break;
		}
		control_set_deadman(c, w.heartbeat_timeout_ms);
		c->state = CTL_WELCOMED;
		say_as(c, SAY_RUN, "joined run \"%s\"", w.run);
		break;
	case PROTO_ASSIGN:
		on_assign(c, msg);
		break;
	case PROTO_GO:
		on_go(c, msg);
		break;
	case PROTO_STOP:
		on_stop(c, msg);
		break;
	case PROTO_RESULT_ACK:
		if (c->state == CTL_RESULT)
			go_idle(c);
		break;
	case PROTO_HEARTBEAT:
		break;
	default:
		say_as(c, SAY_UNEXPECTED, "dropped an unexpected %s", proto_type_name(type));
	}
	json_decref(msg);
}

/* An agent nobody answers says so: after SILENT_FIRST_MS, then at a bounded rate. */
static void say_silent(struct control *c, int64_t now)
{
	int64_t quiet = now - c->last_heard_ms;
	const char *why = "not connected: is it running, and bound to that address?";

	if (quiet < SILENT_FIRST_MS || now < c->next_silent_ms)
		return;
	c->next_silent_ms = now + (quiet < 60000 ? SILENT_EVERY_MS : SILENT_LATER_MS);
	if (c->connected && c->curve && !c->handshake_ok)
		why = "connected, but no key handshake yet";
	else if (c->connected)
		why = "connected, but no welcome for its hellos";
	say_as(c, SAY_SILENT, "no answer from the coordinator at %s for %lld s (%s); still trying",
	       c->o->coordinator, (long long)(quiet / 1000), why);
}

/* What is due: hello, heartbeat, progress, phase completion, result resend, dead man. */
static void tick(struct control *c)
{
	int64_t now = clock_ms();

	say_suppressed(c, now);
	if (c->state == CTL_IDLE) {
		if (now >= c->next_hello_ms) {
			c->next_hello_ms = now + HELLO_MS;
			send_msg(c, hello_new(c));
		}
		say_silent(c, now);
		return;
	}
	/*
	 * Silence is confirmed by a second look DEADMAN_CONFIRM_MS later, the
	 * socket read in between: after a pause of this process (SIGSTOP, a
	 * stalled host) the coordinator's heartbeats are queued, not missing.
	 */
	if (now - c->last_heard_ms <= c->deadman_ms) {
		c->deadman_confirm_ms = 0;
	} else if (c->deadman_confirm_ms == 0) {
		c->deadman_confirm_ms = now + DEADMAN_CONFIRM_MS;
	} else if (now >= c->deadman_confirm_ms) {
		c->deadman_confirm_ms = 0;
		struct engine_counts ec = {0};
		if (c->engine)
			engine_snapshot(c->engine, &ec);
		say_as(c, SAY_SILENT,
		       "the coordinator is silent for %lld ms: closing %llu connections",
		       (long long)c->deadman_ms, (unsigned long long)ec.current);
		go_idle(c);
		return;
	}
	if (now - c->last_sent_ms >= c->beat_ms)
		send_msg(c, msg_empty_pack(PROTO_HEARTBEAT));
	if (c->phase_running && engine_wait(c->engine, 0)) {
		c->phase_running = false;
		send_progress(c, PROTO_PHASE_DONE);
		if (c->go.phase == MSG_PHASE_CLOSE)
			send_result(c);
	} else if (c->phase_running && now >= c->next_progress_ms) {
		c->next_progress_ms = now + c->progress_ms;
		send_progress(c, PROTO_PROGRESS);
	}
	if (c->answer != NULL && now >= c->next_answer_ms) {
		c->next_answer_ms = now + ANSWER_RESEND_MS;
		send_msg(c, json_incref(c->answer));
	}
	if (c->state == CTL_RESULT && c->result && now >= c->next_result_ms) {
		c->next_result_ms = now + RESULT_RESEND_MS;
		send_msg(c, json_incref(c->result));
	}
}

static int64_t earliest(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/*
 * How long the loop may sleep: until tick() has something due, a second at
 * most (log summaries and hellos are due within one). An idle agent wakes about once a second, not
 * ten times: a thousand of them on two cores must leave the CPU to the coordinator and to each
 * other.
 */
static int tick_wait_ms(const struct control *c)
{
	int64_t now = clock_ms(), due;

	if (c->state == CTL_IDLE) {
		due = c->next_hello_ms;
	} else {
		due = earliest(c->deadman_confirm_ms ? c->deadman_confirm_ms
		                                     : c->last_heard_ms + c->deadman_ms + 1,
		               c->last_sent_ms + c->beat_ms);
		if (c->phase_running)
			due = earliest(due, now + PHASE_POLL_MS);
		if (c->answer != NULL)
			due = earliest(due, c->next_answer_ms);
		if (c->state == CTL_RESULT && c->result)
			due = earliest(due, c->next_result_ms);
	}
	if (c->relink_ms != 0)
		due = earliest(due, c->relink_ms);
	return due <= now ? 0 : (int)earliest(due - now, WAIT_MAX_MS);
}

/*
 * Reads what the socket holds: at most DRAIN_MAX messages and DRAIN_MS, so a
 * flood waits for the next pass and the heartbeat goes on time. zmq_msg_t
 * takes any size the socket let through (ZMQ_MAXMSGSIZE = PROTO_MAX_MSG), so
 * nothing is truncated. A message is one frame; a multipart one is dropped whole.
 */
static void control_drain(struct control *c)
{
	int64_t until = clock_ms() + DRAIN_MS;
	zmq_msg_t m;

	for (int i = 0; i < DRAIN_MAX && clock_ms() < until; i++) {
		zmq_msg_init(&m);
		if (zmq_msg_recv(&m, c->sock, ZMQ_DONTWAIT) < 0) {
			zmq_msg_close(&m);
			return;
		}
		bool part = c->in_multipart || zmq_msg_more(&m);
		c->in_multipart = zmq_msg_more(&m);
		if (!part)
			on_message(c, zmq_msg_data(&m), zmq_msg_size(&m));
		else if (!c->in_multipart)
			say_as(c, SAY_BAD,
			       "dropped a multipart message from the coordinator (a "
			       "message is one frame)");
		zmq_msg_close(&m);
	}
}

/* Reads our key pair and the coordinator's public key; 0 or -1 with the reason printed. */
static int control_keys(struct control *c)
{
	char err[512];

	if (keys_read_secret(c->o->curve_secret, &c->kp, err, sizeof(err)) < 0 ||
	    keys_read_public(c->o->coordinator_key, c->server_z85, err, sizeof(err)) < 0) {
		fprintf(stderr, "agent: %s\n", err);
		return -1;
	}
	return 0;
}

/*
 * Connection and handshake events: a refused key or a false coordinator is
 * named, and a lost connection is seen (libzmq gives up for good on a peer that
 * broke the protocol, e.g. a message over ZMQ_MAXMSGSIZE, without a word).
 */
static int control_monitor(struct control *c)
{
	char ep[96];
	int events = ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED | ZMQ_EVENT_HANDSHAKE_SUCCEEDED |
	             ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
	             ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;

	snprintf(ep, sizeof(ep), "inproc://agent-monitor-%u", c->nopen);
	if (zmq_socket_monitor(c->sock, ep, events) < 0)
		return -1;
	c->monitor = zmq_socket(c->ctx, ZMQ_PAIR);
	if (c->monitor == NULL || zmq_connect(c->monitor, ep) < 0)
		return -1;
	return 0;
}

/*
 * A connection that carried the conversation went away: a new one replaces
 * it (libzmq never reconnects after a protocol error such as a message over
 * ZMQ_MAXMSGSIZE). Mid-run, the connections stay until the coordinator is back
 * (then control_rejoin) or its dead man's switch fires.
 */
static void control_on_lost(struct control *c, const char *addr)
{
	int64_t now = clock_ms();

	if (c->state == CTL_IDLE) {
		say_as(c, SAY_LINK, "the connection to the coordinator at %s closed; reconnecting",
		       addr);
	} else {
		say_as(c, SAY_LINK,
		       "lost the connection to the coordinator at %s (it went away, or sent a "
		       "message over the %d KiB limit); reconnecting (this run ends when it is "
		       "back, or after %lld ms of silence)",
		       addr, PROTO_MAX_MSG / 1024, (long long)c->deadman_ms);
		c->rejoin = true;
	}
	c->relink_ms = c->opened_ms + RELINK_MIN_MS > now ? c->opened_ms + RELINK_MIN_MS : now;
}

static void control_on_event(struct control *c)
{
	uint8_t ev[6];
	char addr[256];
	uint16_t event;
	uint32_t value;
	int n = zmq_recv(c->monitor, ev, sizeof(ev), ZMQ_DONTWAIT);
	int m = n == (int)sizeof(ev) ? zmq_recv(c->monitor, addr, sizeof(addr) - 1, 0) : -1;

	if (m < 0)
		return;
	addr[m < (int)sizeof(addr) - 1 ? m : (int)sizeof(addr) - 1] = '\0';
	memcpy(&event, ev, sizeof(event));
	memcpy(&value, ev + 2, sizeof(value));
	if (event == ZMQ_EVENT_CONNECTED) {
		c->connected = true;
		return;
	}
	if (event == ZMQ_EVENT_DISCONNECTED) {
		bool was_linked = c->linked;
		c->connected = c->linked = c->handshake_ok = false;
		if (was_linked)
			control_on_lost(c, addr);
		return;
	}
	if (event == ZMQ_EVENT_HANDSHAKE_SUCCEEDED) {
		if (c->curve && !c->handshake_ok)
			say(c, "CURVE handshake with %s: the coordinator holds the expected key",
			    addr);
		c->handshake_ok = true;
		c->handshake_logged = 0;
		c->linked = true;
		/* A new connection: hello now (one sent while there was none was dropped). */
		if (c->rejoin)
			control_rejoin(c);
		else if (c->state == CTL_IDLE)
			c->next_hello_ms = 0;
		return;
	}
	/* It retries every 100 ms: each kind of failure is said once. */
	if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH && c->handshake_logged < 2) {
		c->handshake_logged = 2;
		say(c,
		    "the coordinator at %s refused this agent's key (ZAP status %u): add its .pub "
		    "to the coordinator's --authorized-agents",
		    addr, (unsigned)value);
	} else if (event != ZMQ_EVENT_HANDSHAKE_FAILED_AUTH && c->handshake_logged == 0) {
		c->handshake_logged = 1;
		if (c->curve)
			say(c,
			    "CURVE handshake with %s failed: it is not the coordinator of "
			    "--coordinator-key %s (or it does not speak CURVE)",
			    addr, c->o->coordinator_key);
		else
			say(c,
			    "handshake with %s failed: it is not a connscale coordinator (or it "
			    "wants CURVE keys)",
			    addr);
	}
}

/* A DEALER (and its monitor) connected to the coordinator; 0 or -1 with errno for zmq_strerror. */
static int control_open(struct control *c)
{
	int linger = 500, one = 1, ivl = 100, ivl_max = 1000;
	int64_t maxmsg = PROTO_MAX_MSG;

	c->nopen++;
	c->opened_ms = clock_ms();
	c->connected = c->linked = c->handshake_ok = c->in_multipart = false;
	c->sock = zmq_socket(c->ctx, ZMQ_DEALER);
	/* IMMEDIATE: nothing queues for a coordinator that is not there (no stale hellos). */
	if (c->sock == NULL ||
	    zmq_setsockopt(c->sock, ZMQ_ROUTING_ID, c->name, strlen(c->name)) < 0 ||
	    zmq_setsockopt(c->sock, ZMQ_LINGER, &linger, sizeof(linger)) < 0 ||
	    zmq_setsockopt(c->sock, ZMQ_IMMEDIATE, &one, sizeof(one)) < 0 ||
	    zmq_setsockopt(c->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg)) < 0 ||
	    zmq_setsockopt(c->sock, ZMQ_RECONNECT_IVL, &ivl, sizeof(ivl)) < 0 ||
	    zmq_setsockopt(c->sock, ZMQ_RECONNECT_IVL_MAX, &ivl_max, sizeof(ivl_max)) < 0 ||
	    (c->curve && auth_curve_client(c->sock, &c->kp, c->server_z85) < 0) ||
	    control_monitor(c) < 0 || zmq_connect(c->sock, c->o->coordinator) < 0)
		return -1;
	return 0;
}

static void control_close(struct control *c)
{
	if (c->monitor) {
		zmq_socket_monitor(c->sock, NULL, 0);
		zmq_close(c->monitor);
		c->monitor = NULL;
	}
	if (c->sock)
		zmq_close(c->sock);
	c->sock = NULL;
}

/* One pass of the loop: due work first, then a bounded read, then due work again. */
static int control_step(struct control *c)
{
	zmq_pollitem_t items[2] = {
	    {.socket = c->sock, .events = ZMQ_POLLIN},
	    {.socket = c->monitor, .events = ZMQ_POLLIN},
	};

	if (zmq_poll(items, 2, tick_wait_ms(c)) < 0 && zmq_errno() != EINTR)
		return -1;
	tick(c);
	if (items[1].revents & ZMQ_POLLIN)
		for (int i = 0; i < 16; i++)
			control_on_event(c);
	if (items[0].revents & ZMQ_POLLIN)
		control_drain(c);
	if (c->relink_ms != 0 && clock_ms() >= c->relink_ms) {
		c->relink_ms = 0;
		control_close(c);
		if (control_open(c) < 0)
			return -1;
	}
	tick(c);
	return 0;
}

int control_run(const struct agent_options *o, volatile sig_atomic_t *stop)
{
	struct control c = {.o = o};
	char host[MSG_NAME_MAX - 16] = "agent";
	int code = AGENT_EXIT_OK;

	if (o->name != NULL) {
		snprintf(c.name, sizeof(c.name), "%s", o->name);
	} else {
		gethostname(host, sizeof(host) - 1);
		snprintf(c.name, sizeof(c.name), "%s-%d", host, (int)getpid());
	}
	c.curve = o->curve_secret != NULL;
	if (c.curve && control_keys(&c) < 0) {
		code = AGENT_EXIT_USAGE;
		goto out;
	}
	c.ctx = zmq_ctx_new();
	if (c.ctx == NULL || control_open(&c) < 0) {
		fprintf(stderr, "agent: --coordinator %s: %s\n", o->coordinator,
		        zmq_strerror(zmq_errno()));
		code = AGENT_EXIT_USAGE;
		goto out;
	}
	if (c.curve)
		say(&c, "connecting to %s (CURVE: only the holder of %s)", o->coordinator,
		    o->coordinator_key);
	else if (!auth_endpoint_is_loopback(o->coordinator))
		say(&c,
		    "warning: --insecure: connecting to %s without keys; whoever answers there "
		    "can aim this agent (within its allowed networks)",
		    o->coordinator);
	else
		say(&c, "connecting to %s (unauthenticated control plane, this host only)",
		    o->coordinator);
	control_set_deadman(&c, DEFAULT_DEADMAN_MS);
	c.last_heard_ms = clock_ms();
	while (!*stop) {
		if (control_step(&c) < 0) {
			say(&c, "the control socket to %s failed: %s; exiting", o->coordinator,
			    zmq_strerror(zmq_errno()));
			code = AGENT_EXIT_FAILED;
			break;
		}
	}
	if (code == AGENT_EXIT_OK) {
		struct msg_reject bye = {{0}};
		snprintf(bye.reason, sizeof(bye.reason), "agent stopped by a signal");
		send_msg(&c, msg_reject_pack(PROTO_BYE, &bye));
	}
out:
	go_idle(&c);
	control_close(&c);
	if (c.ctx)
		zmq_ctx_term(c.ctx);
	memset(&c.kp, 0, sizeof(c.kp));
	return code;
}
