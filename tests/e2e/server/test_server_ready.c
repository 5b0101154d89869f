/*
 * e2e: what a program reads to know the server is up, and what it may be
 * told to listen on.
 *
 *   ready      --ready-fd 3 (2 processes, stats on): one JSON line on fd 3 with
 *              the bound address and port, the stats endpoint, the pid and the
 *              model, then EOF (closed, by the workers too); the port echoes,
 *              the endpoint answers, the banner is still printed.
 *   nostats    without --stats the line says "stats": null.
 *   badfd      --ready-fd 9 (not open), 0 (read-only), -1, x: exit 2 at once,
 *              naming the option, and nothing listens.
 *   hostname   --listen localhost:0 listens on its address and shows both;
 *              a name that does not resolve and a shorthand (127.1) exit 2.
 *   stack_size a local plan's stack_size parses exactly when `server
 *              --stack-size` with it starts ("1g" used to pass the plan and
 *              make the server exit 2).
 *
 * usage: test_server_ready SERVER CASE SOURCE_IP
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "plan.h"
#include "check.h"
#include "testlib.h"

#define READY_FD   3
#define TIMEOUT_MS 20000 /* generous: a shared, loaded machine; a DNS miss */

struct srv {
	pid_t pid;
	int ready;    /* our end of its fd 3, or -1 */
	char log[64]; /* its stdout and stderr */
	char line[1024];
	int status;
	bool exited;
};

static const char *server_bin, *source_ip;

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Starts the server with `args` (NULL-terminated); with_fd gives it a pipe on fd 3. */
static int srv_start(struct srv *s, const char *const *args, bool with_fd)
{
	char *argv[32];
	int fds[2] = {-1, -1}, n = 0;

	memset(s, 0, sizeof(*s));
	s->ready = -1;
	argv[n++] = (char *)server_bin;
	while (*args != NULL && n < 31)
		argv[n++] = (char *)*args++;
	argv[n] = NULL;
	snprintf(s->log, sizeof(s->log), "/tmp/test_server_ready.XXXXXX");
	int logfd = mkstemp(s->log);
	if (logfd < 0 || (with_fd && pipe2(fds, O_CLOEXEC) < 0))
		return -1;
	s->pid = fork();
	if (s->pid < 0)
		return -1;
	if (s->pid == 0) {
		int null = open("/dev/null", O_RDONLY);
		dup2(null, STDIN_FILENO);
		dup2(logfd, STDOUT_FILENO);
		dup2(logfd, STDERR_FILENO);
		close(9); /* badfd relies on 9 not being open */
		if (with_fd) {
			if (fds[1] == READY_FD)
				fcntl(READY_FD, F_SETFD, 0);
			else
				dup2(fds[1], READY_FD); /* the copy is not close-on-exec */
		}
		execv(argv[0], argv);
		_exit(127);
	}
	close(logfd);
	if (with_fd) {
		close(fds[1]);
		s->ready = fds[0];
	}
	return 0;
}

static char *srv_log(const struct srv *s)
{
	static char buf[8192];
	FILE *f = fopen(s->log, "r");
	size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;

	if (f)
		fclose(f);
	buf[n] = '\0';
	return buf;
}

/*
 * Reads fd 3 to EOF (bounded): 0 with s->line holding what came, -1 on timeout.
 * EOF is the point: the server closed the descriptor after its line.
 */
static int srv_read_ready(struct srv *s)
{
	size_t len = 0;
	long deadline = now_ms() + TIMEOUT_MS;

	for (;;) {
		struct pollfd pfd = {.fd = s->ready, .events = POLLIN};
		long left = deadline - now_ms();
		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			return -1;
		ssize_t n = read(s->ready, s->line + len, sizeof(s->line) - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len + 1 >= sizeof(s->line))
			break;
	}
	s->line[len] = '\0';
	return 0;
}

/* Waits (bounded) for the server to exit by itself. */
static bool srv_wait_exit(struct srv *s, int timeout_ms)
{
	long deadline = now_ms() + timeout_ms;

	while (!s->exited && now_ms() < deadline) {
		if (waitpid(s->pid, &s->status, WNOHANG) == s->pid)
			s->exited = true;
		else
			poll(NULL, 0, 20);
	}
	return s->exited;
}

static void srv_stop(struct srv *s)
{
	if (s->pid > 0 && !s->exited) {
		kill(s->pid, SIGTERM);
		if (!srv_wait_exit(s, 10000)) {
			kill(s->pid, SIGKILL);
			waitpid(s->pid, &s->status, 0);
			s->exited = true;
		}
	}
	if (s->ready >= 0)
		close(s->ready);
	s->ready = -1;
	unlink(s->log);
}

static int exit_code(const struct srv *s)
{
	return s->exited && WIFEXITED(s->status) ? WEXITSTATUS(s->status) : -1;
}

/* The port serves: one connection echoes 64 bytes. */
static void check_echo(const char *addr, long port)
{
	char text[64];
	struct sockaddr_in sa;
	unsigned char data[64];

	snprintf(text, sizeof(text), "%s:%ld", addr, port);
	CHECK(tl_parse_addr(text, &sa) == 0, "address %s", text);
	memset(data, 'r', sizeof(data));
	int fd = tl_connect(source_ip, &sa);
	CHECK(fd >= 0, "connect to %s", text);
	if (fd >= 0) {
		CHECK(tl_echo(fd, data, sizeof(data), 5000) == 0, "echo on %s", text);
		close(fd);
	}
}

static void case_ready(void)
{
	static const char *const args[] = {
	    "--listen", "127.0.0.1:0",       "--model",    "epoll", "--processes", "2",
	    "--stats",  "tcp://127.0.0.1:*", "--ready-fd", "3",     NULL};
	struct srv s;
	json_error_t jerr;
	struct server_stats st;

	CHECK(srv_start(&s, args, true) == 0, "spawn");
	CHECK(srv_read_ready(&s) == 0, "no EOF on fd 3 in time; got '%s'", s.line);
	size_t len = strlen(s.line);
	CHECK(len > 0 && s.line[len - 1] == '\n' && strchr(s.line, '\n') == s.line + len - 1,
	      "one line, newline-terminated: '%s'", s.line);
	json_t *j = json_loads(s.line, 0, &jerr);
	CHECK(j != NULL, "not JSON: '%s': %s", s.line, jerr.text);
	const char *addr = json_string_value(json_object_get(j, "address"));
	const char *stats = json_string_value(json_object_get(j, "stats"));
	json_int_t port = json_integer_value(json_object_get(j, "port"));
	CHECK(addr && strcmp(addr, "127.0.0.1") == 0, "address in '%s'", s.line);
	CHECK(port > 0 && port < 65536, "port in '%s'", s.line);
	CHECK(stats && strncmp(stats, "tcp://127.0.0.1:", 16) == 0 && atoi(stats + 16) > 0,
	      "stats in '%s'", s.line);
	CHECK_EQ(json_integer_value(json_object_get(j, "pid")), s.pid);
	CHECK(json_is_string(json_object_get(j, "model")) &&
	          strcmp(json_string_value(json_object_get(j, "model")), "epoll") == 0,
	      "model in '%s'", s.line);
	CHECK_EQ(json_integer_value(json_object_get(j, "processes")), 2);
	if (addr && port > 0)
		check_echo(addr, (long)port);
	if (stats) {
		CHECK(tl_stats(stats, &st, 5000) == 0, "stats request to %s", stats);
		CHECK_EQ(st.processes, 2);
	}
	/* The banner stays: people read it. */
	char banner[64];
	snprintf(banner, sizeof(banner), "server: listening on 127.0.0.1:%lld\n", (long long)port);
	CHECK(strstr(srv_log(&s), banner) != NULL, "banner '%s' in:\n%s", banner, srv_log(&s));
	json_decref(j);
	srv_stop(&s);
	CHECK_EQ(exit_code(&s), 0);
}

static void case_nostats(void)
{
	static const char *const args[] = {"--listen", "127.0.0.1:0", "--ready-fd", "3", NULL};
	struct srv s;

	CHECK(srv_start(&s, args, true) == 0, "spawn");
	CHECK(srv_read_ready(&s) == 0, "no EOF on fd 3 in time; got '%s'", s.line);
	json_t *j = json_loads(s.line, 0, NULL);
	CHECK(j != NULL, "not JSON: '%s'", s.line);
	CHECK(json_is_null(json_object_get(j, "stats")), "\"stats\": null in '%s'", s.line);
	const char *model = json_string_value(json_object_get(j, "model"));
	CHECK(model && strcmp(model, "threads") == 0, "model in '%s'", s.line);
	json_decref(j);
	srv_stop(&s);
}

/* The server refuses the invocation: exit 2 within 5 s, its message holding `says`. */
static void check_usage_error(const char *const *args, const char *says)
{
	struct srv s;

	CHECK(srv_start(&s, args, false) == 0, "spawn");
	CHECK(srv_wait_exit(&s, TIMEOUT_MS), "%s %s: still running", args[0], args[1]);
	CHECK_EQ(exit_code(&s), 2);
	CHECK(strstr(srv_log(&s), says) != NULL, "'%s' in:\n%s", says, srv_log(&s));
	CHECK(strstr(srv_log(&s), "listening on") == NULL, "listened:\n%s", srv_log(&s));
	srv_stop(&s);
}

static void case_badfd(void)
{
	static const char *const closed[] = {"--listen", "127.0.0.1:0", "--ready-fd", "9", NULL};
	static const char *const rdonly[] = {"--listen", "127.0.0.1:0", "--ready-fd", "0", NULL};
	static const char *const neg[] = {"--listen", "127.0.0.1:0", "--ready-fd", "-1", NULL};
	static const char *const word[] = {"--ready-fd", "x", "--listen", "127.0.0.1:0", NULL};

	check_usage_error(closed, "server: --ready-fd 9: not an open file descriptor");
	check_usage_error(rdonly, "server: --ready-fd 0: open for reading only");
	check_usage_error(neg, "server: --ready-fd: expected a file descriptor number, got '-1'");
	check_usage_error(word, "server: --ready-fd: expected a file descriptor number, got 'x'");
}

static void case_hostname(void)
{
	static const char *const args[] = {"--listen",   "localhost:0", "--model", "epoll",
	                                   "--ready-fd", "3",           NULL};
	static const char *const unknown[] = {"--listen", "nosuch.invalid:0", NULL};
	static const char *const shorthand[] = {"--listen", "127.1:0", NULL};
	struct srv s;

	CHECK(srv_start(&s, args, true) == 0, "spawn");
	CHECK(srv_read_ready(&s) == 0, "no EOF on fd 3 in time; got '%s'", s.line);
	json_t *j = json_loads(s.line, 0, NULL);
	const char *addr = json_string_value(json_object_get(j, "address"));
	long port = (long)json_integer_value(json_object_get(j, "port"));
	CHECK(addr && strncmp(addr, "127.", 4) == 0, "localhost's address in '%s'", s.line);
	if (addr && port > 0) {
		char shown[96];
		snprintf(shown, sizeof(shown), "server: listening on %s:%ld (localhost)\n", addr,
		         port);
		CHECK(strstr(srv_log(&s), shown) != NULL, "'%s' in:\n%s", shown, srv_log(&s));
		check_echo(addr, port);
	}
	json_decref(j);
	srv_stop(&s);
	check_usage_error(unknown, "server: --listen: cannot resolve 'nosuch.invalid'");
	check_usage_error(shorthand, "server: --listen: expected an IPv4 address (dotted quad) "
	                             "or a host name, got '127.1'");
}

/* Does a local plan with this stack_size parse? */
static bool plan_takes(const char *size)
{
	char text[512];
	struct plan p;
	struct proto_err err;

	snprintf(text, sizeof(text),
	         "{\"name\": \"s\", \"target\": {\"host\": \"127.0.0.1\", \"port\": 0}, "
	         "\"agents\": {\"count\": 1}, \"connections\": 1, \"local\": {\"server\": "
	         "{\"model\": \"threads\", \"stack_size\": \"%s\"}}}",
	         size);
	int rc = plan_parse(text, strlen(text), "s.json", &p, &err);
	if (rc == 0)
		plan_free(&p);
	return rc == 0;
}

/* Does `server --stack-size size` start (ready line) rather than exit 2? */
static bool server_takes(const char *size)
{
	const char *const args[] = {"--listen", "127.0.0.1:0", "--stack-size", size, "--ready-fd",
	                            "3",        NULL};
	struct srv s;

	if (srv_start(&s, args, true) < 0)
		return false;
	CHECK(srv_read_ready(&s) == 0, "--stack-size '%s': neither ready nor gone", size);
	bool ready = s.line[0] == '{';
	if (!ready) {
		CHECK(srv_wait_exit(&s, TIMEOUT_MS), "--stack-size '%s': still running", size);
		CHECK(exit_code(&s) == 2, "--stack-size '%s': exit %d, expected 2:\n%s", size,
		      exit_code(&s), srv_log(&s));
	}
	srv_stop(&s);
	return ready;
}

static void case_stack_size(void)
{
	static const char *const sizes[] = {
	    "16k",   "64k",        "64K",        "8m", "1g",   "1G",    "default",
	    "65536", "1024m",      "2g",         "0",  "016k", "64 KB", "1t",
	    "1.5m",  "1073741824", "1073741825", "-1", "k",    "1kb",   "DEFAULT"};
	int accepted = 0;

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		bool plan = plan_takes(sizes[i]), server = server_takes(sizes[i]);
		CHECK(plan == server, "stack size '%s': the plan %s it, the server %s it", sizes[i],
		      plan ? "takes" : "refuses", server ? "takes" : "refuses");
		accepted += plan && server;
	}
	/* Both sides must be tried on sizes they take, not only on garbage. */
	CHECK_EQ(accepted, 10);
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		void (*fn)(void);
	} cases[] = {{"ready", case_ready},
	             {"nostats", case_nostats},
	             {"badfd", case_badfd},
	             {"hostname", case_hostname},
	             {"stack_size", case_stack_size}};

	if (argc != 4) {
		fprintf(stderr, "usage: %s SERVER CASE SOURCE_IP\n", argv[0]);
		return 2;
	}
	server_bin = argv[1];
	source_ip = argv[3];
	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (strcmp(argv[2], cases[i].name) == 0) {
			cases[i].fn();
			return check_failed() ? 1 : 0;
		}
	}
	fprintf(stderr, "%s: no case '%s'\n", argv[0], argv[2]);
	return 2;
}
