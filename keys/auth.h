/*
 * auth — CURVE on ZeroMQ sockets, and a ZAP handler (RFC 27) that admits
 * only the public keys of an allowlist directory.
 *
 * The handler is a thread with its own REP socket bound to
 * inproc://zeromq.zap.01 in the caller's context. Start it before any CURVE
 * server socket of that context binds, and stop it only after they are
 * closed: CURVE servers set ZMQ_ZAP_ENFORCE_DOMAIN, so without a handler
 * nobody gets in (fail closed), and with it only listed keys do.
 */
#ifndef CONNSCALE_AUTH_H
#define CONNSCALE_AUTH_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "keys.h"

#define AUTH_DOMAIN     "connscale"
#define AUTH_MAX_LOGGED 1024 /* distinct refused keys remembered (each logged once) */

struct auth {
	void *zap; /* REP; after auth_start only the thread touches it */
	pthread_t thread;
	bool running;
	atomic_bool stop;
	struct keys_set allowed;
	const char *prog;                 /* log prefix: "coordinator" */
	const char *peer;                 /* what is refused: "an agent" */
	uint8_t (*refused)[KEYS_BIN_LEN]; /* thread-owned: keys already logged */
	atomic_int nrefused;              /* read by tests while the handler runs */
	atomic_long admitted, denied;
};

/*
 * Loads dir's *.pub keys, binds the ZAP socket in ctx and starts the thread.
 * Logs "PROG: N authorized keys in DIR". Returns 0, or -errno with err filled
 * (nothing left running).
 */
int auth_start(struct auth *a, void *ctx, const char *dir, const char *prog, const char *peer,
               char *err, size_t errlen);
/* Stops and joins the thread and closes its socket; safe on a zeroed struct. */
void auth_stop(struct auth *a);

/*
 * sock becomes a CURVE server with our secret key. With zap, client keys are
 * checked by the context's ZAP handler, and none get in without one; without,
 * any client key is accepted (encryption and server authentication only).
 */
int auth_curve_server(void *sock, const struct keys_pair *kp, bool zap);
/* sock becomes a CURVE client that talks only to the holder of server_z85. */
int auth_curve_client(void *sock, const struct keys_pair *kp, const char *server_z85);

/*
 * True for endpoints only this host can reach: ipc://, inproc://, and tcp://
 * on 127.0.0.0/8, localhost or [::1]. A wildcard, an interface name or any
 * other host is not.
 */
bool auth_endpoint_is_loopback(const char *endpoint);

#endif
