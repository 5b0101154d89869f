/* The /proc/stat reader, on fixture text, on old kernels' shorter lines and on broken text. */
#include "host.h"
#include "check.h"
#include "fixture.h"

#include <errno.h>

static void test_fixture(void)
{
	struct host_cpustat c;
	char *text = fixture_read("stat");

	CHECK(text != NULL);
	if (!text)
		return;
	CHECK_EQ(host_parse_cpustat(text, &c), 0);
	/* The aggregate line, not cpu0's. */
	CHECK_EQ(c.user, 1608880);
	CHECK_EQ(c.nice, 68333);
	CHECK_EQ(c.system, 1727485);
	CHECK_EQ(c.idle, 1218094);
	CHECK_EQ(c.iowait, 2747);
	CHECK_EQ(c.irq, 1234);
	CHECK_EQ(c.softirq, 29789);
	CHECK_EQ(c.steal, 55);
	free(text);
}

static void test_short_and_broken(void)
{
	struct host_cpustat c = {.user = -7, .steal = -7};

	/* 2.6.0 .. 2.6.10: no steal column, with or without a trailing blank. */
	CHECK_EQ(host_parse_cpustat("cpu  1 2 3 4 5 6 7\ncpu0 1 2 3 4 5 6 7\n", &c), 0);
	CHECK_EQ(c.softirq, 7);
	CHECK_EQ(c.steal, 0);
	CHECK_EQ(host_parse_cpustat("cpu  1 2 3 4 5 6 8 \n", &c), 0);
	CHECK_EQ(c.softirq, 8);
	CHECK_EQ(host_parse_cpustat("cpu  1 2 3 4 5 6 9", &c), 0);
	CHECK_EQ(c.softirq, 9);
	c.user = -7;
	CHECK_EQ(host_parse_cpustat(NULL, &c), -EINVAL);
	CHECK_EQ(host_parse_cpustat("", &c), -EINVAL);
	/* Not the aggregate line first. */
	CHECK_EQ(host_parse_cpustat("cpu0 1 2 3 4 5 6 7 8\n", &c), -EINVAL);
	CHECK_EQ(host_parse_cpustat("intr 1 2 3\ncpu  1 2 3 4 5 6 7 8\n", &c), -EINVAL);
	/* Fewer than user..softirq: a truncated line. */
	CHECK_EQ(host_parse_cpustat("cpu  1 2 3 4 5 6\n", &c), -EINVAL);
	CHECK_EQ(host_parse_cpustat("cpu  1 2 x 4 5 6 7 8\n", &c), -EINVAL);
	CHECK_EQ(host_parse_cpustat("cpu  1 2 3 4 5 6 7 8x\n", &c), -EINVAL);
	CHECK_EQ(host_parse_cpustat("cpu  99999999999999999999999 2 3 4 5 6 7 8\n", &c), -ERANGE);
	/* Failures leave the output untouched. */
	CHECK_EQ(c.user, -7);
}

static void test_live(void)
{
	struct host_cpustat a, b;

	CHECK_EQ(host_cpustat_read(&a), 0);
	CHECK_EQ(host_cpustat_read(&b), 0);
	/* Counters since boot only grow; a booted host has spent time idle or busy. */
	CHECK(b.user >= a.user && b.system >= a.system && b.idle >= a.idle);
	CHECK(a.user + a.system + a.idle > 0);
}

int main(void)
{
	test_fixture();
	test_short_and_broken();
	test_live();
	return check_exit("unit.host.cpustat");
}
