/*
 * coord.c — the coordinator's sockets and its event pump: messages from
 * agents, heartbeats both ways, loss detection, server sampling.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <zmq.h>

#include "coord.h"

int64_t coord_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void coord_text(char *dst, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dst, size, fmt, ap);
	va_end(ap);
}

static int set_common_opts(void *sock)
{
	int linger = 1000; /* final stops and acks get a moment to leave */
	int64_t maxmsg = PROTO_MAX_MSG;

	if (zmq_setsockopt(sock, ZMQ_LINGER, &linger, sizeof(linger)) < 0 ||
	    zmq_setsockopt(sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg)) < 0)
		return -1;
	return 0;
}

/* ZAP handler before the ROUTER binds, so no handshake ever finds it missing. */
static int open_router(struct coord *c)
{
	int one = 1;
	char err[512];

	c->router = zmq_socket(c->ctx, ZMQ_ROUTER);
	if (c->router == NULL || set_common_opts(c->router) < 0 ||
	    zmq_setsockopt(c->router, ZMQ_ROUTER_MANDATORY, &one, sizeof(one)) < 0)
		return -1;
	if (!c->curve)
		return 0;
	if (auth_start(&c->auth, c->ctx, c->opt->authorized_agents, "coordinator", "an agent", err,
	               sizeof(err)) < 0) {
		fprintf(stderr, "coordinator: %s; refusing to run\n", err);
		return -2;
	}
	if (auth_curve_server(c->router, &c->kp, true) < 0) {
		fprintf(stderr, "coordinator: cannot make %s a CURVE server: %s; refusing to run\n",
		        c->opt->bind, zmq_strerror(zmq_errno()));
		return -2;
	}
	return 0;
}

int coord_open(struct coord *c)
{
	char bound[256];
	size_t len = sizeof(bound);
	int rc;

	c->ctx = zmq_ctx_new();
	rc = c->ctx ? open_router(c) : -1;
	if (rc == -2)
		return -2;
	if (rc < 0 || zmq_bind(c->router, c->opt->bind) < 0 ||
	    zmq_getsockopt(c->router, ZMQ_LAST_ENDPOINT, bound, &len) < 0) {
		fprintf(stderr, "coordinator: cannot bind %s: %s\n", c->opt->bind,
		        zmq_strerror(zmq_errno()));
		return -1;
	}
	if (!c->opt->quiet)
		fprintf(stderr, "coordinator: waiting for agents on %s%s\n", bound,
		        c->curve ? " (CURVE, authorized keys only)" : "");
	if (c->stats_endpoint[0] == '\0')
		return 0;
	c->stats_sock = zmq_socket(c->ctx, ZMQ_DEALER);
	if (c->stats_sock == NULL || set_common_opts(c->stats_sock) < 0 ||
	    (c->stats_key[0] && auth_curve_client(c->stats_sock, &c->kp, c->stats_key) < 0) ||
	    zmq_connect(c->stats_sock, c->stats_endpoint) < 0) {
		fprintf(stderr, "coordinator: server.stats %s: %s\n", c->stats_endpoint,
		        zmq_strerror(zmq_errno()));
		return -1;
	}
	return 0;
}

void coord_close(struct coord *c)
{
	if (c->stats_sock)
		zmq_close(c->stats_sock);
	if (c->router)
		zmq_close(c->router);
	/* Only now: while the ROUTER was open, the handler had to be there. */
	auth_stop(&c->auth);
	if (c->ctx)
		zmq_ctx_term(c->ctx);
	c->stats_sock = c->router = c->ctx = NULL;
	memset(&c->kp, 0, sizeof(c->kp));
}

struct coord_agent *coord_agent_find(struct coord *c, const char *id)
{
	for (int i = 0; i < c->nagents; i++)
		if (strcmp(c->agents[i].id, id) == 0)
			return &c->agents[i];
	return NULL;
}

/* Sends msg (consumed) to one agent; -1 if it is unreachable or the send fails. */
int coord_send(struct coord *c, const char *id, json_t *msg)
{
	size_t len;
	char *body = msg ? proto_encode(msg, &len) : NULL;
	int rc = -1;

	json_decref(msg);
	if (body != NULL && zmq_send(c->router, id, strlen(id), ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0)
		rc = zmq_send(c->router, body, len, ZMQ_DONTWAIT) < 0 ? -1 : 0;
	if (rc < 0 && zmq_errno() != EHOSTUNREACH)
		fprintf(stderr, "coordinator: send to %s failed: %s\n", id,
		        body ? zmq_strerror(zmq_errno()) : "out of memory");
	free(body);
	return rc;
}

bool coord_agent_active(const struct coord_agent *a)
{
	return a->state != AGENT_LOST && a->state != AGENT_REJECTED && a->state != AGENT_DONE;
}

void coord_mark_lost(struct coord *c, struct coord_agent *a, const char *why)
{
	if (a->state == AGENT_LOST)
		return;
	a->state = AGENT_LOST;
	coord_text(a->why, sizeof(a->why), "%s", why);
	coord_progress_end(c);
	fprintf(stderr, "coordinator: agent %s lost: %s\n", a->id, why);
}

static void drop(struct coord *c, const char *id, const char *why)
{
	c->dropped++;
	coord_progress_end(c);
	fprintf(stderr, "coordinator: dropped a message from %s: %s\n", id, why);
}

static void on_hello(struct coord *c, const char *id, struct coord_agent *a, json_t *msg)
{
	struct msg_hello h;
	struct proto_err err;

	if (msg_hello_unpack(msg, &h, &err) < 0) {
		drop(c, id, err.msg);
		return;
	}
	if (strcmp(h.name, id) != 0) {
		drop(c, id, "hello: name differs from the routing id");
		return;
	}
	if (a == NULL) {
		coord_on_new_agent(c, id, &h);
		return;
	}
	if (a->state == AGENT_JOINED) {
		struct msg_welcome w = {.heartbeat_timeout_ms = COORD_AGENT_DEADMAN_MS};
		coord_text(w.run, sizeof(w.run), "%s", c->plan->name);
		coord_send(c, id, msg_welcome_pack(&w));
	} else if (coord_agent_active(a)) {
		/* Its dead man's switch fired or it restarted: its connections are gone. */
		coord_mark_lost(c, a,
		                "it started over (said hello again) in the middle of the run");
	}
}

static void on_counts(struct coord *c, struct coord_agent *a, enum proto_type type, json_t *msg)
{
	struct msg_progress p;
	struct proto_err err;

	p.hist = c->phase_hist;
	if (msg_progress_unpack(msg, &p, &err) < 0) {
		drop(c, a->id, err.msg);
		return;
	}
	/* Late news from a lost agent would count connections it no longer holds. */
	if (a->state != AGENT_READY)
		return;
	a->counts = p.counts;
	if (type != PROTO_PHASE_DONE || (int)p.phase != c->cur_phase || p.step != c->step ||
	    a->phase_done)
		return;
	a->phase_done = true;
	/* This step's latency: each agent's share of the phase, merged. */
	struct coord_step *st = &c->steps[p.step];
	struct hist **into = p.phase == MSG_PHASE_CONNECT ? &st->connect
	                     : p.phase == MSG_PHASE_ECHO  ? &st->echo
	                                                  : NULL;
	if (p.has_hist && into != NULL) {
		if (*into == NULL && (*into = malloc(sizeof(**into))) != NULL)
			hist_init(*into);
		if (*into != NULL)
			hist_merge(*into, p.hist);
	}
}

static void on_result(struct coord *c, struct coord_agent *a, json_t *msg)
{
	struct proto_err err;
	struct msg_result *r = a->result ? a->result : malloc(sizeof(*r));

	if (r == NULL || msg_result_unpack(msg, r, &err) < 0) {
		if (r != a->result)
			free(r);
		drop(c, a->id, r ? err.msg : "out of memory");
		return;
	}
	a->result = r;
	a->counts = r->counts;
	if (a->state != AGENT_LOST)
		a->state = AGENT_DONE;
	/* Acknowledged every time: a lost ack makes the agent send it again. */
	coord_send(c, a->id, msg_empty_pack(PROTO_RESULT_ACK));
}

static void on_agent_message(struct coord *c, struct coord_agent *a, enum proto_type type,
                             json_t *msg)
{
	struct proto_err err;
	struct msg_reject rj;

	switch (type) {
	case PROTO_READY:
		if (a->state == AGENT_ASSIGNED)
			a->state = AGENT_READY;
		break;
	case PROTO_REJECT:
	case PROTO_BYE:
		if (msg_reject_unpack(msg, &rj, &err) < 0) {
			drop(c, a->id, err.msg);
			break;
		}
		if (type == PROTO_REJECT && a->state == AGENT_ASSIGNED) {
			a->state = AGENT_REJECTED;
			coord_text(a->why, sizeof(a->why), "%s", rj.reason);
		} else if (type == PROTO_BYE && coord_agent_active(a)) {
			char why[MSG_TEXT_MAX + 32];
			coord_text(why, sizeof(why), "it left: %s", rj.reason);
			coord_mark_lost(c, a, why);
		}
		break;
	case PROTO_PROGRESS:
	case PROTO_PHASE_DONE:
		on_counts(c, a, type, msg);
		break;
	case PROTO_RESULT:
		on_result(c, a, msg);
		break;
	case PROTO_HEARTBEAT:
		break;
	default:
		coord_text(err.msg, sizeof(err.msg), "unexpected %s", proto_type_name(type));
		drop(c, a->id, err.msg);
	}
}

static void on_message(struct coord *c, const char *id, const void *body, size_t len)
{
	enum proto_type type;
	struct proto_err err;
	struct coord_agent *a = coord_agent_find(c, id);
	json_t *msg = proto_decode(body, len, &type, &err);

	if (msg == NULL) {
		drop(c, id, err.msg);
		/* Tell a peer speaking another version why nothing will happen. */
		if (strstr(err.msg, "protocol version") != NULL) {
			struct msg_stop st;
			coord_text(st.reason, sizeof(st.reason), "refused by the coordinator: %s",
			           err.msg);
			coord_send(c, id, msg_stop_pack(&st));
		}
		return;
	}
	if (a != NULL)
		a->last_seen_ms = coord_now_ms();
	if (type == PROTO_HELLO)
		on_hello(c, id, a, msg);
	else if (a == NULL)
		drop(c, id, "not from an agent of this run (no hello)");
	else
		on_agent_message(c, a, type, msg);
	json_decref(msg);
}

/* Reads one [routing id, body] message; extra frames are dropped. */
static int recv_agent(struct coord *c)
{
	char id[MSG_NAME_MAX];
	zmq_msg_t body;
	int more;
	size_t sz = sizeof(more);

	int n = zmq_recv(c->router, id, sizeof(id) - 1, ZMQ_DONTWAIT);
	if (n < 0)
		return -1;
	id[n < (int)sizeof(id) - 1 ? n : (int)sizeof(id) - 1] = '\0';
	zmq_msg_init(&body);
	if (zmq_msg_recv(&body, c->router, 0) >= 0)
		on_message(c, id, zmq_msg_data(&body), zmq_msg_size(&body));
	while (zmq_getsockopt(c->router, ZMQ_RCVMORE, &more, &sz) == 0 && more)
		zmq_msg_recv(&body, c->router, 0);
	zmq_msg_close(&body);
	return 0;
}

static void record_sample(struct coord *c, const struct server_stats *st)
{
	if (c->nsamples == c->samples_cap) {
		int cap = c->samples_cap ? c->samples_cap * 2 : 256;
		struct coord_sample *s = realloc(c->samples, (size_t)cap * sizeof(*s));
		if (s == NULL)
			return; /* the timeline thins out; the run goes on */
		c->samples = s;
		c->samples_cap = cap;
	}
	c->samples[c->nsamples].t_s = (double)(coord_now_ms() - c->started_ms) / 1000.0;
	c->samples[c->nsamples++].stats = *st;
	c->last_stats = *st;
	c->have_last_stats = true;
}

/*
 * Replies come back as [seq, body]: the server's ROUTER returns every frame
 * before the body, so each reply names the request it answers, and a slow
 * server's late answer to an old request is never taken for a fresh one.
 */
static void recv_stats(struct coord *c)
{
	char buf[8192];
	uint64_t seq = 0;
	enum proto_type type;
	struct proto_err err;
	struct server_stats st;
	int more = 0;
	size_t sz = sizeof(more);

	int n = zmq_recv(c->stats_sock, &seq, sizeof(seq), ZMQ_DONTWAIT);
	if (n < 0)
		return;
	if (n != (int)sizeof(seq) || zmq_getsockopt(c->stats_sock, ZMQ_RCVMORE, &more, &sz) < 0 ||
	    !more) {
		drop(c, "the server", "stats reply without its request number");
		return;
	}
	n = zmq_recv(c->stats_sock, buf, sizeof(buf), 0);
	if (n < 0)
		return;
	if (seq == c->stats_sent_seq)
		c->stats_sent_ms = 0;
	json_t *msg = n <= (int)sizeof(buf) ? proto_decode(buf, (size_t)n, &type, &err) : NULL;
	if (msg != NULL && stats_unpack(msg, &st, &err) == 0) {
		record_sample(c, &st);
		if (seq > c->stats_seq)
			c->stats_seq = seq;
	} else {
		drop(c, "the server", n > (int)sizeof(buf) ? "stats reply too large" : err.msg);
	}
	json_decref(msg);
}

/* Asks the server for a sample; `fresh` sends a new request even if one is outstanding. */
void coord_request_stats(struct coord *c, bool fresh)
{
	int64_t now = coord_now_ms();
	size_t len;

	/*
	 * One outstanding periodic request; a reply later than 10 s counts as
	 * missed (a server holding 300K threads needs seconds to sum its memory).
	 */
	if (c->stats_sock == NULL || (!fresh && c->stats_sent_ms && now - c->stats_sent_ms < 10000))
		return;
	json_t *req = stats_req_new();
	char *body = req ? proto_encode(req, &len) : NULL;
	uint64_t seq = c->stats_sent_seq + 1;
	json_decref(req);
	if (body && zmq_send(c->stats_sock, &seq, sizeof(seq), ZMQ_SNDMORE | ZMQ_DONTWAIT) >= 0 &&
	    zmq_send(c->stats_sock, body, len, ZMQ_DONTWAIT) >= 0) {
		c->stats_sent_ms = now;
		c->stats_sent_seq = seq;
	}
	free(body);
}

/* One row of every agent's open connections; the table grows by doubling. */
static void timeline_add(struct coord *c, int64_t now)
{
	if (c->tl_n == c->tl_cap) {
		int cap = c->tl_cap ? c->tl_cap * 2 : 256;
		double *t = realloc(c->tl_t, (size_t)cap * sizeof(*t));
		if (t != NULL)
			c->tl_t = t;
		int64_t *cur = realloc(c->tl_current,
		                       (size_t)cap * (size_t)c->plan->agents_count * sizeof(*cur));
		if (cur != NULL)
			c->tl_current = cur;
		if (t == NULL || cur == NULL)
			return; /* the timeline stops growing; the run goes on */
		c->tl_cap = cap;
	}
	int64_t *row = &c->tl_current[(size_t)c->tl_n * (size_t)c->plan->agents_count];
	/* A lost agent's connections are gone (its dead man's switch closed them). */
	for (int i = 0; i < c->plan->agents_count; i++)
		row[i] = i < c->nagents && c->agents[i].state != AGENT_LOST
		             ? c->agents[i].counts.current
		             : 0;
	c->tl_t[c->tl_n++] = (double)(now - c->started_ms) / 1000.0;
}

void coord_mark(struct coord *c, const char *phase, int step)
{
	if (c->nmarks == COORD_MAX_MARKS)
		return;
	c->marks[c->nmarks].t_s = (double)(coord_now_ms() - c->started_ms) / 1000.0;
	c->marks[c->nmarks].phase = phase;
	c->marks[c->nmarks++].step = step;
}

void coord_free(struct coord *c)
{
	for (int k = 0; k < MSG_MAX_STEPS; k++) {
		free(c->steps[k].connect);
		free(c->steps[k].echo);
	}
	for (int i = 0; i < c->nagents; i++)
		free(c->agents[i].result);
	free(c->agents);
	free(c->samples);
	free(c->phase_hist);
	free(c->tl_t);
	free(c->tl_current);
}

static void housekeeping(struct coord *c)
{
	int64_t now = coord_now_ms();

	if (now >= c->next_heartbeat_ms) {
		c->next_heartbeat_ms = now + COORD_HEARTBEAT_MS;
		for (int i = 0; i < c->nagents; i++)
			if (coord_agent_active(&c->agents[i]))
				coord_send(c, c->agents[i].id, msg_empty_pack(PROTO_HEARTBEAT));
	}
	for (int i = 0; i < c->nagents; i++) {
		struct coord_agent *a = &c->agents[i];
		if (coord_agent_active(a) && now - a->last_seen_ms > COORD_LOST_MS)
			coord_mark_lost(c, a, "silent for 3 s");
	}
	if (now >= c->next_timeline_ms && c->nagents > 0) {
		c->next_timeline_ms = now + COORD_TIMELINE_MS;
		timeline_add(c, now);
	}
	if (c->stats_sock && now >= c->next_sample_ms) {
		c->next_sample_ms = now + c->plan->server_interval_ms;
		coord_request_stats(c, false);
	}
	coord_progress(c, false);
}

void coord_pump(struct coord *c, int timeout_ms)
{
	zmq_pollitem_t items[2] = {
	    {.socket = c->router, .events = ZMQ_POLLIN},
	    {.socket = c->stats_sock, .events = ZMQ_POLLIN},
	};

	if (zmq_poll(items, c->stats_sock ? 2 : 1, timeout_ms) > 0) {
		/* Bounded, so 1,000 chatty agents cannot starve heartbeats. */
		for (int i = 0; i < 4096 && recv_agent(c) == 0; i++)
			;
		if (c->stats_sock && (items[1].revents & ZMQ_POLLIN))
			for (int i = 0; i < 16; i++)
				recv_stats(c);
	}
	housekeeping(c);
}
