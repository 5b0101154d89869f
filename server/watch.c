/*
 * watch — server --watch PID | --watch-port PORT: finds the process(es) to
 * watch, serves the stats endpoint for them, and ends the moment one is gone.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "endpoint.h"
#include "options.h"
#include "sample.h"
#include "watch.h"

/* Connections from which threads >= connections reads as a thread per connection. */
#define WATCH_PER_THREAD_MIN 32

static volatile sig_atomic_t watch_stop;

static void on_stop(int sig)
{
	watch_stop = sig;
}

/* Adds comm to the names unless it is there already ("nginx", not "nginx,nginx"). */
static void watch_add_name(struct server_watch *w, const char *comm)
{
	size_t len = strlen(comm), have = strlen(w->process);

	for (const char *p = w->process; *p; p += strcspn(p, ",") + (p[strcspn(p, ",")] != 0))
		if (strncmp(p, comm, len) == 0 && (p[len] == ',' || p[len] == '\0'))
			return;
	snprintf(w->process + have, sizeof(w->process) - have, "%s%s", have ? "," : "", comm);
}

/* One process to watch; what was wrong is said with `opt` (the option and its value). */
/* The thread group (process) a pid belongs to, from /proc/PID/status; 0 if unreadable. */
static pid_t watch_tgid(pid_t pid)
{
	char path[64], line[256];
	long tgid = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "Tgid: %ld", &tgid) == 1)
			break;
	fclose(f);
	return (pid_t)tgid;
}

static int watch_add_pid(struct server_watch *w, pid_t pid, const char *opt)
{
	struct host_pidstat st;
	int rc = host_pidstat_read(pid, &st);
	pid_t tgid = rc == 0 ? watch_tgid(pid) : 0;

	if (rc == -ENOENT || rc == -ESRCH) {
		fprintf(stderr, "server: %s: no such process (pid %d)\n", opt, (int)pid);
		return -1;
	}
	if (rc < 0) {
		fprintf(stderr, "server: %s: cannot read /proc/%d/stat: %s\n", opt, (int)pid,
		        strerror(-rc));
		return -1;
	}
	/* /proc/TID answers too: a thread is not a process to watch (its CPU is its own). */
	if (tgid > 0 && tgid != pid) {
		fprintf(stderr, "server: %s: %d is a thread of process %d (%s); watch %d\n", opt,
		        (int)pid, (int)tgid, st.comm, (int)tgid);
		return -1;
	}
	/* A zombie main thread (pthread_exit()) with other threads running is a live process. */
	pid_t reader = host_live_task(pid);
	if (reader <= 0) {
		fprintf(stderr, "server: %s: process %d (%s) has exited (a zombie)\n", opt,
		        (int)pid, st.comm);
		return -1;
	}
	if (w->npids == SERVER_MAX_PROCESSES) {
		fprintf(stderr, "server: %s: more than %d processes; watching the first %d\n", opt,
		        SERVER_MAX_PROCESSES, SERVER_MAX_PROCESSES);
		return 0;
	}
	w->pids[w->npids] = pid;
	w->readers[w->npids] = reader;
	w->started[w->npids++] = st.starttime;
	watch_add_name(w, st.comm);
	return 0;
}

/*
 * From sock_diag: with --watch-port the ESTABLISHED sockets on PORT; with
 * --watch PID the LISTEN sockets (a few), then the ESTABLISHED ones on the
 * ports of its own. The kernel filters both, so the host's other sockets
 * (the load's client ends among them) cost nothing here.
 */
static int watch_tally_diag(struct server_watch *w)
{
	unsigned ports[SOCKDIAG_MAX_PORTS + 1];
	size_t n = 0;
	int rc;

	host_tcp_tally_clear(w->tally);
	if (w->port) {
		ports[0] = w->port;
		return sockdiag_tally(&w->diag, 1u << HOST_TCP_ESTABLISHED, ports, 1, &w->own,
		                      w->tally);
	}
	rc = sockdiag_tally(&w->diag, 1u << HOST_TCP_LISTEN, NULL, 0, &w->own, w->tally);
	/* More than SOCKDIAG_MAX_PORTS: no port filter (the tally still counts its own). */
	for (unsigned p = 1; rc == 0 && p <= 0xffff && n <= SOCKDIAG_MAX_PORTS; p++)
		if (w->tally->listen[p])
			ports[n++] = p;
	if (rc == 0 && n > 0)
		rc = sockdiag_tally(&w->diag, 1u << HOST_TCP_ESTABLISHED, ports, n, &w->own,
		                    w->tally);
	return rc;
}

/* The sockets of every watched process, then their TCP rows (sock_diag or /proc/PID/net). */
static int watch_tally(struct server_watch *w)
{
	int rc = 0;

	w->own.n = 0;
	w->fds = 0;
	for (int i = 0; i < w->npids && rc == 0; i++) {
		long n = 0;

		rc = host_fds_read(w->readers[i], &n, &w->own);
		w->fds += n;
	}
	host_inodes_sort(&w->own);
	if (rc < 0)
		return rc;
	if (w->diag.fd >= 0)
		return watch_tally_diag(w);
	return host_tcp_tally_read(w->readers[0], &w->own, w->tally);
}

/* The same network namespace as ours (1), another (0), or -errno. */
static int watch_same_netns(pid_t pid)
{
	char path[64];
	struct stat self, them;

	snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
	if (stat("/proc/self/ns/net", &self) < 0 || stat(path, &them) < 0)
		return -errno;
	return self.st_dev == them.st_dev && self.st_ino == them.st_ino;
}

/*
 * sock_diag answers for our network namespace: used when the netlink socket
 * opens and the watched process shares it; otherwise /proc/PID/net/tcp{,6}
 * (every row of the host's table formatted and parsed per sample), said once.
 */
static void watch_open_diag(struct server_watch *w)
{
	int rc = sockdiag_open(&w->diag);
	int same = rc == 0 ? watch_same_netns(w->readers[0]) : 0;

	if (rc < 0)
		fprintf(stderr,
		        "server: cannot open a NETLINK_SOCK_DIAG socket (%s): counting connections "
		        "from /proc/%d/net/tcp{,6} instead (slower with many sockets)\n",
		        strerror(-rc), (int)w->pids[0]);
	else if (same != 1)
		fprintf(stderr,
		        "server: process %d is in another network namespace%s%s: counting "
		        "connections from /proc/%d/net/tcp{,6} instead of sock_diag (slower with "
		        "many sockets)\n",
		        (int)w->pids[0], same < 0 ? " or its namespace is unreadable: " : "",
		        same < 0 ? strerror(-same) : "", (int)w->pids[0]);
	if (rc == 0 && same != 1)
		sockdiag_close(&w->diag);
}

/*
 * Its capacity: its own limits (the lowest of its processes'), the host's,
 * and, once it holds WATCH_PER_THREAD_MIN connections with at least as many
 * threads, the thread limits too (host_capacity_watched()).
 */
static void watch_capacity(struct server_watch *w, long conns, struct host_capacity *out)
{
	struct host_proc_limits own = {-1, -1, -1}, one;
	struct host_watched now = {.processes = w->npids, .conns = conns};
	struct host_limits host;
	long threads = (long)w->tasks.n;

	(void)host_limits_read(&host); /* an unreadable value is -1, and weighs nothing */
	for (int i = 0; i < w->npids; i++) {
		if (host_proc_limits_read(w->readers[i], &one) < 0)
			continue;
		if (one.nofile_soft >= 0 &&
		    (own.nofile_soft < 0 || one.nofile_soft < own.nofile_soft)) {
			own.nofile_soft = one.nofile_soft;
			own.nofile_hard = one.nofile_hard;
		}
		if (one.nproc_soft >= 0 && (own.nproc_soft < 0 || one.nproc_soft < own.nproc_soft))
			own.nproc_soft = one.nproc_soft;
	}
	now.per_thread = conns >= WATCH_PER_THREAD_MIN && threads >= conns;
	now.other_fds = w->fds > conns ? w->fds - conns : 0;
	host_capacity_watched(&host, &own, &now, out);
}

/* The first watched process found gone, and why: the watch ends. */
static void watch_gone(struct server_watch *w, pid_t pid, const char *why)
{
	w->gone = pid;
	snprintf(w->gone_why, sizeof(w->gone_why), "%s", why);
}

/* --watch PID: that process, counted on every port it listens on. */
static int watch_by_pid(struct server_watch *w, const struct server_config *cfg)
{
	struct host_inodes tmp = {0};
	char opt[32];
	int rc;

	snprintf(opt, sizeof(opt), "--watch %d", (int)cfg->watch_pid);
	if (watch_add_pid(w, cfg->watch_pid, opt) < 0)
		return -1;
	rc = watch_tally(w);
	if (rc < 0) {
		fprintf(stderr, "server: %s: cannot read process %d's sockets: %s%s\n", opt,
		        (int)cfg->watch_pid, strerror(-rc),
		        rc == -EACCES ? " (run the watcher as its user, or as root)" : "");
		return -1;
	}
	for (unsigned p = 1; p <= 0xffff && w->ready_port == 0; p++)
		if (w->tally->listen[p])
			w->ready_port = p;
	if (w->ready_port == 0) {
		fprintf(stderr,
		        "server: %s: process %d (%s) listens on no TCP port: it has no connections "
		        "to count\n",
		        opt, (int)cfg->watch_pid, w->process);
		return -1;
	}
	host_tcp_listeners(w->ready_port, &tmp, w->address, sizeof(w->address));
	host_inodes_free(&tmp);
	return 0;
}

/* --watch-port PORT: every process holding a socket that listens on PORT. */
static int watch_by_port(struct server_watch *w, const struct server_config *cfg)
{
	struct host_inodes listeners = {0};
	pid_t pids[SERVER_MAX_PROCESSES];
	size_t n = 0;
	long unreadable = 0;
	char opt[32];
	int rc;

	snprintf(opt, sizeof(opt), "--watch-port %u", cfg->watch_port);
	rc = host_tcp_listeners(cfg->watch_port, &listeners, w->address, sizeof(w->address));
	if (rc == 0 && listeners.n > 0)
		rc = host_socket_owners(&listeners, pids, SERVER_MAX_PROCESSES, &n, &unreadable);
	if (rc < 0)
		fprintf(stderr, "server: %s: cannot read /proc: %s\n", opt, strerror(-rc));
	else if (listeners.n == 0)
		fprintf(stderr, "server: %s: no process listens on TCP port %u\n", opt,
		        cfg->watch_port);
	else if (n == 0)
		fprintf(stderr,
		        "server: %s: a socket listens on TCP port %u, but no process this user can "
		        "read holds it (%ld processes could not be read: run the watcher as their "
		        "user, or as root)\n",
		        opt, cfg->watch_port, unreadable);
	host_inodes_free(&listeners);
	if (rc < 0 || n == 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (watch_add_pid(w, pids[i], opt) < 0)
			return -1;
	w->port = w->ready_port = cfg->watch_port;
	return 0;
}

/*
 * Called before a sample and after it: a process whose exit began at any
 * moment of the sample fails the second look (host_live_task(): its main
 * thread exiting or a zombie with no other thread running, or SIGKILL
 * pending; each stays until the process is reaped), so no part of a teardown
 * (its descriptors closing, its threads ending) is ever answered.
 */
int server_watch_alive(struct server_watch *w)
{
	for (int i = 0; i < w->npids && w->gone == 0; i++) {
		struct host_pidstat st;
		int rc = host_pidstat_read(w->pids[i], &st);
		const char *why = NULL;
		pid_t reader = 0;

		if (rc < 0)
			why = "exited";
		else if (st.starttime != w->started[i])
			why = "exited (its pid belongs to another process now)";
		else if ((reader = host_live_task(w->pids[i])) < 0)
			why = "exited";
		else if (reader == 0 && (st.state == 'Z' || st.state == 'X'))
			why = "exited (a zombie now)";
		else if (reader == 0)
			why = "exited (killed or exiting: its teardown had begun)";
		else
			w->readers[i] = reader; /* a zombie main thread: read a live one's */
		if (why != NULL)
			watch_gone(w, w->pids[i], why);
	}
	return w->gone ? -ESRCH : 0;
}

int server_watch_whole(struct server_watch *w, const struct server_stats *st)
{
	/*
	 * Connections are matched to the process's own descriptors, and a live
	 * process has a thread: a sample with connections but none of either was
	 * read while the process was torn down, whatever the looks around it said.
	 */
	if (w->gone == 0 && st->conns_current > 0 && (st->fds == 0 || st->threads == 0))
		watch_gone(w, w->pids[0],
		           st->fds == 0
		               ? "exited (its descriptors were gone, its connections not yet)"
		               : "exited (its threads were gone, its connections not yet)");
	return w->gone ? -ESRCH : 0;
}

/*
 * Context switches: /proc has no process-wide figure (sample.c's add_usage()
 * says why), so each live thread's are summed, and a thread that exited since
 * the last sample keeps what it had then (host_tasks_retired()). The figure
 * never goes down; a thread born and gone between two samples is missed.
 */
static int watch_ctxsw(struct server_watch *w, struct server_stats *out)
{
	struct host_tasks now = {0};
	int rc = 0;

	for (int i = 0; i < w->npids && rc == 0; i++)
		rc = host_tasks_read(w->pids[i], &now);
	if (rc < 0) {
		host_tasks_free(&now);
		return rc;
	}
	host_tasks_sort(&now);
	host_tasks_retired(&w->tasks, &now, &w->retired_vol, &w->retired_invol);
	out->ctxsw_voluntary = w->retired_vol;
	out->ctxsw_involuntary = w->retired_invol;
	for (size_t i = 0; i < now.n; i++) {
		out->ctxsw_voluntary += now.v[i].voluntary;
		out->ctxsw_involuntary += now.v[i].involuntary;
	}
	host_tasks_free(&w->tasks);
	w->tasks = now;
	return 0;
}

/* CPU from /proc/PID/stat: every thread, exited ones too. */
static int watch_usage(struct server_watch *w, struct server_stats *out)
{
	long hz = sysconf(_SC_CLK_TCK), user = 0, sys = 0;

	for (int i = 0; i < w->npids; i++) {
		struct host_pidstat st;

		if (host_pidstat_read(w->pids[i], &st) < 0)
			return -ESRCH;
		user += st.utime;
		sys += st.stime;
	}
	out->cpu_user_s = hz > 0 ? (double)user / (double)hz : 0;
	out->cpu_sys_s = hz > 0 ? (double)sys / (double)hz : 0;
	return watch_ctxsw(w, out);
}

int server_watch_fill(struct server_watch *w, struct server_stats *out)
{
	if (server_watch_alive(w) < 0)
		return -ESRCH;
	snprintf(out->model, sizeof(out->model), "external");
	snprintf(out->process, sizeof(out->process), "%s", w->process);
	out->processes = w->npids;
	/*
	 * A read that failed because the process went away is its death, not an
	 * error; one that failed because the thread read from (its main thread a
	 * zombie) exited meanwhile is read again from another.
	 */
	int rc = watch_tally(w) < 0 || watch_usage(w, out) < 0 ? -EIO : 0;
	if (rc < 0 && server_watch_alive(w) == 0)
		rc = watch_tally(w) < 0 || watch_usage(w, out) < 0 ? -EIO : 0;
	if (rc < 0)
		return server_watch_alive(w) < 0 ? -ESRCH : -EIO;
	out->conns_current = host_tcp_tally_conns(w->tally, w->port);
	if (out->conns_current > w->conns_max)
		w->conns_max = out->conns_current;
	out->conns_max = w->conns_max;
	if (w->capacity != NULL)
		watch_capacity(w, (long)out->conns_current, w->capacity);
	return 0;
}

static void watch_say_gone(const struct server_watch *w)
{
	fprintf(stderr,
	        "server: watched process %d (%s) %s: its numbers are not live any more; the "
	        "watch ends (exit 1)\n",
	        (int)w->gone, w->process, w->gone_why);
}

static void watch_banner(const struct server_watch *w)
{
	printf("server: watching %s (%d process%s:", w->process, w->npids,
	       w->npids == 1 ? "" : "es");
	for (int i = 0; i < w->npids; i++)
		printf(" %d", (int)w->pids[i]);
	if (w->port)
		printf("), connections on TCP port %u\n", w->port);
	else
		printf("), connections on the TCP ports it listens on (%s:%u first)\n", w->address,
		       w->ready_port);
	fflush(stdout);
}

static int watch_ready(struct server_watch *w, const struct server_config *cfg, const char *stats)
{
	json_t *pids = json_array();

	for (int i = 0; pids && i < w->npids; i++)
		json_array_append_new(pids, json_integer(w->pids[i]));
	json_t *o =
	    json_pack("{s:s, s:i, s:s, s:I, s:s, s:i, s:o, s:s}", "address", w->address, "port",
	              (int)w->ready_port, "stats", stats, "pid", (json_int_t)getpid(), "model",
	              "external", "processes", w->npids, "watched", pids, "process", w->process);
	return server_ready_write(cfg->ready_fd, o);
}

/* Serves stats_req until a signal (0) or a watched process is gone (-ESRCH). */
static int watch_serve(struct server_watch *w, struct server_config *cfg,
                       struct server_sampler *sampler)
{
	struct server_endpoint ep;

	if (server_endpoint_open(&ep, cfg) < 0)
		return -EIO;
	if (cfg->ready_fd >= 0)
		watch_ready(w, cfg, ep.bound);
	cfg->ready_fd = -1;
	/* Every 200 ms at most between two looks at the watched processes. */
	while (!watch_stop && server_watch_alive(w) == 0)
		server_endpoint_poll(&ep, sampler, 200);
	if (w->gone)
		watch_say_gone(w); /* first: closing the endpoint may take a moment */
	server_endpoint_close(&ep);
	return w->gone ? -ESRCH : 0;
}

int server_watch_main(struct server_config *cfg)
{
	struct server_watch *w = calloc(1, sizeof(*w));
	struct host_capacity cap;
	struct sigaction sa = {.sa_handler = on_stop}; /* no SA_RESTART: waits must wake */
	struct server_sampler sampler;
	struct server_stats final;
	int rc = -1;

	if (w != NULL)
		w->diag.fd = -1;
	if (w == NULL || (w->tally = malloc(sizeof(*w->tally))) == NULL)
		fprintf(stderr, "server: out of memory\n");
	if (w != NULL && w->tally != NULL)
		rc = cfg->watch_pid ? watch_by_pid(w, cfg) : watch_by_port(w, cfg);
	if (rc == 0) {
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
		signal(SIGPIPE, SIG_IGN);
		watch_banner(w);
		watch_open_diag(w);
		/* At start, every descriptor it holds but its connections is its reserve. */
		watch_capacity(w, watch_tally(w) == 0 ? host_tcp_tally_conns(w->tally, w->port) : 0,
		               &cap);
		server_sampler_init(&sampler, cfg, NULL, w->readers, w->npids, &cap);
		sampler.watch = w;
		w->capacity = &sampler.capacity;
		rc = watch_serve(w, cfg, &sampler);
		if (rc == 0 && server_sampler_collect(&sampler, &final) == 0)
			server_print_summary(&sampler, &final, stdout);
	}
	if (w != NULL) {
		sockdiag_close(&w->diag);
		host_inodes_free(&w->own);
		host_tasks_free(&w->tasks);
		free(w->tally);
	}
	free(w);
	return rc == 0 ? SERVER_EXIT_OK : SERVER_EXIT_FAIL;
}
