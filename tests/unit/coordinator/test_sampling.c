/*
 * The server's stats replies (sampling.c), without a socket: a reply is taken
 * once, for a request sent and not yet answered; copies and numbers never
 * sent are dropped and counted, so they neither pile up as samples nor pass
 * off an old sample as a fresh one; unreadable replies count toward "gone".
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "coord.h"

static uint64_t sent[16];
static int nsent;

static bool no_wait(struct coord *c, int timeout_ms)
{
	(void)c, (void)timeout_ms;
	return true;
}

static int no_send(struct coord *c, const char *id, const void *body, size_t len)
{
	(void)c, (void)id, (void)body, (void)len;
	errno = EHOSTUNREACH;
	return -1;
}

static int stats_send(struct coord *c, uint64_t seq, const void *body, size_t len)
{
	(void)c, (void)body, (void)len;
	if (nsent < 16)
		sent[nsent++] = seq;
	return 0;
}

static const struct coord_io io = {.wait = no_wait, .send = no_send, .stats_send = stats_send};

/* A readable reply numbered seq, saying the server holds conns connections. */
static void reply(struct coord *c, uint64_t seq, int64_t conns)
{
	struct server_stats st;
	size_t len;

	memset(&st, 0, sizeof(st));
	snprintf(st.model, sizeof(st.model), "epoll");
	st.processes = 1;
	st.conns_current = conns;
	json_t *msg = stats_pack(&st);
	char *body = msg ? proto_encode(msg, &len) : NULL;
	json_decref(msg);
	CHECK(body != NULL, "a stats reply packed");
	if (body != NULL)
		coord_on_stats(c, true, seq, body, len);
	free(body);
}

int main(void)
{
	struct plan plan;
	struct proto_err err;
	struct coord_options opt = {.quiet = true};
	volatile sig_atomic_t interrupted = 0;
	struct coord c;
	const char *text = "{\"name\": \"s\", \"target\": {\"host\": \"127.0.0.1\", \"port\": 9},"
	                   " \"agents\": {\"count\": 1}, \"connections\": 1,"
	                   " \"server\": {\"stats\": \"tcp://127.0.0.1:9\"}}";

	if (plan_parse(text, strlen(text), "test", &plan, &err) < 0) {
		fprintf(stderr, "the test's plan: %s\n", err.msg);
		return 1;
	}
	memset(&c, 0, sizeof(c));
	c.plan = &plan;
	c.opt = &opt;
	c.interrupted = &interrupted;
	c.io = &io;
	c.sampling = true;
	snprintf(c.stats_endpoint, sizeof(c.stats_endpoint), "tcp://127.0.0.1:9");
	c.started_ms = clock_ms();

	coord_request_stats(&c, true);
	CHECK_EQ(nsent, 1);
	CHECK_EQ_U(sent[0], 1);
	reply(&c, 1, 10);
	CHECK_EQ(c.nsamples, 1);
	CHECK_EQ(c.last_stats.conns_current, 10);
	CHECK_EQ(c.stats_sent_ms, 0); /* answered */

	/* A copy, and a number never sent: dropped, counted, not samples. */
	for (int i = 0; i < 20; i++)
		reply(&c, 1, 99);
	reply(&c, UINT64_MAX, 99);
	reply(&c, 2, 99);
	CHECK_EQ(c.nsamples, 1);
	CHECK_EQ(c.dropped, 22);
	CHECK_EQ_U(c.stats_seq, 1);
	CHECK_EQ(c.last_stats.conns_current, 10);

	/* The next request's answer is taken, once. */
	coord_request_stats(&c, true);
	CHECK_EQ_U(sent[1], 2);
	reply(&c, 2, 20);
	reply(&c, 2, 99);
	CHECK_EQ(c.nsamples, 2);
	CHECK_EQ(c.last_stats.conns_current, 20);
	CHECK_EQ(c.dropped, 23);

	/* Unreadable answers to real requests: three in a row and the server is gone. */
	for (int i = 0; i < COORD_STATS_BAD_MAX; i++) {
		coord_request_stats(&c, true);
		coord_on_stats(&c, true, c.stats_sent_seq, "{not json", 9);
	}
	CHECK(c.server_gone, "%d unreadable replies: the server counts as gone",
	      COORD_STATS_BAD_MAX);
	CHECK_CONTAINS(c.server_error, "unreadable replies in a row");
	CHECK_EQ(c.nsamples, 2);

	/* Gone is final: a good answer to the last request, late, is not taken. */
	int64_t answered = c.last_answer_ms;
	reply(&c, c.stats_sent_seq, 30);
	CHECK_EQ(c.nsamples, 2);
	CHECK_EQ(c.last_answer_ms, answered);
	CHECK_EQ(c.last_stats.conns_current, 20);

	coord_free(&c);
	plan_free(&plan);
	return check_exit("unit.coordinator.sampling");
}
