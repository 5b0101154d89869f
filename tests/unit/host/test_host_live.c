/* The readers against this very process and host. */
#include "host.h"
#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static void test_procmem_self(void)
{
	struct host_procmem m;
	long before;
	int fd;

	CHECK_EQ(host_procmem_read(getpid(), &m), 0);
	CHECK(m.rss_kb > 0);
	CHECK(m.hwm_kb >= m.rss_kb);
	CHECK(m.threads >= 1);
	CHECK(m.fds >= 3);
	CHECK(m.pss_kb == -1 || m.pss_kb > 0);

	/* One more open file is exactly one more fd: the count excludes its own dir fd. */
	before = m.fds;
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0);
	CHECK_EQ(host_procmem_read(getpid(), &m), 0);
	CHECK_EQ(m.fds, before + 1);
	if (fd >= 0)
		close(fd);
}

/* Active objects of one /proc/slabinfo cache; -1 when unreadable (not root) or merged away. */
static long slab_objects(const char *cache)
{
	char line[512];
	long n = -1;
	size_t len = strlen(cache);
	FILE *f = fopen("/proc/slabinfo", "r");

	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, cache, len) == 0 && line[len] == ' ' &&
		    sscanf(line + len, "%ld", &n) == 1)
			break;
	if (f != NULL)
		fclose(f);
	return n;
}

/*
 * Counting 2,000 descriptors does not walk them: a walk of /proc/PID/fd makes
 * a proc inode and a dentry per descriptor (reclaimable slab that stays), which
 * the server would then report as its connections' kernel cost. Since Linux 6.2
 * stat() of the directory gives the count (host_count_fds()).
 */
static void test_procmem_no_walk(void)
{
	enum { EXTRA = 2000 };
	struct rlimit rl;
	struct host_procmem m;
	int fds[EXTRA], opened = 0;
	long before, inodes;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < 4096 && rl.rlim_max >= 4096) {
		rl.rlim_cur = 4096;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	CHECK_EQ(host_procmem_read(getpid(), &m), 0);
	before = m.fds;
	while (opened < EXTRA && (fds[opened] = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0)
		opened++;
	CHECK_EQ(opened, EXTRA);
	inodes = slab_objects("proc_inode_cache");
	CHECK_EQ(host_procmem_read(getpid(), &m), 0);
	CHECK_EQ(m.fds, before + opened);
	if (inodes >= 0) {
		long grew = slab_objects("proc_inode_cache") - inodes;
		printf("proc_inode_cache objects: %+ld while counting %d descriptors\n", grew,
		       opened);
		CHECK(grew < opened / 2); /* a walk: about one per descriptor */
	} else {
		printf("/proc/slabinfo unreadable or no proc_inode_cache: the slab check is "
		       "skipped\n");
	}
	while (opened > 0)
		close(fds[--opened]);
}

static void test_procmem_gone(void)
{
	struct host_procmem m = {1, 2, 3, 4, 5};

	/* Above PID_MAX_LIMIT, so no process can have it. */
	CHECK_EQ(host_procmem_read(4194305 + 1, &m), -ENOENT);
	CHECK_EQ(m.rss_kb, 1);
}

static void test_host(void)
{
	struct host_meminfo mi;
	struct host_limits l;
	struct host_capacity cap;

	CHECK_EQ(host_meminfo_read(&mi), 0);
	CHECK(mi.mem_total_kb > 0);
	CHECK(mi.mem_available_kb > 0 && mi.mem_available_kb <= mi.mem_total_kb);
	CHECK(mi.kernel_stack_kb > 0);

	CHECK_EQ(host_limits_read(&l), 0);
	CHECK(l.nofile_soft > 0);
	CHECK(l.nofile_hard >= l.nofile_soft);
	CHECK(l.port_lo > 0 && l.port_lo <= l.port_hi && l.port_hi <= 65535);
	CHECK(host_ports_per_source(&l) > 0);
	CHECK(l.pid_max > 0);
	CHECK(l.tasks_now >= 1);
	host_capacity(&l, HOST_MODEL_THREADS, 1, 16, &cap);
	CHECK(cap.conns > 0);
	CHECK_CONTAINS(cap.sentence, "capacity ");
	printf("nofile %ld/%ld nr_open %ld pid_max %ld threads-max %ld max_map_count %ld "
	       "ports %ld-%ld somaxconn %ld tasks %ld mem_available %ld kB\n%s [%s]\n",
	       l.nofile_soft, l.nofile_hard, l.nr_open, l.pid_max, l.threads_max, l.max_map_count,
	       l.port_lo, l.port_hi, l.somaxconn, l.tasks_now, l.mem_available_kb, cap.sentence,
	       cap.limit);
}

int main(void)
{
	test_procmem_self();
	test_procmem_no_walk();
	test_procmem_gone();
	test_host();
	return check_exit("unit.host.live");
}
