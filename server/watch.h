/*
 * watch — `server --watch PID` and `server --watch-port PORT`: no listener;
 * the stats endpoint answers stats_req for another process (any server:
 * Python, Go, nginx) with the built-in server's server_stats, model
 * "external", so a plan can measure it by naming this endpoint.
 *
 * Its connections are its ESTABLISHED TCP sockets (matched by inode to its
 * own descriptors, so the load's client ends on the same host never count)
 * whose local port is one it listens on (--watch) or PORT (--watch-port).
 * Several processes on the port (SO_REUSEPORT, a pre-fork parent and its
 * children) are watched together and summed. A watched process that exits
 * ends the watch: said on stderr within 200 ms, no answer with its numbers,
 * exit 1.
 */
#ifndef CONNSCALE_SERVER_WATCH_H
#define CONNSCALE_SERVER_WATCH_H

#include <sys/types.h>

#include "host.h"
#include "server.h"
#include "sockdiag.h"
#include "stats.h"

struct server_watch {
	pid_t pids[SERVER_MAX_PROCESSES];
	/*
	 * The task to read each one's fd, net, status and limits from: the pid, or
	 * while its main thread is a zombie after pthread_exit(), a live thread
	 * (host_live_task()). The sampler's pid list.
	 */
	pid_t readers[SERVER_MAX_PROCESSES];
	unsigned long long started[SERVER_MAX_PROCESSES]; /* each one's starttime, at start */
	int npids;
	unsigned port;          /* --watch-port; 0: every port the processes listen on */
	unsigned ready_port;    /* the ready line's: --watch-port, or the lowest listened on */
	char address[64];       /* the ready line's: that listener's address */
	char process[64];       /* their names (/proc/PID/comm), distinct ones joined by ',' */
	int64_t conns_max;      /* the highest conns_current of any sample */
	struct host_inodes own; /* their sockets, refreshed at every sample */
	long fds;               /* their descriptors, sockets or not, at that sample */
	struct sockdiag diag;   /* fd -1: /proc/PID/net/tcp{,6} instead (said at start) */
	struct host_capacity *capacity; /* the sampler's, refreshed at every sample */
	struct host_tcp_tally *tally;   /* 320 KB: on the heap */
	struct host_tasks tasks;        /* their live threads' switches at the last sample */
	long retired_vol;               /* and those of the threads seen before that exited */
	long retired_invol;
	pid_t gone; /* the first found gone; 0 while every one lives */
	char gone_why[96];
};

/* The mode's main(): returns the exit code (SERVER_EXIT_*). */
int server_watch_main(struct server_config *cfg);
/*
 * 0 while every watched process lives (the same process: pid and start time,
 * not exiting: host_live_task()), else -ESRCH.
 */
int server_watch_alive(struct server_watch *w);
/*
 * -ESRCH (and the watch ends) if a sample st cannot be a live process's:
 * connections with no descriptors or no threads, read during its teardown.
 */
int server_watch_whole(struct server_watch *w, const struct server_stats *st);
/*
 * The fields only a watcher knows: model, process, processes, connections,
 * CPU and context switches. -ESRCH if a watched process is gone.
 */
int server_watch_fill(struct server_watch *w, struct server_stats *out);

#endif
