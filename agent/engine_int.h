/*
 * engine internals shared by engine.c (the control side) and worker.c (the
 * per-thread epoll loops). Not part of the engine's API.
 */
#ifndef CONNSCALE_ENGINE_INT_H
#define CONNSCALE_ENGINE_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "clock.h"
#include "engine.h"
#include "tbucket.h"

enum engine_phase {
	ENGINE_PHASE_IDLE,
	ENGINE_PHASE_CONNECT,
	ENGINE_PHASE_ECHO,
	ENGINE_PHASE_LOAD,
	ENGINE_PHASE_CHURN,
	ENGINE_PHASE_CLOSE,
	ENGINE_PHASE_STOP, /* engine_destroy: close everything and leave the thread */
};

enum conn_state {
	CONN_FREE,       /* slot unused; `id` links the free list */
	CONN_CONNECTING, /* non-blocking connect in flight; due = connect deadline */
	CONN_IDLE,       /* established, held, no echo running */
	CONN_SENDING,    /* writing this round's payload; due = echo deadline */
	CONN_RECEIVING,  /* payload written, echo not complete; due = echo deadline */
	CONN_WAITING,    /* between rounds (--interval, load); due = next scheduled send */
};

/*
 * One connection: 40 bytes, no buffers (payloads are regenerated from
 * (id, round) and echoes verified as they arrive).
 */
struct conn {
	int fd;
	uint32_t id;     /* connection id (attempt number), or next free slot */
	uint64_t t0_us;  /* connect start, or this round's (scheduled) send time */
	uint64_t due_us; /* see enum conn_state */
	uint32_t sent;   /* bytes of this round written */
	uint32_t recvd;  /* bytes of this round echoed and verified */
	uint16_t round;
	uint8_t state;
	uint8_t churn; /* a churn connection: open, one echo, close; never held */
};

/* Counters shared by all workers; relaxed atomics, read by engine_snapshot(). */
struct engine_stats {
	_Atomic uint64_t attempted;
	_Atomic uint64_t established;
	_Atomic uint64_t aborted;
	_Atomic uint64_t current;
	_Atomic uint64_t max_concurrent;
	_Atomic uint64_t failed[ENGINE_REASON_COUNT];
	_Atomic uint64_t connect_failed;
	_Atomic uint64_t echo_ok;
	_Atomic uint64_t echo_errors;
	_Atomic uint64_t echo_rounds;
	_Atomic uint64_t lost;
	_Atomic uint64_t load_scheduled;
	_Atomic uint64_t load_sent;
	_Atomic uint64_t load_verified;
	_Atomic uint64_t load_behind;
	_Atomic uint64_t load_errors;
	_Atomic uint64_t churn_attempted;
	_Atomic uint64_t churn_ok;
	_Atomic uint64_t churn_failed[ENGINE_REASON_COUNT];
};

/*
 * A load phase, as one worker runs it. Every connection sends once per
 * interval, and the worker's slots are spread evenly over it, so the sends
 * form one cycle in slot order: slot k's round r is due at
 *	t0 + (k + phase) * interval / nslots + r * interval
 * and one cursor (k, r) walks that schedule in time order, at O(1) a send,
 * with no per-connection timer and no sweep. Free slots are gaps in it.
 */
struct worker_load {
	uint32_t n;           /* slots when the phase began */
	uint32_t k;           /* the cursor: next slot ... */
	uint64_t r;           /* ... and its round */
	uint64_t t0_us;       /* the schedule's start */
	uint64_t interval_us; /* >= 1 */
	double phase;         /* this worker's offset, in slots: index / workers */
	uint64_t end_us; /* sends due at or after this are not made, nor any after it + grace */
	bool done;       /* the cursor passed end_us */
};

struct worker {
	struct engine *e;
	unsigned index;
	pthread_t tid;
	bool started;
	int epfd;
	int evfd; /* engine -> worker wake-up */
	bool have_pwait2;
	uint32_t events; /* the epoll events being handled, 0 outside an event */

	unsigned seen_gen;
	int phase;
	bool reported; /* this worker's part of phase `seen_gen` is done and counted */

	struct conn *conns;
	uint32_t nslots; /* slots ever used (high-water mark) */
	uint32_t cap;
	uint32_t free_head; /* UINT32_MAX = empty */
	uint32_t connecting;
	uint32_t echoing;
	uint32_t echo_next; /* next slot to start echoing in this echo phase */
	uint32_t churning;  /* churn connections in flight */
	uint32_t payload;   /* bytes per round in this phase */
	struct worker_load load;
	_Atomic uint64_t load_last_us; /* when this worker last verified a load message */
	uint64_t next_sweep_us;

	unsigned char *buf; /* scratch for generating and reading payload chunks */
	size_t buflen;

	pthread_mutex_t hist_lock;
	struct hist h_connect;
	struct hist h_echo;
	struct hist h_load;
	struct hist h_churn_connect;
	struct hist h_churn_echo;
};

struct engine {
	struct engine_params p;
	struct in_addr *sources;
	unsigned nworkers;
	struct worker *workers;

	struct tbucket tb;
	_Atomic uint64_t ticket;       /* next connection id to attempt */
	_Atomic uint64_t ticket_limit; /* attempts this and earlier phases allow */
	_Atomic unsigned gen;          /* bumped on every phase change */

	pthread_mutex_t lock; /* guards phase, its parameters, workers_done */
	pthread_cond_t cond;  /* signals phase progress */
	int phase;
	uint32_t phase_payload; /* echo: params.payload_bytes; load: the load's */
	uint64_t load_t0_us;    /* load: when the schedule starts */
	uint64_t load_duration_us;
	uint64_t load_interval_us; /* load: each connection sends once per interval */
	/*
	 * churn: connection i of the phase is due at churn_t0_us + i / churn_rate
	 * s, for i < churn_total; a worker that comes late starts every one due
	 * (within GRACE_US after churn_end_us), so the count is the rate's.
	 */
	uint64_t churn_t0_us, churn_end_us;
	double churn_rate;
	uint64_t churn_total;
	_Atomic uint64_t churn_next; /* the next index of this phase to start */
	_Atomic uint32_t churn_id;   /* the next churn connection's id (payloads), never reset */
	unsigned phase_gen;
	unsigned workers_done;

	struct engine_stats st;
};

void *worker_main(void *arg);
int worker_init(struct worker *w, struct engine *e, unsigned index);
void worker_fini(struct worker *w);

#endif
