/*
 * A watched process's capacity (server --watch): /proc/PID/limits parsed,
 * and host_capacity_watched() on a roomy host with one limit lowered at a time.
 */
#include "host.h"
#include "check.h"

#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

static const char limits_text[] =
    "Limit                     Soft Limit           Hard Limit           Units     \n"
    "Max cpu time              unlimited            unlimited            seconds   \n"
    "Max processes             4096                 96362                processes \n"
    "Max open files            300                  1024                 files     \n"
    "Max locked memory         8388608              8388608              bytes     \n";

static void test_parse(void)
{
	struct host_proc_limits l;

	CHECK_EQ(host_parse_proc_limits(limits_text, &l), 0);
	CHECK_EQ(l.nofile_soft, 300);
	CHECK_EQ(l.nofile_hard, 1024);
	CHECK_EQ(l.nproc_soft, 4096);

	CHECK_EQ(host_parse_proc_limits("Max open files            unlimited            unlimited  "
	                                "          files\n",
	                                &l),
	         0);
	CHECK_EQ(l.nofile_soft, LONG_MAX);
	CHECK_EQ(l.nofile_hard, LONG_MAX);
	CHECK_EQ(l.nproc_soft, -1);

	/* No open-files line, or a value that is not a number: -EINVAL, the values unknown. */
	CHECK_EQ(host_parse_proc_limits("Max processes 10 10 processes\n", &l), -EINVAL);
	CHECK_EQ(l.nofile_soft, -1);
	CHECK_EQ(l.nproc_soft, 10);
	CHECK_EQ(host_parse_proc_limits("Max open files            lots   300  files\n", &l),
	         -EINVAL);
	CHECK_EQ(host_parse_proc_limits("", &l), -EINVAL);
	CHECK_EQ(host_parse_proc_limits(NULL, &l), -EINVAL);
}

static void test_read_self(void)
{
	struct host_proc_limits l;

	/* Our own limits, as /proc/self/limits says them: the soft limit is positive. */
	CHECK_EQ(host_proc_limits_read(getpid(), &l), 0);
	CHECK(l.nofile_soft > 0 && l.nofile_hard >= l.nofile_soft);
	/* Root is not held to Max processes: not weighed then (tests often run as root). */
	if (getuid() == 0)
		CHECK_EQ(l.nproc_soft, -1);
}

static void test_nproc_exempt(void)
{
	/* Real uid first of the four; CapEff in hex. */
	CHECK_EQ(
	    host_parse_nproc_exempt("Name:\tx\nUid:\t1000\t0\t0\t0\nCapEff:\t0000000000000000\n"),
	    0);
	CHECK_EQ(host_parse_nproc_exempt("Name:\tx\nUid:\t0\t1000\t1000\t1000\nCapEff:\t0\n"), 1);
	CHECK_EQ(host_parse_nproc_exempt("Name:\tx\nUid:\t1000\t1000\t1000\t1000\n"
	                                 "CapEff:\t0000000001000000\n"),
	         1); /* CAP_SYS_RESOURCE */
	CHECK_EQ(host_parse_nproc_exempt("Name:\tx\nUid:\t1000\t1000\t1000\t1000\n"
	                                 "CapEff:\t0000000000200000\n"),
	         1); /* CAP_SYS_ADMIN */
	CHECK_EQ(host_parse_nproc_exempt("Name:\tx\nUid:\t1000\t1000\t1000\t1000\n"
	                                 "CapEff:\t0000000000002000\n"),
	         0); /* CAP_NET_RAW: no */
	CHECK_EQ(host_parse_nproc_exempt("Name:\tx\nUid:\t1000\t1000\t1000\t1000\n"), -EINVAL);
}

/* A host where no host-wide limit binds below a million connections. */
static struct host_limits roomy(void)
{
	struct host_limits l = {
	    .nofile_soft = 20000, /* the watcher's own: must not be used */
	    .nofile_hard = 20000,
	    .nr_open = 1048576,
	    .pid_max = 4194304,
	    .threads_max = 4194304,
	    .max_map_count = 16777216,
	    .port_lo = 32768,
	    .port_hi = 60999,
	    .somaxconn = 4096,
	    .tasks_now = 1500,
	    .mem_available_kb = 1000000000,
	};
	return l;
}

static void test_open_files(void)
{
	struct host_limits h = roomy();
	struct host_proc_limits own = {.nofile_soft = 300, .nofile_hard = 300, .nproc_soft = 4096};
	struct host_watched now = {.processes = 1, .per_thread = 0, .conns = 0, .other_fds = 6};
	struct host_capacity c;

	host_capacity_watched(&h, &own, &now, &c);
	CHECK_EQ(c.conns, 294);
	CHECK_STR_EQ(c.limit, "open-files");
	CHECK_CONTAINS(c.sentence, "capacity 294 connections: open-files limit 300 per process");
	CHECK_CONTAINS(c.sentence, "hard limit 300");
	/* Not connscale's server: nothing to say about --processes. */
	CHECK_NOT_CONTAINS(c.sentence, "--processes");

	/* Two processes: each one's limit, the reserve shared between them. */
	now.processes = 2;
	host_capacity_watched(&h, &own, &now, &c);
	CHECK_EQ(c.conns, 594);
	CHECK_CONTAINS(c.sentence, "x 2 processes");

	/* An event loop is not bound by threads, however low its Max processes. */
	now.processes = 1;
	own.nofile_soft = own.nofile_hard = 1000000;
	own.nproc_soft = 10;
	host_capacity_watched(&h, &own, &now, &c);
	CHECK_STR_EQ(c.limit, "open-files");
	CHECK_EQ(c.conns, 1000000 - 6);
}

static void test_per_thread(void)
{
	struct host_limits h = roomy();
	struct host_proc_limits own = {
	    .nofile_soft = 1000000, .nofile_hard = 1000000, .nproc_soft = 4096};
	struct host_watched now = {.processes = 1, .per_thread = 1, .conns = 1000, .other_fds = 10};
	struct host_capacity c;

	/* Its 1,000 connection threads are among the host's 1,500 tasks: 500 others. */
	host_capacity_watched(&h, &own, &now, &c);
	CHECK_EQ(c.conns, 4096 - 500);
	CHECK_STR_EQ(c.limit, "max-processes");
	CHECK_CONTAINS(c.sentence, "capacity 3,596 connections: Max processes 4096 for its user, "
	                           "500 tasks already running on the host");
	CHECK_CONTAINS(c.sentence, "ulimit -u");

	/* Unlimited: not weighed; then the map count binds (per process). */
	own.nproc_soft = LONG_MAX;
	h.max_map_count = 65530;
	host_capacity_watched(&h, &own, &now, &c);
	CHECK_STR_EQ(c.limit, "max_map_count");
	CHECK_EQ(c.conns, (65530 - 200) / 2);

	/* pid_max counts the host's tasks less its connection threads too. */
	h.max_map_count = 16777216;
	h.pid_max = 3000;
	host_capacity_watched(&h, &own, &now, &c);
	CHECK_STR_EQ(c.limit, "pid_max");
	CHECK_EQ(c.conns, 3000 - 500);

	/* Unknown own limits: the host's alone decide, and never the watcher's own nofile. */
	own.nofile_soft = own.nofile_hard = own.nproc_soft = -1;
	now.per_thread = 0;
	h.mem_available_kb = -1;
	host_capacity_watched(&h, &own, &now, &c);
	CHECK_EQ(c.conns, -1);
	CHECK_STR_EQ(c.limit, "unknown");
}

int main(void)
{
	test_parse();
	test_read_self();
	test_nproc_exempt();
	test_open_files();
	test_per_thread();
	return check_exit("unit.host.watched");
}
