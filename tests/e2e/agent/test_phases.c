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

#include "engine.h"

static int failures;

#define EXPECT_EQ(what, got, want)                                                                 \
	do {                                                                                       \
		unsigned long long g_ = (got), w_ = (want);                                        \
		if (g_ != w_) {                                                                    \
			fprintf(stderr, "FAIL %s:%d: %s = %llu, expected %llu\n", __FILE__,        \
			        __LINE__, what, g_, w_);                                           \
			failures++;                                                                \
		} else {                                                                           \
			printf("ok: %s = %llu\n", what, w_);                                       \
		}                                                                                  \
	} while (0)

/* Each phase must finish well within its deadline; 20 s means a hang. */
static void wait_phase(struct engine *e, const char *what)
{
	if (!engine_wait(e, 20000)) {
		fprintf(stderr, "FAIL: %s did not finish within 20 s\n", what);
		failures++;
	}
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
	EXPECT_EQ("engine_wait before any phase", engine_wait(e, 0), 1);

	engine_connect(e, 200);
	wait_phase(e, "connect 200");
	engine_snapshot(e, &c);
	EXPECT_EQ("step 1 attempted", c.attempted, 200);
	EXPECT_EQ("step 1 current", c.current, 200);
	engine_echo(e);
	wait_phase(e, "echo 1");
	engine_snapshot(e, &c);
	EXPECT_EQ("step 1 echo_ok", c.echo_ok, 200);
	EXPECT_EQ("step 1 echo_rounds", c.echo_rounds, 400);

	engine_connect(e, 500); /* 300 more */
	wait_phase(e, "connect 500");
	engine_connect(e, 500); /* already there: no attempt */
	wait_phase(e, "connect 500 again");
	engine_snapshot(e, &c);
	EXPECT_EQ("step 2 attempted", c.attempted, 500);
	EXPECT_EQ("step 2 current", c.current, 500);
	EXPECT_EQ("step 2 max_concurrent", c.max_concurrent, 500);
	engine_echo(e);
	wait_phase(e, "echo 2");
	engine_snapshot(e, &c);
	EXPECT_EQ("step 2 echo_ok (200 + 500)", c.echo_ok, 700);
	EXPECT_EQ("step 2 echo_rounds", c.echo_rounds, 1400);

	engine_close(e);
	wait_phase(e, "close");
	engine_snapshot(e, &c);
	EXPECT_EQ("after close current", c.current, 0);
	EXPECT_EQ("after close failed", failed_sum(&c), 0);
	engine_destroy(e);

	/* Close in the middle of a paced connect phase: it ends, nothing leaks. */
	p.rate = 1000;
	e = engine_create(&p, err, sizeof(err));
	if (!e) {
		fprintf(stderr, "FAIL: engine_create: %s\n", err);
		return 1;
	}
	engine_connect(e, 100000);
	EXPECT_EQ("engine_echo during connect", (unsigned long long)engine_echo(e),
	          (unsigned long long)-EBUSY);
	EXPECT_EQ("engine_connect during connect", (unsigned long long)engine_connect(e, 5),
	          (unsigned long long)-EBUSY);
	nanosleep(&ts, NULL);
	EXPECT_EQ("connect phase still running", engine_wait(e, 0), 0);
	engine_close(e);
	wait_phase(e, "close mid-connect");
	r = malloc(sizeof(*r));
	if (!r)
		return 1;
	engine_result(e, r);
	printf("mid-connect close after %llu attempts\n", (unsigned long long)r->counts.attempted);
	EXPECT_EQ("paced: attempts in 300 ms at 1000/s are 200..500",
	          r->counts.attempted >= 200 && r->counts.attempted <= 500, 1);
	EXPECT_EQ("attempted = established + connect_failed + aborted", r->counts.attempted,
	          r->counts.established + r->counts.connect_failed + r->counts.aborted);
	EXPECT_EQ("after close current", r->counts.current, 0);
	EXPECT_EQ("connect histogram count", r->connect.count, r->counts.established);
	free(r);
	engine_destroy(e);
	if (failures) {
		fprintf(stderr, "%d failure(s)\n", failures);
		return 1;
	}
	printf("PASS\n");
	return 0;
}
