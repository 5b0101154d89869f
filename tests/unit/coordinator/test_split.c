/*
 * split_connections: every level sums exactly, every agent's totals never go
 * down, nobody is given more than its capacity, weights are honoured, and a
 * plan the agents cannot carry is refused with a sentence that says so.
 */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "split.h"

static int64_t out[8][MSG_MAX_STEPS];

static void check_invariants(const char *name, int n, const int64_t *cap, const int64_t *levels,
                             int nlevels)
{
	for (int k = 0; k < nlevels; k++) {
		int64_t sum = 0;
		for (int i = 0; i < n; i++) {
			sum += out[i][k];
			CHECK(out[i][k] <= cap[i], "%s: agent %d level %d: %lld > capacity %lld",
			      name, i, k, (long long)out[i][k], (long long)cap[i]);
			CHECK(k == 0 || out[i][k] >= out[i][k - 1],
			      "%s: agent %d goes down at level %d", name, i, k);
			CHECK(out[i][k] >= 0, "%s: negative", name);
		}
		CHECK(sum == levels[k], "%s: level %d sums to %lld, expected %lld", name, k,
		      (long long)sum, (long long)levels[k]);
	}
}

int main(void)
{
	char why[256];

	{ /* equal weights, ample capacity: equal shares */
		int64_t cap[3] = {20000, 20000, 20000}, lv[3] = {10000, 20000, 30000};
		double w[3] = {1, 1, 1};
		CHECK(split_connections(3, cap, w, lv, 3, out, why, sizeof(why)) == 0, "%s", why);
		check_invariants("equal", 3, cap, lv, 3);
		CHECK(out[0][2] == 10000 && out[1][2] == 10000 && out[2][2] == 10000,
		      "shares %lld %lld %lld", (long long)out[0][2], (long long)out[1][2],
		      (long long)out[2][2]);
	}
	{ /* uneven remainders: 10 over 3 agents, with awkward steps */
		int64_t cap[3] = {100, 100, 100}, lv[4] = {1, 2, 7, 10};
		double w[3] = {1, 1, 1};
		CHECK(split_connections(3, cap, w, lv, 4, out, why, sizeof(why)) == 0, "%s", why);
		check_invariants("remainders", 3, cap, lv, 4);
	}
	{ /* a small agent is filled to capacity, the rest goes to the others */
		int64_t cap[3] = {1000, 20000, 20000}, lv[1] = {30000};
		double w[3] = {1, 1, 1};
		CHECK(split_connections(3, cap, w, lv, 1, out, why, sizeof(why)) == 0, "%s", why);
		check_invariants("capped", 3, cap, lv, 1);
		CHECK(out[0][0] == 1000 && out[1][0] == 14500 && out[2][0] == 14500,
		      "shares %lld %lld %lld", (long long)out[0][0], (long long)out[1][0],
		      (long long)out[2][0]);
	}
	{ /* weights 3:1 */
		int64_t cap[2] = {100000, 100000}, lv[2] = {4000, 8000};
		double w[2] = {3, 1};
		CHECK(split_connections(2, cap, w, lv, 2, out, why, sizeof(why)) == 0, "%s", why);
		check_invariants("weights", 2, cap, lv, 2);
		CHECK(out[0][1] == 6000 && out[1][1] == 2000, "shares %lld %lld",
		      (long long)out[0][1], (long long)out[1][1]);
	}
	{ /* more agents than connections */
		int64_t cap[5] = {10, 10, 10, 10, 10}, lv[1] = {3};
		double w[5] = {1, 1, 1, 1, 1};
		CHECK(split_connections(5, cap, w, lv, 1, out, why, sizeof(why)) == 0, "%s", why);
		check_invariants("sparse", 5, cap, lv, 1);
	}
	{ /* too much for the agents: refused, saying how much they hold */
		int64_t cap[2] = {19990, 19990}, lv[1] = {50000};
		double w[2] = {1, 1};
		CHECK(split_connections(2, cap, w, lv, 1, out, why, sizeof(why)) == -1, "accepted");
		CHECK(strstr(why, "needs 50000 connections") && strstr(why, "can hold 39980"),
		      "why: %s", why);
	}
	{ /* capacities that would wrap a sum (a hostile hello): split as if unlimited */
		int64_t cap[2] = {INT64_MAX, INT64_MAX}, lv[1] = {20};
		double w[2] = {1, 1};
		CHECK(split_connections(2, cap, w, lv, 1, out, why, sizeof(why)) == 0, "%s", why);
		check_invariants("huge", 2, cap, lv, 1);
		CHECK(out[0][0] == 10 && out[1][0] == 10, "shares %lld %lld", (long long)out[0][0],
		      (long long)out[1][0]);
	}
	return check_exit("unit.coordinator.split");
}
