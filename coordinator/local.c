/* local — the plan's "local" section: start the server and agents here, stop them after. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "coord.h"
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

/*
 * Starts argv. With ready != NULL, its descriptor 3 is the write end of a
 * pipe whose read end lands in *ready (the server's --ready-fd 3). Its
 * stdout goes nowhere, its stderr is ours unless quiet.
 */
static pid_t spawn(char *const argv[], int *ready, bool quiet)
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
		dup2(null, STDOUT_FILENO);
		if (quiet)
			dup2(null, STDERR_FILENO);
		/* dup2 leaves the copy open across exec; onto itself it would keep O_CLOEXEC. */
		if (ready != NULL && (fds[1] == LOCAL_READY_FD ? fcntl(fds[1], F_SETFD, 0)
		                                               : dup2(fds[1], LOCAL_READY_FD)) < 0)
			_exit(127);
		execv(argv[0], argv);
		fprintf(stderr, "coordinator: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (ready != NULL) {
		close(fds[1]);
		*ready = pid > 0 ? fds[0] : -1;
		if (pid < 0)
			close(fds[0]);
	}
	return pid;
}

/*
 * Reads the server's ready line (server --ready-fd): {"address", "port",
 * "stats", ...}, bounded by START_TIMEOUT_MS. EOF before it means the server
 * did not start (it said why on stderr).
 */
static int read_server_ready(struct local_procs *lp)
{
	char buf[4096];
	size_t len = 0;
	int64_t deadline = coord_now_ms() + START_TIMEOUT_MS;

	while (len == 0 || buf[len - 1] != '\n') {
		struct pollfd pfd = {.fd = lp->server_out, .events = POLLIN};
		int64_t left = deadline - coord_now_ms();
		if (left <= 0 || len + 1 >= sizeof(buf) || poll(&pfd, 1, (int)left) <= 0)
			return -1;
		ssize_t n = read(lp->server_out, buf + len, sizeof(buf) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		len += (size_t)n;
	}
	buf[len] = '\0';
	json_t *j = json_loads(buf, 0, NULL);
	const char *addr = json_string_value(json_object_get(j, "address"));
	const char *stats = json_string_value(json_object_get(j, "stats"));
	json_int_t port = json_integer_value(json_object_get(j, "port"));
	int rc = addr && stats && port > 0 && port <= 65535 ? 0 : -1;
	if (rc == 0) {
		snprintf(lp->target_host, sizeof(lp->target_host), "%s", addr);
		lp->target_port = port;
		snprintf(lp->stats, sizeof(lp->stats), "%s", stats);
	} else {
		fprintf(stderr,
		        "coordinator: local: the server's ready line is not what it should "
		        "be: %s",
		        buf);
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
	lp->server = spawn(argv, &lp->server_out, false);
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
		lp->agents[i] = spawn(argv, NULL, lp->quiet);
		if (lp->agents[i] < 0)
			return -1;
		lp->nagents = i + 1;
	}
	return 0;
}

int local_start(const struct plan *p, const char *endpoint, bool quiet, struct local_procs *lp)
{
	memset(lp, 0, sizeof(*lp));
	lp->quiet = quiet;
	lp->server_out = -1;
	if (start_server(p, lp) < 0 || start_agents(p, endpoint, lp) < 0) {
		local_stop(lp);
		return -1;
	}
	return 0;
}

static void stop_all(pid_t *pids, int n)
{
	int64_t deadline = coord_now_ms() + STOP_TIMEOUT_MS;
	int left = 0;

	for (int i = 0; i < n; i++)
		if (pids[i] > 0 && kill(pids[i], SIGTERM) == 0)
			left++;
	while (left > 0) {
		for (int i = 0; i < n; i++) {
			if (pids[i] > 0 && waitpid(pids[i], NULL, WNOHANG) == pids[i]) {
				pids[i] = 0;
				left--;
			}
		}
		if (left > 0 && coord_now_ms() > deadline) {
			for (int i = 0; i < n; i++)
				if (pids[i] > 0) {
					kill(pids[i], SIGKILL);
					waitpid(pids[i], NULL, 0);
					pids[i] = 0;
				}
			break;
		}
		poll(NULL, 0, 20);
	}
}

void local_stop(struct local_procs *lp)
{
	if (lp->agents != NULL)
		stop_all(lp->agents, lp->nagents);
	if (lp->server > 0)
		stop_all(&lp->server, 1);
	if (lp->server_out >= 0)
		close(lp->server_out);
	free(lp->agents);
	lp->agents = NULL;
	lp->nagents = 0;
	lp->server_out = -1;
}
