/* local — the plan's "local" section: start the server and agents here, stop them after. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "reap.h"
#include "local.h"

#define START_TIMEOUT_MS 10000
#define STOP_TIMEOUT_MS  5000
#define LOCAL_READY_FD   3 /* the server's --ready-fd */

/* The sibling binary: $CONNSCALE_BIN/NAME, next to us, or ../NAME/NAME in a build tree. */
static int find_binary(const char *name, char *path, size_t size)
{
	char self[PATH_MAX];
	const char *env = getenv("CONNSCALE_BIN");
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (env != NULL) {
		if (snprintf(path, size, "%s/%s", env, name) >= (int)size)
			return -1;
		return access(path, X_OK);
	}
	if (n < 0)
		return -1;
	self[n] = '\0';
	char *slash = strrchr(self, '/');
	*slash = '\0';
	if (snprintf(path, size, "%s/%s", self, name) < (int)size && access(path, X_OK) == 0)
		return 0;
	if (snprintf(path, size, "%s/../%s/%s", self, name, name) >= (int)size)
		return -1;
	return access(path, X_OK);
}

#define SPAWN_INHERIT (-1) /* spawn()'s out/err: keep the coordinator's */
#define SPAWN_NULL    (-2) /*   or /dev/null; otherwise a descriptor to use */

/*
 * Starts argv (argv[0] without a slash is looked up in PATH). With ready !=
 * NULL, its descriptor 3 is the write end of a pipe whose read end lands in
 * *ready (the server's --ready-fd 3). Its stdout is out (SPAWN_NULL or a
 * descriptor), its stderr err (SPAWN_INHERIT, SPAWN_NULL or a descriptor).
 */
static pid_t spawn(char *const argv[], int *ready, int out, int err)
{
	int fds[2] = {-1, -1};
	pid_t parent = getpid();

	if (ready != NULL && pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		/*
		 * Its own process group: Ctrl-C reaches the coordinator alone, which
		 * then stops the agents in order and gathers their numbers.
		 */
		setpgid(0, 0);
		/* A coordinator that dies must not leave a local server or agents behind. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(127);
		int null = open("/dev/null", O_RDWR);
		dup2(null, STDIN_FILENO);
		dup2(out >= 0 ? out : null, STDOUT_FILENO);
		if (err != SPAWN_INHERIT)
			dup2(err >= 0 ? err : null, STDERR_FILENO);
		/* dup2 leaves the copy open across exec; onto itself it would keep O_CLOEXEC. */
		if (ready != NULL && (fds[1] == LOCAL_READY_FD ? fcntl(fds[1], F_SETFD, 0)
		                                               : dup2(fds[1], LOCAL_READY_FD)) < 0)
			_exit(127);
		execvp(argv[0], argv);
		fprintf(stderr, "coordinator: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	/* Also here: stop_all() may signal the group before the child has run. */
	if (pid > 0)
		setpgid(pid, pid);
	if (ready != NULL) {
		close(fds[1]);
		*ready = pid > 0 ? fds[0] : -1;
		if (pid < 0)
			close(fds[0]);
	}
	return pid;
}

/*
 * Reads one ready line (server --ready-fd) from fd as JSON, bounded by
 * START_TIMEOUT_MS. EOF before it means the server did not start (it said
 * why on stderr): NULL then, and when the line is not JSON (said here).
 */
static json_t *read_ready(int fd, const char *who)
{
	char buf[4096];
	size_t len = 0;
	int64_t deadline = clock_ms() + START_TIMEOUT_MS;

	while (len == 0 || buf[len - 1] != '\n') {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int64_t left = deadline - clock_ms();
		if (left <= 0 || len + 1 >= sizeof(buf) || poll(&pfd, 1, (int)left) <= 0)
			return NULL;
		ssize_t n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return NULL;
		len += (size_t)n;
	}
	buf[len] = '\0';
	json_t *j = json_loads(buf, 0, NULL);
	if (!json_is_object(j))
		fprintf(stderr, "coordinator: local: %s's ready line is not what it should be: %s",
		        who, buf);
	return j;
}

/* The server's ready line: {"address", "port", "stats", ...}. */
static int read_server_ready(struct local_procs *lp)
{
	json_t *j = read_ready(lp->server_out, "the server");
	const char *addr = json_string_value(json_object_get(j, "address"));
	const char *stats = json_string_value(json_object_get(j, "stats"));
	json_int_t port = json_integer_value(json_object_get(j, "port"));
	int rc = addr && stats && port > 0 && port <= 65535 ? 0 : -1;

	if (rc == 0) {
		snprintf(lp->target_host, sizeof(lp->target_host), "%s", addr);
		lp->target_port = port;
		snprintf(lp->stats, sizeof(lp->stats), "%s", stats);
	} else if (j != NULL) {
		fprintf(stderr, "coordinator: local: the server's ready line lacks its address, "
		                "port or stats endpoint\n");
	}
	json_decref(j);
	return rc;
}

/* Enough processes that each stays inside this host's open-files limit. */
static int64_t server_processes(const struct plan *p)
{
	struct rlimit rl;

	if (p->local_processes > 0)
		return p->local_processes;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur < 1024)
		return 1;
	int64_t per = (int64_t)rl.rlim_cur - 64;
	return (p->connections + per - 1) / per;
}

static int start_server(const struct plan *p, struct local_procs *lp)
{
	char path[PATH_MAX], listen[96], procs[24], ready[16];

	if (find_binary("server", path, sizeof(path)) < 0) {
		fprintf(stderr,
		        "coordinator: local: cannot find the server binary (set CONNSCALE_BIN)\n");
		return -1;
	}
	snprintf(listen, sizeof(listen), "%s:%lld", p->target_host, (long long)p->target_port);
	snprintf(procs, sizeof(procs), "%lld", (long long)server_processes(p));
	snprintf(ready, sizeof(ready), "%d", LOCAL_READY_FD);
	char *argv[] = {path,
	                "--listen",
	                listen,
	                "--model",
	                (char *)p->local_model,
	                "--stack-size",
	                (char *)p->local_stack_size,
	                "--processes",
	                procs,
	                "--stats",
	                "tcp://127.0.0.1:*",
	                "--ready-fd",
	                ready,
	                NULL};
	lp->server = spawn(argv, &lp->server_out, SPAWN_NULL, SPAWN_INHERIT);
	if (lp->server < 0 || read_server_ready(lp) < 0) {
		fprintf(stderr,
		        "coordinator: local: the server did not start (see its messages above)\n");
		return -1;
	}
	return 0;
}

static int start_agents(const struct plan *p, const char *endpoint, struct local_procs *lp)
{
	char path[PATH_MAX], name[MSG_NAME_MAX], source[32];

	if (find_binary("agent", path, sizeof(path)) < 0) {
		fprintf(stderr,
		        "coordinator: local: cannot find the agent binary (set CONNSCALE_BIN)\n");
		return -1;
	}
	lp->agents = calloc((size_t)p->local_agents, sizeof(pid_t));
	if (lp->agents == NULL)
		return -1;
	for (int i = 0; i < p->local_agents; i++) {
		/* The plan's agents.names when it has them, so they admit their agents. */
		if (i < p->nnames)
			snprintf(name, sizeof(name), "%s", p->names[i]);
		else
			snprintf(name, sizeof(name), "local-%d", i + 1);
		/* Each agent its own source address: 28,232 ports each, not shared. */
		snprintf(source, sizeof(source), "127.0.%d.%d", (i + 2) / 254, (i + 2) % 254);
		char *argv[] = {path, "--coordinator", (char *)endpoint, "--name",
		                name, "--source-ip",   source,           NULL};
		lp->agents[i] =
		    spawn(argv, NULL, SPAWN_NULL, lp->quiet ? SPAWN_NULL : SPAWN_INHERIT);
		if (lp->agents[i] < 0)
			return -1;
		lp->nagents = i + 1;
	}
	return 0;
}

void local_log_path(const char *report, char *buf, size_t size)
{
	size_t n = report != NULL ? strlen(report) : 0;

	if (n >= 5 && strcmp(report + n - 5, ".json") == 0)
		n -= 5;
	snprintf(buf, size, "%.*s%sserver.log", (int)n, n > 0 ? report : "", n > 0 ? "." : "");
}

/* A free TCP port on host, from the kernel: a socket bound to port 0, read back, closed. */
static int pick_port(const char *host, int *port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || inet_pton(AF_INET, host, &sa.sin_addr) != 1 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		fprintf(stderr, "coordinator: local: cannot find a free port on %s: %s\n", host,
		        strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	close(fd);
	*port = ntohs(sa.sin_port);
	return 0;
}

/* Does something accept on host:port? A connect that completes within wait_ms says yes. */
static bool probe_accepting(const char *host, int port, int wait_ms)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), err = -1;
	socklen_t len = sizeof(err);
	bool ok = false;

	if (fd < 0 || inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		if (fd >= 0)
			close(fd);
		return false;
	}
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
		ok = true;
	} else if (errno == EINPROGRESS) {
		struct pollfd pfd = {.fd = fd, .events = POLLOUT};
		ok = poll(&pfd, 1, wait_ms) == 1 &&
		     getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0;
	}
	close(fd);
	return ok;
}

/* The last few lines of the command's log, below the error that names it. */
static void print_log_tail(const char *log)
{
	char buf[2048];
	int fd = open(log, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	off_t size = fd >= 0 ? lseek(fd, 0, SEEK_END) : -1;
	off_t from = size > (off_t)sizeof(buf) - 1 ? size - (off_t)sizeof(buf) + 1 : 0;
	ssize_t n = size > 0 ? pread(fd, buf, sizeof(buf) - 1, from) : 0;
	int lines = 0;

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return;
	while (n > 0 && buf[n - 1] == '\n')
		n--;
	buf[n] = '\0';
	char *start = buf + n;
	while (start > buf && lines < 5)
		if (*--start == '\n')
			lines++;
	if (*start == '\n')
		start++;
	fprintf(stderr, "coordinator: the last lines of %s:\n", log);
	for (char *save, *line = strtok_r(start, "\n", &save); line != NULL;
	     line = strtok_r(NULL, "\n", &save))
		fprintf(stderr, "  | %s\n", line);
}

/*
 * Waits until the command accepts on the target, bounded by the plan's
 * local.server.ready_timeout_s; fails, saying why, if it exits first or does
 * not accept in time (the caller stops it).
 */
static int wait_command(const struct plan *p, struct local_procs *lp, const char *log)
{
	int64_t deadline = clock_ms() + (int64_t)(p->local_ready_s * 1000);
	char where[MSG_NAME_MAX + 16];
	int status;

	snprintf(where, sizeof(where), "%s:%lld", lp->target_host, (long long)lp->target_port);
	for (;;) {
		if (lp->interrupted != NULL && *lp->interrupted) {
			fprintf(
			    stderr,
			    "coordinator: interrupted while waiting for local.server.command to "
			    "accept on %s\n",
			    where);
			return -1;
		}
		bool ok = probe_accepting(lp->target_host, (int)lp->target_port, 100);
		/* Asked after the probe: a port taken by someone else is not the command's. */
		if (waitpid(lp->command, &status, WNOHANG) == lp->command) {
			lp->command = 0;
			if (WIFSIGNALED(status))
				fprintf(stderr,
				        "coordinator: local.server.command was killed by signal %d "
				        "(%s) before accepting on %s (its output: %s)\n",
				        WTERMSIG(status), strsignal(WTERMSIG(status)), where, log);
			else
				fprintf(stderr,
				        "coordinator: local.server.command exited with status %d "
				        "before accepting on %s (its output: %s)%s\n",
				        WEXITSTATUS(status), where, log,
				        WEXITSTATUS(status) == 0 ? "; a server that forks to the "
				                                   "background must be run in the "
				                                   "foreground"
				                                 : "");
			print_log_tail(log);
			return -1;
		}
		if (ok)
			return 0;
		if (clock_ms() >= deadline) {
			fprintf(
			    stderr,
			    "coordinator: local.server.command did not accept on %s within %g s "
			    "(local.server.ready_timeout_s; its output: %s)\n",
			    where, p->local_ready_s, log);
			print_log_tail(log);
			return -1;
		}
		poll(NULL, 0, 50);
	}
}

/*
 * local.server.command: a free port of target.host put in for "{port}", the
 * command started with its output in the log beside the report, then waited
 * for until it accepts there.
 */
static int start_command(const struct plan *p, const char *report, struct local_procs *lp)
{
	char log[PATH_MAX];
	int port, out;

	local_log_path(report, log, sizeof(log));
	snprintf(lp->log, sizeof(lp->log), "%s", log);
	snprintf(lp->target_host, sizeof(lp->target_host), "%s", p->target_host);
	if (pick_port(lp->target_host, &port) < 0)
		return -1;
	lp->target_port = port;
	out = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY, 0644);
	if (out < 0) {
		fprintf(stderr, "coordinator: local.server.command: cannot write its log %s: %s\n",
		        log, strerror(errno));
		return -1;
	}
	char **argv = plan_command_argv(p, port);
	lp->command = argv != NULL ? spawn(argv, NULL, out, out) : -1;
	close(out);
	plan_argv_free(argv);
	if (lp->command < 0) {
		fprintf(stderr, "coordinator: local.server.command: cannot start %s: %s\n",
		        p->local_command[0], argv != NULL ? strerror(errno) : "out of memory");
		lp->command = 0;
		return -1;
	}
	lp->group = lp->command; /* spawn() made it the leader of a group of its own */
	if (!lp->quiet)
		fprintf(stderr,
		        "coordinator: local: started %s (pid %d) for %s:%d, its output in %s\n",
		        p->local_command[0], (int)lp->command, lp->target_host, port, log);
	return wait_command(p, lp, log);
}

/*
 * Every process the watcher found listening on the port is of the command's
 * process group: a port some other program took in between is not measured
 * as the command's.
 */
static bool in_group(const json_t *watched, pid_t group)
{
	const json_t *v;
	size_t i;

	if (!json_is_array(watched) || json_array_size(watched) == 0)
		return false;
	json_array_foreach(watched, i, v)
	{
		pid_t pid = (pid_t)json_integer_value(v);
		if (pid <= 0 || getpgid(pid) != group)
			return false;
	}
	return true;
}

/*
 * connscale's server watching the command by its port (server --watch-port:
 * every process that listens there, so a pre-forked server's workers count,
 * and a wrapper that started the server is not mistaken for it): its ready
 * line gives the stats endpoint the run samples.
 */
static int start_watcher(struct local_procs *lp)
{
	char path[PATH_MAX], port[24], ready[16];

	if (find_binary("server", path, sizeof(path)) < 0) {
		fprintf(stderr,
		        "coordinator: local: cannot find the server binary (set CONNSCALE_BIN)\n");
		return -1;
	}
	snprintf(port, sizeof(port), "%lld", (long long)lp->target_port);
	snprintf(ready, sizeof(ready), "%d", LOCAL_READY_FD);
	char *argv[] = {path,         "--watch-port", port, "--stats", "tcp://127.0.0.1:*",
	                "--ready-fd", ready,          NULL};
	lp->server = spawn(argv, &lp->server_out, SPAWN_NULL, SPAWN_INHERIT);
	json_t *j = lp->server > 0 ? read_ready(lp->server_out, "the watcher") : NULL;
	const char *stats = json_string_value(json_object_get(j, "stats"));
	int rc = stats != NULL && in_group(json_object_get(j, "watched"), lp->group) ? 0 : -1;
	if (rc == 0)
		snprintf(lp->stats, sizeof(lp->stats), "%s", stats);
	else
		fprintf(stderr,
		        "coordinator: local: the watcher (%s --watch-port %s) did not start, or "
		        "what listens there is not the command's (see the messages above)\n",
		        path, port);
	json_decref(j);
	return rc;
}

int local_start(const struct plan *p, const char *endpoint, const char *report, bool quiet,
                volatile sig_atomic_t *interrupted, const volatile sig_atomic_t *hurry,
                struct local_procs *lp)
{
	int rc;

	memset(lp, 0, sizeof(*lp));
	lp->quiet = quiet;
	lp->interrupted = interrupted;
	lp->hurry = hurry;
	lp->server_out = -1;
	if (p->local_ncommand > 0)
		rc = start_command(p, report, lp) < 0 || start_watcher(lp) < 0 ? -1 : 0;
	else
		rc = start_server(p, lp);
	if (rc < 0 || start_agents(p, endpoint, lp) < 0) {
		local_stop(lp);
		return -1;
	}
	return 0;
}

/*
 * The command's process group: SIGTERM to all of it, then until the deadline
 * the leader reaped (if it is still ours) and the group watched for any
 * process left (kill 0), then SIGKILL to whatever is. A leader that exited
 * early, or children that ignore SIGTERM, leave nothing behind.
 */
static void stop_group(struct local_procs *lp)
{
	int64_t deadline = clock_ms() + STOP_TIMEOUT_MS;

	kill(-lp->group, SIGTERM);
	for (;;) {
		if (lp->command > 0 && waitpid(lp->command, NULL, WNOHANG) == lp->command)
			lp->command = 0;
		if (lp->command == 0 && kill(-lp->group, 0) < 0)
			break; /* no process of the group left */
		bool hurried = lp->hurry != NULL && *lp->hurry;
		if (clock_ms() > deadline || hurried) {
			if (!hurried)
				fprintf(
				    stderr,
				    "coordinator: local.server.command's process group %d did not "
				    "stop within %d s of SIGTERM: killed (SIGKILL)\n",
				    (int)lp->group, STOP_TIMEOUT_MS / 1000);
			kill(-lp->group, SIGKILL);
			if (lp->command > 0)
				waitpid(lp->command, NULL, 0);
			lp->command = 0;
			break;
		}
		poll(NULL, 0, 20);
	}
	lp->group = 0;
}

bool local_server_exited(void *arg, char *how, size_t size)
{
	struct local_procs *lp = arg;
	/* With a command, the command is the server (the watcher only samples it). */
	pid_t *pid = lp->command > 0 ? &lp->command : lp->group > 0 ? NULL : &lp->server;
	const char *who = lp->command > 0 ? "local.server.command" : "the local server";
	int status;

	if (pid == NULL || *pid <= 0 || waitpid(*pid, &status, WNOHANG) != *pid)
		return false;
	if (WIFSIGNALED(status))
		snprintf(how, size, "%s (pid %d) was killed by signal %d (%s)", who, (int)*pid,
		         WTERMSIG(status), strsignal(WTERMSIG(status)));
	else
		snprintf(
		    how, size, "%s (pid %d) exited with status %d%s", who, (int)*pid,
		    WEXITSTATUS(status),
		    WEXITSTATUS(status) == 0 && lp->group > 0
		        ? " (a server that forks to the background must be run in the foreground)"
		        : "");
	*pid = 0; /* reaped; a command's group is still stopped as a whole */
	return true;
}

void local_say_log(const struct local_procs *lp)
{
	if (lp->log[0])
		print_log_tail(lp->log);
}

void local_stop(struct local_procs *lp)
{
	if (lp->agents != NULL)
		reap_stop(lp->agents, lp->nagents, SIGTERM, false, STOP_TIMEOUT_MS, lp->hurry);
	if (lp->server > 0)
		reap_stop(&lp->server, 1, SIGTERM, false, STOP_TIMEOUT_MS, lp->hurry);
	/* Last: the watcher reads the command's /proc until it is told to stop. */
	if (lp->group > 0)
		stop_group(lp);
	if (lp->server_out >= 0)
		close(lp->server_out);
	free(lp->agents);
	lp->agents = NULL;
	lp->nagents = 0;
	lp->server_out = -1;
}
