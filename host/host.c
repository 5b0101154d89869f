/*
 * host.c — readers for /proc: a process's memory, CPU, threads and
 * descriptors, the host's memory and CPU. The sockets' tables are in
 * host_net.c, the limits and the capacity arithmetic in host_limits.c.
 */
#include "grow.h"
#include "host.h"
#include "host_int.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* Reads a whole (small) file as a NUL-terminated string; returns its length or -errno. */
ssize_t host_read_text(const char *path, char *buf, size_t size)
{
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	while (len + 1 < size) {
		ssize_t n = read(fd, buf + len, size - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = errno;

			close(fd);
			return -err;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	if (close(fd) < 0)
		return -errno;
	return (ssize_t)len;
}

/* Parses one decimal at *s, skipping leading blanks; advances *s past it. */
int host_parse_long(const char **s, long *out)
{
	const char *p = *s;
	char *end;
	long v;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p < '0' || *p > '9')
		return -EINVAL;
	errno = 0;
	v = strtol(p, &end, 10);
	if (errno == ERANGE)
		return -ERANGE;
	if (*end != '\0' && *end != ' ' && *end != '\t' && *end != '\n')
		return -EINVAL;
	*out = v;
	*s = end;
	return 0;
}

/* Finds the line "key: <number>..." in text; -ENOENT if no line has that key. */
int host_parse_field(const char *text, const char *key, long *out)
{
	size_t klen = strlen(key);
	const char *line = text;

	while (line && *line) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			const char *p = line + klen + 1;

			return host_parse_long(&p, out);
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return -ENOENT;
}

/* Fills each out[i] from its key; a missing key makes the text not what we expected. */
static int host_parse_fields(const char *text, const char *const *keys, long *const *out, size_t n)
{
	if (!text)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		int rc = host_parse_field(text, keys[i], out[i]);

		if (rc == -ENOENT)
			return -EINVAL;
		if (rc < 0)
			return rc;
	}
	return 0;
}

int host_parse_status(const char *text, struct host_procmem *out)
{
	static const char *const keys[] = {"VmRSS", "VmHWM", "Threads"};
	long rss, hwm, threads;
	long *const vals[] = {&rss, &hwm, &threads};
	int rc = host_parse_fields(text, keys, vals, 3);

	if (rc < 0)
		return rc;
	out->rss_kb = rss;
	out->hwm_kb = hwm;
	out->threads = threads;
	return 0;
}

long host_parse_smaps_rollup(const char *text)
{
	long pss;
	int rc;

	if (!text)
		return -EINVAL;
	rc = host_parse_field(text, "Pss", &pss);
	return rc < 0 ? rc : pss;
}

int host_parse_meminfo(const char *text, struct host_meminfo *out)
{
	static const char *const keys[] = {"MemTotal", "MemAvailable", "KernelStack", "Slab",
	                                   "PageTables"};
	struct host_meminfo m;
	long *const vals[] = {&m.mem_total_kb, &m.mem_available_kb, &m.kernel_stack_kb, &m.slab_kb,
	                      &m.page_tables_kb};
	int rc = host_parse_fields(text, keys, vals, 5);

	if (rc < 0)
		return rc;
	*out = m;
	return 0;
}

int host_parse_cpustat(const char *text, struct host_cpustat *out)
{
	struct host_cpustat c = {0};
	long *const cols[] = {&c.user,   &c.nice, &c.system,  &c.idle,
	                      &c.iowait, &c.irq,  &c.softirq, &c.steal};
	const char *p = text;

	/* The aggregate line comes first; "cpu0" and the rest are per CPU. */
	if (!text || strncmp(text, "cpu ", 4) != 0)
		return -EINVAL;
	p += 4;
	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
		int rc = host_parse_long(&p, cols[i]);

		/* user..softirq are in every 2.6 kernel; only steal may be missing. */
		if (rc == -EINVAL && cols[i] == &c.steal) {
			char end = p[strspn(p, " \t")];

			if (end == '\n' || end == '\0')
				break;
		}
		if (rc < 0)
			return rc;
	}
	*out = c;
	return 0;
}

int host_cpustat_read(struct host_cpustat *out)
{
	/* Only the first line is wanted: a short read of a long file is enough. */
	char text[512];
	ssize_t len = host_read_text("/proc/stat", text, sizeof(text));

	return len < 0 ? (int)len : host_parse_cpustat(text, out);
}

/* "socket:[12345]" -> 12345; 0 for any other link text. */
static unsigned long host_socket_inode(const char *link)
{
	char *end;
	unsigned long inode;

	if (strncmp(link, "socket:[", 8) != 0)
		return 0;
	errno = 0;
	inode = strtoul(link + 8, &end, 10);
	return errno == 0 && end != link + 8 && strcmp(end, "]") == 0 ? inode : 0;
}

/*
 * Walks /proc/PID/fd once: counts the descriptors (not the one this walk
 * itself opens) into *count, and with `sockets` appends each socket's inode.
 */
static int host_scan_fds(pid_t pid, long *count, struct host_inodes *sockets)
{
	char path[64], link[64];
	struct dirent *de;
	long n = 0;
	DIR *d;
	int own, rc = 0;

	snprintf(path, sizeof(path), "/proc/%ld/fd", (long)pid);
	d = opendir(path);
	if (!d)
		return -errno;
	own = pid == getpid() ? dirfd(d) : -1;
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de) {
			rc = -errno; /* 0 at the end of the directory */
			break;
		}
		if (de->d_name[0] == '.')
			continue;
		if (own >= 0 && atoi(de->d_name) == own)
			continue;
		n++;
		if (!sockets)
			continue;
		/* A descriptor closed since readdir saw it is simply not a socket. */
		ssize_t len = readlinkat(dirfd(d), de->d_name, link, sizeof(link) - 1);
		if (len <= 0)
			continue;
		link[len] = '\0';
		unsigned long inode = host_socket_inode(link);
		if (inode != 0 && (rc = host_inodes_add(sockets, inode)) < 0)
			break;
	}
	if (closedir(d) < 0 && rc == 0)
		rc = -errno;
	if (rc == 0 && count)
		*count = n;
	return rc;
}

int host_socket_inodes_read(pid_t pid, struct host_inodes *set)
{
	return host_scan_fds(pid, NULL, set);
}

int host_fds_read(pid_t pid, long *count, struct host_inodes *set)
{
	return host_scan_fds(pid, count, set);
}

int host_procmem_read_mem(pid_t pid, struct host_procmem *out)
{
	char path[64];
	char *text;
	struct host_procmem m = {0};
	ssize_t len;
	int rc;

	/* Heap, not stack: this runs in 16 KB-stack connection threads too. */
	text = malloc(HOST_TEXT_MAX);
	if (!text)
		return -ENOMEM;
	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	len = host_read_text(path, text, HOST_TEXT_MAX);
	rc = len < 0 ? (int)len : host_parse_status(text, &m);
	if (rc == 0) {
		/* smaps_rollup is 4.14+ and needs ptrace access: its absence is not an error. */
		snprintf(path, sizeof(path), "/proc/%ld/smaps_rollup", (long)pid);
		len = host_read_text(path, text, HOST_TEXT_MAX);
		m.pss_kb = len < 0 ? -1 : host_parse_smaps_rollup(text);
		if (m.pss_kb < 0)
			m.pss_kb = -1;
		*out = m;
	}
	free(text);
	return rc;
}

/*
 * pid's open descriptors, counted without walking them where the kernel allows:
 * since Linux 6.2, stat() of /proc/PID/fd says the count in st_size. A walk
 * (readdir) there makes a dentry and a proc inode for every descriptor, about
 * 1 KB of reclaimable slab each that stays until memory runs short: the
 * server's own sampling would put about 1 KB per connection into the Slab
 * delta it reports as the connections' cost. An older kernel says 0: the walk.
 */
static int host_count_fds(pid_t pid, long *count)
{
	char path[64];
	struct stat st;

	snprintf(path, sizeof(path), "/proc/%ld/fd", (long)pid);
	if (stat(path, &st) < 0)
		return -errno;
	if (st.st_size > 0) {
		*count = (long)st.st_size;
		return 0;
	}
	return host_scan_fds(pid, count, NULL);
}

int host_procmem_read(pid_t pid, struct host_procmem *out)
{
	struct host_procmem m;
	int rc = host_procmem_read_mem(pid, &m);

	if (rc == 0)
		rc = host_count_fds(pid, &m.fds);
	if (rc == 0)
		*out = m;
	return rc;
}

int host_meminfo_read(struct host_meminfo *out)
{
	char *text = malloc(HOST_TEXT_MAX);
	ssize_t len;
	int rc;

	if (!text)
		return -ENOMEM;
	len = host_read_text("/proc/meminfo", text, HOST_TEXT_MAX);
	rc = len < 0 ? (int)len : host_parse_meminfo(text, out);
	free(text);
	return rc;
}

int host_parse_pidstat(const char *text, struct host_pidstat *out)
{
	struct host_pidstat st = {0};
	const char *open = text ? strchr(text, '(') : NULL;
	const char *close = text ? strrchr(text, ')') : NULL;
	unsigned long long v[20];
	const char *p;
	char *end;

	if (!open || !close || close < open || close[1] != ' ' || !close[2])
		return -EINVAL;
	snprintf(st.comm, sizeof(st.comm), "%.*s", (int)(close - open - 1), open + 1);
	st.state = close[2];
	p = close + 3;
	/*
	 * Fields 4 (ppid) to 22 (starttime): utime is field 14, stime 15. Signed
	 * ones may be negative: tty_nr and tpgid (-1), priority and nice (a
	 * reniced or realtime process); utime, stime and starttime never are.
	 */
	for (int i = 0; i < 19; i++) {
		while (*p == ' ')
			p++;
		if (*p == '-' && i != 10 && i != 11 && i != 18)
			p++;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		errno = 0;
		v[i] = strtoull(p, &end, 10);
		if (errno != 0)
			return -ERANGE;
		p = end;
	}
	if (v[10] > LONG_MAX || v[11] > LONG_MAX)
		return -ERANGE;
	st.utime = (long)v[10];
	st.stime = (long)v[11];
	st.starttime = v[18];
	*out = st;
	return 0;
}

int host_pidstat_read(pid_t pid, struct host_pidstat *out)
{
	char path[64], text[1024];
	ssize_t len;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	len = host_read_text(path, text, sizeof(text));
	return len < 0 ? (int)len : host_parse_pidstat(text, out);
}

/* task->flags: set by the kernel's do_exit() before it closes files and drops memory. */
#define HOST_PF_EXITING 0x4UL
/* SIGKILL (9) as the bit of a SigPnd/ShdPnd mask, where signal N is bit N - 1. */
#define HOST_SIGKILL_BIT (1ULL << (9 - 1))

/* The hex mask of the status line "key:\t0000000000000100"; -ENOENT without that line. */
static int host_parse_sigmask(const char *text, const char *key, unsigned long long *out)
{
	size_t klen = strlen(key);
	const char *line = text;

	while (line && *line) {
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			const char *p = line + klen + 1 + strspn(line + klen + 1, " \t");
			char *end;

			errno = 0;
			*out = strtoull(p, &end, 16);
			return errno != 0 || end == p ? -EINVAL : 0;
		}
		line = strchr(line, '\n');
		if (line)
			line++;
	}
	return -ENOENT;
}

/*
 * Whether task tid (a process's main thread, or /proc/TID of any of its
 * threads) is on its way out: 0 it runs; 1 it has exited or is exiting
 * (state Z or X; PF_EXITING in its flags, field 9 of stat: a thread in
 * do_exit(), whose descriptors and memory are going, reads as R or D, not Z);
 * 2 its whole process dies (SIGKILL pending for the task, SigPnd, or for the
 * process, ShdPnd: a kill -9, or exit_group() from another thread, is
 * queued before any of its teardown begins and stays until the process is
 * reaped); -errno if gone or unreadable.
 *
 * status is read before stat: a status read after the task was released
 * (its pending masks then read 0) comes with a stat read after it too,
 * which says X, or fails.
 */
static int host_task_exiting(pid_t tid)
{
	char path[64], stat[1024];
	char *text = malloc(HOST_TEXT_MAX);
	unsigned long long pnd = 0, shd = 0;
	unsigned long flags = 0;
	const char *close;
	ssize_t len;
	int rc = 0;

	if (!text)
		return -ENOMEM;
	snprintf(path, sizeof(path), "/proc/%ld/status", (long)tid);
	len = host_read_text(path, text, HOST_TEXT_MAX);
	if (len < 0)
		rc = (int)len;
	else if (host_parse_sigmask(text, "SigPnd", &pnd) < 0 ||
	         host_parse_sigmask(text, "ShdPnd", &shd) < 0)
		rc = -EINVAL;
	free(text);
	if (rc < 0)
		return rc;
	if ((pnd | shd) & HOST_SIGKILL_BIT)
		return 2;
	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)tid);
	len = host_read_text(path, stat, sizeof(stat));
	if (len < 0)
		return (int)len;
	/* After the name (which may hold ')'): state, ppid, pgrp, session, tty_nr, tpgid, flags. */
	close = strrchr(stat, ')');
	if (!close || close[1] != ' ' || !close[2])
		return -EINVAL;
	if (close[2] == 'Z' || close[2] == 'X')
		return 1;
	if (sscanf(close + 3, "%*d %*d %*d %*d %*d %lu", &flags) != 1)
		return -EINVAL;
	return flags & HOST_PF_EXITING ? 1 : 0;
}

pid_t host_live_task(pid_t pid)
{
	struct dirent *de;
	char path[64];
	pid_t live = 0;
	int rc = host_task_exiting(pid);
	DIR *d;

	if (rc < 0)
		return rc;
	if (rc == 0)
		return pid;
	if (rc == 2)
		return 0;
	/*
	 * The main thread has exited (a zombie) or is exiting: after pthread_exit()
	 * the process runs while any other thread does; after exit_group() or a
	 * fatal signal every other thread is exiting too (PF_EXITING, or SIGKILL
	 * pending), and the process is gone already: its descriptors may be half
	 * closed, its memory half unmapped.
	 */
	snprintf(path, sizeof(path), "/proc/%ld/task", (long)pid);
	d = opendir(path);
	if (!d)
		return -errno;
	while (live == 0 && (de = readdir(d)) != NULL) {
		char *end;
		long tid = strtol(de->d_name, &end, 10);

		if (*end != '\0' || tid <= 0 || tid == (long)pid)
			continue;
		/* /proc/TID/stat is the thread's own (its state), /proc/PID/stat the process's. */
		rc = host_task_exiting((pid_t)tid);
		if (rc == 2)
			break;
		if (rc == 0)
			live = (pid_t)tid;
	}
	closedir(d);
	return live;
}

int host_parse_ctxsw(const char *text, long *voluntary, long *involuntary)
{
	static const char *const keys[] = {"voluntary_ctxt_switches", "nonvoluntary_ctxt_switches"};
	long vol, invol;
	long *const vals[] = {&vol, &invol};
	int rc = host_parse_fields(text, keys, vals, 2);

	if (rc < 0)
		return rc;
	*voluntary = vol;
	*involuntary = invol;
	return 0;
}

static int host_tasks_add(struct host_tasks *t, pid_t tid, long vol, long invol)
{
	if (t->n == t->cap && grow((void **)&t->v, &t->cap, sizeof(*t->v), 64) < 0)
		return -ENOMEM;
	t->v[t->n++] = (struct host_task_ctxsw){tid, vol, invol};
	return 0;
}

int host_tasks_read(pid_t pid, struct host_tasks *out)
{
	char path[96];
	struct dirent *de;
	long v, iv;
	char *text = malloc(HOST_TEXT_MAX);
	DIR *d;
	int rc = 0;

	snprintf(path, sizeof(path), "/proc/%ld/task", (long)pid);
	d = text ? opendir(path) : NULL;
	if (!d) {
		rc = text ? -errno : -ENOMEM;
		free(text);
		return rc;
	}
	for (;;) {
		errno = 0;
		de = readdir(d);
		if (!de) {
			rc = -errno;
			break;
		}
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/task/%.20s/status", (long)pid, de->d_name);
		/* A thread that ended since readdir saw it is not live: left out. */
		if (host_read_text(path, text, HOST_TEXT_MAX) < 0 ||
		    host_parse_ctxsw(text, &v, &iv) < 0)
			continue;
		if ((rc = host_tasks_add(out, (pid_t)atol(de->d_name), v, iv)) < 0)
			break;
	}
	closedir(d);
	free(text);
	return rc;
}

static int host_cmp_tid(const void *a, const void *b)
{
	pid_t x = ((const struct host_task_ctxsw *)a)->tid;
	pid_t y = ((const struct host_task_ctxsw *)b)->tid;

	return (x > y) - (x < y);
}

void host_tasks_sort(struct host_tasks *t)
{
	if (t->n > 1)
		qsort(t->v, t->n, sizeof(*t->v), host_cmp_tid);
}

void host_tasks_free(struct host_tasks *t)
{
	free(t->v);
	memset(t, 0, sizeof(*t));
}

void host_tasks_retired(const struct host_tasks *prev, const struct host_tasks *now,
                        long *voluntary, long *involuntary)
{
	size_t j = 0;

	for (size_t i = 0; i < prev->n; i++) {
		const struct host_task_ctxsw *p = &prev->v[i];

		while (j < now->n && now->v[j].tid < p->tid)
			j++;
		if (j < now->n && now->v[j].tid == p->tid && now->v[j].voluntary >= p->voluntary &&
		    now->v[j].involuntary >= p->involuntary)
			continue; /* the same thread, still there */
		*voluntary += p->voluntary;
		*involuntary += p->involuntary;
	}
}
