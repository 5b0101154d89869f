/*
 * e2e: one port, one server. Server A runs with --processes 2 on 127.0.0.1:0
 * (the kernel picks the port, both workers must end up on it). A second
 * server B on the same address, and one on 0.0.0.0 with the same port, must
 * exit 1 at once with "Address already in use" naming the address. A keeps
 * serving: 200 echoed connections, all counted by A (stats and summary), and
 * both of A's workers took some of them. After A exits, a new server gets
 * the same port: the guard does not outlive its server.
 *
 * Should B start anyway (the old behaviour), it is left running during the
 * echo phase, so the test also shows the share of connections it takes.
 *
 * usage: test_server_exclusive SERVER MODEL SOURCE_IP
 */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "testlib.h"

#define NCONN 200

struct run {
	pid_t pid;
	int out; /* stdout and stderr, merged */
	char buf[8192];
	size_t len;
	int status;
	int exited;
};

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int run_start(struct run *r, char *const argv[])
{
	int fds[2];

	memset(r, 0, sizeof(*r));
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	r->pid = fork();
	if (r->pid < 0)
		return -1;
	if (r->pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		dup2(fds[1], STDERR_FILENO);
		execv(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	r->out = fds[0];
	return 0;
}

static void run_read(struct run *r, int timeout_ms)
{
	struct pollfd pfd = {.fd = r->out, .events = POLLIN};

	if (r->len + 1 >= sizeof(r->buf) || poll(&pfd, 1, timeout_ms) <= 0)
		return;
	ssize_t n = read(r->out, r->buf + r->len, sizeof(r->buf) - 1 - r->len);
	if (n > 0) {
		r->len += (size_t)n;
		r->buf[r->len] = '\0';
	} else {
		poll(NULL, 0, timeout_ms); /* EOF: do not spin on it */
	}
}

/* Collects output until the process exits or timeout_ms pass; 1 if it exited. */
static int run_wait(struct run *r, int timeout_ms)
{
	long deadline = now_ms() + timeout_ms;

	while (!r->exited && now_ms() < deadline) {
		run_read(r, 20);
		if (waitpid(r->pid, &r->status, WNOHANG) == r->pid)
			r->exited = 1;
	}
	for (int i = 0; r->exited && i < 5; i++)
		run_read(r, 20);
	return r->exited;
}

static void run_stop(struct run *r)
{
	if (r->pid <= 0)
		return;
	if (!r->exited) {
		kill(r->pid, SIGTERM);
		if (!run_wait(r, 5000)) {
			kill(r->pid, SIGKILL);
			waitpid(r->pid, &r->status, 0);
		}
	}
	close(r->out);
	r->pid = 0;
}

/* B on listen must fail at once, exit 1, saying "Address already in use" and naming listen. */
static void expect_refused(struct run *b, char *server, const char *model, const char *listen)
{
	char arg[64];
	snprintf(arg, sizeof(arg), "%s", listen);
	char *args[] = {server,        "--listen",    arg, "--model",
	                (char *)model, "--processes", "2", NULL};

	if (run_start(b, args) < 0) {
		CHECK(0, "cannot start %s", server);
		return;
	}
	if (!run_wait(b, 5000)) {
		CHECK(0, "a second server started on %s (it shares the port):\n%s", listen, b->buf);
		return;
	}
	CHECK(WIFEXITED(b->status) && WEXITSTATUS(b->status) == 1,
	      "second server on %s: status %#x, expected exit 1", listen, b->status);
	CHECK(strstr(b->buf, "Address already in use") != NULL,
	      "second server on %s: no 'Address already in use' in:\n%s", listen, b->buf);
	CHECK(strstr(b->buf, listen) != NULL, "second server: %s not named in:\n%s", listen,
	      b->buf);
	printf("ok: second server on %s refused: %s", listen, b->buf);
}

static int echo_all(int *fds, const struct sockaddr_in *dst, const char *src)
{
	unsigned char msg[100];
	int ok = 0;

	for (int i = 0; i < NCONN; i++) {
		fds[i] = tl_connect(src, dst);
		CHECK(fds[i] >= 0, "connection %d was not established", i);
	}
	for (int i = 0; i < NCONN; i++) {
		memset(msg, 'a' + i % 26, sizeof(msg));
		if (fds[i] >= 0 && tl_echo(fds[i], msg, sizeof(msg), 5000) == 0)
			ok++;
	}
	return ok;
}

/* The summary's "by worker" line: connections served by each worker. */
static void check_workers(const char *summary)
{
	long w0 = -1, w1 = -1;
	const char *line = strstr(summary, "  by worker ");

	CHECK(line != NULL && sscanf(line, "  by worker %ld %ld", &w0, &w1) == 2,
	      "summary lacks '  by worker N N':\n%s", summary);
	CHECK(w0 > 0 && w1 > 0, "a worker served nothing: %ld and %ld", w0, w1);
	CHECK_EQ(w0 + w1, NCONN);
	if (w0 > 0 && w1 > 0 && w0 + w1 == NCONN)
		printf("ok: workers served %ld and %ld of %d\n", w0, w1, NCONN);
}

static void check_port_free(char *server, const char *model, const char *addr)
{
	char got[64], arg[64];
	struct tl_proc c;
	snprintf(arg, sizeof(arg), "%s", addr);
	char *args[] = {server,        "--listen",    arg, "--model",
	                (char *)model, "--processes", "2", NULL};

	CHECK(tl_spawn(&c, args, 0) == 0 &&
	          tl_expect_line(&c, "server: listening on ", got, sizeof(got), 5000) == 0,
	      "a server could not take %s after the first one exited:\n%s", addr, c.buf);
	int status = tl_stop(&c, SIGTERM, 10000);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "exit status %#x", status);
}

int main(int argc, char **argv)
{
	static int fds[NCONN];
	char addr[64], endpoint[256], any[64];
	struct sockaddr_in dst;
	struct tl_proc a;
	struct server_stats st;
	struct run b1, b2;

	if (argc != 4) {
		fprintf(stderr, "usage: %s SERVER MODEL SOURCE_IP\n", argv[0]);
		return 2;
	}
	char *args[] = {argv[1],
	                "--listen",
	                "127.0.0.1:0",
	                "--model",
	                argv[2],
	                "--processes",
	                "2",
	                "--stack-size",
	                "64k",
	                "--stats",
	                "tcp://127.0.0.1:*",
	                NULL};
	if (tl_spawn(&a, args, 0) < 0 ||
	    tl_expect_line(&a, "server: listening on ", addr, sizeof(addr), 5000) < 0 ||
	    tl_expect_line(&a, "server: stats on ", endpoint, sizeof(endpoint), 5000) < 0) {
		fprintf(stderr, "server did not start: %s\n", a.buf);
		return 1;
	}
	tl_parse_addr(addr, &dst);
	snprintf(any, sizeof(any), "0.0.0.0%s", strrchr(addr, ':'));

	expect_refused(&b1, argv[1], argv[2], addr);
	expect_refused(&b2, argv[1], argv[2], any);

	CHECK_EQ(echo_all(fds, &dst, argv[3]), NCONN);
	CHECK_EQ(tl_wait_current(endpoint, NCONN, 5000), NCONN);
	CHECK(tl_stats(endpoint, &st, 2000) == 0, "no stats");
	CHECK_EQ(st.conns_total, NCONN);
	for (int i = 0; i < NCONN; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	CHECK_EQ(tl_wait_current(endpoint, 0, 10000), 0);
	run_stop(&b1);
	run_stop(&b2);

	int status = tl_stop(&a, SIGTERM, 10000);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "exit status %#x", status);
	char total[64];
	snprintf(total, sizeof(total), "Total           %d\n", NCONN);
	CHECK(strstr(a.buf, total) != NULL, "summary lacks '%s':\n%s", total, a.buf);
	check_workers(a.buf);
	check_port_free(argv[1], argv[2], addr);
	return check_failed() ? 1 : 0;
}
