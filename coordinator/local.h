/*
 * local — the plan's "local" section: the coordinator starts the server and
 * N agents on this host (fork/exec, before any ZeroMQ context exists), each
 * agent with its own loopback source address (127.0.0.2, .3, ...), and stops
 * them all at the end, whatever happened.
 */
#ifndef CONNSCALE_LOCAL_H
#define CONNSCALE_LOCAL_H

#include <stdbool.h>
#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#include <signal.h>

#include "msg.h"
#include "plan.h"

struct local_procs {
	pid_t server;   /* connscale's server, or with local.server.command its watcher */
	int server_out; /* the read end of the server's --ready-fd */
	pid_t command;  /* local.server.command, in its own process group; 0 = none or reaped */
	pid_t group;    /* that group (the command's pid), until no process of it is left */
	volatile sig_atomic_t *interrupted; /* SIGINT/SIGTERM seen: waits give up at once */
	/* A second signal: stopping no longer waits for SIGTERM to work (NULL: never) */
	const volatile sig_atomic_t *hurry;
	pid_t *agents;
	int nagents;
	char target_host[MSG_NAME_MAX]; /* where the server listens */
	int64_t target_port;
	char stats[MSG_TEXT_MAX]; /* its stats endpoint */
	bool quiet;               /* --quiet: the agents' chatter goes nowhere */
	char log[PATH_MAX];       /* the command's output, "" without one */
};

/*
 * Starts the server, waits (bounded) for its ready line (address, port and
 * stats endpoint, server --ready-fd),
 * then starts the agents pointed at `endpoint`. On failure everything started
 * is stopped and -1 returned after printing why. With quiet, the agents'
 * stderr is discarded (the coordinator reports what matters).
 *
 * With local.server.command, the server is that command instead: started on
 * a free port of target.host with its stdout and stderr in
 * local_log_path(report), waited for (bounded, and given up on an interrupt)
 * until it accepts, then watched by `server --watch-port PORT` (every process
 * listening on the port: a pre-forked server's workers too), whose stats
 * endpoint the run samples. Stopping them (here on failure, or local_stop())
 * stops waiting for SIGTERM to work once *hurry is set (a second Ctrl-C).
 */
int local_start(const struct plan *p, const char *endpoint, const char *report, bool quiet,
                volatile sig_atomic_t *interrupted, const volatile sig_atomic_t *hurry,
                struct local_procs *lp);
/*
 * Agents, then the server (or the watcher), then the command's process
 * group: SIGTERM, a bounded wait, then SIGKILL to whatever of the group is
 * left, even once its first process is gone; safe to call twice.
 */
void local_stop(struct local_procs *lp);
/*
 * Whether the server (local.server.command, or connscale's own server) has
 * exited, reaping it: true once, with how in `how` ("local.server.command (pid
 * 812) exited with status 7"); false while it runs. arg is the struct
 * local_procs (the coordinator's server_exit hook).
 */
bool local_server_exited(void *arg, char *how, size_t size);
/* The last lines of the command's output, with the log's path (nothing without a command). */
void local_say_log(const struct local_procs *lp);
/* Where a command's output goes: REPORT less ".json", plus ".server.log". */
void local_log_path(const char *report, char *buf, size_t size);

#endif
