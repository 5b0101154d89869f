/*
 * pump — the coordinator's sockets, knowing nothing of runs: a ROUTER the
 * agents talk to (a CURVE server with keys, their public keys checked by a
 * ZAP handler), a DEALER to the server's stats endpoint, and a monitor of
 * that connection. pump_wait() waits on all three and hands each message to
 * its handler, as redis's ae hands each ready file to its callback; what the
 * messages mean is the run's business (coord.c).
 */
#ifndef CONNSCALE_PUMP_H
#define CONNSCALE_PUMP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "auth.h"
#include "keys.h"

/* The largest stats reply read; a longer one is handed over as too large. */
#define PUMP_STATS_MAX 8192

/* What became of the connection to the server's stats endpoint. */
enum pump_stats_event {
	PUMP_STATS_CONNECTED,
	PUMP_STATS_DISCONNECTED,
	PUMP_STATS_KEY_REFUSED, /* the server refused our CURVE key */
	PUMP_STATS_HANDSHAKE,   /* another handshake failure: not the server of the key, or no CURVE
	                         */
};

struct pump_handlers {
	void *arg;
	/*
	 * One [routing id, body] message from a peer. user_id: the name of the
	 * CURVE key it came with ("" without CURVE); the id is bytes, unchecked.
	 */
	void (*agent)(void *arg, const unsigned char *id, size_t idlen, const char *user_id,
	              const void *body, size_t len);
	/* A message of more than two frames: read and thrown away. */
	void (*agent_garbled)(void *arg);
	/*
	 * A stats reply, [request number, body]. has_seq false: its first frame
	 * was not a request number (the rest was thrown away); body NULL: it was
	 * longer than PUMP_STATS_MAX (len says how long).
	 */
	void (*stats)(void *arg, bool has_seq, uint64_t seq, const void *body, size_t len);
	void (*stats_event)(void *arg, enum pump_stats_event ev);
};

struct pump_options {
	const char *bind;              /* the agents' endpoint */
	const struct keys_pair *kp;    /* ours; NULL: no CURVE */
	const char *authorized_agents; /*   with kp: the directory of the agents' NAME.pub */
	const char *stats_endpoint;    /* "" or NULL: no server to sample */
	const char *stats_key;         /*   its public key, Z85; "" or NULL: none */
};

struct pump {
	void *ctx;
	void *router;
	void *stats;   /* NULL without a stats endpoint */
	void *monitor; /*   and its connection's events */
	struct auth auth;
	bool curve;
	char bound[256]; /* the endpoint the ROUTER bound, port resolved */
};

/*
 * Binds the agents' ROUTER (with o->kp: the ZAP handler first, then CURVE).
 * 0; -1 when the endpoint cannot be bound; -2 when authentication cannot be
 * set up (the caller refuses to run). err says which, in a sentence.
 * pump_close() after either.
 */
int pump_open(struct pump *p, const struct pump_options *o, char *err, size_t errlen);
/* Then the DEALER to o->stats_endpoint and its monitor: 0, or -1 and err. */
int pump_connect_stats(struct pump *p, const struct pump_options *o, char *err, size_t errlen);
void pump_close(struct pump *p);
/*
 * Waits up to timeout_ms for anything to arrive and hands it over: agent
 * messages for at most pass_ms, so no flood starves the caller's timers, then
 * stats replies and events. False if it stopped with agent messages unread.
 */
bool pump_wait(struct pump *p, int timeout_ms, int pass_ms, const struct pump_handlers *h);
/* One message to a peer: 0; -1 with errno (EHOSTUNREACH: no such peer now). */
int pump_send(struct pump *p, const char *id, const void *body, size_t len);
/* A stats request, [seq, body]: 0 or -1 with errno. */
int pump_stats_send(struct pump *p, uint64_t seq, const void *body, size_t len);

#endif
