/*
 * e2e.agent.phases: the engine driven phase by phase, as the coordinator will:
 * steps (connect 200, echo, connect 500 = 300 more, echo), a no-op step, -EBUSY
 * while a phase runs, engine_close() in the middle of a paced connect phase,
 * and the accounting identities. Argument: the port of an echo server on 127.0.0.1.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "engine.h"

/* Each phase must finish well within its deadline; 20 s means a hang. */
static void wait_phase(struct engine *e, const char *what)
{
	CHECK(engine_wait(e, 20000), "%s did not finish within 20 s", what);
}

static unsigned long long failed_sum(const struct engine_counts *c)
{
	unsigned long long s = 0;
	int i;

	for (i = 0; i < ENGINE_REASON_COUNT; i++)
		s += c->failed[i];
	return s;
}

int main(int argc, char **argv)
{
	struct engine_params p;
	struct engine_counts c;
	struct engine_result *r;
	struct engine *e;
	struct in_addr src;
	char err[256];
	struct timespec ts = {0, 300 * 1000000L};

	if (argc != 2) {
		fprintf(stderr, "usage: test_agent_phases PORT\n");
		return 2;
	}
	memset(&p, 0, sizeof(p));
	p.target.sin_family = AF_INET;
	p.target.sin_port = htons((uint16_t)atoi(argv[1]));
	inet_pton(AF_INET, "127.0.0.1", &p.target.sin_addr);
	inet_pton(AF_INET, "127.0.0.15", &src);
	p.sources = &src;
	p.nsources = 1;
	p.threads = 2;
	p.connect_timeout_ms = 3000;
	p.payload_bytes = 100;
	p.rounds = 2;
	p.echo_timeout_ms = 3000;
	e = engine_create(&p, err, sizeof(err));
	if (!e) {
		fprintf(stderr, "FAIL: engine_create: %s\n", err);
		return 1;
	}
	CHECK_EQ_U(engine_wait(e, 0), 1); /* nothing running yet */

	engine_connect(e, 200);
	wait_phase(e, "connect 200");
	engine_snapshot(e, &c);
	CHECK_EQ_U(c.attempted, 200);
	CHECK_EQ_U(c.current, 200);
	engine_echo(e);
	wait_phase(e, "echo 1");
	engine_snapshot(e, &c);
	CHECK_EQ_U(c.echo_ok, 200);
	CHECK_EQ_U(c.echo_rounds, 400);

	engine_connect(e, 500); /* 300 more */
	wait_phase(e, "connect 500");
	engine_connect(e, 500); /* already there: no attempt */
	wait_phase(e, "connect 500 again");
	engine_snapshot(e, &c);
	CHECK_EQ_U(c.attempted, 500);
	CHECK_EQ_U(c.current, 500);
	CHECK_EQ_U(c.max_concurrent, 500);
	engine_echo(e);
	wait_phase(e, "echo 2");
	engine_snapshot(e, &c);
	CHECK_EQ_U(c.echo_ok, 700); /* 200 + 500 */
	CHECK_EQ_U(c.echo_rounds, 1400);

	engine_close(e);
	wait_phase(e, "close");
	engine_snapshot(e, &c);
	CHECK_EQ_U(c.current, 0);
	CHECK_EQ_U(failed_sum(&c), 0);
	engine_destroy(e);

	/* Close in the middle of a paced connect phase: it ends, nothing leaks. */
	p.rate = 1000;
	e = engine_create(&p, err, sizeof(err));
	if (!e) {
		fprintf(stderr, "FAIL: engine_create: %s\n", err);
		return 1;
	}
	engine_connect(e, 100000);
	CHECK_EQ(engine_echo(e), -EBUSY);
	CHECK_EQ(engine_connect(e, 5), -EBUSY);
	nanosleep(&ts, NULL);
	CHECK_EQ_U(engine_wait(e, 0), 0); /* the connect phase still runs */
	engine_close(e);
	wait_phase(e, "close mid-connect");
	r = malloc(sizeof(*r));
	if (!r)
		return 1;
	engine_result(e, r);
	printf("mid-connect close after %llu attempts\n", (unsigned long long)r->counts.attempted);
	CHECK(r->counts.attempted >= 200 && r->counts.attempted <= 500,
	      "paced: %llu attempts in 300 ms at 1000/s, want 200..500",
	      (unsigned long long)r->counts.attempted);
	CHECK_EQ_U(r->counts.attempted,
	           r->counts.established + r->counts.connect_failed + r->counts.aborted);
	CHECK_EQ_U(r->counts.current, 0);
	CHECK_EQ_U(r->connect.count, r->counts.established);
	free(r);
	engine_destroy(e);
	return check_exit("e2e.agent.phases");
}
