/*
 * host — what connscale reads from, and checks on, a Linux host: a process's
 * memory, the host's kernel memory counters, and the limits that cap how many
 * connections a process model can hold.
 *
 * Every reader has a parse_* twin that takes the file's text, so the parsers
 * are tested on fixture files. Functions return 0 or -errno.
 */
#ifndef CONNSCALE_HOST_H
#define CONNSCALE_HOST_H

#include <stddef.h>
#include <sys/types.h>

/* One process, from /proc/PID/status, /proc/PID/smaps_rollup, /proc/PID/fd. */
struct host_procmem {
	long rss_kb;  /* VmRSS */
	long hwm_kb;  /* VmHWM */
	long pss_kb;  /* Pss (smaps_rollup); -1 if the kernel does not have it */
	long threads; /* Threads */
	long fds;     /* entries in /proc/PID/fd */
};

int host_procmem_read(pid_t pid, struct host_procmem *out);
/*
 * The same without the walk of /proc/PID/fd (fds left 0): for a caller that
 * walks it anyway (the watcher, for the process's sockets). 0 or -errno.
 */
int host_procmem_read_mem(pid_t pid, struct host_procmem *out);
/* Fills rss_kb, hwm_kb, threads from /proc/PID/status text. */
int host_parse_status(const char *text, struct host_procmem *out);
/* Returns the Pss line of smaps_rollup text in kB, or -ENOENT. */
long host_parse_smaps_rollup(const char *text);

/*
 * One process from /proc/PID/stat: its state, name and CPU. utime and stime
 * (USER_HZ ticks) cover every thread, exited ones included; starttime (ticks
 * after boot) tells a process from a later one that got the same pid.
 */
struct host_pidstat {
	char state;    /* R, S, D, Z (zombie), X (dead), ... */
	char comm[32]; /* the name, without its parentheses (at most 15 bytes) */
	long utime;
	long stime;
	unsigned long long starttime;
};

int host_pidstat_read(pid_t pid, struct host_pidstat *out);
/* Parses a stat line; the name may hold spaces and ')' (it ends at the last ')'). */
int host_parse_pidstat(const char *text, struct host_pidstat *out);

/* One thread's context switches, from /proc/PID/task/TID/status. */
struct host_task_ctxsw {
	pid_t tid;
	long voluntary;
	long involuntary;
};

struct host_tasks {
	struct host_task_ctxsw *v;
	size_t n;
	size_t cap;
};

/*
 * Appends every live thread of pid with its context switches (a thread that
 * exited took its own with it: see host_tasks_retired()).
 */
int host_tasks_read(pid_t pid, struct host_tasks *out);
void host_tasks_sort(struct host_tasks *t); /* by tid */
void host_tasks_free(struct host_tasks *t);
/*
 * Adds to *voluntary and *involuntary the last counts of the threads of prev
 * that now lacks (they exited), or that now has with fewer switches (the tid
 * went to a new thread). Both sorted by tid. With it a watcher's figures never
 * go down: an exited thread keeps what it had at the last look.
 */
void host_tasks_retired(const struct host_tasks *prev, const struct host_tasks *now,
                        long *voluntary, long *involuntary);
/* Reads voluntary_ctxt_switches and nonvoluntary_ctxt_switches from status text. */
int host_parse_ctxsw(const char *text, long *voluntary, long *involuntary);

/* A set of socket inodes: add, then sort once, then look up. */
struct host_inodes {
	unsigned long *v;
	size_t n;
	size_t cap;
};

int host_inodes_add(struct host_inodes *set, unsigned long inode);
/* Sorts and drops duplicates (processes sharing a socket list it once). */
void host_inodes_sort(struct host_inodes *set);
int host_inodes_has(const struct host_inodes *set, unsigned long inode);
void host_inodes_free(struct host_inodes *set);
/* Appends the inode of every socket pid holds open (/proc/PID/fd -> "socket:[N]"). */
int host_socket_inodes_read(pid_t pid, struct host_inodes *set);
/* The same, and the number of descriptors pid holds (sockets or not) into *count. */
int host_fds_read(pid_t pid, long *count, struct host_inodes *set);

/*
 * A task of process pid that runs: pid itself, or, when its main thread has
 * called pthread_exit() while others run (the main thread is then a zombie,
 * and /proc/PID/stat says Z), one of the others. Such a main thread's
 * /proc/PID/{fd,net,status} are empty: read the returned task's instead
 * (/proc/TID/ holds the same process's). 0 when every thread has exited (a
 * zombie process); -errno when pid is gone or unreadable.
 */
pid_t host_live_task(pid_t pid);

/* TCP states as /proc/net/tcp writes them (the st column, hex). */
#define HOST_TCP_ESTABLISHED 0x01
#define HOST_TCP_LISTEN      0x0A

/* One row of /proc/net/tcp or tcp6. */
struct host_tcp_row {
	int family;             /* AF_INET or AF_INET6 */
	unsigned char addr[16]; /* local address, network order (4 bytes for AF_INET) */
	unsigned port;          /* local port */
	unsigned state;         /* HOST_TCP_* */
	unsigned long inode;    /* 0 for a socket no process holds (TIME_WAIT) */
};

/* Parses one row; -EINVAL for the header line or anything that is not a row. */
int host_parse_tcp_row(const char *line, struct host_tcp_row *out);

/*
 * Sockets by local port, counting only those in `own`: established ones per
 * port, and which ports are listened on. Fed row by row, so a 40,000-row table
 * is streamed, not held.
 */
struct host_tcp_tally {
	unsigned established[65536];
	unsigned char listen[65536];
	long rows; /* rows of the process's own (matched by inode) */
};

void host_tcp_tally_clear(struct host_tcp_tally *t);
void host_tcp_tally_row(struct host_tcp_tally *t, const struct host_tcp_row *row,
                        const struct host_inodes *own);
/* Feeds /proc/PID/net/tcp and tcp6 (pid's network namespace) through the tally. */
int host_tcp_tally_read(pid_t pid, const struct host_inodes *own, struct host_tcp_tally *t);
/* Established on `port`, or with port 0 on every port listened on. */
long host_tcp_tally_conns(const struct host_tcp_tally *t, unsigned port);

/*
 * The inodes of the sockets listening on TCP `port` (IPv4 and IPv6) in this
 * process's network namespace, and the first one's address as text.
 */
int host_tcp_listeners(unsigned port, struct host_inodes *out, char *addr, size_t addr_size);

/*
 * The processes holding any socket of `sockets`, by a scan of every
 * /proc/PID/fd. Fills up to max pids (ascending) in *n; *unreadable counts
 * the processes whose descriptors this user may not read.
 */
int host_socket_owners(const struct host_inodes *sockets, pid_t *pids, size_t max, size_t *n,
                       long *unreadable);

/* Host-wide kernel memory, from /proc/meminfo (kB). */
struct host_meminfo {
	long mem_total_kb;
	long mem_available_kb;
	long kernel_stack_kb;
	long slab_kb;
	long page_tables_kb;
};

int host_meminfo_read(struct host_meminfo *out);
int host_parse_meminfo(const char *text, struct host_meminfo *out);

/*
 * Host-wide CPU time from the first ("cpu ") line of /proc/stat, in USER_HZ
 * ticks (sysconf(_SC_CLK_TCK) per second) since boot, summed over CPUs.
 * Kernels before 2.6.11 have no steal column: it reads 0 there.
 */
struct host_cpustat {
	long user;
	long nice;
	long system;
	long idle;
	long iowait;
	long irq;
	long softirq;
	long steal;
};

int host_cpustat_read(struct host_cpustat *out);
int host_parse_cpustat(const char *text, struct host_cpustat *out);

/* The limits that cap connections. -1 where a value could not be read. */
struct host_limits {
	long nofile_soft; /* RLIMIT_NOFILE of this process */
	long nofile_hard;
	long nr_open;       /* fs.nr_open: ceiling for the hard limit */
	long pid_max;       /* kernel.pid_max */
	long threads_max;   /* kernel.threads-max */
	long max_map_count; /* vm.max_map_count (per process; 2 maps per thread stack) */
	long port_lo;       /* net.ipv4.ip_local_port_range */
	long port_hi;
	long somaxconn; /* net.core.somaxconn */
	long tasks_now; /* threads alive on the host now (/proc/loadavg) */
	long mem_available_kb;
};

/* Reads limits from /proc/sys below procroot ("/proc" normally) and getrlimit. */
int host_limits_read(struct host_limits *out);
int host_limits_read_at(const char *procroot, struct host_limits *out);
/* Ephemeral ports per (source address, destination address:port). */
long host_ports_per_source(const struct host_limits *l);

/* A process's own limits, from /proc/PID/limits: soft values; LONG_MAX unlimited, -1 unknown. */
struct host_proc_limits {
	long nofile_soft; /* Max open files */
	long nofile_hard;
	long nproc_soft; /* Max processes: the tasks (threads) its real user may run */
};

/* nproc_soft is -1 (not weighed) when the kernel exempts the process from it (below). */
int host_proc_limits_read(pid_t pid, struct host_proc_limits *out);
int host_parse_proc_limits(const char *text, struct host_proc_limits *out);
/*
 * From /proc/PID/status text: 1 if RLIMIT_NPROC does not hold the process
 * (real uid 0, or CAP_SYS_ADMIN or CAP_SYS_RESOURCE effective), 0 if it
 * does, -EINVAL without Uid and CapEff lines.
 */
int host_parse_nproc_exempt(const char *status);

enum host_model {
	HOST_MODEL_THREADS, /* thread-per-connection server */
	HOST_MODEL_EPOLL,   /* event-loop server */
	HOST_MODEL_AGENT,   /* connscale agent (client sockets, epoll) */
};

struct host_capacity {
	long conns;         /* connections the binding limit allows */
	const char *limit;  /* short name: "open-files", "max_map_count", "pid_max", ... */
	char sentence[256]; /* "capacity 19,990 connections: open-files limit 20000 — raise
	                       LimitNOFILE (...)" */
};

/*
 * How many connections `processes` processes of `model` can hold here and
 * which limit binds first. reserve_fds is what each process keeps open besides
 * connections (listeners, stdio, control sockets). For the threads model it
 * also weighs pid_max and threads-max (host-wide, minus tasks_now), the map
 * count (per process) and available memory; for all models, open files.
 */
void host_capacity(const struct host_limits *l, enum host_model model, int processes,
                   long reserve_fds, struct host_capacity *out);

/* What a process connscale did not start holds now (server --watch), for its capacity. */
struct host_watched {
	int processes;  /* the watched processes; their open-files limits add up */
	int per_thread; /* 1: it spends a thread per connection (threads >= connections) */
	long conns;     /* its connections now */
	long other_fds; /* the descriptors it holds besides them, all processes */
};

/*
 * host_capacity() for a watched process: its own open-files limit (the lowest
 * of its processes') instead of ours, less the descriptors it holds besides
 * connections; with per_thread also pid_max, threads-max, max_map_count and
 * its Max processes, less the tasks running besides its connection threads
 * (the host's: its user's are at most those); the memory at the model's
 * rough cost. The sentence suggests no --processes (not ours to run).
 */
void host_capacity_watched(const struct host_limits *host, const struct host_proc_limits *own,
                           const struct host_watched *now, struct host_capacity *out);

/* Formats n with thousands separators ("19,990") into buf; returns buf. */
char *host_fmt_count(long n, char *buf, size_t size);

#endif
