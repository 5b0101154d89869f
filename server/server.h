/*
 * server — the echo server whose cost connscale measures.
 *
 * A supervisor process forks `processes` workers. Each worker owns one
 * SO_REUSEPORT listener and runs one model: `threads` (a detached pthread per
 * connection) or `epoll` (one event loop). The port is this server's alone: a
 * second server on it fails with EADDRINUSE (see listeners_open() in main.c).
 * Workers share one block of atomic counters in MAP_SHARED memory; the
 * supervisor sums process memory, serves the stats endpoint and prints the
 * summary.
 */
#ifndef CONNSCALE_SERVER_H
#define CONNSCALE_SERVER_H

#include <netinet/in.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#include <jansson.h>

#include "stats.h"

enum server_model { SERVER_MODEL_THREADS, SERVER_MODEL_EPOLL };

/* The most --processes accepts. */
#define SERVER_MAX_PROCESSES 1024

struct server_config {
	struct sockaddr_in listen;   /* --listen ADDR:PORT (default 0.0.0.0:1234) */
	enum server_model model;     /* --model threads|epoll */
	size_t stack_size;           /* --stack-size; bytes, already clamped */
	int processes;               /* --processes N */
	int backlog;                 /* --backlog N (default net.core.somaxconn) */
	const char *stats;           /* --stats ENDPOINT, or NULL */
	int64_t max_conns;           /* --max-conns N, 0 = no limit */
	const char *curve_secret;    /* --curve-secret FILE: the stats endpoint speaks CURVE */
	const char *authorized_keys; /* --authorized-keys DIR: only these clients (ZAP) */
	int ready_fd;                /* --ready-fd N: one JSON line once listening; -1 = none */
	char listen_name[64];        /* --listen's host as given when it was a name, else "" */
	pid_t watch_pid;             /* --watch PID: measure that process instead; 0 = not */
	unsigned watch_port;         /* --watch-port PORT: the processes listening there; 0 = not */
};

/*
 * One worker's getrusage(RUSAGE_SELF): its CPU and context switches, every
 * thread, live or exited. Only the worker itself can ask for that figure, so it
 * publishes it here (server_usage_tick()); the supervisor sums the slots.
 */
struct server_usage {
	atomic_int_fast64_t user_us;
	atomic_int_fast64_t sys_us;
	atomic_int_fast64_t nvcsw;
	atomic_int_fast64_t nivcsw;
};

/* How stale a published server_usage may be: the accept loops wake this often. */
#define SERVER_USAGE_PERIOD_MS 100

/* Shared by every worker process (MAP_SHARED): lock-free atomics only. */
struct server_counters {
	atomic_int_fast64_t current;
	atomic_int_fast64_t max;
	atomic_int_fast64_t total;
	atomic_int_fast64_t resets;
	atomic_int_fast64_t refused[STATS_REFUSED_COUNT];
	atomic_int_fast64_t served[SERVER_MAX_PROCESSES]; /* total, by worker index */
	struct server_usage usage[SERVER_MAX_PROCESSES];  /* by worker index; 0 once reaped */
	/*
	 * By worker index: its share of current, and its live threads that have
	 * sent (each keeps a task page fragment: server_stats.page_frag_kb). A
	 * worker that dies ends its connections and threads without a word:
	 * server_worker_reaped() takes its shares off.
	 */
	atomic_int_fast64_t held[SERVER_MAX_PROCESSES];
	atomic_int_fast64_t senders[SERVER_MAX_PROCESSES];
	int64_t max_conns;
};

/* Echo buffer: small, because a 16 KiB thread stack must hold it. */
#define SERVER_ECHO_BUF 2048

/*
 * Admission in two steps: server_admit() reserves a place (0, or -1 after
 * counting a max_conns refusal; the caller closes the socket), then
 * server_admitted() once the connection is really served (a thread runs it,
 * or the event loop watches it) by worker number `worker`, or server_unadmit()
 * if that failed.
 */
int server_admit(struct server_counters *c, int worker);
void server_admitted(struct server_counters *c, int worker);
void server_unadmit(struct server_counters *c, int worker, enum stats_refusal why);
/* A served connection ended; reset says whether the peer reset it. */
void server_leave(struct server_counters *c, int worker, int reset);
void server_refuse(struct server_counters *c, enum stats_refusal why);
/* A thread of worker `worker` sent for the first time (delta 1), or one that had sent ended (-1).
 */
void server_sender(struct server_counters *c, int worker, int delta);
/* Worker `worker` died and was reaped: its connections, threads and usage are gone. */
void server_worker_reaped(struct server_counters *c, int worker);

/*
 * Publishes this process's getrusage(RUSAGE_SELF) into u if SERVER_USAGE_PERIOD_MS
 * passed since *last (or *last is zero), and sets *last. getrusage walks every
 * live thread of the process, so it is rate-limited rather than done per accept.
 */
void server_usage_tick(struct server_usage *u, struct timespec *last);

/*
 * Accepts from a non-blocking listener with the spare-descriptor trick: on EMFILE/ENFILE it frees
 * its reserve fd, accepts and closes the connection (counted), and takes the reserve back, so a
 * full fd table never turns into a busy accept loop. Returns a connected socket, or -1 when there
 * was nothing to serve (EAGAIN, EINTR, or a refused connection).
 */
int server_accept(int lfd, int *spare_fd, struct server_counters *c);

/*
 * Models: worker number `worker` serves listener lfd until the process is
 * killed. Return only on a fatal error.
 */
int server_threads_run(int lfd, int worker, const struct server_config *cfg,
                       struct server_counters *c);
int server_epoll_run(int lfd, int worker, const struct server_config *cfg,
                     struct server_counters *c);

/*
 * --ready-fd: writes o as one JSON line to fd and closes fd (unless it is
 * stdout or stderr). Takes o's reference. 0, or -errno after saying why.
 */
int server_ready_write(int fd, json_t *o);

#endif
