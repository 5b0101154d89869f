/* Parsers of /proc text, on fixture files and on broken text. */
#include "host.h"
#include "check.h"

#include <errno.h>
#include <limits.h>

static int test_status(void)
{
	struct host_procmem m = {-7, -7, -7, -7, -7};
	char *text = check_fixture("status");
	int fails = 0;

	CHECK_TRUE(text != NULL);
	if (!text)
		return fails;
	CHECK_LONG(host_parse_status(text, &m), 0);
	CHECK_LONG(m.rss_kb, 9876);
	CHECK_LONG(m.hwm_kb, 10412);
	CHECK_LONG(m.threads, 1003);
	/* status knows neither: the parser must leave them alone. */
	CHECK_LONG(m.pss_kb, -7);
	CHECK_LONG(m.fds, -7);
	free(text);
	return fails;
}

static int test_status_broken(void)
{
	struct host_procmem m = {1, 2, 3, 4, 5};
	int fails = 0;

	CHECK_LONG(host_parse_status("", &m), -EINVAL);
	CHECK_LONG(host_parse_status(NULL, &m), -EINVAL);
	/* A kernel thread has no VmRSS line. */
	CHECK_LONG(host_parse_status("Name:\tkworker\nThreads:\t1\n", &m), -EINVAL);
	CHECK_LONG(host_parse_status("VmRSS:\tlots kB\nVmHWM:\t1 kB\nThreads:\t1\n", &m), -EINVAL);
	CHECK_LONG(host_parse_status("VmRSS:\t12x kB\nVmHWM:\t1 kB\nThreads:\t1\n", &m), -EINVAL);
	CHECK_LONG(host_parse_status("VmRSS:\t-4 kB\nVmHWM:\t1 kB\nThreads:\t1\n", &m), -EINVAL);
	CHECK_LONG(host_parse_status("VmRSS:\t99999999999999999999999 kB\nVmHWM:\t1 kB\n"
	                             "Threads:\t1\n",
	                             &m),
	           -ERANGE);
	/* Truncated mid-line, no trailing newline. */
	CHECK_LONG(host_parse_status("VmRSS:\t5 kB\nVmHWM:\t6 kB\nThre", &m), -EINVAL);
	/* "VmRSSx:" is not "VmRSS:". */
	CHECK_LONG(host_parse_status("VmRSSx:\t5 kB\nVmHWM:\t6 kB\nThreads:\t2", &m), -EINVAL);
	/* Failures leave the output untouched. */
	CHECK_LONG(m.rss_kb, 1);
	CHECK_LONG(m.threads, 4);
	CHECK_LONG(host_parse_status("VmHWM:\t6 kB\nVmRSS:\t5 kB\nThreads:\t2", &m), 0);
	CHECK_LONG(m.rss_kb, 5);
	CHECK_LONG(m.hwm_kb, 6);
	CHECK_LONG(m.threads, 2);
	return fails;
}

static int test_smaps_rollup(void)
{
	char *text = check_fixture("smaps_rollup");
	int fails = 0;

	CHECK_TRUE(text != NULL);
	if (text)
		CHECK_LONG(host_parse_smaps_rollup(text), 8431);
	free(text);
	/* Pss_Anon etc. must not be taken for Pss. */
	CHECK_LONG(host_parse_smaps_rollup("Rss: 10 kB\nPss_Anon: 3 kB\n"), -ENOENT);
	CHECK_LONG(host_parse_smaps_rollup(""), -ENOENT);
	CHECK_LONG(host_parse_smaps_rollup(NULL), -EINVAL);
	CHECK_LONG(host_parse_smaps_rollup("Pss:  kB\n"), -EINVAL);
	CHECK_LONG(host_parse_smaps_rollup("Pss: 0 kB"), 0);
	return fails;
}

static int test_meminfo(void)
{
	struct host_meminfo mi = {0};
	char *text = check_fixture("meminfo");
	int fails = 0;

	CHECK_TRUE(text != NULL);
	if (!text)
		return fails;
	CHECK_LONG(host_parse_meminfo(text, &mi), 0);
	CHECK_LONG(mi.mem_total_kb, 24684092);
	CHECK_LONG(mi.mem_available_kb, 22367544);
	CHECK_LONG(mi.kernel_stack_kb, 17392);
	CHECK_LONG(mi.slab_kb, 175072);
	CHECK_LONG(mi.page_tables_kb, 2692);
	free(text);

	/* SecPageTables must not satisfy PageTables; SReclaimable not Slab. */
	CHECK_LONG(host_parse_meminfo("MemTotal: 1 kB\nMemAvailable: 1 kB\nKernelStack: 1 kB\n"
	                              "SReclaimable: 1 kB\nSlab: 1 kB\nSecPageTables: 1 kB\n",
	                              &mi),
	           -EINVAL);
	CHECK_LONG(host_parse_meminfo("MemTotal: x kB\n", &mi), -EINVAL);
	CHECK_LONG(host_parse_meminfo("\n\n\n", &mi), -EINVAL);
	CHECK_LONG(mi.slab_kb, 175072);
	return fails;
}

static int test_fmt_count(void)
{
	char buf[32], small[4];
	int fails = 0;

	CHECK_STR(host_fmt_count(0, buf, sizeof(buf)), "0");
	CHECK_STR(host_fmt_count(999, buf, sizeof(buf)), "999");
	CHECK_STR(host_fmt_count(1000, buf, sizeof(buf)), "1,000");
	CHECK_STR(host_fmt_count(19990, buf, sizeof(buf)), "19,990");
	CHECK_STR(host_fmt_count(28232, buf, sizeof(buf)), "28,232");
	CHECK_STR(host_fmt_count(1000000, buf, sizeof(buf)), "1,000,000");
	CHECK_STR(host_fmt_count(-1234567, buf, sizeof(buf)), "-1,234,567");
	CHECK_STR(host_fmt_count(LONG_MAX, buf, sizeof(buf)), "9,223,372,036,854,775,807");
	CHECK_STR(host_fmt_count(LONG_MIN, buf, sizeof(buf)), "-9,223,372,036,854,775,808");
	/* Too small a buffer truncates, never overflows. */
	CHECK_STR(host_fmt_count(123456, small, sizeof(small)), "123");
	return fails;
}

int main(void)
{
	int fails = test_status() + test_status_broken() + test_smaps_rollup() + test_meminfo() +
	            test_fmt_count();

	if (fails)
		fprintf(stderr, "unit.host.parse: %d check(s) failed\n", fails);
	return fails ? 1 : 0;
}
