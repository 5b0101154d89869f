/* The readers against this very process and host. */
#include "host.h"
#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

static int test_procmem_self(void)
{
	struct host_procmem m;
	long before;
	int fd, fails = 0;

	CHECK_LONG(host_procmem_read(getpid(), &m), 0);
	CHECK_TRUE(m.rss_kb > 0);
	CHECK_TRUE(m.hwm_kb >= m.rss_kb);
	CHECK_TRUE(m.threads >= 1);
	CHECK_TRUE(m.fds >= 3);
	CHECK_TRUE(m.pss_kb == -1 || m.pss_kb > 0);

	/* One more open file is exactly one more fd: the count excludes its own dir fd. */
	before = m.fds;
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	CHECK_TRUE(fd >= 0);
	CHECK_LONG(host_procmem_read(getpid(), &m), 0);
	CHECK_LONG(m.fds, before + 1);
	if (fd >= 0)
		close(fd);
	return fails;
}

static int test_procmem_gone(void)
{
	struct host_procmem m = {1, 2, 3, 4, 5};
	int fails = 0;

	/* Above PID_MAX_LIMIT, so no process can have it. */
	CHECK_LONG(host_procmem_read(4194305 + 1, &m), -ENOENT);
	CHECK_LONG(m.rss_kb, 1);
	return fails;
}

static int test_host(void)
{
	struct host_meminfo mi;
	struct host_limits l;
	struct host_capacity cap;
	int fails = 0;

	CHECK_LONG(host_meminfo_read(&mi), 0);
	CHECK_TRUE(mi.mem_total_kb > 0);
	CHECK_TRUE(mi.mem_available_kb > 0 && mi.mem_available_kb <= mi.mem_total_kb);
	CHECK_TRUE(mi.kernel_stack_kb > 0);

	CHECK_LONG(host_limits_read(&l), 0);
	CHECK_TRUE(l.nofile_soft > 0);
	CHECK_TRUE(l.nofile_hard >= l.nofile_soft);
	CHECK_TRUE(l.port_lo > 0 && l.port_lo <= l.port_hi && l.port_hi <= 65535);
	CHECK_TRUE(host_ports_per_source(&l) > 0);
	CHECK_TRUE(l.pid_max > 0);
	CHECK_TRUE(l.tasks_now >= 1);
	host_capacity(&l, HOST_MODEL_THREADS, 1, 16, &cap);
	CHECK_TRUE(cap.conns > 0);
	CHECK_HAS(cap.sentence, "capacity ");
	printf("nofile %ld/%ld nr_open %ld pid_max %ld threads-max %ld max_map_count %ld "
	       "ports %ld-%ld somaxconn %ld tasks %ld mem_available %ld kB\n%s [%s]\n",
	       l.nofile_soft, l.nofile_hard, l.nr_open, l.pid_max, l.threads_max, l.max_map_count,
	       l.port_lo, l.port_hi, l.somaxconn, l.tasks_now, l.mem_available_kb, cap.sentence,
	       cap.limit);
	return fails;
}

int main(void)
{
	int fails = test_procmem_self() + test_procmem_gone() + test_host();

	if (fails)
		fprintf(stderr, "unit.host.live: %d check(s) failed\n", fails);
	return fails ? 1 : 0;
}
