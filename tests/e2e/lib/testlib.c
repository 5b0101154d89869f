#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <time.h>
#include <unistd.h>

#include <zmq.h>

#include "testlib.h"

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int tl_spawn(struct tl_proc *p, char *const argv[], long nofile)
{
	int fds[2];

	memset(p, 0, sizeof(*p));
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	p->pid = fork();
	if (p->pid < 0)
		return -1;
	if (p->pid == 0) {
		if (nofile > 0) {
			struct rlimit rl = {.rlim_cur = (rlim_t)nofile, .rlim_max = (rlim_t)nofile};
			setrlimit(RLIMIT_NOFILE, &rl);
		}
		dup2(fds[1], STDOUT_FILENO);
		execv(argv[0], argv);
		_exit(127);
	}
	close(fds[1]);
	p->out = fds[0];
	return 0;
}

/* Appends what is readable within timeout_ms; 0 on data, -1 on EOF/timeout. */
static int fill(struct tl_proc *p, int timeout_ms)
{
	struct pollfd pfd = {.fd = p->out, .events = POLLIN};

	if (p->len + 1 >= sizeof(p->buf) || poll(&pfd, 1, timeout_ms) <= 0)
		return -1;
	ssize_t n = read(p->out, p->buf + p->len, sizeof(p->buf) - 1 - p->len);
	if (n <= 0)
		return -1;
	p->len += (size_t)n;
	p->buf[p->len] = '\0';
	return 0;
}

int tl_expect_line(struct tl_proc *p, const char *prefix, char *rest, size_t size, int timeout_ms)
{
	long deadline = now_ms() + timeout_ms;

	for (;;) {
		for (char *line = p->buf; line && *line; line = strchr(line, '\n')) {
			if (*line == '\n')
				line++;
			char *eol = strchr(line, '\n');
			if (eol && strncmp(line, prefix, strlen(prefix)) == 0) {
				size_t n = (size_t)(eol - line) - strlen(prefix);
				if (n >= size)
					n = size - 1;
				memcpy(rest, line + strlen(prefix), n);
				rest[n] = '\0';
				return 0;
			}
		}
		long left = deadline - now_ms();
		if (left <= 0 || fill(p, (int)left) < 0)
			return -1;
	}
}

int tl_stop(struct tl_proc *p, int sig, int timeout_ms)
{
	long deadline = now_ms() + timeout_ms;
	int status;

	kill(p->pid, sig);
	while (waitpid(p->pid, &status, WNOHANG) == 0) {
		if (now_ms() > deadline) {
			kill(p->pid, SIGKILL);
			waitpid(p->pid, &status, 0);
			return -1;
		}
		fill(p, 20);
	}
	while (fill(p, 100) == 0)
		;
	close(p->out);
	return status;
}

int tl_parse_addr(const char *text, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strrchr(text, ':');

	if (colon == NULL || (size_t)(colon - text) >= sizeof(host))
		return -1;
	memcpy(host, text, (size_t)(colon - text));
	host[colon - text] = '\0';
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)atoi(colon + 1));
	return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

int tl_connect(const char *src, const struct sockaddr_in *dst)
{
	struct sockaddr_in from = {.sin_family = AF_INET};
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	inet_pton(AF_INET, src, &from.sin_addr);
	setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&from, sizeof(from)) < 0 ||
	    connect(fd, (const struct sockaddr *)dst, sizeof(*dst)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int tl_echo_ex(int fd, const unsigned char *data, size_t len, int timeout_ms, bool half_close)
{
	static _Thread_local unsigned char buf[65536];
	size_t sent = 0, got = 0;
	long deadline = now_ms() + timeout_ms;
	bool shut = false;

	while (half_close || got < len) {
		if (half_close && sent == len && !shut) {
			if (shutdown(fd, SHUT_WR) < 0)
				return -1;
			shut = true;
		}
		struct pollfd pfd = {.fd = fd, .events = POLLIN | (sent < len ? POLLOUT : 0)};
		long left = deadline - now_ms();
		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			return -1;
		if ((pfd.revents & POLLOUT) && sent < len) {
			ssize_t n = send(fd, data + sent, len - sent, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n < 0 && errno != EAGAIN)
				return -1;
			sent += n > 0 ? (size_t)n : 0;
		}
		if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (n ==
			    0) /* EOF: right only after a half-close, once everything came back */
				return shut && got == len ? 0 : -1;
			if (n < 0 && errno != EAGAIN)
				return -1;
			if (n > 0 && (got + (size_t)n > sent || memcmp(buf, data + got, (size_t)n)))
				return -1;
			got += n > 0 ? (size_t)n : 0;
		}
	}
	return 0;
}

int tl_echo(int fd, const unsigned char *data, size_t len, int timeout_ms)
{
	return tl_echo_ex(fd, data, len, timeout_ms, false);
}

int tl_stats(const char *endpoint, struct server_stats *out, int timeout_ms)
{
	void *ctx = zmq_ctx_new();
	void *s = zmq_socket(ctx, ZMQ_REQ);
	int zero = 0, rc = -1;
	char buf[8192];
	struct proto_err err;
	enum proto_type type;

	zmq_setsockopt(s, ZMQ_LINGER, &zero, sizeof(zero));
	zmq_setsockopt(s, ZMQ_RCVTIMEO, &timeout_ms, sizeof(timeout_ms));
	zmq_setsockopt(s, ZMQ_SNDTIMEO, &timeout_ms, sizeof(timeout_ms));
	json_t *req = stats_req_new();
	size_t len;
	char *body = proto_encode(req, &len);
	if (zmq_connect(s, endpoint) == 0 && zmq_send(s, body, len, 0) >= 0) {
		int n = zmq_recv(s, buf, sizeof(buf), 0);
		json_t *msg = n > 0 && n < (int)sizeof(buf)
		                  ? proto_decode(buf, (size_t)n, &type, &err)
		                  : NULL;
		if (msg && type == PROTO_SERVER_STATS && stats_unpack(msg, out, &err) == 0)
			rc = 0;
		else if (msg)
			fprintf(stderr, "tl_stats: %s\n", err.msg);
		json_decref(msg);
	}
	free(body);
	json_decref(req);
	zmq_close(s);
	zmq_ctx_term(ctx);
	return rc;
}

long tl_wait_current(const char *endpoint, long want, int timeout_ms)
{
	long deadline = now_ms() + timeout_ms;
	struct server_stats st;
	long last = -1;

	do {
		if (tl_stats(endpoint, &st, 2000) == 0)
			last = (long)st.conns_current;
		if (last == want)
			break;
		poll(NULL, 0, 50);
	} while (now_ms() < deadline);
	return last;
}
