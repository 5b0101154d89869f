/*
 * old_agent ENDPOINT VERSION — an agent from another protocol version: sends
 * a malformed message, then one hello with "v": VERSION, and prints the reply. Exit 0 when the
 * coordinator answered with a stop, 1 if it did not answer within 5 s.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zmq.h>

int main(int argc, char **argv)
{
	char hello[512], reply[4096];
	int timeout = 5000, zero = 0;

	if (argc != 3) {
		fprintf(stderr, "usage: old_agent ENDPOINT VERSION\n");
		return 2;
	}
	void *ctx = zmq_ctx_new();
	void *s = zmq_socket(ctx, ZMQ_DEALER);
	zmq_setsockopt(s, ZMQ_ROUTING_ID, "old-agent", 9);
	zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout, sizeof(timeout));
	zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof(zero));
	zmq_connect(s, argv[1]);
	snprintf(hello, sizeof(hello),
	         "{\"v\":%s,\"type\":\"hello\",\"name\":\"old-agent\",\"version\":\"9.9\"}",
	         argv[2]);
	/* Garbage first: the coordinator must log, count and drop it, and carry on. */
	zmq_send(s, "\x01not json{", 10, 0);
	zmq_send(s, hello, strlen(hello), 0);
	int n = zmq_recv(s, reply, sizeof(reply) - 1, 0);
	zmq_close(s);
	zmq_ctx_term(ctx);
	if (n < 0) {
		printf("no reply\n");
		return 1;
	}
	reply[n < (int)sizeof(reply) - 1 ? n : (int)sizeof(reply) - 1] = '\0';
	printf("%s\n", reply);
	return strstr(reply, "\"stop\"") ? 0 : 1;
}
