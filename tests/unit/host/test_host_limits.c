/* host_limits_read_at on fake procroot trees. */
#include "host.h"
#include "check.h"

#include <errno.h>
#include <limits.h>
#include <sys/resource.h>

static void test_full_tree(void)
{
	struct host_limits l;
	struct rlimit rl;

	CHECK_EQ(host_limits_read_at(HOST_FIXTURES "/proc", &l), 0);
	CHECK_EQ(l.nr_open, 1048576);
	CHECK_EQ(l.pid_max, 4194304);
	CHECK_EQ(l.threads_max, 126849);
	CHECK_EQ(l.max_map_count, 262144);
	CHECK_EQ(l.port_lo, 10000);
	CHECK_EQ(l.port_hi, 60999);
	CHECK_EQ(l.somaxconn, 8192);
	CHECK_EQ(l.tasks_now, 1234);
	CHECK_EQ(l.mem_available_kb, 22367544);
	CHECK_EQ(host_ports_per_source(&l), 51000);

	/* The rlimit is this process's, whatever procroot says. */
	CHECK_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
	CHECK_EQ(l.nofile_soft, rl.rlim_cur == RLIM_INFINITY ? LONG_MAX : (long)rl.rlim_cur);
	CHECK_EQ(l.nofile_hard, rl.rlim_max == RLIM_INFINITY ? LONG_MAX : (long)rl.rlim_max);
}

static void test_bad_tree(void)
{
	struct host_limits l;

	/* Garbage, empty, half-written or missing files: each value -1, the read still 0. */
	CHECK_EQ(host_limits_read_at(HOST_FIXTURES "/proc-bad", &l), 0);
	CHECK_EQ(l.nr_open, -1);
	CHECK_EQ(l.pid_max, -1);
	CHECK_EQ(l.threads_max, -1);
	CHECK_EQ(l.max_map_count, -1);
	CHECK_EQ(l.port_lo, -1);
	CHECK_EQ(l.port_hi, -1);
	CHECK_EQ(l.somaxconn, -1);
	CHECK_EQ(l.tasks_now, -1);
	CHECK_EQ(l.mem_available_kb, -1);
	CHECK_EQ(host_ports_per_source(&l), -1);
	CHECK(l.nofile_soft > 0);
}

static void test_missing_root(void)
{
	struct host_limits l;

	CHECK_EQ(host_limits_read_at(HOST_FIXTURES "/no-such-proc", &l), -ENOENT);
	CHECK_EQ(l.pid_max, -1);
	CHECK_EQ(l.mem_available_kb, -1);
	CHECK(l.nofile_soft > 0);
	CHECK_EQ(host_limits_read_at(HOST_FIXTURES "/status", &l), -ENOTDIR);
	CHECK_EQ(host_limits_read_at(NULL, &l), -EINVAL);
}

static void test_ports(void)
{
	struct host_limits l = {.port_lo = 32768, .port_hi = 60999};

	CHECK_EQ(host_ports_per_source(&l), 28232);
	l.port_lo = l.port_hi = 40000;
	CHECK_EQ(host_ports_per_source(&l), 1);
	l.port_lo = -1;
	CHECK_EQ(host_ports_per_source(&l), -1);
}

int main(void)
{
	test_full_tree();
	test_bad_tree();
	test_missing_root();
	test_ports();
	return check_exit("unit.host.limits");
}
