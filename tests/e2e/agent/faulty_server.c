/*
 * faulty_server — a loopback echo server that misbehaves on purpose, so the
 * agent's error counts can be checked against what the server really did.
 *
 *   faulty_server [--listen ADDR:PORT] [--flip-every K] [--close-every K]
 *                 [--stall-every K] [--blackhole] [--free-port] [--ready-fd N]
 *
 * Connections are numbered 1, 2, ... in accept order. On the first bytes a
 * connection sends, connection i is (first matching rule wins):
 *   i % flip == 0   echoed with the first byte's lowest bit flipped   -> agent: mismatch
 *   i % close == 0  closed without echoing                             -> agent: eof_early
 *   i % stall == 0  never echoed, never read again (a delay longer than
 *                   any echo timeout)                                  -> agent: timeout
 *   otherwise       echoed faithfully, for as long as the peer sends.
 * On SIGTERM/SIGINT it prints "faulty_server: accepted A flipped F closed C
 * stalled S" (counting only faults it actually applied) and exits 0.
 *
 * --blackhole: listen with backlog 0 and never accept; one connection from
 * itself fills the accept queue, so every later SYN is dropped by the kernel
 * and a client's connect can only time out (loopback, no firewall needed).
 * --free-port: print a port on 127.0.0.1 that nothing listens on, and exit.
 * --ready-fd N: once listening, write {"address", "port", "pid"} as one JSON
 * line to descriptor N and close it (the server's ready line, its keys).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUF_SIZE 4096
#define MAX_FDS  65536

static volatile sig_atomic_t fs_stop;

static void fs_on_signal(int sig)
{
	(void)sig;
	fs_stop = 1;
}

enum fs_fault { FS_CLEAN, FS_FLIP, FS_CLOSE, FS_STALL };

struct fs_conn {
	unsigned char *buf; /* bytes read, not yet echoed */
	uint32_t len, off;
	uint8_t fault;
	uint8_t seen_data;
	uint8_t open;
};

struct fs_server {
	int lfd, epfd;
	unsigned flip, close_every, stall;
	unsigned long accepted, flipped, closed, stalled;
	struct fs_conn *conns; /* indexed by fd */
};

static int fs_parse_addr(const char *arg, struct sockaddr_in *sa)
{
	char host[64];
	const char *colon = strrchr(arg, ':');

	if (!colon || (size_t)(colon - arg) >= sizeof(host))
		return -1;
	memcpy(host, arg, (size_t)(colon - arg));
	host[colon - arg] = '\0';
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)atoi(colon + 1));
	return inet_pton(AF_INET, host, &sa->sin_addr) == 1 ? 0 : -1;
}

static void fs_close(struct fs_server *s, int fd)
{
	struct fs_conn *c = &s->conns[fd];

	free(c->buf);
	memset(c, 0, sizeof(*c));
	close(fd);
}

static void fs_set_events(struct fs_server *s, int fd, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.fd = fd};

	if (epoll_ctl(s->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
		perror("faulty_server: epoll_ctl");
}

static void fs_accept(struct fs_server *s)
{
	struct epoll_event ev;
	unsigned long i;
	int fd;

	for (;;) {
		fd = accept4(s->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN)
				perror("faulty_server: accept4");
			return;
		}
		if (fd >= MAX_FDS) {
			close(fd);
			continue;
		}
		i = ++s->accepted;
		memset(&s->conns[fd], 0, sizeof(s->conns[fd]));
		s->conns[fd].open = 1;
		if (s->flip && i % s->flip == 0)
			s->conns[fd].fault = FS_FLIP;
		else if (s->close_every && i % s->close_every == 0)
			s->conns[fd].fault = FS_CLOSE;
		else if (s->stall && i % s->stall == 0)
			s->conns[fd].fault = FS_STALL;
		ev.events = EPOLLIN;
		ev.data.fd = fd;
		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			perror("faulty_server: epoll_ctl");
			close(fd);
		}
	}
}

/* Writes what is buffered; returns -1 if the connection is gone. */
static int fs_flush(struct fs_server *s, int fd)
{
	struct fs_conn *c = &s->conns[fd];
	ssize_t n;

	while (c->off < c->len) {
		n = send(fd, c->buf + c->off, c->len - c->off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN) {
				fs_set_events(s, fd, EPOLLOUT);
				return 0;
			}
			return -1;
		}
		c->off += (uint32_t)n;
	}
	c->off = c->len = 0;
	fs_set_events(s, fd, EPOLLIN);
	return 0;
}

static void fs_on_event(struct fs_server *s, int fd, uint32_t events)
{
	struct fs_conn *c = &s->conns[fd];
	ssize_t n;

	if (!c->open)
		return;
	if (c->len > 0) {
		if (fs_flush(s, fd) < 0)
			fs_close(s, fd);
		return;
	}
	(void)events;
	if (!c->buf && !(c->buf = malloc(BUF_SIZE))) {
		fs_close(s, fd);
		return;
	}
	n = recv(fd, c->buf, BUF_SIZE, 0);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		fs_close(s, fd);
		return;
	}
	if (!c->seen_data) {
		c->seen_data = 1;
		switch (c->fault) {
		case FS_FLIP:
			c->buf[0] ^= 1;
			s->flipped++;
			break;
		case FS_CLOSE:
			s->closed++;
			fs_close(s, fd);
			return;
		case FS_STALL:
			/* Keep the socket open, stop reading: the echo never comes. */
			s->stalled++;
			fs_set_events(s, fd, 0);
			return;
		default:
			break;
		}
	}
	c->len = (uint32_t)n;
	c->off = 0;
	if (fs_flush(s, fd) < 0)
		fs_close(s, fd);
}

static int fs_listen(const struct sockaddr_in *sa, int backlog)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0 || listen(fd, backlog) < 0) {
		perror("faulty_server: listen");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int fs_bound_port(int fd)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);

	if (getsockname(fd, (struct sockaddr *)&sa, &len) < 0)
		return -1;
	return ntohs(sa.sin_port);
}

static int fs_ready_fd = -1;

/* Says where it listens: the banner, and the ready line when asked for one. */
static void fs_listening(int port)
{
	printf("faulty_server: listening on 127.0.0.1:%d\n", port);
	fflush(stdout);
	if (fs_ready_fd < 0)
		return;
	dprintf(fs_ready_fd, "{\"address\": \"127.0.0.1\", \"port\": %d, \"pid\": %ld}\n", port,
	        (long)getpid());
	close(fs_ready_fd);
	fs_ready_fd = -1;
}

static int fs_blackhole(const struct sockaddr_in *sa)
{
	struct sockaddr_in bound;
	socklen_t len = sizeof(bound);
	int lfd = fs_listen(sa, 0), cfd;

	if (lfd < 0)
		return 1;
	if (getsockname(lfd, (struct sockaddr *)&bound, &len) < 0)
		return 1;
	/* Fill the one-entry accept queue; from now on the kernel drops SYNs. */
	cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (cfd < 0 || connect(cfd, (struct sockaddr *)&bound, sizeof(bound)) < 0) {
		perror("faulty_server: blackhole self-connect");
		return 1;
	}
	fs_listening(ntohs(bound.sin_port));
	while (!fs_stop)
		pause();
	printf("faulty_server: blackhole done\n");
	fflush(stdout);
	close(cfd);
	close(lfd);
	return 0;
}

int main(int argc, char **argv)
{
	struct fs_server s;
	struct sockaddr_in sa;
	struct sigaction act;
	struct epoll_event ev, events[256];
	int i, n, blackhole = 0;

	memset(&s, 0, sizeof(s));
	fs_parse_addr("127.0.0.1:0", &sa);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--blackhole")) {
			blackhole = 1;
		} else if (!strcmp(a, "--free-port")) {
			int fd = fs_listen(&sa, 1), port = fd >= 0 ? fs_bound_port(fd) : -1;

			/* Closed again at once: nothing listens there afterwards. */
			if (fd >= 0)
				close(fd);
			printf("%d\n", port);
			return port > 0 ? 0 : 1;
		} else if (v && !strcmp(a, "--listen")) {
			if (fs_parse_addr(v, &sa) < 0) {
				fprintf(stderr, "faulty_server: --listen: bad address '%s'\n", v);
				return 2;
			}
			i++;
		} else if (v && !strcmp(a, "--flip-every")) {
			s.flip = (unsigned)atoi(v), i++;
		} else if (v && !strcmp(a, "--close-every")) {
			s.close_every = (unsigned)atoi(v), i++;
		} else if (v && !strcmp(a, "--stall-every")) {
			s.stall = (unsigned)atoi(v), i++;
		} else if (v && !strcmp(a, "--ready-fd")) {
			fs_ready_fd = atoi(v), i++;
		} else {
			fprintf(stderr, "faulty_server: unknown argument '%s'\n", a);
			return 2;
		}
	}
	memset(&act, 0, sizeof(act));
	act.sa_handler = fs_on_signal;
	sigaction(SIGTERM, &act, NULL);
	sigaction(SIGINT, &act, NULL);
	if (blackhole)
		return fs_blackhole(&sa);

	s.conns = calloc(MAX_FDS, sizeof(*s.conns));
	s.lfd = fs_listen(&sa, 4096);
	s.epfd = epoll_create1(EPOLL_CLOEXEC);
	if (!s.conns || s.lfd < 0 || s.epfd < 0)
		return 1;
	ev.events = EPOLLIN;
	ev.data.fd = s.lfd;
	if (epoll_ctl(s.epfd, EPOLL_CTL_ADD, s.lfd, &ev) < 0)
		return 1;
	fs_listening(fs_bound_port(s.lfd));
	while (!fs_stop) {
		n = epoll_wait(s.epfd, events, 256, 200);
		for (i = 0; i < n; i++) {
			if (events[i].data.fd == s.lfd)
				fs_accept(&s);
			else
				fs_on_event(&s, events[i].data.fd, events[i].events);
		}
	}
	printf("faulty_server: accepted %lu flipped %lu closed %lu stalled %lu\n", s.accepted,
	       s.flipped, s.closed, s.stalled);
	fflush(stdout);
	for (i = 0; i < MAX_FDS; i++)
		if (s.conns[i].open)
			fs_close(&s, i);
	free(s.conns);
	close(s.epfd);
	close(s.lfd);
	return 0;
}
