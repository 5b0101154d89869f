/* Parsers of /proc text, on fixture files and on broken text. */
#include "host.h"
#include "check.h"
#include "fixture.h"

#include <errno.h>
#include <limits.h>

static void test_status(void)
{
	struct host_procmem m = {-7, -7, -7, -7, -7};
	char *text = fixture_read("status");

	CHECK(text != NULL);
	if (!text)
		return;
	CHECK_EQ(host_parse_status(text, &m), 0);
	CHECK_EQ(m.rss_kb, 9876);
	CHECK_EQ(m.hwm_kb, 10412);
	CHECK_EQ(m.threads, 1003);
	/* status knows neither: the parser must leave them alone. */
	CHECK_EQ(m.pss_kb, -7);
	CHECK_EQ(m.fds, -7);
	free(text);
}

static void test_status_broken(void)
{
	struct host_procmem m = {1, 2, 3, 4, 5};

	CHECK_EQ(host_parse_status("", &m), -EINVAL);
	CHECK_EQ(host_parse_status(NULL, &m), -EINVAL);
	/* A kernel thread has no VmRSS line. */
	CHECK_EQ(host_parse_status("Name:\tkworker\nThreads:\t1\n", &m), -EINVAL);
	CHECK_EQ(host_parse_status("VmRSS:\tlots kB\nVmHWM:\t1 kB\nThreads:\t1\n", &m), -EINVAL);
	CHECK_EQ(host_parse_status("VmRSS:\t12x kB\nVmHWM:\t1 kB\nThreads:\t1\n", &m), -EINVAL);
	CHECK_EQ(host_parse_status("VmRSS:\t-4 kB\nVmHWM:\t1 kB\nThreads:\t1\n", &m), -EINVAL);
	CHECK_EQ(host_parse_status("VmRSS:\t99999999999999999999999 kB\nVmHWM:\t1 kB\n"
	                           "Threads:\t1\n",
	                           &m),
	         -ERANGE);
	/* Truncated mid-line, no trailing newline. */
	CHECK_EQ(host_parse_status("VmRSS:\t5 kB\nVmHWM:\t6 kB\nThre", &m), -EINVAL);
	/* "VmRSSx:" is not "VmRSS:". */
	CHECK_EQ(host_parse_status("VmRSSx:\t5 kB\nVmHWM:\t6 kB\nThreads:\t2", &m), -EINVAL);
	/* Failures leave the output untouched. */
	CHECK_EQ(m.rss_kb, 1);
	CHECK_EQ(m.threads, 4);
	CHECK_EQ(host_parse_status("VmHWM:\t6 kB\nVmRSS:\t5 kB\nThreads:\t2", &m), 0);
	CHECK_EQ(m.rss_kb, 5);
	CHECK_EQ(m.hwm_kb, 6);
	CHECK_EQ(m.threads, 2);
}

static void test_smaps_rollup(void)
{
	char *text = fixture_read("smaps_rollup");

	CHECK(text != NULL);
	if (text)
		CHECK_EQ(host_parse_smaps_rollup(text), 8431);
	free(text);
	/* Pss_Anon etc. must not be taken for Pss. */
	CHECK_EQ(host_parse_smaps_rollup("Rss: 10 kB\nPss_Anon: 3 kB\n"), -ENOENT);
	CHECK_EQ(host_parse_smaps_rollup(""), -ENOENT);
	CHECK_EQ(host_parse_smaps_rollup(NULL), -EINVAL);
	CHECK_EQ(host_parse_smaps_rollup("Pss:  kB\n"), -EINVAL);
	CHECK_EQ(host_parse_smaps_rollup("Pss: 0 kB"), 0);
}

static void test_meminfo(void)
{
	struct host_meminfo mi = {0};
	char *text = fixture_read("meminfo");

	CHECK(text != NULL);
	if (!text)
		return;
	CHECK_EQ(host_parse_meminfo(text, &mi), 0);
	CHECK_EQ(mi.mem_total_kb, 24684092);
	CHECK_EQ(mi.mem_available_kb, 22367544);
	CHECK_EQ(mi.kernel_stack_kb, 17392);
	CHECK_EQ(mi.slab_kb, 175072);
	CHECK_EQ(mi.page_tables_kb, 2692);
	free(text);

	/* SecPageTables must not satisfy PageTables; SReclaimable not Slab. */
	CHECK_EQ(host_parse_meminfo("MemTotal: 1 kB\nMemAvailable: 1 kB\nKernelStack: 1 kB\n"
	                            "SReclaimable: 1 kB\nSlab: 1 kB\nSecPageTables: 1 kB\n",
	                            &mi),
	         -EINVAL);
	CHECK_EQ(host_parse_meminfo("MemTotal: x kB\n", &mi), -EINVAL);
	CHECK_EQ(host_parse_meminfo("\n\n\n", &mi), -EINVAL);
	CHECK_EQ(mi.slab_kb, 175072);
}

static void test_fmt_count(void)
{
	char buf[32], small[4];

	CHECK_STR_EQ(host_fmt_count(0, buf, sizeof(buf)), "0");
	CHECK_STR_EQ(host_fmt_count(999, buf, sizeof(buf)), "999");
	CHECK_STR_EQ(host_fmt_count(1000, buf, sizeof(buf)), "1,000");
	CHECK_STR_EQ(host_fmt_count(19990, buf, sizeof(buf)), "19,990");
	CHECK_STR_EQ(host_fmt_count(28232, buf, sizeof(buf)), "28,232");
	CHECK_STR_EQ(host_fmt_count(1000000, buf, sizeof(buf)), "1,000,000");
	CHECK_STR_EQ(host_fmt_count(-1234567, buf, sizeof(buf)), "-1,234,567");
	CHECK_STR_EQ(host_fmt_count(LONG_MAX, buf, sizeof(buf)), "9,223,372,036,854,775,807");
	CHECK_STR_EQ(host_fmt_count(LONG_MIN, buf, sizeof(buf)), "-9,223,372,036,854,775,808");
	/* Too small a buffer truncates, never overflows. */
	CHECK_STR_EQ(host_fmt_count(123456, small, sizeof(small)), "123");
}

int main(void)
{
	test_status();
	test_status_broken();
	test_smaps_rollup();
	test_meminfo();
	test_fmt_count();
	return check_exit("unit.host.parse");
}
