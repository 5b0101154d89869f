/*
 * stats_dump ENDPOINT [TIMEOUT_MS] — sends one stats_req to a server's stats
 * endpoint and prints the server_stats reply as one line of JSON, so shell
 * benchmarks can pick fields with jq. Exit 0 on a valid server_stats reply,
 * 1 on timeout or a malformed reply, 2 on bad usage.
 */
#include <stdio.h>
#include <stdlib.h>

#include <zmq.h>

#include "proto.h"
#include "stats.h"

#define STATS_DUMP_MAX 65536

int main(int argc, char **argv)
{
	struct server_stats st;
	struct proto_err err;
	enum proto_type type;
	json_t *msg = NULL;
	int timeout_ms = argc > 2 ? atoi(argv[2]) : 3000;
	int zero = 0, rc = 1, n = -1;
	size_t len = 0;
	static char buf[STATS_DUMP_MAX];

	if (argc < 2 || argc > 3 || timeout_ms <= 0) {
		fprintf(stderr, "usage: stats_dump ENDPOINT [TIMEOUT_MS]\n");
		return 2;
	}
	void *ctx = zmq_ctx_new();
	void *s = ctx ? zmq_socket(ctx, ZMQ_REQ) : NULL;
	json_t *req = stats_req_new();
	char *body = req ? proto_encode(req, &len) : NULL;

	if (!s || !body)
		goto done;
	/* A dead endpoint must not hang the benchmark: bound send, receive and close. */
	zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof(zero));
	zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout_ms, sizeof(timeout_ms));
	zmq_setsockopt(s, ZMQ_SNDTIMEO, &timeout_ms, sizeof(timeout_ms));
	if (zmq_connect(s, argv[1]) != 0) {
		fprintf(stderr, "stats_dump: %s: %s\n", argv[1], zmq_strerror(zmq_errno()));
		goto done;
	}
	if (zmq_send(s, body, len, 0) >= 0)
		n = zmq_recv(s, buf, sizeof(buf) - 1, 0);
	if (n < 0 || n >= (int)sizeof(buf) - 1) {
		fprintf(stderr, "stats_dump: %s: no reply within %d ms\n", argv[1], timeout_ms);
		goto done;
	}
	buf[n] = '\0';
	msg = proto_decode(buf, (size_t)n, &type, &err);
	/* Validate strictly so a shell caller never parses a half-right reply. */
	if (msg && type == PROTO_SERVER_STATS && stats_unpack(msg, &st, &err) == 0) {
		printf("%s\n", buf);
		rc = 0;
	} else {
		fprintf(stderr, "stats_dump: %s: %s\n", argv[1],
		        msg ? err.msg : "reply is not a valid message");
	}
	json_decref(msg);
done:
	free(body);
	json_decref(req);
	if (s)
		zmq_close(s);
	if (ctx)
		zmq_ctx_term(ctx);
	return rc;
}
