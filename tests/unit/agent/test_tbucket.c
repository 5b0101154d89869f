/* Token bucket: burst, steady rate, waits, unlimited mode, and the rate under two threads. */
#include <pthread.h>
#include <stdint.h>

#include "check.h"
#include "tbucket.h"

#define MS 1000000ULL
#define S  1000000000ULL

static void test_burst_and_rate(void)
{
	struct tbucket tb;
	uint64_t wait = 0, t0 = 5 * S, got, total = 0, t;

	tbucket_init(&tb, 1000, 10, t0); /* 1 token per ms, burst 10 */
	CHECK_EQ_U(tbucket_take(&tb, t0, 100, &wait), 10);
	CHECK_EQ_U(wait, 1 * MS);
	CHECK_EQ_U(tbucket_take(&tb, t0, 1, &wait), 0);
	CHECK_EQ_U(wait, 1 * MS);
	CHECK_EQ_U(tbucket_take(&tb, t0 + 1 * MS, 100, &wait), 1);
	CHECK_EQ_U(tbucket_take(&tb, t0 + 1 * MS + MS / 2, 100, &wait), 0);
	CHECK_EQ_U(wait, MS / 2);
	/* Idle for a long time: credit is capped at the burst. */
	CHECK_EQ_U(tbucket_take(&tb, t0 + 10 * S, 1000, &wait), 10);
	/* One simulated second of polling every 0.3 ms grants the rate, no more. */
	tbucket_init(&tb, 1000, 10, t0);
	for (t = t0; t < t0 + S; t += 300000) {
		got = tbucket_take(&tb, t, 1000, NULL);
		total += got;
	}
	/* burst at t0 plus one per ms afterwards (the last poll is at t0 + 999.9 ms) */
	CHECK(total >= 1000 && total <= 1010);
}

static void test_unlimited(void)
{
	struct tbucket tb;
	uint64_t wait = 12345;

	tbucket_init(&tb, 0, 1, 0);
	CHECK_EQ_U(tbucket_take(&tb, 0, 1000000, &wait), 1000000);
	CHECK_EQ_U(wait, 12345); /* untouched when everything is granted */
}

struct racer {
	struct tbucket *tb;
	uint64_t granted;
};

/* Both threads see the same simulated clock; together they must not exceed the rate. */
static void *racer_main(void *arg)
{
	struct racer *r = arg;
	uint64_t t;

	for (t = 1 * S; t <= 2 * S; t += 10000)
		r->granted += tbucket_take(r->tb, t, 3, NULL);
	return NULL;
}

static void test_shared(void)
{
	struct tbucket tb;
	struct racer a = {&tb, 0}, b = {&tb, 0};
	pthread_t ta, tbh;

	tbucket_init(&tb, 50000, 100, 1 * S);
	pthread_create(&ta, NULL, racer_main, &a);
	pthread_create(&tbh, NULL, racer_main, &b);
	pthread_join(ta, NULL);
	pthread_join(tbh, NULL);
	/* 1 s at 50,000/s plus the initial burst of 100, exactly: no token granted twice. */
	CHECK_EQ_U(a.granted + b.granted, 50000 + 100);
}

int main(void)
{
	test_burst_and_rate();
	test_unlimited();
	test_shared();
	return check_exit("unit.agent.tbucket");
}
