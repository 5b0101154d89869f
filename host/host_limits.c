/*
 * host_limits.c — the limits that cap connections (open files, pid_max,
 * threads-max, max_map_count, Max processes, memory) and the capacity
 * arithmetic that turns them into "which one stops the run, and how to raise it".
 */
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
