/*
 * host — readers for /proc and /proc/sys, and the capacity arithmetic that
 * turns limits into "which one stops the run, and how to raise it".
 */
#include "grow.h"
#include "host.h"

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

/* status is ~1.5 KB; the fields we need come before the long Mems_allowed lines. */
#define HOST_TEXT_MAX 16384

/* ld.so, libc, the binary and its heap take ~100 maps; keep headroom. */
#define HOST_MAPS_RESERVED   200
#define HOST_MAPS_PER_THREAD 2 /* the stack and its guard page are separate maps */

/* PID_MAX_LIMIT on 64-bit: pid_max cannot go higher. */
#define HOST_PID_MAX_LIMIT 4194304L

enum host_bind {
	HOST_BIND_NOFILE,
	HOST_BIND_MAPS,
	HOST_BIND_PID_MAX,
	HOST_BIND_THREADS_MAX,
	HOST_BIND_NPROC, /* a watched process's Max processes (host_capacity_watched()) */
	HOST_BIND_MEMORY,
	HOST_BIND_COUNT,
};

static const char *const host_bind_names[HOST_BIND_COUNT] = {
    "open-files", "max_map_count", "pid_max", "threads-max", "max-processes", "memory",
};

/* Reads a whole (small) file as a NUL-terminated string; returns its length or -errno. */
static ssize_t host_read_text(const char *path, char *buf, size_t size)
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
static int host_parse_long(const char **s, long *out)
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
static int host_parse_field(const char *text, const char *key, long *out)
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

int host_procmem_read(pid_t pid, struct host_procmem *out)
{
	char path[64];
	char *text;
	struct host_procmem m;
	ssize_t len;
	int rc;

	/* Heap, not stack: this runs in 16 KB-stack connection threads too. */
	text = malloc(HOST_TEXT_MAX);
	if (!text)
		return -ENOMEM;
	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	len = host_read_text(path, text, HOST_TEXT_MAX);
	rc = len < 0 ? (int)len : host_parse_status(text, &m);
	if (rc < 0)
		goto out;

	/* smaps_rollup is 4.14+ and needs ptrace access: its absence is not an error. */
	snprintf(path, sizeof(path), "/proc/%ld/smaps_rollup", (long)pid);
	len = host_read_text(path, text, HOST_TEXT_MAX);
	m.pss_kb = len < 0 ? -1 : host_parse_smaps_rollup(text);
	if (m.pss_kb < 0)
		m.pss_kb = -1;

	rc = host_scan_fds(pid, &m.fds, NULL);
	if (rc == 0)
		*out = m;
out:
	free(text);
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

pid_t host_live_task(pid_t pid)
{
	struct host_pidstat st;
	struct dirent *de;
	char path[64];
	pid_t live = 0;
	int rc = host_pidstat_read(pid, &st);
	DIR *d;

	if (rc < 0)
		return rc;
	if (st.state != 'Z' && st.state != 'X')
		return pid;
	/* The main thread is a zombie: the process runs while any other thread does. */
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
		if (host_pidstat_read((pid_t)tid, &st) == 0 && st.state != 'Z' && st.state != 'X')
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

int host_inodes_add(struct host_inodes *set, unsigned long inode)
{
	if (set->n == set->cap && grow((void **)&set->v, &set->cap, sizeof(*set->v), 256) < 0)
		return -ENOMEM;
	set->v[set->n++] = inode;
	return 0;
}

static int host_cmp_ulong(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;

	return (x > y) - (x < y);
}

void host_inodes_sort(struct host_inodes *set)
{
	size_t out = 0;

	if (set->n == 0)
		return;
	qsort(set->v, set->n, sizeof(*set->v), host_cmp_ulong);
	for (size_t i = 1; i < set->n; i++)
		if (set->v[i] != set->v[out])
			set->v[++out] = set->v[i];
	set->n = out + 1;
}

int host_inodes_has(const struct host_inodes *set, unsigned long inode)
{
	return set->n > 0 &&
	       bsearch(&inode, set->v, set->n, sizeof(*set->v), host_cmp_ulong) != NULL;
}

void host_inodes_free(struct host_inodes *set)
{
	free(set->v);
	memset(set, 0, sizeof(*set));
}

/* The kernel prints each 32-bit word of the address as the hex of its native value. */
static int host_parse_tcp_addr(const char *hex, struct host_tcp_row *row)
{
	size_t len = strlen(hex);
	char word[9] = {0};

	if (len != 8 && len != 32)
		return -EINVAL;
	row->family = len == 8 ? AF_INET : AF_INET6;
	memset(row->addr, 0, sizeof(row->addr));
	for (size_t i = 0; i < len / 8; i++) {
		uint32_t w;

		memcpy(word, hex + 8 * i, 8);
		w = (uint32_t)strtoul(word, NULL, 16);
		memcpy(row->addr + 4 * i, &w, sizeof(w));
	}
	return 0;
}

int host_parse_tcp_row(const char *line, struct host_tcp_row *out)
{
	struct host_tcp_row row;
	char addr[40];
	unsigned port, state;
	unsigned long inode;
	int used = 0;

	if (!line)
		return -EINVAL;
	/* sl: local rem st tx:rx tr:when retrnsmt uid timeout inode ... */
	if (sscanf(line,
	           " %*u: %32[0-9A-Fa-f]:%4x %*[0-9A-Fa-f]:%*4x %2x %*s %*s %*s %*u %*u %lu%n",
	           addr, &port, &state, &inode, &used) != 4 ||
	    used == 0 || host_parse_tcp_addr(addr, &row) < 0)
		return -EINVAL;
	row.port = port;
	row.state = state;
	row.inode = inode;
	*out = row;
	return 0;
}

void host_tcp_tally_clear(struct host_tcp_tally *t)
{
	memset(t, 0, sizeof(*t));
}

void host_tcp_tally_row(struct host_tcp_tally *t, const struct host_tcp_row *row,
                        const struct host_inodes *own)
{
	if (row->inode == 0 || !host_inodes_has(own, row->inode))
		return;
	t->rows++;
	if (row->state == HOST_TCP_LISTEN)
		t->listen[row->port & 0xffff] = 1;
	else if (row->state == HOST_TCP_ESTABLISHED)
		t->established[row->port & 0xffff]++;
}

/* Calls fn for each row of DIR/tcp and DIR/tcp6; a missing tcp6 (no IPv6) is no error. */
static int host_tcp_scan(const char *dir, void (*fn)(const struct host_tcp_row *, void *),
                         void *ctx)
{
	static const char *const files[] = {"tcp", "tcp6"};
	char path[96];
	char *line = NULL;
	size_t cap = 0;
	int rc = 0;

	for (size_t i = 0; i < 2 && rc == 0; i++) {
		struct host_tcp_row row;
		FILE *f;

		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		f = fopen(path, "re");
		if (!f) {
			if (errno != ENOENT || i == 0)
				rc = -errno;
			continue;
		}
		while (getline(&line, &cap, f) > 0)
			if (host_parse_tcp_row(line, &row) == 0)
				fn(&row, ctx);
		if (ferror(f))
			rc = -EIO;
		fclose(f);
	}
	free(line);
	return rc;
}

struct host_tally_ctx {
	struct host_tcp_tally *t;
	const struct host_inodes *own;
};

static void host_tally_fn(const struct host_tcp_row *row, void *ctx)
{
	struct host_tally_ctx *c = ctx;

	host_tcp_tally_row(c->t, row, c->own);
}

int host_tcp_tally_read(pid_t pid, const struct host_inodes *own, struct host_tcp_tally *t)
{
	char dir[64];
	struct host_tally_ctx ctx = {t, own};

	snprintf(dir, sizeof(dir), "/proc/%ld/net", (long)pid);
	host_tcp_tally_clear(t);
	return host_tcp_scan(dir, host_tally_fn, &ctx);
}

long host_tcp_tally_conns(const struct host_tcp_tally *t, unsigned port)
{
	long n = 0;

	if (port > 0)
		return port <= 0xffff ? (long)t->established[port] : 0;
	for (size_t p = 1; p <= 0xffff; p++)
		if (t->listen[p])
			n += t->established[p];
	return n;
}

struct host_listen_ctx {
	unsigned port;
	struct host_inodes *out;
	char *addr;
	size_t addr_size;
	int rc;
};

static void host_listen_fn(const struct host_tcp_row *row, void *ctx)
{
	struct host_listen_ctx *c = ctx;

	if (row->state != HOST_TCP_LISTEN || row->port != c->port || row->inode == 0 || c->rc < 0)
		return;
	if (c->out->n == 0 && c->addr_size > 0)
		inet_ntop(row->family, row->addr, c->addr, (socklen_t)c->addr_size);
	c->rc = host_inodes_add(c->out, row->inode);
}

int host_tcp_listeners(unsigned port, struct host_inodes *out, char *addr, size_t addr_size)
{
	struct host_listen_ctx ctx = {port, out, addr, addr_size, 0};
	int rc = host_tcp_scan("/proc/self/net", host_listen_fn, &ctx);

	if (rc == 0)
		rc = ctx.rc;
	host_inodes_sort(out);
	return rc;
}

/* 1 if any of pid's sockets is in `sockets`, 0 if none, or -errno. */
static int host_holds_any(pid_t pid, const struct host_inodes *sockets, struct host_inodes *tmp)
{
	long fds = 0;
	tmp->n = 0;
	int rc = host_fds_read(pid, &fds, tmp);

	/* No descriptor at all: maybe a main thread that called pthread_exit(); ask a live one. */
	if (rc == 0 && fds == 0) {
		pid_t live = host_live_task(pid);

		if (live > 0 && live != pid)
			rc = host_socket_inodes_read(live, tmp);
	}
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < tmp->n; i++)
		if (host_inodes_has(sockets, tmp->v[i]))
			return 1;
	return 0;
}

int host_socket_owners(const struct host_inodes *sockets, pid_t *pids, size_t max, size_t *n,
                       long *unreadable)
{
	struct host_inodes tmp = {0};
	struct dirent *de;
	DIR *d = opendir("/proc");
	int rc = 0;

	*n = 0;
	*unreadable = 0;
	if (!d)
		return -errno;
	while ((de = readdir(d)) != NULL) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end != '\0' || pid <= 0 || pid == (long)getpid())
			continue;
		rc = host_holds_any((pid_t)pid, sockets, &tmp);
		if (rc == -EACCES || rc == -EPERM)
			(*unreadable)++;
		if (rc == 1 && *n < max)
			pids[(*n)++] = (pid_t)pid;
		rc = rc == -ENOMEM ? rc : 0; /* a process gone meanwhile is no error */
		if (rc < 0)
			break;
	}
	closedir(d);
	host_inodes_free(&tmp);
	for (size_t i = 1; i < *n; i++) /* /proc lists pids ascending, mostly: make it so */
		for (size_t j = i; j > 0 && pids[j - 1] > pids[j]; j--) {
			pid_t x = pids[j];
			pids[j] = pids[j - 1];
			pids[j - 1] = x;
		}
	return rc;
}

/* Reads n blank-separated numbers from procroot/rel into v; leaves v alone on error. */
static int host_read_longs(const char *procroot, const char *rel, long *v, int n)
{
	char path[PATH_MAX];
	char text[256];
	const char *p = text;
	long tmp[2];
	ssize_t len;
	int rc;

	if (n > 2)
		return -EINVAL;
	rc = snprintf(path, sizeof(path), "%s/%s", procroot, rel);
	if (rc < 0 || (size_t)rc >= sizeof(path))
		return -ENAMETOOLONG;
	len = host_read_text(path, text, sizeof(text));
	if (len < 0)
		return (int)len;
	for (int i = 0; i < n; i++) {
		rc = host_parse_long(&p, &tmp[i]);
		if (rc < 0)
			return rc;
	}
	memcpy(v, tmp, (size_t)n * sizeof(*v));
	return 0;
}

/* loadavg's 4th field is "running/total": total is every task (thread) on the host. */
static int host_read_tasks(const char *procroot, long *out)
{
	char path[PATH_MAX];
	char text[256];
	long running, total;
	int rc;

	rc = snprintf(path, sizeof(path), "%s/loadavg", procroot);
	if (rc < 0 || (size_t)rc >= sizeof(path))
		return -ENAMETOOLONG;
	rc = (int)host_read_text(path, text, sizeof(text));
	if (rc < 0)
		return rc;
	if (sscanf(text, "%*s %*s %*s %ld/%ld", &running, &total) != 2 || total < 0)
		return -EINVAL;
	*out = total;
	return 0;
}

static int host_read_mem_available(const char *procroot, long *out)
{
	char path[PATH_MAX];
	char *text;
	ssize_t len;
	int rc;

	rc = snprintf(path, sizeof(path), "%s/meminfo", procroot);
	if (rc < 0 || (size_t)rc >= sizeof(path))
		return -ENAMETOOLONG;
	text = malloc(HOST_TEXT_MAX);
	if (!text)
		return -ENOMEM;
	len = host_read_text(path, text, HOST_TEXT_MAX);
	rc = len < 0 ? (int)len : host_parse_field(text, "MemAvailable", out);
	free(text);
	return rc;
}

int host_limits_read_at(const char *procroot, struct host_limits *out)
{
	struct host_limits l = {-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1};
	struct rlimit rl;
	struct stat st;
	long range[2];
	int rc = 0;

	if (!procroot || !out)
		return -EINVAL;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		l.nofile_soft = rl.rlim_cur == RLIM_INFINITY ? LONG_MAX : (long)rl.rlim_cur;
		l.nofile_hard = rl.rlim_max == RLIM_INFINITY ? LONG_MAX : (long)rl.rlim_max;
	}
	/* A wrong procroot is a caller bug worth reporting; a missing sysctl is not. */
	if (stat(procroot, &st) < 0)
		rc = -errno;
	else if (!S_ISDIR(st.st_mode))
		rc = -ENOTDIR;

	/* Each value on its own: -1 (unknown) must not hide the others. */
	(void)host_read_longs(procroot, "sys/fs/nr_open", &l.nr_open, 1);
	(void)host_read_longs(procroot, "sys/kernel/pid_max", &l.pid_max, 1);
	(void)host_read_longs(procroot, "sys/kernel/threads-max", &l.threads_max, 1);
	(void)host_read_longs(procroot, "sys/vm/max_map_count", &l.max_map_count, 1);
	if (host_read_longs(procroot, "sys/net/ipv4/ip_local_port_range", range, 2) == 0 &&
	    range[0] <= range[1]) {
		l.port_lo = range[0];
		l.port_hi = range[1];
	}
	(void)host_read_longs(procroot, "sys/net/core/somaxconn", &l.somaxconn, 1);
	(void)host_read_tasks(procroot, &l.tasks_now);
	(void)host_read_mem_available(procroot, &l.mem_available_kb);
	*out = l;
	return rc;
}

int host_limits_read(struct host_limits *out)
{
	return host_limits_read_at("/proc", out);
}

/* "unlimited" or a number; -EINVAL for anything else. */
static int host_parse_limit(const char *word, long *out)
{
	char *end;
	long v;

	if (strcmp(word, "unlimited") == 0) {
		*out = LONG_MAX;
		return 0;
	}
	errno = 0;
	v = strtol(word, &end, 10);
	if (errno != 0 || end == word || *end != '\0' || v < 0)
		return -EINVAL;
	*out = v;
	return 0;
}

int host_parse_proc_limits(const char *text, struct host_proc_limits *out)
{
	struct host_proc_limits l = {-1, -1, -1};
	const char *p = text;

	if (!text || !out)
		return -EINVAL;
	/* "Max open files            300                  300                  files" */
	for (; *p; p += strcspn(p, "\n") + (p[strcspn(p, "\n")] == '\n')) {
		char soft[32], hard[32];
		const char *rest;

		if (strncmp(p, "Max open files ", 15) == 0)
			rest = p + 15;
		else if (strncmp(p, "Max processes ", 14) == 0)
			rest = p + 14;
		else
			continue;
		if (sscanf(rest, "%31s %31s", soft, hard) != 2)
			continue;
		if (rest == p + 15 && host_parse_limit(soft, &l.nofile_soft) == 0)
			(void)host_parse_limit(hard, &l.nofile_hard);
		else if (rest == p + 14)
			(void)host_parse_limit(soft, &l.nproc_soft);
	}
	*out = l;
	return l.nofile_soft >= 0 ? 0 : -EINVAL;
}

/* Bits of CapEff in /proc/PID/status: either lets a task create threads past RLIMIT_NPROC. */
#define HOST_CAP_SYS_ADMIN    21
#define HOST_CAP_SYS_RESOURCE 24

int host_parse_nproc_exempt(const char *status)
{
	const char *uid = strstr(status, "\nUid:"), *cap = strstr(status, "\nCapEff:");
	unsigned long long eff;
	long real;

	if (uid == NULL || cap == NULL || sscanf(uid, "\nUid: %ld", &real) != 1 ||
	    sscanf(cap, "\nCapEff: %llx", &eff) != 1)
		return -EINVAL;
	return real == 0 || (eff >> HOST_CAP_SYS_ADMIN & 1) || (eff >> HOST_CAP_SYS_RESOURCE & 1);
}

int host_proc_limits_read(pid_t pid, struct host_proc_limits *out)
{
	char path[64], text[4096];
	ssize_t len;
	int rc;

	snprintf(path, sizeof(path), "/proc/%ld/limits", (long)pid);
	len = host_read_text(path, text, sizeof(text));
	rc = len < 0 ? (int)len : host_parse_proc_limits(text, out);
	if (rc < 0)
		return rc;
	/* The kernel does not hold root, or a task with either capability, to Max processes. */
	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	len = host_read_text(path, text, sizeof(text));
	if (len < 0 || host_parse_nproc_exempt(text) != 0)
		out->nproc_soft = -1; /* exempt, or unknown: not weighed */
	return 0;
}

long host_ports_per_source(const struct host_limits *l)
{
	if (l->port_lo < 0 || l->port_hi < l->port_lo)
		return -1;
	return l->port_hi - l->port_lo + 1;
}

char *host_fmt_count(long n, char *buf, size_t size)
{
	char tmp[32];
	char *p = tmp + sizeof(tmp) - 1;
	/* Through unsigned so LONG_MIN does not overflow on negation. */
	unsigned long u = n < 0 ? 0UL - (unsigned long)n : (unsigned long)n;
	int digits = 0;

	if (!buf || size == 0)
		return buf;
	*p = '\0';
	do {
		if (digits > 0 && digits % 3 == 0)
			*--p = ',';
		*--p = (char)('0' + u % 10);
		u /= 10;
		digits++;
	} while (u > 0);
	snprintf(buf, size, "%s%s", n < 0 ? "-" : "", p);
	return buf;
}

/* Rough per-connection memory: what the server really pays, not just what VmRSS shows. */
static long host_conn_cost_kb(enum host_model model)
{
	switch (model) {
	case HOST_MODEL_THREADS:
		return 40; /* 16 KB kernel stack + touched stack pages + task/socket slab */
	case HOST_MODEL_EPOLL:
		return 6; /* socket + epoll item slab, per-connection buffer */
	case HOST_MODEL_AGENT:
	default:
		return 4; /* socket slab + a small state struct */
	}
}

/* Thread stacks one process can map under vm.max_map_count. */
static long host_maps_threads(const struct host_limits *l)
{
	long n = (l->max_map_count - HOST_MAPS_RESERVED) / HOST_MAPS_PER_THREAD;

	return n > 0 ? n : 0;
}

static long host_clamp_mul(long per, int processes)
{
	if (per <= 0)
		return 0;
	if (per > LONG_MAX / processes)
		return LONG_MAX;
	return per * processes;
}

/* Host-wide task limits: every existing task already holds a pid. */
static long host_tasks_left(long limit, long tasks_now)
{
	long left = limit - (tasks_now > 0 ? tasks_now : 0);

	return left > 0 ? left : 0;
}

/* "12,345" or "unknown" for a -1 limit, into buf. */
static const char *host_fmt_known(long v, char *buf, size_t size)
{
	if (v < 0) {
		snprintf(buf, size, "unknown");
		return buf;
	}
	return host_fmt_count(v, buf, size);
}

/* Next value to suggest for a sysctl: a round target, or double if already past it. */
static long host_suggest(long cur, long target)
{
	if (cur < target)
		return target;
	return cur > LONG_MAX / 2 ? LONG_MAX : cur * 2;
}

static void host_explain_nofile(const struct host_limits *l, enum host_model model, int processes,
                                int external, const char *cap, struct host_capacity *out)
{
	char hard[32], nr_open[32], procs[48] = "";

	if (processes > 1)
		snprintf(procs, sizeof(procs), " x %d processes", processes);
	snprintf(out->sentence, sizeof(out->sentence),
	         "capacity %s connections: open-files limit %ld per process%s — raise it "
	         "(ulimit -n, LimitNOFILE=; hard limit %s, fs.nr_open %s)%s",
	         cap, l->nofile_soft, procs, host_fmt_known(l->nofile_hard, hard, sizeof(hard)),
	         host_fmt_known(l->nr_open, nr_open, sizeof(nr_open)),
	         model == HOST_MODEL_AGENT || external ? "" : " or run more --processes");
}

static void host_explain_tasks(const struct host_limits *l, enum host_bind bind, const char *cap,
                               struct host_capacity *out)
{
	char tasks[32];
	long cur = bind == HOST_BIND_PID_MAX ? l->pid_max : l->threads_max;
	const char *name = bind == HOST_BIND_PID_MAX ? "kernel.pid_max" : "kernel.threads-max";
	int n;

	n = snprintf(out->sentence, sizeof(out->sentence),
	             "capacity %s connections: %s %ld host-wide, %s tasks already running "
	             "(each connection is a thread) — ",
	             cap, name, cur, host_fmt_known(l->tasks_now, tasks, sizeof(tasks)));
	if (n < 0 || (size_t)n >= sizeof(out->sentence))
		return;
	if (bind == HOST_BIND_PID_MAX && cur >= HOST_PID_MAX_LIMIT)
		snprintf(out->sentence + n, sizeof(out->sentence) - (size_t)n,
		         "already at the kernel maximum: use the epoll model or more hosts");
	else
		snprintf(out->sentence + n, sizeof(out->sentence) - (size_t)n,
		         "raise it: sysctl -w %s=%ld", name,
		         bind == HOST_BIND_PID_MAX ? HOST_PID_MAX_LIMIT
		                                   : host_suggest(cur, HOST_PID_MAX_LIMIT));
}

/* What a watched process adds to host_capacity()'s arithmetic (host_capacity_watched()). */
struct host_capacity_ext {
	int external;    /* not connscale's server: no --processes to suggest */
	long nproc_soft; /* its Max processes; -1: not weighed */
};

static void host_explain(const struct host_limits *l, enum host_model model, int processes,
                         const struct host_capacity_ext *x, enum host_bind bind,
                         struct host_capacity *out)
{
	char cap[32], per[32], avail[32];
	long cost = host_conn_cost_kb(model);

	host_fmt_count(out->conns, cap, sizeof(cap));
	switch (bind) {
	case HOST_BIND_NOFILE:
		host_explain_nofile(l, model, processes, x->external, cap, out);
		break;
	case HOST_BIND_MAPS:
		host_fmt_count(host_maps_threads(l), per, sizeof(per));
		snprintf(out->sentence, sizeof(out->sentence),
		         "capacity %s connections: vm.max_map_count %ld allows %s thread stacks "
		         "per process (2 maps each) — raise it: sysctl -w vm.max_map_count=%ld",
		         cap, l->max_map_count, per, host_suggest(l->max_map_count, 1048576));
		break;
	case HOST_BIND_PID_MAX:
	case HOST_BIND_THREADS_MAX:
		host_explain_tasks(l, bind, cap, out);
		break;
	case HOST_BIND_NPROC:
		snprintf(
		    out->sentence, sizeof(out->sentence),
		    "capacity %s connections: Max processes %ld for its user, %s tasks already "
		    "running on the host (each connection is a thread) — raise it (ulimit -u, "
		    "LimitNPROC=)",
		    cap, x->nproc_soft, host_fmt_known(l->tasks_now, avail, sizeof(avail)));
		break;
	case HOST_BIND_MEMORY:
	default:
		snprintf(out->sentence, sizeof(out->sentence),
		         "capacity %s connections: memory — %s kB available at ~%ld kB per "
		         "connection — free memory, add RAM or spread the load over more hosts",
		         cap, host_fmt_count(l->mem_available_kb, avail, sizeof(avail)), cost);
		break;
	}
}

static void host_capacity_of(const struct host_limits *l, enum host_model model, int processes,
                             long reserve_fds, const struct host_capacity_ext *x,
                             struct host_capacity *out)
{
	long c[HOST_BIND_COUNT];
	int threads = model == HOST_MODEL_THREADS;
	int best = -1;

	for (int i = 0; i < HOST_BIND_COUNT; i++)
		c[i] = -1;
	if (processes < 1)
		processes = 1;
	if (reserve_fds < 0)
		reserve_fds = 0;
	if (l->nofile_soft >= 0)
		c[HOST_BIND_NOFILE] = host_clamp_mul(l->nofile_soft - reserve_fds, processes);
	if (threads && l->max_map_count >= 0)
		c[HOST_BIND_MAPS] = host_clamp_mul(host_maps_threads(l), processes);
	if (threads && l->pid_max >= 0)
		c[HOST_BIND_PID_MAX] = host_tasks_left(l->pid_max, l->tasks_now);
	if (threads && l->threads_max >= 0)
		c[HOST_BIND_THREADS_MAX] = host_tasks_left(l->threads_max, l->tasks_now);
	if (threads && x->nproc_soft >= 0 && x->nproc_soft < LONG_MAX)
		c[HOST_BIND_NPROC] = host_tasks_left(x->nproc_soft, l->tasks_now);
	if (l->mem_available_kb >= 0)
		c[HOST_BIND_MEMORY] = l->mem_available_kb / host_conn_cost_kb(model);

	/* Strict <: a tie names the limit listed first, the easiest one to raise. */
	for (int i = 0; i < HOST_BIND_COUNT; i++)
		if (c[i] >= 0 && (best < 0 || c[i] < c[best]))
			best = i;
	if (best < 0) {
		out->conns = -1;
		out->limit = "unknown";
		snprintf(out->sentence, sizeof(out->sentence),
		         "capacity unknown: no limit could be read");
		return;
	}
	out->conns = c[best];
	out->limit = host_bind_names[best];
	host_explain(l, model, processes, x, (enum host_bind)best, out);
}

void host_capacity(const struct host_limits *l, enum host_model model, int processes,
                   long reserve_fds, struct host_capacity *out)
{
	const struct host_capacity_ext none = {.external = 0, .nproc_soft = -1};

	host_capacity_of(l, model, processes, reserve_fds, &none, out);
}

void host_capacity_watched(const struct host_limits *host, const struct host_proc_limits *own,
                           const struct host_watched *now, struct host_capacity *out)
{
	const struct host_capacity_ext x = {.external = 1, .nproc_soft = own->nproc_soft};
	struct host_limits l = *host;
	int processes = now->processes > 0 ? now->processes : 1;

	l.nofile_soft = own->nofile_soft;
	l.nofile_hard = own->nofile_hard;
	/* Its connection threads run already: they are capacity in use, not taken by others. */
	if (now->per_thread && l.tasks_now >= 0)
		l.tasks_now = l.tasks_now > now->conns ? l.tasks_now - now->conns : 0;
	host_capacity_of(&l, now->per_thread ? HOST_MODEL_THREADS : HOST_MODEL_EPOLL, processes,
	                 now->other_fds / processes, &x, out);
}
