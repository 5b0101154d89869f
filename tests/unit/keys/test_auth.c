/*
 * unit.keys.auth: the ZAP handler with real ZeroMQ sockets over ipc. A CURVE
 * server with ZAP enforced admits nobody while no handler runs (fail closed);
 * with auth_start it admits the listed key and refuses (and counts) another.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zmq.h>

#include "auth.h"
#include "check.h"
#include "keys.h"

static char dir[64];

/* Does a "hi" from a client with pair `client` reach a server with pair `server`? */
static int delivered(void *ctx, const struct keys_pair *server, const struct keys_pair *client,
                     int n)
{
	char ep[128], buf[16];
	int linger = 0;
	void *srv = zmq_socket(ctx, ZMQ_ROUTER);
	void *cli = zmq_socket(ctx, ZMQ_DEALER);
	int got = 0;

	snprintf(ep, sizeof(ep), "ipc://%s/s%d.ipc", dir, n);
	zmq_setsockopt(srv, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_setsockopt(cli, ZMQ_LINGER, &linger, sizeof(linger));
	CHECK(auth_curve_server(srv, server, true) == 0);
	CHECK(zmq_bind(srv, ep) == 0);
	CHECK(auth_curve_client(cli, client, server->public_z85) == 0);
	CHECK(zmq_connect(cli, ep) == 0);
	zmq_send(cli, "hi", 2, ZMQ_DONTWAIT);
	zmq_pollitem_t item = {.socket = srv, .events = ZMQ_POLLIN};
	if (zmq_poll(&item, 1, 1000) > 0) {
		zmq_recv(srv, buf, sizeof(buf), 0); /* routing id */
		got = zmq_recv(srv, buf, sizeof(buf), 0) == 2 && memcmp(buf, "hi", 2) == 0;
	}
	zmq_close(cli);
	zmq_close(srv);
	return got;
}

static void pair(struct keys_pair *kp)
{
	CHECK(zmq_curve_keypair(kp->public_z85, kp->secret_z85) == 0);
}

int main(void)
{
	struct keys_pair server, good, bad;
	struct auth a;
	char allowed[128], path[192], err[512];
	FILE *f;

	snprintf(dir, sizeof(dir), "/tmp/connscale-auth-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	pair(&server);
	pair(&good);
	pair(&bad);
	snprintf(allowed, sizeof(allowed), "%s/allowed", dir);
	CHECK(mkdir(allowed, 0700) == 0);
	snprintf(path, sizeof(path), "%s/good.pub", allowed);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fprintf(f, "%s\n", good.public_z85);
		fclose(f);
	}

	/* No handler, ZAP enforced: even the good key is refused. */
	void *ctx = zmq_ctx_new();
	CHECK(!delivered(ctx, &server, &good, 1));
	zmq_ctx_term(ctx);

	ctx = zmq_ctx_new();
	CHECK(auth_start(&a, ctx, allowed, "unit", "a client", err, sizeof(err)) == 0);
	/* A second handler in the same context cannot bind: a clear error. */
	struct auth b;
	CHECK(auth_start(&b, ctx, allowed, "unit", "a client", err, sizeof(err)) < 0);
	CHECK_CONTAINS(err, "cannot start the ZAP handler on inproc://zeromq.zap.01");
	CHECK(delivered(ctx, &server, &good, 2));
	CHECK(!delivered(ctx, &server, &bad, 3));
	CHECK(atomic_load(&a.admitted) >= 1);
	CHECK(atomic_load(&a.denied) >= 1);
	CHECK_EQ_U(atomic_load(&a.nrefused), 1); /* remembered once, however often it retried */
	auth_stop(&a);
	zmq_ctx_term(ctx);

	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	if (system(path) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return check_exit("unit.keys.auth");
}
