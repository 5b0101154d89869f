#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

#include "endpoint.h"
#include "proto.h"

/* Routing frames ahead of the body: identity, and REQ's empty delimiter. */
#define MAX_ENVELOPE 4

/* CURVE server; with an allowlist, the ZAP handler starts before anything binds. */
static int secure(struct server_endpoint *ep, const struct server_config *cfg)
{
	struct keys_pair kp;
	char err[512];
	bool zap = cfg->authorized_keys != NULL;
	int rc = keys_read_secret(cfg->curve_secret, &kp, err, sizeof(err));

	if (rc == 0 && zap)
		rc = auth_start(&ep->auth, ep->ctx, cfg->authorized_keys, "server",
		                "a stats client", err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "server: stats endpoint: %s\n", err);
		return -1;
	}
	rc = auth_curve_server(ep->sock, &kp, zap);
	memset(&kp, 0, sizeof(kp));
	if (rc < 0)
		fprintf(stderr, "server: stats endpoint: cannot set up CURVE: %s\n",
		        zmq_strerror(zmq_errno()));
	return rc;
}

int server_endpoint_open(struct server_endpoint *ep, const struct server_config *cfg)
{
	int linger = 0;
	int64_t maxmsg = PROTO_MAX_MSG;
	const char *endpoint = cfg->stats;

	memset(ep, 0, sizeof(*ep));
	ep->endpoint = endpoint;
	ep->ctx = zmq_ctx_new();
	if (ep->ctx == NULL)
		goto error;
	ep->sock = zmq_socket(ep->ctx, ZMQ_ROUTER);
	if (ep->sock == NULL || zmq_setsockopt(ep->sock, ZMQ_LINGER, &linger, sizeof(linger)) < 0 ||
	    zmq_setsockopt(ep->sock, ZMQ_MAXMSGSIZE, &maxmsg, sizeof(maxmsg)) < 0)
		goto error;
	if (cfg->curve_secret != NULL && secure(ep, cfg) < 0) {
		server_endpoint_close(ep);
		return -1;
	}
	if (zmq_bind(ep->sock, endpoint) < 0)
		goto error;
	/* With a wildcard port ("tcp://127.0.0.1:*") this is how callers learn it. */
	char *bound = ep->bound;
	size_t len = sizeof(ep->bound);
	if (zmq_getsockopt(ep->sock, ZMQ_LAST_ENDPOINT, bound, &len) < 0)
		goto error;
	printf("server: stats on %s\n", bound);
	if (cfg->curve_secret != NULL)
		printf("server: stats endpoint: CURVE, %s\n",
		       cfg->authorized_keys ? "authorized client keys only" : "any client key");
	fflush(stdout);
	/* As the coordinator and agent do for their control planes: say it, once, at start. */
	if (cfg->curve_secret == NULL && !auth_endpoint_is_loopback(endpoint))
		fprintf(stderr,
		        "server: warning: the stats endpoint on %s is reachable from other hosts "
		        "and unauthenticated (no --curve-secret): anyone who can reach it can read "
		        "this server's stats; give --curve-secret FILE --authorized-keys DIR (keys "
		        "from --gen-keys), or bind a loopback endpoint\n",
		        bound);
	return 0;
error:
	fprintf(stderr, "server: stats endpoint %s: %s\n", endpoint, zmq_strerror(zmq_errno()));
	server_endpoint_close(ep);
	return -1;
}

static int reply(struct server_endpoint *ep, zmq_msg_t *env, int nenv,
                 const struct server_sampler *sampler)
{
	struct server_stats st;
	size_t len;

	/* A watched process that is gone gets no answer: its numbers are not live (watch.c). */
	if (server_sampler_collect(sampler, &st) < 0)
		return -ESRCH;
	json_t *msg = stats_pack(&st);
	char *body = msg ? proto_encode(msg, &len) : NULL;
	json_decref(msg);
	if (body == NULL)
		return -ENOMEM;
	int rc = 0;
	for (int i = 0; i < nenv && rc >= 0; i++)
		rc = zmq_msg_send(&env[i], ep->sock, ZMQ_SNDMORE | ZMQ_DONTWAIT);
	if (rc >= 0)
		rc = zmq_send(ep->sock, body, len, ZMQ_DONTWAIT);
	free(body);
	return rc < 0 ? -1 : 0;
}

/* Reads one multipart request; answers it if it is a well-formed stats_req. */
static void serve_one(struct server_endpoint *ep, const struct server_sampler *sampler)
{
	zmq_msg_t env[MAX_ENVELOPE], body;
	int nenv = 0, more = 1, overflow = 0;
	struct proto_err err;
	enum proto_type type;
	int rc;

	zmq_msg_init(&body);
	while (more) {
		if (zmq_msg_recv(&body, ep->sock, ZMQ_DONTWAIT) < 0)
			goto out;
		more = zmq_msg_more(&body);
		if (!more)
			break;
		if (nenv == MAX_ENVELOPE) { /* too deep to be ours: drain and drop */
			overflow = 1;
			continue;
		}
		zmq_msg_init(&env[nenv]);
		zmq_msg_move(&env[nenv++], &body);
	}
	if (overflow) {
		ep->bad_requests++;
		fprintf(stderr,
		        "server: stats endpoint: dropped a request with over %d routing frames\n",
		        MAX_ENVELOPE);
		goto out;
	}
	json_t *req = proto_decode(zmq_msg_data(&body), zmq_msg_size(&body), &type, &err);
	if (req != NULL && type != PROTO_STATS_REQ)
		snprintf(err.msg, sizeof(err.msg), "expected stats_req, got %s",
		         proto_type_name(type));
	if (req == NULL || type != PROTO_STATS_REQ) {
		ep->bad_requests++;
		fprintf(stderr, "server: stats endpoint: dropped a request: %s\n", err.msg);
	} else if ((rc = reply(ep, env, nenv, sampler)) < 0 && rc != -ESRCH) {
		fprintf(stderr, "server: stats endpoint: reply failed: %s\n",
		        zmq_strerror(zmq_errno()));
	}
	json_decref(req);
out:
	for (int i = 0; i < nenv; i++)
		zmq_msg_close(&env[i]);
	zmq_msg_close(&body);
}

void server_endpoint_poll(struct server_endpoint *ep, const struct server_sampler *sampler,
                          int timeout_ms)
{
	zmq_pollitem_t item = {.socket = ep->sock, .events = ZMQ_POLLIN};

	if (zmq_poll(&item, 1, timeout_ms) <= 0)
		return;
	/* Bounded so a flood of requests cannot keep the supervisor from its other work. */
	for (int i = 0; i < 64; i++) {
		int events = 0;
		size_t len = sizeof(events);
		if (zmq_getsockopt(ep->sock, ZMQ_EVENTS, &events, &len) < 0 ||
		    !(events & ZMQ_POLLIN))
			return;
		serve_one(ep, sampler);
	}
}

void server_endpoint_close(struct server_endpoint *ep)
{
	if (ep->sock != NULL)
		zmq_close(ep->sock);
	auth_stop(&ep->auth); /* after the socket it guarded */
	if (ep->ctx != NULL)
		zmq_ctx_term(ep->ctx);
	ep->sock = ep->ctx = NULL;
}
