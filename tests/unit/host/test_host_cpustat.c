/* The /proc/stat reader, on fixture text, on old kernels' shorter lines and on broken text. */
#include "host.h"
#include "check.h"

#include <errno.h>

static int test_fixture(void)
{
	struct host_cpustat c;
	char *text = check_fixture("stat");
	int fails = 0;

	CHECK_TRUE(text != NULL);
	if (!text)
		return fails;
	CHECK_LONG(host_parse_cpustat(text, &c), 0);
	/* The aggregate line, not cpu0's. */
	CHECK_LONG(c.user, 1608880);
	CHECK_LONG(c.nice, 68333);
	CHECK_LONG(c.system, 1727485);
	CHECK_LONG(c.idle, 1218094);
	CHECK_LONG(c.iowait, 2747);
	CHECK_LONG(c.irq, 1234);
	CHECK_LONG(c.softirq, 29789);
	CHECK_LONG(c.steal, 55);
	free(text);
	return fails;
}

static int test_short_and_broken(void)
{
	struct host_cpustat c = {.user = -7, .steal = -7};
	int fails = 0;

	/* 2.6.0 .. 2.6.10: no steal column, with or without a trailing blank. */
	CHECK_LONG(host_parse_cpustat("cpu  1 2 3 4 5 6 7\ncpu0 1 2 3 4 5 6 7\n", &c), 0);
	CHECK_LONG(c.softirq, 7);
	CHECK_LONG(c.steal, 0);
	CHECK_LONG(host_parse_cpustat("cpu  1 2 3 4 5 6 8 \n", &c), 0);
	CHECK_LONG(c.softirq, 8);
	CHECK_LONG(host_parse_cpustat("cpu  1 2 3 4 5 6 9", &c), 0);
	CHECK_LONG(c.softirq, 9);
	c.user = -7;
	CHECK_LONG(host_parse_cpustat(NULL, &c), -EINVAL);
	CHECK_LONG(host_parse_cpustat("", &c), -EINVAL);
	/* Not the aggregate line first. */
	CHECK_LONG(host_parse_cpustat("cpu0 1 2 3 4 5 6 7 8\n", &c), -EINVAL);
	CHECK_LONG(host_parse_cpustat("intr 1 2 3\ncpu  1 2 3 4 5 6 7 8\n", &c), -EINVAL);
	/* Fewer than user..softirq: a truncated line. */
	CHECK_LONG(host_parse_cpustat("cpu  1 2 3 4 5 6\n", &c), -EINVAL);
	CHECK_LONG(host_parse_cpustat("cpu  1 2 x 4 5 6 7 8\n", &c), -EINVAL);
	CHECK_LONG(host_parse_cpustat("cpu  1 2 3 4 5 6 7 8x\n", &c), -EINVAL);
	CHECK_LONG(host_parse_cpustat("cpu  99999999999999999999999 2 3 4 5 6 7 8\n", &c), -ERANGE);
	/* Failures leave the output untouched. */
	CHECK_LONG(c.user, -7);
	return fails;
}

static int test_live(void)
{
	struct host_cpustat a, b;
	int fails = 0;

	CHECK_LONG(host_cpustat_read(&a), 0);
	CHECK_LONG(host_cpustat_read(&b), 0);
	/* Counters since boot only grow; a booted host has spent time idle or busy. */
	CHECK_TRUE(b.user >= a.user && b.system >= a.system && b.idle >= a.idle);
	CHECK_TRUE(a.user + a.system + a.idle > 0);
	return fails;
}

int main(void)
{
	int fails = test_fixture() + test_short_and_broken() + test_live();

	if (fails)
		fprintf(stderr, "unit.host.cpustat: %d check(s) failed\n", fails);
	return fails ? 1 : 0;
}
