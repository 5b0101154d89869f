/*
 * stats_probe ENDPOINT [WANT TIMEOUT_MS] — asks a server's stats endpoint
 * for its current connections and prints the number. With WANT, polls until
 * the count equals WANT or the timeout passes; exit 0 if it did, 1 if not.
 */
#include <stdio.h>
#include <stdlib.h>

#include "testlib.h"

int main(int argc, char **argv)
{
	struct server_stats st;

	if (argc == 2) {
		if (tl_stats(argv[1], &st, 3000) < 0)
			return 1;
		printf("%lld\n", (long long)st.conns_current);
		return 0;
	}
	if (argc != 4) {
		fprintf(stderr, "usage: stats_probe ENDPOINT [WANT TIMEOUT_MS]\n");
		return 2;
	}
	long got = tl_wait_current(argv[1], atol(argv[2]), atoi(argv[3]));
	printf("%ld\n", got);
	return got == atol(argv[2]) ? 0 : 1;
}
