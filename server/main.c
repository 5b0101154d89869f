/*
 * server: the supervisor. Opens one SO_REUSEPORT listener per worker on a
 * port no other process listens on (so a bad or busy address fails here,
 * before anything forks), forks the workers, then
 * serves the stats endpoint, restarts a worker that dies, and on SIGINT or
 * SIGTERM samples, stops the workers and prints the summary.
 *
 * ZeroMQ lives only in this process and its context is created after the
 * first fork; workers never touch it.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <linux/filter.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "endpoint.h"
#include "host.h"
#include "options.h"
#include "reap.h"
#include "sample.h"
#include "server.h"
#include "watch.h"

/* How the supervisor stops a worker: not SIGTERM, which workers ignore (worker_main). */
#define WORKER_STOP_SIGNAL SIGUSR1

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

struct supervisor {
	struct server_config cfg;
	struct server_counters *counters; /* MAP_SHARED */
	int *listeners;
	pid_t *pids;
	time_t *started; /* when each worker was last forked */
	pid_t supervisor;
};

/* A TCP socket with SO_REUSEADDR (and SO_REUSEPORT if asked) bound to sa; fd or -errno. */
static int socket_bind(const struct sockaddr_in *sa, int reuseport)
{
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) < 0) ||
	    bind(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0) {
		int err = errno;
		close(fd);
		return -err;
	}
	return fd;
}

/*
 * The reuseport group's sockets are kept in the order they joined, ours
 * first: a cBPF program returning random() % n picks one of ours, and a
 * socket appended later is never chosen. Random, not a hash of the packet:
 * cBPF cannot see the kernel's flow hash, and skb->hash is 0 on NICs without
 * RSS, which would send every connection to worker 0.
 */
static int listeners_steer(int fd, int n)
{
	struct sock_filter code[] = {
	    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, (uint32_t)(SKF_AD_OFF + SKF_AD_RANDOM)),
	    BPF_STMT(BPF_ALU | BPF_MOD | BPF_K, (uint32_t)n),
	    BPF_STMT(BPF_RET | BPF_A, 0),
	};
	struct sock_fprog prog = {.len = sizeof(code) / sizeof(code[0]), .filter = code};

	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, &prog, sizeof(prog)) < 0)
		return -errno;
	return 0;
}

/*
 * One port, one server. SO_REUSEPORT lets the workers share the port, but it
 * would let a second server (same user) join too and silently take a share
 * of the connections. Clearing SO_REUSEPORT after listen() does not stop it
 * (measured on Linux 6.18: the newcomer still binds, through the bind
 * bucket's cached reuseport state, and the group stops balancing: one
 * listener gets every connection). Instead:
 *  - a guard socket without SO_REUSEPORT binds first: that fails with
 *    EADDRINUSE if anything listens on the address (a socket without
 *    SO_REUSEPORT conflicts with every listener), and it resolves port 0;
 *  - the listeners bind that port with SO_REUSEPORT beside it (the guard has
 *    SO_REUSEADDR and never listens, so it conflicts with none of them) and
 *    listen; then the guard goes;
 *  - listeners_steer() keeps the connections on these listeners even if
 *    something joins the port later (an older server, or one whose guard
 *    raced ours in the same instant).
 * One worker needs no SO_REUSEPORT at all, and then nothing can join.
 * Returns 0, or -errno after saying what failed.
 */
static int listeners_open(struct supervisor *sv)
{
	struct sockaddr_in *sa = &sv->cfg.listen;
	socklen_t len = sizeof(*sa);
	char addr[INET_ADDRSTRLEN];
	int n = sv->cfg.processes, err = 0;
	int guard = socket_bind(sa, 0);

	if (guard < 0) {
		err = guard;
		goto error;
	}
	if (getsockname(guard, (struct sockaddr *)sa, &len) < 0) {
		err = -errno;
		goto error;
	}
	for (int i = 0; i < n; i++) {
		int fd = socket_bind(sa, n > 1);
		if (fd < 0) {
			err = fd;
			goto error;
		}
		sv->listeners[i] = fd;
		if (listen(fd, sv->cfg.backlog) < 0) {
			err = -errno;
			goto error;
		}
	}
	close(guard);
	if (n > 1 && (err = listeners_steer(sv->listeners[0], n)) < 0)
		fprintf(stderr,
		        "server: warning: SO_ATTACH_REUSEPORT_CBPF: %s: a process that joins "
		        "this port later would take a share of its connections\n",
		        strerror(-err));
	return 0;
error:
	inet_ntop(AF_INET, &sa->sin_addr, addr, sizeof(addr));
	fprintf(stderr, "server: cannot listen on %s:%u: %s%s\n", addr, ntohs(sa->sin_port),
	        strerror(-err),
	        err == -EADDRINUSE ? " (another process listens there; a second server "
	                             "would take a share of its connections)"
	                           : "");
	if (guard >= 0)
		close(guard);
	return err;
}

static void worker_main(struct supervisor *sv, int idx)
{
	/*
	 * Ctrl-C, and a SIGTERM to the whole group (systemd's stop, `timeout`),
	 * reach the workers too: only the supervisor decides when they stop, so it
	 * can sample them first (a worker gone before that sample read as zeros in
	 * the summary). It stops them with WORKER_STOP_SIGNAL.
	 */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(WORKER_STOP_SIGNAL, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != sv->supervisor)
		_exit(SERVER_EXIT_FAIL); /* it died before prctl took effect */
	/*
	 * Keep stdio and this worker's listener only. A restarted worker is forked
	 * after ZeroMQ started: its sockets (the stats port) must not live on here.
	 */
	int lfd = sv->listeners[idx];
	close_range(3, (unsigned)lfd - 1, 0);
	close_range((unsigned)lfd + 1, ~0U, 0);
	if (sv->cfg.model == SERVER_MODEL_THREADS)
		server_threads_run(lfd, idx, &sv->cfg, sv->counters);
	else
		server_epoll_run(lfd, idx, &sv->cfg, sv->counters);
	_exit(SERVER_EXIT_FAIL);
}

static int worker_spawn(struct supervisor *sv, int idx)
{
	pid_t pid = fork();

	if (pid < 0)
		return -errno;
	if (pid == 0)
		worker_main(sv, idx);
	sv->pids[idx] = pid;
	sv->started[idx] = time(NULL);
	return 0;
}

/* A worker that died is restarted on its own listener: queued clients wait, not fail. */
static void workers_reap(struct supervisor *sv)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (int i = 0; i < sv->cfg.processes; i++) {
			if (sv->pids[i] != pid)
				continue;
			fprintf(stderr, "server: worker %d (pid %d) %s %d; restarting it\n", i,
			        (int)pid, WIFSIGNALED(status) ? "killed by signal" : "exited with",
			        WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
			sv->pids[i] = 0;
			server_worker_reaped(sv->counters, i);
			/* A worker that dies at once would otherwise be forked in a tight loop. */
			if (time(NULL) - sv->started[i] < 1)
				sleep(1);
			if (worker_spawn(sv, i) < 0)
				fprintf(stderr, "server: cannot restart worker %d: %s\n", i,
				        strerror(errno));
		}
	}
	/* One that could not be forked is tried again: its listener's clients are waiting. */
	for (int i = 0; i < sv->cfg.processes; i++)
		if (sv->pids[i] == 0 && time(NULL) - sv->started[i] >= 1 && worker_spawn(sv, i) < 0)
			sv->started[i] = time(NULL);
}

/* Bounded: a worker not gone in 3 s is killed. */
static void workers_stop(struct supervisor *sv)
{
	reap_stop(sv->pids, sv->cfg.processes, WORKER_STOP_SIGNAL, false, 3000, NULL);
}

/* What "--stack-size default" means here: glibc takes it from ulimit -s. */
static size_t default_stack_size(void)
{
	pthread_attr_t attr;
	size_t size = 0;

	if (pthread_attr_init(&attr) == 0) {
		pthread_attr_getstacksize(&attr, &size);
		pthread_attr_destroy(&attr);
	}
	return size;
}

static int supervisor_setup(struct supervisor *sv, struct host_capacity *cap)
{
	struct host_limits lim;
	int n = sv->cfg.processes;

	host_limits_read(&lim);
	if (sv->cfg.stack_size == 0 && sv->cfg.model == SERVER_MODEL_THREADS)
		sv->cfg.stack_size = default_stack_size();
	if (sv->cfg.backlog == 0)
		sv->cfg.backlog = lim.somaxconn > 0 ? (int)lim.somaxconn : 4096;
	sv->counters = mmap(NULL, sizeof(*sv->counters), PROT_READ | PROT_WRITE,
	                    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	sv->listeners = calloc((size_t)n, sizeof(int));
	sv->pids = calloc((size_t)n, sizeof(pid_t));
	sv->started = calloc((size_t)n, sizeof(time_t));
	if (sv->counters == MAP_FAILED || !sv->listeners || !sv->pids || !sv->started) {
		fprintf(stderr, "server: out of memory\n");
		return -ENOMEM;
	}
	sv->counters->max_conns = sv->cfg.max_conns;
	int err = listeners_open(sv);
	if (err < 0)
		return err;
	host_capacity(&lim,
	              sv->cfg.model == SERVER_MODEL_THREADS ? HOST_MODEL_THREADS : HOST_MODEL_EPOLL,
	              n, 8, cap);
	return 0;
}

static void supervisor_free(struct supervisor *sv)
{
	for (int i = 0; sv->listeners && i < sv->cfg.processes; i++)
		if (sv->listeners[i] > 0)
			close(sv->listeners[i]);
	if (sv->counters != NULL && sv->counters != MAP_FAILED)
		munmap(sv->counters, sizeof(*sv->counters));
	free(sv->listeners);
	free(sv->pids);
	free(sv->started);
}

static void print_banner(const struct supervisor *sv, const struct host_capacity *cap)
{
	char addr[INET_ADDRSTRLEN];
	char stack[32] = "-";

	inet_ntop(AF_INET, &sv->cfg.listen.sin_addr, addr, sizeof(addr));
	if (sv->cfg.stack_size > 0)
		snprintf(stack, sizeof(stack), "%zu KiB", sv->cfg.stack_size / 1024);
	/* A name given to --listen is shown with what it resolved to. */
	printf("server: listening on %s:%u%s%s%s\n", addr, ntohs(sv->cfg.listen.sin_port),
	       sv->cfg.listen_name[0] ? " (" : "", sv->cfg.listen_name,
	       sv->cfg.listen_name[0] ? ")" : "");
	printf("server: model %s, stack %s, %d process%s, backlog %d\n",
	       sv->cfg.model == SERVER_MODEL_THREADS ? "threads" : "epoll", stack,
	       sv->cfg.processes, sv->cfg.processes == 1 ? "" : "es", sv->cfg.backlog);
	printf("server: %s\n", cap->sentence);
	fflush(stdout);
}

/* --ready-fd: readiness a program can read without parsing the banner (ready.c). */
static int ready_write(struct supervisor *sv, const char *stats)
{
	char addr[INET_ADDRSTRLEN];
	int fd = sv->cfg.ready_fd;

	inet_ntop(AF_INET, &sv->cfg.listen.sin_addr, addr, sizeof(addr));
	json_t *o = json_pack("{s:s, s:i, s:s?, s:I, s:s, s:i}", "address", addr, "port",
	                      (int)ntohs(sv->cfg.listen.sin_port), "stats", stats, "pid",
	                      (json_int_t)getpid(), "model",
	                      sv->cfg.model == SERVER_MODEL_THREADS ? "threads" : "epoll",
	                      "processes", sv->cfg.processes);
	sv->cfg.ready_fd = -1;
	return server_ready_write(fd, o);
}

static void supervise(struct supervisor *sv, struct server_sampler *sampler)
{
	struct server_endpoint ep;
	int have_ep = sv->cfg.stats != NULL;

	if (have_ep && server_endpoint_open(&ep, &sv->cfg) < 0) {
		stop_signal = -1;
		return;
	}
	if (sv->cfg.ready_fd >= 0)
		ready_write(sv, have_ep ? ep.bound : NULL);
	while (!stop_signal) {
		workers_reap(sv);
		if (have_ep)
			server_endpoint_poll(&ep, sampler, 200);
		else
			poll(NULL, 0, 200);
	}
	if (have_ep)
		server_endpoint_close(&ep);
}

int main(int argc, char **argv)
{
	struct supervisor sv = {0};
	struct host_capacity cap;
	struct server_sampler sampler;
	struct server_stats final;
	struct sigaction sa = {.sa_handler = on_stop}; /* no SA_RESTART: waits must wake */
	struct timespec settle = {.tv_sec = 0, .tv_nsec = 100 * 1000 * 1000};

	sv.supervisor = getpid();
	int r = server_options_parse(argc, argv, &sv.cfg);
	if (r != 0)
		return r > 0 ? SERVER_EXIT_OK : SERVER_EXIT_USAGE;
	if (sv.cfg.watch_pid || sv.cfg.watch_port)
		return server_watch_main(&sv.cfg);
	if (supervisor_setup(&sv, &cap) < 0) {
		supervisor_free(&sv);
		return SERVER_EXIT_FAIL;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	print_banner(&sv, &cap);
	for (int i = 0; i < sv.cfg.processes; i++) {
		if (worker_spawn(&sv, i) < 0) {
			fprintf(stderr, "server: fork: %s\n", strerror(errno));
			workers_stop(&sv);
			supervisor_free(&sv);
			return SERVER_EXIT_FAIL;
		}
	}
	nanosleep(&settle, NULL); /* let the workers finish start-up before the baseline */
	server_sampler_init(&sampler, &sv.cfg, sv.counters, sv.pids, sv.cfg.processes, &cap);
	supervise(&sv, &sampler);
	server_sampler_collect(&sampler, &final);
	workers_stop(&sv);
	server_print_summary(&sampler, &final, stdout);
	supervisor_free(&sv);
	return stop_signal < 0 ? SERVER_EXIT_FAIL : SERVER_EXIT_OK;
}
