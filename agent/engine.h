/*
 * engine — the agent's data plane: worker threads, each with its own epoll
 * loop, that open, verify and hold TCP echo connections.
 *
 * The engine is driven phase by phase from one control thread (standalone
 * main, or the coordinator client), never as one monolithic run:
 *
 *	e = engine_create(&params, &err);
 *	engine_connect(e, 10000);  while (!engine_wait(e, 1000)) show(engine_snapshot);
 *	engine_echo(e);            while (!engine_wait(e, 1000)) ...
 *	engine_load(e, &load);     while (!engine_wait(e, 1000)) ...
 *	engine_connect(e, 20000);  ... (opens 10000 more)
 *	engine_close(e);           engine_wait(...);  engine_result(e, &r);
 *	engine_destroy(e);
 *
 * Phases are asynchronous: each call starts one and returns. engine_close()
 * may be called at any time, even in the middle of another phase (the dead
 * man's switch); it abandons the current phase.
 *
 * Accounting. Every connection attempt ends exactly one way: established,
 * failed (one reason), or aborted (engine_close() cut it short):
 *	attempted = established + connect failures + aborted
 * An established connection may fail later, once, during an echo (mismatch,
 * eof_early, timeout, reset, other: counted in echo_errors and under its
 * reason) or while idle (peer closed or reset it: counted in lost and under
 * its reason). So failed[] sums connect failures, echo errors and losses.
 */
#ifndef CONNSCALE_ENGINE_H
#define CONNSCALE_ENGINE_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>

#include "hist.h"
#include "reason.h"

struct engine;

/* Failure reasons: ENGINE_REFUSED, ... in reason.h's order (the wire's too). */
/* (clang-format would indent the count as if it continued the list) */
/* clang-format off */
enum engine_reason {
#define ENGINE_REASON_ENUM(id, name, doc) ENGINE_##id,
	REASON_LIST(ENGINE_REASON_ENUM)
#undef ENGINE_REASON_ENUM
	ENGINE_REASON_COUNT
};
/* clang-format on */

/* "refused", "timeout", ...: the JSON key of a reason. */
const char *engine_reason_name(enum engine_reason r);

struct engine_params {
	struct sockaddr_in target;     /* --target HOST:PORT (IPv4) */
	const struct in_addr *sources; /* --source-ip LIST|CIDR; NULL/0 = kernel picks */
	unsigned nsources;             /*   (copied by engine_create) */
	unsigned threads;              /* --threads T (0 = number of online CPUs) */
	uint64_t rate;                 /* --rate R: connections/s over all workers, 0 = unlimited */
	unsigned connect_timeout_ms;   /* --connect-timeout MS: per attempt */
	unsigned payload_bytes;        /* --payload B: bytes per echo round (>= 1) */
	unsigned rounds;               /* --rounds K: echo rounds per connection in engine_echo */
	unsigned
	    interval_ms; /* --interval MS: round r is due at start + r * MS; 0 = back to back */
	unsigned echo_timeout_ms; /* --echo-timeout MS: per round, from its send time */
};

/* Atomically read counters; any thread, any time. */
struct engine_counts {
	uint64_t attempted;
	uint64_t established;
	uint64_t aborted;        /* attempts engine_close() cut short */
	uint64_t current;        /* connections open now */
	uint64_t max_concurrent; /* highest `current` seen */
	uint64_t failed[ENGINE_REASON_COUNT];
	uint64_t connect_failed; /* the part of failed[] that happened while connecting */
	uint64_t echo_ok;        /* echo phases a connection finished with every round verified */
	uint64_t echo_errors;    /* connections that failed during an echo phase */
	uint64_t echo_rounds;    /* verified round trips, all echo phases */
	uint64_t lost;           /* established connections the peer closed or reset while idle */
	uint64_t load_scheduled; /* load rounds the schedules held, all load phases */
	uint64_t load_sent;     /* load rounds started: those scheduled, less any the end cut off */
	uint64_t load_verified; /* load rounds echoed and verified byte for byte */
	uint64_t load_behind;   /* load rounds this agent itself started late (see engine_load) */
	uint64_t load_errors;   /* connections that failed during a load phase */
	uint64_t churn_attempted;                   /* churn connections started */
	uint64_t churn_ok;                          /* opened, echo verified, closed */
	uint64_t churn_failed[ENGINE_REASON_COUNT]; /* the rest, by reason */
};

/*
 * A load phase: open-loop messages at a fixed aggregate rate, spread over
 * every held connection and over time (each connection on its own schedule,
 * offset so no two share a send time).
 */
struct engine_load {
	double rate_per_s;      /* messages/s over all this engine's connections (> 0) */
	uint64_t duration_ms;   /* sends are scheduled in [start, start + duration) */
	unsigned payload_bytes; /* bytes per message; 0 = params.payload_bytes */
};

struct engine_result {
	struct engine_counts counts;
	struct hist connect;       /* connect() start -> established, us */
	struct hist echo;          /* (scheduled) send -> last echoed byte verified, us */
	struct hist load;          /* load: scheduled send -> last echoed byte verified, us */
	struct hist churn_connect; /* churn: connect() start -> established, us */
	struct hist churn_echo;    /* churn: connect() start -> its one echo verified, us */
};

/*
 * Starts the worker threads (idle until a phase is started). Returns NULL and
 * fills errbuf with a sentence on failure.
 */
struct engine *engine_create(const struct engine_params *params, char *errbuf, size_t errlen);
/* Closes every connection, joins the workers, frees everything. NULL is a no-op. */
void engine_destroy(struct engine *e);

/*
 * Starts opening connections until `total_target` are held in total: opens
 * total_target - current more (none if already there). Each attempt ends
 * established or failed; the phase is done when every attempt has ended.
 * Returns 0, or -EBUSY if a connect or echo phase is still running.
 */
int engine_connect(struct engine *e, uint64_t total_target);
/*
 * Every held connection exchanges `rounds` echoes. Done when each has
 * finished or failed (each round is bounded by echo_timeout_ms). -EBUSY as above.
 */
int engine_echo(struct engine *e);
/*
 * Every held connection sends one message per interval (connections / rate)
 * from its own offset for duration_ms; each is verified as in engine_echo.
 * Latency runs from the *scheduled* send time, so a server that stalls
 * shows as latency, not as fewer sends (no coordinated omission): a round
 * the connection cannot start on time because its previous echo is still
 * out starts the moment that echo is verified. A send the agent's own loop
 * comes to more than ENGINE_LATE_US after its time (the agent, not the
 * server, fell behind) counts in load_behind. No send starts once the
 * duration is over, late or not: a rate beyond what the server (or this
 * agent) can take leaves sends unmade (load_scheduled - load_sent) instead
 * of a catch-up that would outlast the phase by as much again. Done when the
 * duration has passed and every round has ended (each bounded by the echo
 * timeout). -EBUSY as above; -EINVAL for a rate <= 0 or a zero duration.
 */
#define ENGINE_LATE_US 1000
int engine_load(struct engine *e, const struct engine_load *load);
/*
 * The last load phase's span: its schedule's start to the last message
 * verified (0 if none was). Its messages over this span is the rate it
 * achieved, the tail of the echoes included and nothing else.
 */
double engine_load_elapsed_s(struct engine *e);
/*
 * Churn on top of the held connections: for duration_ms, open rate_per_s new
 * connections a second (all workers together), each verifying one echo of
 * params.payload_bytes and then closing. They are counted apart (churn_*),
 * never as held: attempted = ok + failed[] + those engine_close() cut short.
 * Each leaves a TIME_WAIT socket for 60 s on this side: rate x 60 ports of
 * a source address. Done when the duration is over and every one has ended.
 * -EBUSY as above; -EINVAL for a rate <= 0 or a zero duration.
 */
int engine_churn(struct engine *e, double rate_per_s, uint64_t duration_ms);
/* Closes every connection, aborting the current phase if any. Always 0. */
int engine_close(struct engine *e);

/* Waits up to timeout_ms for the current phase to finish: true once it has (or if none). */
bool engine_wait(struct engine *e, unsigned timeout_ms);
void engine_snapshot(struct engine *e, struct engine_counts *out);
/* Counters plus the workers' histograms merged. Best taken after engine_wait() says done. */
void engine_result(struct engine *e, struct engine_result *out);
/* The load latencies so far (every load phase), without the other histograms' cost. */
void engine_load_hist(struct engine *e, struct hist *out);

#endif
