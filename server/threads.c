/*
 * The thread-per-connection model: one detached pthread per accepted socket,
 * blocking reads and writes, echo until the peer closes.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server.h"

struct conn_arg {
	struct server_counters *counters;
	int worker;
	int fd;
};

/* 0, or -1 with errno set; a short send is resumed, not lost. */
static int send_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

static int is_reset(int err)
{
	return err == ECONNRESET || err == EPIPE;
}

static void *conn_main(void *p)
{
	struct conn_arg a = *(struct conn_arg *)p;
	char buf[SERVER_ECHO_BUF];
	int reset = 0, sent = 0;

	free(p);
	for (;;) {
		ssize_t n = recv(a.fd, buf, sizeof(buf), 0);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			reset = is_reset(errno);
			break;
		}
		if (!sent) {
			sent = 1; /* this thread's page fragment, taken by its first send */
			server_sender(a.counters, a.worker, 1);
		}
		if (send_all(a.fd, buf, (size_t)n) < 0) {
			reset = is_reset(errno);
			break;
		}
	}
	close(a.fd);
	server_leave(a.counters, a.worker, reset);
	if (sent)
		server_sender(a.counters, a.worker, -1);
	return NULL;
}

/* Hands fd to a new detached thread; on failure the connection is refused. */
static void spawn(const pthread_attr_t *attr, int fd, int worker, struct server_counters *c)
{
	struct conn_arg *a = malloc(sizeof(*a));
	pthread_t tid;
	int err = ENOMEM;

	if (a != NULL) {
		a->counters = c;
		a->worker = worker;
		a->fd = fd;
		err = pthread_create(&tid, attr, conn_main, a);
	}
	if (err == 0) {
		server_admitted(c, worker);
		return;
	}
	free(a);
	close(fd);
	server_unadmit(c, worker, STATS_REFUSED_THREAD);
}

int server_threads_run(int lfd, int worker, const struct server_config *cfg,
                       struct server_counters *c)
{
	pthread_attr_t attr;
	int spare = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int err = pthread_attr_init(&attr);

	if (err == 0)
		err = pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (err == 0 && cfg->stack_size > 0)
		err = pthread_attr_setstacksize(&attr, cfg->stack_size);
	if (err != 0) {
		fprintf(stderr, "server: thread attributes: %s\n", strerror(err));
		return -err;
	}
	/*
	 * The listener is non-blocking and waited on with poll(): accept() fails
	 * with EMFILE before it looks at the queue, so only a readable listener
	 * means there is a connection to serve or to shed.
	 */
	int fl = fcntl(lfd, F_GETFL);
	if (fl < 0 || fcntl(lfd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	/*
	 * Woken at least every SERVER_USAGE_PERIOD_MS to publish this process's
	 * usage: connection threads end without the accept loop hearing of it.
	 */
	struct timespec published = {0, 0};
	for (;;) {
		struct pollfd pfd = {.fd = lfd, .events = POLLIN};
		int ready = poll(&pfd, 1, SERVER_USAGE_PERIOD_MS);
		if (ready < 0 && errno != EINTR)
			return -errno;
		server_usage_tick(&c->usage[worker], &published);
		if (ready <= 0)
			continue;
		int fd = server_accept(lfd, &spare, c);
		if (fd < 0)
			continue;
		if (server_admit(c, worker) < 0) {
			close(fd);
			continue;
		}
		spawn(&attr, fd, worker, c);
	}
}
