/*
 * host_capacity: one case per binding limit, each built by lowering one
 * field of a roomy host, plus ties, unknown (-1) limits and odd arguments.
 */
#include "host.h"
#include "check.h"

#include <limits.h>

/* A host where nothing binds below a million connections but open files. */
static struct host_limits roomy(void)
{
	struct host_limits l = {
	    .nofile_soft = 1048576,
	    .nofile_hard = 1048576,
	    .nr_open = 1048576,
	    .pid_max = 4194304,
	    .threads_max = 4194304,
	    .max_map_count = 16777216,
	    .port_lo = 32768,
	    .port_hi = 60999,
	    .somaxconn = 4096,
	    .tasks_now = 1000,
	    .mem_available_kb = 1000000000,
	};
	return l;
}

static void test_open_files(void)
{
	struct host_limits l = roomy();
	struct host_capacity c;

	host_capacity(&l, HOST_MODEL_THREADS, 1, 16, &c);
	CHECK_EQ(c.conns, 1048560);
	CHECK_STR_EQ(c.limit, "open-files");

	l.nofile_soft = l.nofile_hard = 20000;
	host_capacity(&l, HOST_MODEL_THREADS, 1, 10, &c);
	CHECK_EQ(c.conns, 19990);
	CHECK_STR_EQ(c.limit, "open-files");
	CHECK_CONTAINS(c.sentence,
	               "capacity 19,990 connections: open-files limit 20000 per process");
	CHECK_CONTAINS(c.sentence, "ulimit -n");
	CHECK_CONTAINS(c.sentence, "LimitNOFILE=");
	CHECK_CONTAINS(c.sentence, "hard limit 20,000");
	CHECK_CONTAINS(c.sentence, "fs.nr_open 1,048,576");
	CHECK_CONTAINS(c.sentence, "--processes");

	/* Per-process limit: processes multiply it. */
	host_capacity(&l, HOST_MODEL_EPOLL, 3, 10, &c);
	CHECK_EQ(c.conns, 59970);
	CHECK_STR_EQ(c.limit, "open-files");
	CHECK_CONTAINS(c.sentence, "capacity 59,970 connections");
	CHECK_CONTAINS(c.sentence, "x 3 processes");

	/* The agent has no --processes to suggest. */
	host_capacity(&l, HOST_MODEL_AGENT, 1, 10, &c);
	CHECK_EQ(c.conns, 19990);
	CHECK_NOT_CONTAINS(c.sentence, "--processes");
}

static void test_max_map_count(void)
{
	struct host_limits l = roomy();
	struct host_capacity c;

	l.nofile_soft = 4000000;
	l.max_map_count = 65530; /* the default */
	host_capacity(&l, HOST_MODEL_THREADS, 1, 10, &c);
	CHECK_EQ(c.conns, 32665); /* (65530 - 200) / 2 */
	CHECK_STR_EQ(c.limit, "max_map_count");
	CHECK_CONTAINS(c.sentence, "capacity 32,665 connections");
	CHECK_CONTAINS(c.sentence, "vm.max_map_count 65530");
	CHECK_CONTAINS(c.sentence, "2 maps");
	CHECK_CONTAINS(c.sentence, "sysctl -w vm.max_map_count=1048576");

	/* Per process: four processes map four times the stacks. */
	host_capacity(&l, HOST_MODEL_THREADS, 4, 10, &c);
	CHECK_EQ(c.conns, 130660);
	CHECK_STR_EQ(c.limit, "max_map_count");

	/* Event-loop servers and agents have no thread stacks to map. */
	host_capacity(&l, HOST_MODEL_EPOLL, 1, 10, &c);
	CHECK_STR_EQ(c.limit, "open-files");
	CHECK_EQ(c.conns, 3999990);
}

static void test_pid_max(void)
{
	struct host_limits l = roomy();
	struct host_capacity c;

	l.nofile_soft = 4000000;
	l.pid_max = 32768; /* the default */
	l.tasks_now = 84;
	host_capacity(&l, HOST_MODEL_THREADS, 1, 10, &c);
	CHECK_EQ(c.conns, 32684);
	CHECK_STR_EQ(c.limit, "pid_max");
	CHECK_CONTAINS(c.sentence, "capacity 32,684 connections");
	CHECK_CONTAINS(c.sentence, "kernel.pid_max 32768");
	CHECK_CONTAINS(c.sentence, "84 tasks");
	CHECK_CONTAINS(c.sentence, "sysctl -w kernel.pid_max=4194304");

	/* Host-wide: more processes do not help. */
	host_capacity(&l, HOST_MODEL_THREADS, 8, 10, &c);
	CHECK_EQ(c.conns, 32684);
	CHECK_STR_EQ(c.limit, "pid_max");

	/* Unknown tasks_now counts as none rather than hiding the limit. */
	l.tasks_now = -1;
	host_capacity(&l, HOST_MODEL_THREADS, 1, 10, &c);
	CHECK_EQ(c.conns, 32768);
	CHECK_STR_EQ(c.limit, "pid_max");

	/* Already at PID_MAX_LIMIT: say so instead of suggesting the same value. */
	l = roomy();
	l.nofile_soft = 8000000;
	l.threads_max = 8000000;
	host_capacity(&l, HOST_MODEL_THREADS, 1, 10, &c);
	CHECK_EQ(c.conns, 4193304);
	CHECK_STR_EQ(c.limit, "pid_max");
	CHECK_CONTAINS(c.sentence, "kernel maximum");
	CHECK_NOT_CONTAINS(c.sentence, "sysctl -w");
}

static void test_threads_max(void)
{
	struct host_limits l = roomy();
	struct host_capacity c;

	l.nofile_soft = 4000000;
	l.threads_max = 30000;
	host_capacity(&l, HOST_MODEL_THREADS, 2, 10, &c);
	CHECK_EQ(c.conns, 29000);
	CHECK_STR_EQ(c.limit, "threads-max");
	CHECK_CONTAINS(c.sentence, "capacity 29,000 connections");
	CHECK_CONTAINS(c.sentence, "kernel.threads-max 30000");
	CHECK_CONTAINS(c.sentence, "1,000 tasks");
	CHECK_CONTAINS(c.sentence, "sysctl -w kernel.threads-max=4194304");

	/* More tasks than the limit: zero, not negative. */
	l.tasks_now = 40000;
	host_capacity(&l, HOST_MODEL_THREADS, 1, 10, &c);
	CHECK_EQ(c.conns, 0);
	CHECK_STR_EQ(c.limit, "threads-max");
}

static void test_memory(void)
{
	struct host_limits l = roomy();
	struct host_capacity c;

	l.mem_available_kb = 400000;
	host_capacity(&l, HOST_MODEL_THREADS, 1, 10, &c);
	CHECK_EQ(c.conns, 10000); /* ~40 kB a thread connection */
	CHECK_STR_EQ(c.limit, "memory");
	CHECK_CONTAINS(c.sentence, "capacity 10,000 connections: memory");
	CHECK_CONTAINS(c.sentence, "400,000 kB available");
	CHECK_CONTAINS(c.sentence, "~40 kB per connection");

	host_capacity(&l, HOST_MODEL_EPOLL, 1, 10, &c);
	CHECK_EQ(c.conns, 66666);
	CHECK_STR_EQ(c.limit, "memory");
	CHECK_CONTAINS(c.sentence, "~6 kB");

	host_capacity(&l, HOST_MODEL_AGENT, 1, 10, &c);
	CHECK_EQ(c.conns, 100000);
	CHECK_STR_EQ(c.limit, "memory");
	CHECK_CONTAINS(c.sentence, "~4 kB");
}

static void test_ties_and_unknowns(void)
{
	struct host_limits l = roomy();
	struct host_capacity c;

	/* open-files 10,000 == memory 10,000: the first listed wins. */
	l.nofile_soft = 10010;
	l.mem_available_kb = 400000;
	host_capacity(&l, HOST_MODEL_THREADS, 1, 10, &c);
	CHECK_EQ(c.conns, 10000);
	CHECK_STR_EQ(c.limit, "open-files");

	/* -1 is unknown, not a limit of -1: skipped; pid_max ties threads-max and wins. */
	l = roomy();
	l.nofile_soft = -1;
	l.max_map_count = -1;
	host_capacity(&l, HOST_MODEL_THREADS, 1, 10, &c);
	CHECK_EQ(c.conns, 4193304);
	CHECK_STR_EQ(c.limit, "pid_max");

	l.pid_max = l.threads_max = l.mem_available_kb = -1;
	host_capacity(&l, HOST_MODEL_THREADS, 1, 10, &c);
	CHECK_EQ(c.conns, -1);
	CHECK_STR_EQ(c.limit, "unknown");
	CHECK_CONTAINS(c.sentence, "capacity unknown");
}

static void test_odd_arguments(void)
{
	struct host_limits l = roomy();
	struct host_capacity c;

	/* processes < 1 counts as one; more reserved fds than the limit leaves none. */
	l.nofile_soft = 1024;
	host_capacity(&l, HOST_MODEL_EPOLL, 0, 10, &c);
	CHECK_EQ(c.conns, 1014);
	host_capacity(&l, HOST_MODEL_EPOLL, 2, 5000, &c);
	CHECK_EQ(c.conns, 0);
	CHECK_STR_EQ(c.limit, "open-files");
	host_capacity(&l, HOST_MODEL_EPOLL, 1, -3, &c);
	CHECK_EQ(c.conns, 1024);

	/* An unlimited rlimit must not overflow the product, and the sentence still fits. */
	l.nofile_soft = l.nofile_hard = l.nr_open = LONG_MAX;
	l.mem_available_kb = -1;
	host_capacity(&l, HOST_MODEL_AGENT, INT_MAX, 0, &c);
	CHECK_EQ(c.conns, LONG_MAX);
	CHECK_STR_EQ(c.limit, "open-files");
	CHECK(strlen(c.sentence) < sizeof(c.sentence));
	CHECK_CONTAINS(c.sentence, "capacity 9,223,372,036,854,775,807 connections");
}

int main(void)
{
	test_open_files();
	test_max_map_count();
	test_pid_max();
	test_threads_max();
	test_memory();
	test_ties_and_unknowns();
	test_odd_arguments();
	return check_exit("unit.host.capacity");
}
