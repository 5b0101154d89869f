/*
 * pump.c — the coordinator's ZeroMQ sockets and the wait on them (pump.h).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <zmq.h>

#include "clock.h"
#include "proto.h"
#include "pump.h"

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
static int open_router(struct pump *p, const struct pump_options *o, char *err, size_t errlen)
{
	int one = 1;
	int backlog = 1024; /* a thousand agents connect at once (libzmq's default is 100) */
	char why[512];

	p->router = zmq_socket(p->ctx, ZMQ_ROUTER);
	if (p->router == NULL || set_common_opts(p->router) < 0 ||
	    zmq_setsockopt(p->router, ZMQ_ROUTER_MANDATORY, &one, sizeof(one)) < 0 ||
	    zmq_setsockopt(p->router, ZMQ_BACKLOG, &backlog, sizeof(backlog)) < 0) {
		snprintf(err, errlen, "cannot bind %s: %s", o->bind, zmq_strerror(zmq_errno()));
		return -1;
	}
	if (!p->curve)
		return 0;
	if (auth_start(&p->auth, p->ctx, o->authorized_agents, "coordinator", "an agent", why,
	               sizeof(why)) < 0) {
		snprintf(err, errlen, "%s; refusing to run", why);
		return -2;
	}
	if (auth_curve_server(p->router, o->kp, true) < 0) {
		snprintf(err, errlen, "cannot make %s a CURVE server: %s; refusing to run", o->bind,
		         zmq_strerror(zmq_errno()));
		return -2;
	}
	return 0;
}

/*
 * The stats connection's events tell a dead server (its connection closes at
 * once) from a slow one (connected, still summing 300K threads' memory).
 */
static int open_stats(struct pump *p, const struct pump_options *o)
{
	char ep[64];
	int events = ZMQ_EVENT_CONNECTED | ZMQ_EVENT_DISCONNECTED |
	             ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL | ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL |
	             ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;

	p->stats = zmq_socket(p->ctx, ZMQ_DEALER);
	if (p->stats == NULL || set_common_opts(p->stats) < 0 ||
	    (o->stats_key && o->stats_key[0] &&
	     auth_curve_client(p->stats, o->kp, o->stats_key) < 0))
		return -1;
	snprintf(ep, sizeof(ep), "inproc://coord-stats-%p", p->stats);
	if (zmq_socket_monitor(p->stats, ep, events) < 0)
		return -1;
	p->monitor = zmq_socket(p->ctx, ZMQ_PAIR);
	if (p->monitor == NULL || zmq_connect(p->monitor, ep) < 0)
		return -1;
	return zmq_connect(p->stats, o->stats_endpoint);
}

int pump_open(struct pump *p, const struct pump_options *o, char *err, size_t errlen)
{
	size_t len = sizeof(p->bound);
	int rc;

	memset(p, 0, sizeof(*p));
	p->curve = o->kp != NULL;
	p->ctx = zmq_ctx_new();
	if (p->ctx == NULL) {
		snprintf(err, errlen, "cannot bind %s: %s", o->bind, zmq_strerror(zmq_errno()));
		return -1;
	}
	rc = open_router(p, o, err, errlen);
	if (rc < 0)
		return rc;
	if (zmq_bind(p->router, o->bind) < 0 ||
	    zmq_getsockopt(p->router, ZMQ_LAST_ENDPOINT, p->bound, &len) < 0) {
		snprintf(err, errlen, "cannot bind %s: %s", o->bind, zmq_strerror(zmq_errno()));
		return -1;
	}
	return 0;
}

int pump_connect_stats(struct pump *p, const struct pump_options *o, char *err, size_t errlen)
{
	if (open_stats(p, o) < 0) {
		snprintf(err, errlen, "server.stats %s: %s", o->stats_endpoint,
		         zmq_strerror(zmq_errno()));
		return -1;
	}
	return 0;
}

void pump_close(struct pump *p)
{
	if (p->monitor) {
		zmq_socket_monitor(p->stats, NULL, 0);
		zmq_close(p->monitor);
	}
	if (p->stats)
		zmq_close(p->stats);
	if (p->router)
		zmq_close(p->router);
	/* Only now: while the ROUTER was open, the handler had to be there. */
	auth_stop(&p->auth);
	if (p->ctx)
		zmq_ctx_term(p->ctx);
	p->stats = p->monitor = p->router = p->ctx = NULL;
}

/* Reads what is left of a message whose first frames were taken. */
static void discard_rest(void *sock)
{
	zmq_msg_t extra;
	int more = 1;

	zmq_msg_init(&extra);
	while (more && zmq_msg_recv(&extra, sock, 0) >= 0)
		more = zmq_msg_more(&extra);
	zmq_msg_close(&extra);
}

/* Reads one [routing id, body] message: 0, or -1 when none is waiting. */
static int recv_agent(struct pump *p, const struct pump_handlers *h)
{
	zmq_msg_t id, body;

	zmq_msg_init(&id);
	if (zmq_msg_recv(&id, p->router, ZMQ_DONTWAIT) < 0) {
		zmq_msg_close(&id);
		return -1;
	}
	zmq_msg_init(&body);
	bool whole = zmq_msg_more(&id) && zmq_msg_recv(&body, p->router, 0) >= 0;
	if (whole && zmq_msg_more(&body)) {
		discard_rest(p->router);
		h->agent_garbled(h->arg);
	} else if (whole) {
		const char *uid = p->curve ? zmq_msg_gets(&body, "User-Id") : NULL;
		h->agent(h->arg, zmq_msg_data(&id), zmq_msg_size(&id), uid ? uid : "",
		         zmq_msg_data(&body), zmq_msg_size(&body));
	}
	zmq_msg_close(&body);
	zmq_msg_close(&id);
	return 0;
}

/*
 * Replies come back as [seq, body]: the server's ROUTER returns every frame
 * before the body, so each reply names the request it answers.
 */
static int recv_stats(struct pump *p, const struct pump_handlers *h)
{
	char buf[PUMP_STATS_MAX];
	uint64_t seq = 0;
	int more = 0;
	size_t sz = sizeof(more);

	int n = zmq_recv(p->stats, &seq, sizeof(seq), ZMQ_DONTWAIT);
	if (n < 0)
		return -1;
	if (zmq_getsockopt(p->stats, ZMQ_RCVMORE, &more, &sz) < 0 || !more ||
	    n != (int)sizeof(seq)) {
		if (more)
			discard_rest(p->stats);
		h->stats(h->arg, false, 0, NULL, 0);
		return 0;
	}
	n = zmq_recv(p->stats, buf, sizeof(buf), 0);
	if (n < 0)
		return 0;
	/* A third frame: not a reply of ours, however readable its body (no body, length 0). */
	if (zmq_getsockopt(p->stats, ZMQ_RCVMORE, &more, &sz) == 0 && more) {
		discard_rest(p->stats);
		n = 0;
	}
	h->stats(h->arg, true, seq, n > 0 && n <= (int)sizeof(buf) ? buf : NULL, (size_t)n);
	return 0;
}

/* One monitor event: [event and value, endpoint]. */
static int recv_event(struct pump *p, const struct pump_handlers *h)
{
	uint8_t ev[6];
	char addr[256];
	uint16_t event;
	int n = zmq_recv(p->monitor, ev, sizeof(ev), ZMQ_DONTWAIT);

	if (n < 0)
		return -1;
	if (n != (int)sizeof(ev) || zmq_recv(p->monitor, addr, sizeof(addr), 0) < 0)
		return 0;
	memcpy(&event, ev, sizeof(event));
	if (event == ZMQ_EVENT_CONNECTED)
		h->stats_event(h->arg, PUMP_STATS_CONNECTED);
	else if (event == ZMQ_EVENT_DISCONNECTED)
		h->stats_event(h->arg, PUMP_STATS_DISCONNECTED);
	else if (event == ZMQ_EVENT_HANDSHAKE_FAILED_AUTH)
		h->stats_event(h->arg, PUMP_STATS_KEY_REFUSED);
	else
		h->stats_event(h->arg, PUMP_STATS_HANDSHAKE);
	return 0;
}

bool pump_wait(struct pump *p, int timeout_ms, int pass_ms, const struct pump_handlers *h)
{
	zmq_pollitem_t items[3] = {
	    {.socket = p->router, .events = ZMQ_POLLIN},
	    {.socket = p->stats, .events = ZMQ_POLLIN},
	    {.socket = p->monitor, .events = ZMQ_POLLIN},
	};
	bool drained = true;

	if (zmq_poll(items, p->stats ? 3 : 1, timeout_ms) <= 0)
		return true;
	int64_t until = clock_ms() + pass_ms;
	/* Bounded in time, so no flood can starve the caller's timers. */
	for (int n = 1; recv_agent(p, h) == 0; n++)
		if (n % 64 == 0 && clock_ms() >= until) {
			drained = false;
			break;
		}
	if (p->stats && (items[1].revents & ZMQ_POLLIN))
		for (int i = 0; i < 16 && recv_stats(p, h) == 0; i++)
			;
	if (p->monitor && (items[2].revents & ZMQ_POLLIN))
		for (int i = 0; i < 16 && recv_event(p, h) == 0; i++)
			;
	return drained;
}

int pump_send(struct pump *p, const char *id, const void *body, size_t len)
{
	if (zmq_send(p->router, id, strlen(id), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
	    zmq_send(p->router, body, len, ZMQ_DONTWAIT) < 0) {
		errno = zmq_errno();
		return -1;
	}
	return 0;
}

int pump_stats_send(struct pump *p, uint64_t seq, const void *body, size_t len)
{
	if (zmq_send(p->stats, &seq, sizeof(seq), ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0 ||
	    zmq_send(p->stats, body, len, ZMQ_DONTWAIT) < 0) {
		errno = zmq_errno();
		return -1;
	}
	return 0;
}
