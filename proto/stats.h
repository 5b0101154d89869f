/*
 * stats — the server's stats endpoint messages: `stats_req` -> `server_stats`.
 */
#ifndef CONNSCALE_STATS_H
#define CONNSCALE_STATS_H

#include <stdint.h>

#include <jansson.h>

#include "proto.h"

/* An optional count the sender left out. */
#define STATS_UNKNOWN INT64_MIN

/* Refusal reasons, in the order they appear in "refused". */
enum stats_refusal {
	STATS_REFUSED_EMFILE,    /* accept: process open-files limit */
	STATS_REFUSED_ENFILE,    /* accept: system-wide file table full */
	STATS_REFUSED_THREAD,    /* pthread_create failed (EAGAIN, ENOMEM) */
	STATS_REFUSED_MAX_CONNS, /* --max-conns reached */
	STATS_REFUSED_OTHER,     /* any other accept error (ENOBUFS, ENOMEM, ...) */
	STATS_REFUSED_COUNT
};

const char *
stats_refusal_name(enum stats_refusal r); /* "emfile", "enfile", "thread", "max_conns", "other" */

/* /proc/sys/kernel/random/boot_id: 36 characters (a UUID) and its NUL, with room to spare. */
#define STATS_BOOT_ID_MAX 40

struct server_stats {
	char model[16];   /* "threads" | "epoll" | "external" (server --watch: another process) */
	char process[64]; /* external: the watched process's name(s), /proc/PID/comm; else "" */
	int64_t processes;
	int64_t stack_size; /* bytes; 0 for epoll */
	int64_t uptime_ms;
	int64_t conns_current;
	int64_t conns_max;   /* highest concurrent since start (external: highest sampled) */
	int64_t conns_total; /* accepted and served since start (external: 0, not counted) */
	/* refused and resets: all 0 for "external", not seen from outside */
	int64_t refused[STATS_REFUSED_COUNT];
	int64_t resets;          /* connections ended by ECONNRESET/EPIPE */
	int64_t threads;         /* threads across all server processes */
	int64_t fds;             /* open fds across all server processes */
	int64_t rss_kb;          /* VmRSS, summed over processes */
	int64_t hwm_kb;          /* VmHWM, summed over processes */
	int64_t pss_kb;          /* Pss from smaps_rollup, summed */
	int64_t kernel_stack_kb; /* host /proc/meminfo KernelStack, delta since start */
	int64_t slab_kb;         /* host Slab, delta since start */
	int64_t page_tables_kb;  /* host PageTables, delta since start */
	/*
	 * The page fragments the server's threads keep, more than at start: an
	 * estimate, since no /proc file counts them. A thread's first TCP send
	 * takes a 32 KiB page (the kernel's per-task page fragment,
	 * task_struct.task_frag) for the copies of what it sends, and keeps it
	 * until it exits. Built-in server: its live threads that have sent, counted;
	 * external: the threads the watched process gained since the watcher started,
	 * each taken to have sent (which have cannot be seen from outside; its first
	 * threads are left out), never below 0. Optional on the wire: STATS_UNKNOWN
	 * when a server left it out (an older build).
	 */
	int64_t page_frag_kb;
	double user_kb_per_conn; /* (rss - rss at start) / conns_current; 0 without connections */
	/* (kernel_stack + slab + page_tables + page_frag) / conns_current; page_frag counts
	 * only when known */
	double kernel_kb_per_conn;
	/*
	 * CPU and context switches of the whole server (supervisor and workers, every thread,
	 * live or exited; see server/sample.c for how), since it started. External:
	 * CPU from /proc/PID/stat (every thread, exited ones too), context switches
	 * of the live threads plus the last seen of those that exited (server/watch.c).
	 */
	double cpu_user_s;         /* user CPU, seconds */
	double cpu_sys_s;          /* system CPU, seconds */
	int64_t ctxsw_voluntary;   /* waits: a blocking call that had to sleep */
	int64_t ctxsw_involuntary; /* preemptions */
	double host_cpu_user_s;    /* host /proc/stat user + nice, seconds since start */
	double host_cpu_sys_s;     /* host system + irq, seconds since start */
	double host_cpu_softirq_s; /* host softirq (most of the network stack), seconds */
	double host_cpu_idle_s;    /* host idle + iowait, seconds since start */
	int64_t capacity;          /* connections the host limits allow this server (external: 0) */
	char capacity_limit[256];  /* the sentence naming the binding limit (external: "") */
	/*
	 * The kernel the server runs on (stats_boot_id_read()); "" when unknown.
	 * Optional on the wire ("boot_id", left out when ""): the coordinator
	 * compares it with the agents' (hello) to tell whether the host's kernel
	 * deltas above hold their sockets too.
	 */
	char boot_id[STATS_BOOT_ID_MAX];
};

/*
 * This kernel's boot id into out (size bytes): a UUID, new at every boot and
 * the same in every container and network namespace on that kernel, so two
 * processes with the same one share /proc/meminfo's kernel memory. 0, or
 * -errno with out "".
 */
int stats_boot_id_read(char *out, size_t size);
/* 1 if s is a boot id as stats_boot_id_read() gives it (1..39 bytes of [0-9a-f-]), else 0. */
int stats_boot_id_valid(const char *s);
/* The optional "boot_id" of msg (type names it in an error): absent leaves out as it is, a
 * bad one fails naming the field; 0 or -1. */
int stats_boot_id_unpack(const json_t *msg, const char *type, char out[STATS_BOOT_ID_MAX],
                         struct proto_err *err);
/* Adds id as msg's "boot_id" when it is one ("" or invalid: left out); 0, -1 if it cannot. */
int stats_boot_id_pack(json_t *msg, const char id[STATS_BOOT_ID_MAX]);

/* The size of one task page fragment in KiB: 32, or the page size if larger (SKB_FRAG_PAGE_ORDER).
 */
int64_t stats_page_frag_kb(void);

json_t *stats_req_new(void);
json_t *stats_pack(const struct server_stats *s);
/* Strict: every field above present with the right type (boot_id and page_frag_kb may be
 * absent), no others. */
int stats_unpack(json_t *msg, struct server_stats *s, struct proto_err *err);

#endif
