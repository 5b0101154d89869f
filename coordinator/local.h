/*
 * local — the plan's "local" section: the coordinator starts the server and
 * N agents on this host (fork/exec, before any ZeroMQ context exists), each
 * agent with its own loopback source address (127.0.0.2, .3, ...), and stops
 * them all at the end, whatever happened.
 */
#ifndef CONNSCALE_LOCAL_H
#define CONNSCALE_LOCAL_H

#include <stdbool.h>
#include <sys/types.h>

#include "msg.h"
#include "plan.h"

struct local_procs {
	pid_t server;
	int server_out; /* the read end of the server's --ready-fd */
	pid_t *agents;
	int nagents;
	char target_host[MSG_NAME_MAX]; /* where the server listens */
	int64_t target_port;
	char stats[MSG_TEXT_MAX]; /* its stats endpoint */
	bool quiet;               /* --quiet: the agents' chatter goes nowhere */
};

/*
 * Starts the server, waits (bounded) for its ready line (address, port and
 * stats endpoint, server --ready-fd),
 * then starts the agents pointed at `endpoint`. On failure everything started
 * is stopped and -1 returned after printing why. With quiet, the agents'
 * stderr is discarded (the coordinator reports what matters).
 */
int local_start(const struct plan *p, const char *endpoint, bool quiet, struct local_procs *lp);
/* SIGTERM, a bounded wait, then SIGKILL; safe to call twice. */
void local_stop(struct local_procs *lp);

#endif
