/*
 * endpoint — the server's stats endpoint: a ZeroMQ ROUTER that answers each
 * `stats_req` with one `server_stats`. ROUTER rather than REP so that a
 * client dying mid-request cannot wedge it, and so REQ and DEALER clients
 * both work (every frame before the body is echoed back as the envelope).
 */
#ifndef CONNSCALE_SERVER_ENDPOINT_H
#define CONNSCALE_SERVER_ENDPOINT_H

#include "auth.h"
#include "sample.h"

struct server_endpoint {
	void *ctx;
	void *sock;
	const char *endpoint;
	char bound[256]; /* what it bound: the port a "tcp://127.0.0.1:*" got */
	long bad_requests;
	struct auth auth; /* ZAP handler, with --authorized-keys */
};

/*
 * Binds cfg->stats; with cfg->curve_secret as a CURVE server, and with
 * cfg->authorized_keys behind a ZAP handler that admits only those keys.
 */
int server_endpoint_open(struct server_endpoint *ep, const struct server_config *cfg);
/* Waits up to timeout_ms for requests and answers all that arrived. */
void server_endpoint_poll(struct server_endpoint *ep, const struct server_sampler *sampler,
                          int timeout_ms);
void server_endpoint_close(struct server_endpoint *ep);

#endif
