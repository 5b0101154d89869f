/*
 * What both models share: admission, accounting and accept with a reserve fd.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "server.h"

int server_admit(struct server_counters *c, int worker)
{
	int_fast64_t now = atomic_fetch_add(&c->current, 1) + 1;

	atomic_fetch_add(&c->held[worker], 1);
	if (c->max_conns > 0 && now > c->max_conns) {
		server_unadmit(c, worker, STATS_REFUSED_MAX_CONNS);
		return -1;
	}
	return 0;
}

/* Counted only once the connection is really served, so a failed thread never shows. */
void server_admitted(struct server_counters *c, int worker)
{
	int_fast64_t now = atomic_load(&c->current);
	int_fast64_t max = atomic_load(&c->max);

	atomic_fetch_add(&c->total, 1);
	atomic_fetch_add(&c->served[worker], 1);
	while (now > max && !atomic_compare_exchange_weak(&c->max, &max, now))
		;
}

void server_unadmit(struct server_counters *c, int worker, enum stats_refusal why)
{
	atomic_fetch_sub(&c->held[worker], 1);
	atomic_fetch_sub(&c->current, 1);
	server_refuse(c, why);
}

void server_leave(struct server_counters *c, int worker, int reset)
{
	atomic_fetch_sub(&c->held[worker], 1);
	atomic_fetch_sub(&c->current, 1);
	if (reset)
		atomic_fetch_add(&c->resets, 1);
}

void server_sender(struct server_counters *c, int worker, int delta)
{
	atomic_fetch_add(&c->senders[worker], delta);
}

void server_refuse(struct server_counters *c, enum stats_refusal why)
{
	atomic_fetch_add(&c->refused[why], 1);
}

static int64_t usage_us(struct timeval tv)
{
	return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

void server_usage_tick(struct server_usage *u, struct timespec *last)
{
	struct timespec now;
	struct rusage ru;

	/* COARSE: a vDSO read, cheap enough for every wake of the accept loop. */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &now);
	if ((last->tv_sec != 0 || last->tv_nsec != 0) &&
	    (now.tv_sec - last->tv_sec) * 1000 + (now.tv_nsec - last->tv_nsec) / 1000000 <
	        SERVER_USAGE_PERIOD_MS)
		return;
	*last = now;
	if (getrusage(RUSAGE_SELF, &ru) < 0)
		return; /* cannot fail for RUSAGE_SELF; the slot keeps its last figure */
	atomic_store(&u->user_us, usage_us(ru.ru_utime));
	atomic_store(&u->sys_us, usage_us(ru.ru_stime));
	atomic_store(&u->nvcsw, (int_fast64_t)ru.ru_nvcsw);
	atomic_store(&u->nivcsw, (int_fast64_t)ru.ru_nivcsw);
}

void server_worker_reaped(struct server_counters *c, int worker)
{
	struct server_usage *u = &c->usage[worker];

	atomic_fetch_sub(&c->current, atomic_exchange(&c->held[worker], 0));
	atomic_store(&c->senders[worker], 0);
	/* Reaped, its whole usage is in the supervisor's RUSAGE_CHILDREN now: not twice. */
	atomic_store(&u->user_us, 0);
	atomic_store(&u->sys_us, 0);
	atomic_store(&u->nvcsw, 0);
	atomic_store(&u->nivcsw, 0);
}

static void pause_briefly(void)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = 10 * 1000 * 1000};

	nanosleep(&ts, NULL);
}

/*
 * Out of descriptors: give up the reserve fd for a moment to accept one queued
 * connection and close it, so the client hears a close instead of waiting in
 * the backlog, and the listener stops being readable.
 */
static void shed_one(int lfd, int *spare_fd, struct server_counters *c, int err)
{
	if (*spare_fd < 0)
		*spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (*spare_fd < 0) {
		/* Still full: the backlog cannot be drained; do not spin on it. */
		pause_briefly();
		return;
	}
	close(*spare_fd);
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		server_refuse(c, err == EMFILE ? STATS_REFUSED_EMFILE : STATS_REFUSED_ENFILE);
	}
	*spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
}

/*
 * The reserve can be lost: between shed_one()'s close and reopen another
 * thread may take the slot for a moment (glibc opens
 * /sys/devices/system/cpu/online the first time a new thread needs a malloc
 * arena), and then a connection takes it for good. Take it back from the next
 * connection, or the backlog could never be drained again at the limit.
 */
static int reserve_restore(int fd, int *spare_fd, struct server_counters *c)
{
	*spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (*spare_fd >= 0 || errno != EMFILE)
		return fd; /* room after all, or no /dev/null here: serve it */
	close(fd);
	*spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	server_refuse(c, STATS_REFUSED_EMFILE);
	return -1;
}

int server_accept(int lfd, int *spare_fd, struct server_counters *c)
{
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd >= 0)
		return *spare_fd >= 0 ? fd : reserve_restore(fd, spare_fd, c);
	switch (errno) {
	case EAGAIN:
	case EINTR:
	case ECONNABORTED: /* the peer gave up while queued: nothing to count */
		return -1;
	case EMFILE:
	case ENFILE:
		shed_one(lfd, spare_fd, c, errno);
		return -1;
	default: /* ENOBUFS, ENOMEM, EPERM (firewall): transient, not ours to fix */
		server_refuse(c, STATS_REFUSED_OTHER);
		pause_briefly();
		return -1;
	}
}
