/*
 * The event-loop model: the same echo semantics as the threads model from one
 * epoll loop per process. Per-connection state lives in an array indexed by
 * fd; a connection only owns a buffer while the kernel would not take all of
 * an echo, and it is not read again until that buffer is flushed, so a client
 * that never reads cannot make the server buffer without bound.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server.h"

#define EPOLL_BATCH 256
/* Reads per wakeup per connection, so one busy peer cannot starve the rest. */
#define READS_PER_EVENT 4

struct ep_conn {
	char *pending; /* unsent echo bytes, or NULL */
	uint32_t off;
	uint32_t len;
};

struct ep_loop {
	int epfd;
	int lfd;
	int worker; /* this process's index, for the per-worker count */
	int spare;
	int sent;              /* the loop has sent: its thread keeps a page fragment */
	struct ep_conn *conns; /* indexed by fd */
	size_t nconns;
	struct server_counters *counters;
	char buf[SERVER_ECHO_BUF];
};

static int ep_watch(struct ep_loop *l, int op, int fd, uint32_t events)
{
	struct epoll_event ev = {.events = events, .data.fd = fd};

	return epoll_ctl(l->epfd, op, fd, &ev);
}

static void ep_close(struct ep_loop *l, int fd, int reset)
{
	struct ep_conn *c = &l->conns[fd];

	free(c->pending);
	*c = (struct ep_conn){0};
	close(fd); /* also removes it from the epoll set */
	server_leave(l->counters, l->worker, reset);
}

static int is_reset(int err)
{
	return err == ECONNRESET || err == EPIPE;
}

/* Sends what is pending; 1 when all went out, 0 when the socket is full, -errno. */
static int ep_flush(struct ep_loop *l, int fd)
{
	struct ep_conn *c = &l->conns[fd];

	while (c->off < c->len) {
		ssize_t n = send(fd, c->pending + c->off, c->len - c->off, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			return -errno;
		}
		c->off += (uint32_t)n;
	}
	free(c->pending);
	c->pending = NULL;
	c->off = c->len = 0;
	return 1;
}

/* Keeps the unsent tail of an echo and waits for EPOLLOUT instead of reading. */
static int ep_defer(struct ep_loop *l, int fd, const char *data, size_t len)
{
	struct ep_conn *c = &l->conns[fd];

	c->pending = malloc(len);
	if (c->pending == NULL)
		return -ENOMEM;
	memcpy(c->pending, data, len);
	c->off = 0;
	c->len = (uint32_t)len;
	return ep_watch(l, EPOLL_CTL_MOD, fd, EPOLLOUT) < 0 ? -errno : 0;
}

static void ep_on_readable(struct ep_loop *l, int fd)
{
	for (int i = 0; i < READS_PER_EVENT; i++) {
		ssize_t n = recv(fd, l->buf, sizeof(l->buf), 0);
		if (n == 0) {
			ep_close(l, fd, 0);
			return;
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				ep_close(l, fd, is_reset(errno));
			return;
		}
		if (!l->sent) {
			l->sent = 1;
			server_sender(l->counters, l->worker, 1);
		}
		ssize_t sent = send(fd, l->buf, (size_t)n, MSG_NOSIGNAL);
		if (sent < 0 && errno != EAGAIN) {
			ep_close(l, fd, is_reset(errno));
			return;
		}
		if (sent < 0)
			sent = 0;
		if (sent < n) {
			if (ep_defer(l, fd, l->buf + sent, (size_t)(n - sent)) < 0)
				ep_close(l, fd, 0);
			return;
		}
	}
}

static void ep_on_writable(struct ep_loop *l, int fd)
{
	int r = ep_flush(l, fd);

	if (r < 0)
		ep_close(l, fd, is_reset(-r));
	else if (r == 1 && ep_watch(l, EPOLL_CTL_MOD, fd, EPOLLIN | EPOLLRDHUP) < 0)
		ep_close(l, fd, 0);
}

static void ep_on_accept(struct ep_loop *l)
{
	for (int i = 0; i < EPOLL_BATCH; i++) {
		int fd = server_accept(l->lfd, &l->spare, l->counters);
		if (fd < 0)
			return;
		if ((size_t)fd >= l->nconns || server_admit(l->counters, l->worker) < 0) {
			close(fd);
			if ((size_t)fd >= l->nconns)
				server_refuse(l->counters, STATS_REFUSED_EMFILE);
			continue;
		}
		int fl = fcntl(fd, F_GETFL);
		if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 ||
		    ep_watch(l, EPOLL_CTL_ADD, fd, EPOLLIN | EPOLLRDHUP) < 0) {
			close(fd);
			server_unadmit(l->counters, l->worker, STATS_REFUSED_OTHER);
			continue;
		}
		server_admitted(l->counters, l->worker);
	}
}

static void ep_dispatch(struct ep_loop *l, const struct epoll_event *ev)
{
	int fd = ev->data.fd;

	if (fd == l->lfd) {
		ep_on_accept(l);
		return;
	}
	if (l->conns[fd].pending != NULL) {
		ep_on_writable(l, fd);
		return;
	}
	/* EPOLLRDHUP/EPOLLHUP still read first: the peer's last bytes get echoed. */
	if (ev->events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))
		ep_on_readable(l, fd);
}

int server_epoll_run(int lfd, int worker, const struct server_config *cfg,
                     struct server_counters *c)
{
	struct rlimit rl;
	struct ep_loop l = {.lfd = lfd, .worker = worker, .counters = c};
	struct epoll_event events[EPOLL_BATCH];

	(void)cfg;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	/* Every fd this process can open has a slot, so dispatch is one index. */
	l.nconns = rl.rlim_cur == RLIM_INFINITY ? 1u << 20 : (size_t)rl.rlim_cur;
	l.conns = calloc(l.nconns, sizeof(*l.conns));
	l.epfd = epoll_create1(EPOLL_CLOEXEC);
	l.spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (l.conns == NULL || l.epfd < 0) {
		int err = l.conns == NULL ? ENOMEM : errno;
		fprintf(stderr, "server: epoll set-up: %s\n", strerror(err));
		return -err;
	}
	int fl = fcntl(lfd, F_GETFL);
	if (fl < 0 || fcntl(lfd, F_SETFL, fl | O_NONBLOCK) < 0 ||
	    ep_watch(&l, EPOLL_CTL_ADD, lfd, EPOLLIN) < 0) {
		int err = errno;
		fprintf(stderr, "server: epoll listener: %s\n", strerror(err));
		return -err;
	}
	struct timespec published = {0, 0};
	for (;;) {
		/* A timeout, so an idle loop still publishes its usage (see server_usage_tick()).
		 */
		int n = epoll_wait(l.epfd, events, EPOLL_BATCH, SERVER_USAGE_PERIOD_MS);
		if (n < 0 && errno != EINTR) {
			int err = errno;
			fprintf(stderr, "server: epoll_wait: %s\n", strerror(err));
			return -err;
		}
		server_usage_tick(&c->usage[worker], &published);
		for (int i = 0; i < n; i++)
			ep_dispatch(&l, &events[i]);
	}
}
