/*
 * worker — one thread, one epoll loop, a slice of the connections.
 *
 * Sockets are registered once, edge-triggered, for input and output, so the
 * hot path never calls epoll_ctl again: connect completion, partial writes and
 * echoes all arrive as edges, and every handler drains until EAGAIN.
 * Deadlines (connect, echo, next scheduled round) live in each connection;
 * a sweep runs when the earliest one is due, never more than every SWEEP_MIN_US.
 */
#include <errno.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "engine_int.h"
#include "payload.h"

#define EVENTS_MAX    512
#define START_BATCH   256 /* connects or echo starts per loop turn, so events keep flowing */
#define SWEEP_MIN_US  5000
#define IDLE_WAIT_MS  1000 /* phases wake workers through their eventfd */
#define WAKE_TOKEN    UINT64_MAX
#define SLOTS_INITIAL 1024
#define BUF_MAX       65536
#define LOAD_TICK_US  100 /* a worker under load sleeps at least this long, or not at all */
/*
 * A send (load) or a new connection (churn) due before the phase's end is
 * still made when the worker comes to it at most this late after the end (a
 * busy host's scheduling hiccup; a load's send counts as behind), never
 * later: the phase lasts at most its duration plus this plus its timeouts,
 * whatever the rate.
 */
#define GRACE_US 100000

static void stat_add(_Atomic uint64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static void stat_current_inc(struct engine_stats *st)
{
	uint64_t cur = atomic_fetch_add_explicit(&st->current, 1, memory_order_relaxed) + 1;
	uint64_t max = atomic_load_explicit(&st->max_concurrent, memory_order_relaxed);

	while (cur > max &&
	       !atomic_compare_exchange_weak_explicit(&st->max_concurrent, &max, cur,
	                                              memory_order_relaxed, memory_order_relaxed))
		;
}

static enum engine_reason reason_of_errno(int err)
{
	switch (err) {
	case ECONNREFUSED:
		return ENGINE_REFUSED;
	case ETIMEDOUT:
		return ENGINE_TIMEOUT;
	case ECONNRESET:
	case EPIPE:
	case ECONNABORTED:
		return ENGINE_RESET;
	case EADDRNOTAVAIL:
		return ENGINE_ADDR_NOT_AVAILABLE;
	default:
		return ENGINE_OTHER;
	}
}

static void worker_due(struct worker *w, uint64_t due_us)
{
	if (due_us < w->next_sweep_us)
		w->next_sweep_us = due_us;
}

static void slot_free(struct worker *w, uint32_t slot)
{
	struct conn *c = &w->conns[slot];

	c->state = CONN_FREE;
	c->fd = -1;
	c->id = w->free_head;
	w->free_head = slot;
}

static int slot_alloc(struct worker *w, uint32_t *slot)
{
	struct conn *grown;
	uint32_t cap;

	if (w->free_head != UINT32_MAX) {
		*slot = w->free_head;
		w->free_head = w->conns[*slot].id;
		return 0;
	}
	if (w->nslots == w->cap) {
		cap = w->cap ? w->cap * 2 : SLOTS_INITIAL;
		grown = realloc(w->conns, (size_t)cap * sizeof(*grown));
		if (!grown)
			return -ENOMEM;
		w->conns = grown;
		w->cap = cap;
	}
	*slot = w->nslots++;
	return 0;
}

static bool conn_in_echo(const struct conn *c)
{
	return c->state == CONN_SENDING || c->state == CONN_RECEIVING || c->state == CONN_WAITING;
}

/* Ends a connection with a reason; one place for every counter a failure touches. */
static void conn_fail(struct worker *w, uint32_t slot, enum engine_reason reason)
{
	struct engine_stats *st = &w->e->st;
	struct conn *c = &w->conns[slot];

	if (c->churn) {
		/* Never held, so never in current: counted apart, by reason. */
		stat_add(&st->churn_failed[reason], 1);
		w->churning--;
		if (c->fd >= 0)
			close(c->fd);
		slot_free(w, slot);
		return;
	}
	stat_add(&st->failed[reason], 1);
	if (c->state == CONN_CONNECTING) {
		stat_add(&st->connect_failed, 1);
		w->connecting--;
	} else {
		if (conn_in_echo(c)) {
			stat_add(
			    w->phase == ENGINE_PHASE_LOAD ? &st->load_errors : &st->echo_errors, 1);
			w->echoing--;
		} else {
			stat_add(&st->lost, 1);
		}
		atomic_fetch_sub_explicit(&st->current, 1, memory_order_relaxed);
	}
	if (c->fd >= 0)
		close(c->fd);
	slot_free(w, slot);
}

/* engine_close(): close without counting a failure. */
static void conn_drop(struct worker *w, uint32_t slot)
{
	struct engine_stats *st = &w->e->st;
	struct conn *c = &w->conns[slot];

	if (c->churn) {
		w->churning--;
	} else if (c->state == CONN_CONNECTING) {
		stat_add(&st->aborted, 1);
		w->connecting--;
	} else {
		if (conn_in_echo(c))
			w->echoing--;
		atomic_fetch_sub_explicit(&st->current, 1, memory_order_relaxed);
	}
	close(c->fd);
	slot_free(w, slot);
}

static void conn_round_begin(struct worker *w, struct conn *c, uint64_t sched_us, uint64_t now_us)
{
	const struct engine_params *p = &w->e->p;

	c->state = CONN_SENDING;
	c->sent = 0;
	c->recvd = 0;
	c->t0_us = sched_us;
	c->due_us = (sched_us > now_us ? sched_us : now_us) + (uint64_t)p->echo_timeout_ms * 1000;
	worker_due(w, c->due_us);
}

/* Writes what is left of this round; 0 (done or EAGAIN) or -1 with a reason. */
static int conn_send(struct worker *w, struct conn *c, int *reason)
{
	uint32_t total = w->payload;
	size_t len;
	ssize_t n;

	while (c->sent < total) {
		len = total - c->sent;
		if (len > w->buflen)
			len = w->buflen;
		payload_fill(c->id, c->round, c->sent, w->buf, len);
		n = send(c->fd, w->buf, len, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			*reason = reason_of_errno(errno);
			return -1;
		}
		c->sent += (uint32_t)n;
	}
	c->state = CONN_RECEIVING;
	return 0;
}

/* Reads until EAGAIN, verifying every byte as it arrives (no receive buffer kept). */
static int conn_recv_verify(struct worker *w, struct conn *c, int *reason)
{
	ssize_t n;
	size_t len;

	for (;;) {
		n = recv(c->fd, w->buf, w->buflen, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 0;
			*reason = reason_of_errno(errno);
			return -1;
		}
		if (n == 0) {
			*reason = ENGINE_EOF_EARLY;
			return -1;
		}
		len = (size_t)n;
		/* More than was sent, or anything between rounds, is never a correct echo. */
		if (c->state == CONN_WAITING || c->recvd + len > c->sent ||
		    payload_check(c->id, c->round, c->recvd, w->buf, len) != len) {
			*reason = ENGINE_MISMATCH;
			return -1;
		}
		c->recvd += (uint32_t)len;
		/*
		 * A short read drained the socket: anything arriving later is a
		 * new edge. Unless the peer's FIN came with this edge (it would
		 * not come again), skip the recv that would say EAGAIN.
		 */
		if (len < w->buflen && !(w->events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)))
			return 0;
	}
}

/* Slot k's round r in this load phase. */
static uint64_t load_due(const struct worker_load *l, uint32_t k, uint64_t r)
{
	return l->t0_us + (uint64_t)(((double)k + l->phase) * (double)l->interval_us / l->n) +
	       r * l->interval_us;
}

/*
 * A load round is over: the next one is due an interval after this one was
 * scheduled. If that time has passed already (the echo came back late), it
 * starts now, still timed from its schedule; if it is past the phase's end,
 * the connection is done.
 */
static bool load_round_next(struct worker *w, struct conn *c, uint64_t now)
{
	uint64_t next = c->t0_us + w->load.interval_us;

	stat_add(&w->e->st.load_verified, 1);
	atomic_store_explicit(&w->load_last_us, now, memory_order_relaxed);
	/* Past the end of the schedule, or of the duration and its grace: no more from this one. */
	if (next >= w->load.end_us || now >= w->load.end_us + GRACE_US) {
		c->state = CONN_IDLE;
		w->echoing--;
		return false;
	}
	if (next > now) {
		/* The cursor starts it: no timer of its own. */
		c->state = CONN_WAITING;
		c->due_us = next;
		return false;
	}
	conn_round_begin(w, c, next, now);
	stat_add(&w->e->st.load_sent, 1);
	return true;
}

/*
 * Drives one connection's echo as far as it goes without blocking: write the
 * rest of the round, read and verify whatever arrived, start the next round.
 * Returns 0, 1 when a churn connection's echo is done (the caller closes it),
 * or -1 with a reason after which the caller fails the connection.
 */
static int conn_echo_step(struct worker *w, struct conn *c, int *reason)
{
	const struct engine_params *p = &w->e->p;
	bool load = w->phase == ENGINE_PHASE_LOAD;
	uint64_t now, next;

	for (;;) {
		bool fresh = c->state == CONN_SENDING && c->sent == 0;

		if (c->state == CONN_SENDING && conn_send(w, c, reason) < 0)
			return -1;
		/*
		 * A round just sent whole cannot have its echo back yet: its first
		 * byte will arrive as a new edge. Not reading now saves a recv
		 * that would say EAGAIN on every message.
		 */
		if (fresh && c->state == CONN_RECEIVING)
			return 0;
		if (conn_recv_verify(w, c, reason) < 0)
			return -1;
		if (c->state != CONN_RECEIVING || c->recvd < w->payload)
			return 0;

		/* Round complete. */
		now = clock_us();
		pthread_mutex_lock(&w->hist_lock);
		hist_record(c->churn ? &w->h_churn_echo
		            : load   ? &w->h_load
		                     : &w->h_echo,
		            now > c->t0_us ? now - c->t0_us : 0);
		pthread_mutex_unlock(&w->hist_lock);
		if (c->churn)
			return 1; /* its one echo is verified: the caller closes it */
		c->round++;
		if (load) {
			if (!load_round_next(w, c, now))
				return 0;
			continue;
		}
		stat_add(&w->e->st.echo_rounds, 1);
		if (c->round >= p->rounds) {
			c->state = CONN_IDLE;
			w->echoing--;
			stat_add(&w->e->st.echo_ok, 1);
			return 0;
		}
		/* With --interval the schedule, not the echo, sets the next send time. */
		next = p->interval_ms ? c->t0_us + (uint64_t)p->interval_ms * 1000 : now;
		if (next > now) {
			c->state = CONN_WAITING;
			c->due_us = next;
			worker_due(w, next);
			return 0;
		}
		conn_round_begin(w, c, next, now);
	}
}

/* A churn connection's echo is verified: close it (FIN, as any client would). */
static void churn_done(struct worker *w, uint32_t slot)
{
	stat_add(&w->e->st.churn_ok, 1);
	w->churning--;
	close(w->conns[slot].fd);
	slot_free(w, slot);
}

/* Drives a connection's echo; on a failure or a finished churn echo, ends it. */
static void conn_echo_run(struct worker *w, uint32_t slot)
{
	int reason = ENGINE_OTHER, rc = conn_echo_step(w, &w->conns[slot], &reason);

	if (rc < 0)
		conn_fail(w, slot, (enum engine_reason)reason);
	else if (rc > 0)
		churn_done(w, slot);
}

/* A churn connection is up: its echo starts at once. */
static void churn_established(struct worker *w, uint32_t slot, uint64_t now)
{
	struct conn *c = &w->conns[slot];

	pthread_mutex_lock(&w->hist_lock);
	hist_record(&w->h_churn_connect, now > c->t0_us ? now - c->t0_us : 0);
	pthread_mutex_unlock(&w->hist_lock);
	c->round = 0;
	/* Timed from the connect's start: what a short-lived client waits for its answer. */
	conn_round_begin(w, c, c->t0_us, now);
	conn_echo_run(w, slot);
}

static void conn_established(struct worker *w, uint32_t slot, uint64_t now)
{
	struct conn *c = &w->conns[slot];

	c->state = CONN_IDLE;
	w->connecting--;
	stat_add(&w->e->st.established, 1);
	stat_current_inc(&w->e->st);
	pthread_mutex_lock(&w->hist_lock);
	hist_record(&w->h_connect, now > c->t0_us ? now - c->t0_us : 0);
	pthread_mutex_unlock(&w->hist_lock);
}

/* Drains an idle connection: bytes nobody asked for are a mismatch, EOF a loss. */
static int conn_idle_read(struct worker *w, struct conn *c, int *reason)
{
	ssize_t n;

	for (;;) {
		n = recv(c->fd, w->buf, w->buflen, 0);
		if (n > 0) {
			*reason = ENGINE_MISMATCH;
			return -1;
		}
		if (n == 0) {
			*reason = ENGINE_EOF_EARLY;
			return -1;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN)
			return 0;
		*reason = reason_of_errno(errno);
		return -1;
	}
}

static void worker_on_event(struct worker *w, uint32_t slot, uint32_t events)
{
	struct conn *c;
	int err = 0, reason = ENGINE_OTHER;
	socklen_t len = sizeof(err);

	if (slot >= w->nslots)
		return;
	c = &w->conns[slot];
	if (c->state == CONN_FREE)
		return;
	if (c->state == CONN_CONNECTING) {
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
			err = errno;
		if (err == 0 && !(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
			return;
		if (err == 0 && (events & (EPOLLERR | EPOLLHUP)))
			err = ECONNRESET;
		if (err) {
			conn_fail(w, slot, reason_of_errno(err));
			return;
		}
		if (c->churn) {
			churn_established(w, slot, clock_us());
			return;
		}
		conn_established(w, slot, clock_us());
		if (!(events & (EPOLLIN | EPOLLRDHUP)))
			return;
	}
	if (conn_in_echo(c)) {
		w->events = events;
		conn_echo_run(w, slot);
		w->events = 0;
		return;
	}
	if (c->state == CONN_IDLE && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR))) {
		if (conn_idle_read(w, c, &reason) < 0)
			conn_fail(w, slot, (enum engine_reason)reason);
	}
}

/* One non-blocking connect for connection `id`. Failures end the attempt right here. */
static int worker_connect_one(struct worker *w, uint32_t id, bool churn)
{
	struct engine *e = w->e;
	struct epoll_event ev;
	struct sockaddr_in src;
	struct conn *c;
	uint32_t slot;
	int fd, one = 1, err;

	stat_add(churn ? &e->st.churn_attempted : &e->st.attempted, 1);
	if (slot_alloc(w, &slot) < 0) {
		if (churn) {
			stat_add(&e->st.churn_failed[ENGINE_OTHER], 1);
			return -ENOMEM;
		}
		stat_add(&e->st.failed[ENGINE_OTHER], 1);
		stat_add(&e->st.connect_failed, 1);
		return -ENOMEM;
	}
	c = &w->conns[slot];
	memset(c, 0, sizeof(*c));
	c->fd = -1;
	c->id = id;
	c->state = CONN_CONNECTING;
	c->churn = churn;
	c->t0_us = clock_us();
	c->due_us = c->t0_us + (uint64_t)e->p.connect_timeout_ms * 1000;
	if (churn)
		w->churning++;
	else
		w->connecting++;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		conn_fail(w, slot, reason_of_errno(errno));
		return 0;
	}
	c->fd = fd;
	/* Echo rounds are latency-bound; never let Nagle hold the tail of a payload. */
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) < 0)
		goto fail;
	if (e->p.nsources) {
		memset(&src, 0, sizeof(src));
		src.sin_family = AF_INET;
		src.sin_addr = e->sources[id % e->p.nsources];
		/* Defer the port choice to connect(), so ports are per (source, target). */
		if (setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one)) < 0)
			goto fail;
		if (bind(fd, (struct sockaddr *)&src, sizeof(src)) < 0)
			goto fail;
	}
	if (connect(fd, (struct sockaddr *)&e->p.target, sizeof(e->p.target)) < 0 &&
	    errno != EINPROGRESS)
		goto fail;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
	ev.data.u64 = slot;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		goto fail;
	worker_due(w, c->due_us);
	return 0;
fail:
	err = errno;
	conn_fail(w, slot, reason_of_errno(err));
	return 0;
}

/* Claims up to want connection ids from the engine's shared ticket counter. */
static uint64_t worker_claim(struct engine *e, uint64_t want, uint64_t *first)
{
	uint64_t t = atomic_load(&e->ticket), limit, n;

	for (;;) {
		limit = atomic_load(&e->ticket_limit);
		if (t >= limit)
			return 0;
		n = limit - t < want ? limit - t : want;
		if (atomic_compare_exchange_weak(&e->ticket, &t, t + n))
			break;
	}
	*first = t;
	return n;
}

/* Returns the ms to wait before more tokens are due (0 = more work right now). */
static int worker_start_connects(struct worker *w, bool *more_tickets)
{
	struct engine *e = w->e;
	uint64_t want, granted, first = 0, n, wait_ns = 0, i;
	uint64_t now_ns = clock_us() * 1000;

	*more_tickets = atomic_load(&e->ticket) < atomic_load(&e->ticket_limit);
	if (!*more_tickets)
		return IDLE_WAIT_MS;
	want = START_BATCH;
	granted = tbucket_take(&e->tb, now_ns, want, &wait_ns);
	n = granted ? worker_claim(e, granted, &first) : 0;
	for (i = 0; i < n; i++)
		worker_connect_one(w, (uint32_t)(first + i), false);
	*more_tickets = atomic_load(&e->ticket) < atomic_load(&e->ticket_limit);
	if (!*more_tickets)
		return IDLE_WAIT_MS;
	if (granted == want)
		return 0;
	return (int)((wait_ns + 999999) / 1000000);
}

/* Churn connections due by now: the rate's schedule, never past its total. */
static uint64_t churn_due(const struct engine *e, uint64_t now)
{
	if (now < e->churn_t0_us)
		return 0;
	double due = (double)(now - e->churn_t0_us) * e->churn_rate / 1e6 + 1;
	return due < (double)e->churn_total ? (uint64_t)due : e->churn_total;
}

/*
 * Opens the churn connections due by now, a batch at a time (the workers
 * share the schedule); returns the ms until the next is due, or
 * IDLE_WAIT_MS once every one was started or the phase's end is GRACE_US
 * behind. A worker the host kept off its core catches up: it starts what
 * fell due meanwhile, so a busy host delays connections but never drops one.
 */
static int worker_start_churn(struct worker *w, bool *over)
{
	struct engine *e = w->e;
	uint64_t now = clock_us(), due = churn_due(e, now), next;
	unsigned started = 0;

	*over = false;
	while (started < START_BATCH) {
		next = atomic_load(&e->churn_next);
		if (next >= due)
			break;
		if (!atomic_compare_exchange_weak(&e->churn_next, &next, next + 1))
			continue;
		/* Ids from the top half: payloads never repeat a held connection's. */
		worker_connect_one(w, 0x80000000u | atomic_fetch_add(&e->churn_id, 1), true);
		started++;
	}
	if (started == START_BATCH)
		return 0;
	next = atomic_load(&e->churn_next);
	if (next >= e->churn_total || now >= e->churn_end_us + GRACE_US) {
		*over = true;
		return IDLE_WAIT_MS;
	}
	uint64_t at = e->churn_t0_us + (uint64_t)((double)next * 1e6 / e->churn_rate);
	return at > now ? (int)((at - now + 999) / 1000) : 0;
}

/* Starts the next batch of echoes; returns true when every slot has been visited. */
static bool worker_start_echoes(struct worker *w)
{
	uint32_t started = 0;
	uint64_t now = clock_us();
	int reason = ENGINE_OTHER;

	while (w->echo_next < w->nslots && started < START_BATCH) {
		uint32_t slot = w->echo_next++;
		struct conn *c = &w->conns[slot];

		if (c->state != CONN_IDLE)
			continue;
		c->round = 0;
		w->echoing++;
		started++;
		conn_round_begin(w, c, now, now);
		if (conn_echo_step(w, c, &reason) < 0)
			conn_fail(w, slot, (enum engine_reason)reason);
	}
	return w->echo_next >= w->nslots;
}

/* The sends this worker's schedule holds: every held slot's rounds due before the end. */
static void load_count_scheduled(struct worker *w)
{
	const struct worker_load *l = &w->load;
	uint64_t n = 0;

	for (uint32_t k = 0; k < l->n; k++) {
		uint64_t first = load_due(l, k, 0);

		if (w->conns[k].state == CONN_IDLE && first < l->end_us)
			n += (l->end_us - first + l->interval_us - 1) / l->interval_us;
	}
	stat_add(&w->e->st.load_scheduled, n);
}

/*
 * The schedule is over. A connection waiting for a round the cursor never
 * came to (it ran out of time before the schedule did: the agent or the
 * server could not keep up) makes no more: it is idle again, not a round the
 * phase would wait for forever.
 */
static void load_finish(struct worker *w)
{
	w->load.done = true;
	for (uint32_t k = 0; k < w->load.n; k++) {
		struct conn *c = &w->conns[k];

		if (c->state == CONN_WAITING) {
			c->state = CONN_IDLE;
			w->echoing--;
		}
	}
}

/*
 * Makes the load sends that are due, in schedule order. Returns the us until
 * the next one (0: more are due now; UINT64_MAX: the schedule is over).
 */
static uint64_t worker_run_load(struct worker *w, uint64_t now)
{
	struct worker_load *l = &w->load;
	uint32_t started = 0;
	int reason = ENGINE_OTHER;

	while (!l->done && started < START_BATCH) {
		uint64_t r = l->r, due = load_due(l, l->k, r);
		uint32_t slot = l->k;
		struct conn *c = &w->conns[slot];

		if (due >= l->end_us || now >= l->end_us + GRACE_US) {
			load_finish(w);
			break;
		}
		if (due > now)
			return due - now;
		if (++l->k == l->n) {
			l->k = 0;
			l->r++;
		}
		if (c->state == CONN_FREE)
			continue;
		/* This loop came to the send late: the agent, not the server, fell behind. */
		if (now - due > ENGINE_LATE_US)
			stat_add(&w->e->st.load_behind, 1);
		/*
		 * A connection still waiting for its last echo starts this round
		 * when that echo is in (load_round_next): the server's delay. One
		 * that caught up that way may be waiting for a later round than
		 * this cursor, which then lags: it is started when the cursor
		 * comes to that one, never twice.
		 */
		if (c->state == CONN_IDLE ? r != 0 : c->state != CONN_WAITING || c->due_us != due)
			continue;
		if (c->state == CONN_IDLE)
			w->echoing++;
		started++;
		conn_round_begin(w, c, due, now);
		stat_add(&w->e->st.load_sent, 1);
		if (conn_echo_step(w, c, &reason) < 0)
			conn_fail(w, slot, (enum engine_reason)reason);
	}
	return l->done ? UINT64_MAX : 0;
}

static void worker_sweep(struct worker *w, uint64_t now)
{
	uint32_t slot;
	int reason = ENGINE_OTHER;

	w->next_sweep_us = UINT64_MAX;
	for (slot = 0; slot < w->nslots; slot++) {
		struct conn *c = &w->conns[slot];

		switch (c->state) {
		case CONN_CONNECTING:
		case CONN_SENDING:
		case CONN_RECEIVING:
			if (now >= c->due_us)
				conn_fail(w, slot, ENGINE_TIMEOUT);
			else
				worker_due(w, c->due_us);
			break;
		case CONN_WAITING:
			if (w->phase == ENGINE_PHASE_LOAD)
				break; /* the load cursor starts these */
			if (now >= c->due_us) {
				conn_round_begin(w, c, c->due_us, now);
				if (conn_echo_step(w, c, &reason) < 0)
					conn_fail(w, slot, (enum engine_reason)reason);
			} else {
				worker_due(w, c->due_us);
			}
			break;
		default:
			break;
		}
	}
}

static void worker_close_all(struct worker *w)
{
	uint32_t slot;

	for (slot = 0; slot < w->nslots; slot++)
		if (w->conns[slot].state != CONN_FREE)
			conn_drop(w, slot);
	w->next_sweep_us = UINT64_MAX;
}

static void worker_report_done(struct worker *w)
{
	struct engine *e = w->e;

	if (w->reported)
		return;
	w->reported = true;
	pthread_mutex_lock(&e->lock);
	if (e->phase_gen == w->seen_gen) {
		e->workers_done++;
		pthread_cond_broadcast(&e->cond);
	}
	pthread_mutex_unlock(&e->lock);
}

/* Picks up a phase change; returns false when the thread must leave. */
static bool worker_sync_phase(struct worker *w)
{
	struct engine *e = w->e;
	uint64_t drain;

	if (atomic_load(&e->gen) == w->seen_gen)
		return true;
	/* The eventfd only wakes us; the phase itself is read under the lock. */
	while (read(w->evfd, &drain, sizeof(drain)) < 0 && errno == EINTR)
		;
	pthread_mutex_lock(&e->lock);
	w->phase = e->phase;
	w->seen_gen = e->phase_gen;
	w->payload = e->phase_payload;
	if (w->phase == ENGINE_PHASE_LOAD) {
		memset(&w->load, 0, sizeof(w->load));
		w->load.n = w->nslots;
		w->load.t0_us = e->load_t0_us;
		w->load.interval_us = e->load_interval_us;
		w->load.phase = (double)w->index / e->nworkers;
		w->load.end_us = e->load_t0_us + e->load_duration_us;
		w->load.done = w->nslots == 0;
		atomic_store_explicit(&w->load_last_us, 0, memory_order_relaxed);
		load_count_scheduled(w);
	}
	pthread_mutex_unlock(&e->lock);
	w->reported = false;
	if (w->phase == ENGINE_PHASE_ECHO)
		w->echo_next = 0;
	if (w->phase == ENGINE_PHASE_CLOSE || w->phase == ENGINE_PHASE_STOP) {
		worker_close_all(w);
		worker_report_done(w);
	}
	return w->phase != ENGINE_PHASE_STOP;
}

/*
 * epoll_wait with a microsecond timeout: a load send due in 300 us must not
 * wait a whole millisecond. epoll_pwait2 (Linux 5.11) where there is one.
 */
static int worker_epoll_wait(struct worker *w, struct epoll_event *events, uint64_t timeout_us)
{
	struct timespec ts = {(time_t)(timeout_us / 1000000), (long)(timeout_us % 1000000) * 1000};
	int n;

	if (w->have_pwait2) {
		n = epoll_pwait2(w->epfd, events, EVENTS_MAX, &ts, NULL);
		if (n >= 0 || errno != ENOSYS)
			return n;
		w->have_pwait2 = false;
	}
	return epoll_wait(w->epfd, events, EVENTS_MAX, (int)((timeout_us + 999) / 1000));
}

void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct epoll_event events[EVENTS_MAX];
	int n, i, timeout;
	bool more = false;
	uint64_t now, timeout_us;

	while (worker_sync_phase(w)) {
		timeout = IDLE_WAIT_MS;
		if (w->phase == ENGINE_PHASE_CONNECT) {
			timeout = worker_start_connects(w, &more);
			if (!more && w->connecting == 0)
				worker_report_done(w);
		} else if (w->phase == ENGINE_PHASE_ECHO) {
			if (!worker_start_echoes(w))
				timeout = 0;
			else if (w->echoing == 0)
				worker_report_done(w);
		} else if (w->phase == ENGINE_PHASE_CHURN) {
			timeout = worker_start_churn(w, &more);
			if (more && w->churning == 0)
				worker_report_done(w);
		}
		now = clock_us();
		timeout_us = (uint64_t)timeout * 1000;
		if (w->phase == ENGINE_PHASE_LOAD) {
			uint64_t until = worker_run_load(w, now);

			if (w->load.done && w->echoing == 0)
				worker_report_done(w);
			/* Sends due within a tick share one wake-up; each is timed from its
			 * schedule. */
			if (until != 0 && until < LOAD_TICK_US)
				until = LOAD_TICK_US;
			if (until < timeout_us)
				timeout_us = until;
		}
		if (w->next_sweep_us != UINT64_MAX && timeout_us != 0) {
			uint64_t until = w->next_sweep_us > now ? w->next_sweep_us - now : 0;

			if (until < timeout_us)
				timeout_us = until;
		}
		n = worker_epoll_wait(w, events, timeout_us);
		if (n < 0 && errno != EINTR)
			break; /* cannot happen with a valid epfd; leave rather than spin */
		for (i = 0; i < n; i++) {
			if (events[i].data.u64 == WAKE_TOKEN)
				continue;
			worker_on_event(w, (uint32_t)events[i].data.u64, events[i].events);
		}
		now = clock_us();
		if (now >= w->next_sweep_us) {
			worker_sweep(w, now);
			if (w->next_sweep_us < now + SWEEP_MIN_US)
				w->next_sweep_us = now + SWEEP_MIN_US;
		}
	}
	worker_close_all(w);
	return NULL;
}

int worker_init(struct worker *w, struct engine *e, unsigned index)
{
	struct epoll_event ev;
	size_t len = e->p.payload_bytes < BUF_MAX ? e->p.payload_bytes : BUF_MAX;

	memset(w, 0, sizeof(*w));
	w->e = e;
	w->index = index;
	w->epfd = -1;
	w->evfd = -1;
	w->free_head = UINT32_MAX;
	w->next_sweep_us = UINT64_MAX;
	w->have_pwait2 = true;
	pthread_mutex_init(&w->hist_lock, NULL);
	/* Reads use the same scratch: at least 4 KB so a drain takes few syscalls. */
	w->buflen = len < 4096 ? 4096 : len;
	w->buf = malloc(w->buflen);
	if (!w->buf)
		return -ENOMEM;
	hist_init(&w->h_connect);
	hist_init(&w->h_echo);
	hist_init(&w->h_load);
	hist_init(&w->h_churn_connect);
	hist_init(&w->h_churn_echo);
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (w->epfd < 0)
		return -errno;
	w->evfd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->evfd < 0)
		return -errno;
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.u64 = WAKE_TOKEN;
	if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->evfd, &ev) < 0)
		return -errno;
	return 0;
}

void worker_fini(struct worker *w)
{
	if (w->epfd >= 0)
		close(w->epfd);
	if (w->evfd >= 0)
		close(w->evfd);
	free(w->conns);
	free(w->buf);
	pthread_mutex_destroy(&w->hist_lock);
}
