/*
 * coord — one run of a plan, in three layers:
 * - run.c, the run's state machine: join, assign, each step's phases with
 *   their barriers and deadlines, close, results. It waits with coord_pump().
 * - coord.c, the run's view of its agents and its server: what each message
 *   means and whether it may be believed, heartbeats, loss, sampling. It does
 *   no I/O of its own: coord_pump() waits through c->io, which hands what
 *   arrives to coord_on_agent() and the like.
 * - link.c and pump.c, the I/O: ZeroMQ sockets that know nothing of runs.
 *   A unit test puts its own c->io in their place and runs the whole state
 *   machine against scripted agents, without a socket.
 * Everything happens in one thread.
 */
#ifndef CONNSCALE_COORD_H
#define CONNSCALE_COORD_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "auth.h"
#include "clock.h"
#include "msg.h"
#include "plan.h"
#include "pump.h"
#include "stats.h"

/*
 * Heartbeats go each way once a beat: a second, or longer with many agents,
 * so the control plane carries about COORD_BEATS_PER_S heartbeats a second
 * each way however many agents there are (a thousand agents beating every
 * second took most of two cores, theirs and ours). See coord_beat_set.
 */
#define COORD_BEAT_MIN_MS 1000
#define COORD_BEATS_PER_S 250
/* The largest hello (256 sources and every text field full) is under 10 KiB. */
#define COORD_HELLO_MAX (16 * 1024)
/* A stats request unanswered this long over a live connection: the server is hung. */
#define COORD_STATS_SILENT_MS 15000
/* How long the server may take to answer at all once the agents are in. */
#define COORD_STATS_FIRST_MS 2000
/* Unreadable stats replies in a row that count as a server gone wrong. */
#define COORD_STATS_BAD_MAX 3
/* Work on received messages per pump pass, before heartbeats are looked at again. */
#define COORD_PASS_MS 50

enum coord_exit { COORD_PASS = 0, COORD_FAIL = 1, COORD_USAGE = 2, COORD_RUN_FAILED = 3 };

enum agent_state {
	AGENT_JOINED,   /* said hello, welcomed */
	AGENT_ASSIGNED, /* sent its slice, waiting for ready */
	AGENT_READY,    /* preflight passed */
	AGENT_REJECTED, /* preflight refused the slice */
	AGENT_DONE,     /* its result is in and acknowledged */
	AGENT_LOST,     /* silent for lost_ms, or failed a phase deadline */
};

struct coord_agent {
	char id[MSG_NAME_MAX];   /* its ZeroMQ routing id == hello.name */
	char key[KEYS_NAME_MAX]; /* NAME of the NAME.pub it joined with; "" without CURVE */
	struct msg_hello hello;
	struct msg_assign assign;
	enum agent_state state;
	char why[MSG_TEXT_MAX]; /* reject reason, or why it was marked lost */
	int64_t last_seen_ms;
	int go_phase;              /* enum msg_phase of the last go sent, -1 = none yet */
	int go_step;               /*   and its step */
	int go_sub;                /*   and, for a load, its rate's index */
	int64_t go_bound;          /*   load, churn: most messages or connections it can report */
	double go_seconds;         /*   load, churn: the longest the phase can take */
	int64_t churn_rate;        /* its part of the churn, connections/s (0: none) */
	bool phase_done;           /* the current phase's barrier */
	bool result_due;           /* it was told to close (or stop): a result may come */
	bool restarted;            /* it said hello again in the middle of the run */
	int lost_step;             /* the step it was lost in, -1 = not lost */
	int64_t next_told_ms;      /* lost, and heard again: when to repeat its stop */
	struct msg_counts counts;  /* latest from progress, phase_done or result */
	struct msg_load_tick tick; /* latest load tick (timeline.c), from step tick_step */
	int tick_step;
	bool has_tick, tick_new;     /* one arrived; and since the last timeline row */
	int64_t held[MSG_MAX_STEPS]; /* open and verified at each plateau's end */
	struct msg_result *result;   /* NULL until the result arrives */
};

/*
 * A log line that a peer can trigger is written at most `burst` times a
 * window; the rest are counted and summed up in one line when the next
 * window opens, so a flood can neither fill a disk nor slow the pump.
 */
struct coord_loglimit {
	int64_t window_start_ms;
	int n;            /* lines written in this window */
	long suppressed;  /* lines not written since the last summary */
	const char *kind; /* what the lines are, for the summary */
};
#define COORD_LOG_WINDOW_MS 10000
#define COORD_LOG_BURST     5

struct coord_sample {
	double t_s;
	struct server_stats stats;
};

/* Server memory at a step's plateau. */
/* A step's churn: the agents' phase_done summed, the server around it. */
struct coord_churn {
	double rate_per_s; /* the plan's rate, all agents together; 0: no churn ran */
	int64_t agents;    /* phase_done received */
	int64_t attempted, ok;
	int64_t failed[MSG_REASON_COUNT];
	double elapsed_s; /* the slowest agent's */
	double agent_cpu_s;
	struct hist *latency; /* connect() start -> first echo verified, merged (heap) */
	bool have_server;     /* server samples before and after: the deltas below */
	double server_cpu_s;
	int64_t server_ctxsw;
	int64_t server_accepted; /* its conns_total grew by this much */
};

/* One rate of a step's load sweep: the agents' phase_done summed, the server around it. */
struct coord_load {
	double rate_per_s; /* the plan's rate, all agents together */
	int64_t agents;    /* phase_done received */
	int64_t scheduled, sent, verified, errors, behind;
	double elapsed_s; /* the slowest agent's */
	double agent_cpu_s;
	struct hist *latency; /* merged from phase_done (heap) */
	bool have_server;     /* server samples before and after: the deltas below */
	double server_cpu_s;
	int64_t server_ctxsw;
	double host_softirq_s, host_busy_s, host_total_s; /* the host's CPU, all CPUs */
};

struct coord_step {
	int64_t connections; /* planned level */
	int64_t established; /* handshakes completed so far, agents not lost */
	int64_t held;        /* still open and verified at the plateau's end */
	bool have_server;
	struct server_stats server;
	double connect_s;    /* connect phase duration */
	double accept_lag_s; /* connect phase done -> the server held as many; < 0: not known */
	bool accepted_all;   /* it did, within the bound (else accept_lag_s is the wait) */
	double echo_s;
	struct hist *connect; /* this step's latencies, merged from phase_done (heap) */
	struct hist *echo;
	int nloads; /* load sub-steps run */
	struct coord_load load[MSG_MAX_LOADS];
	struct coord_churn churn;
};

/*
 * The load as it ran: one row a timeline tick while a load sub-step runs
 * (timeline.c), holding each agent's latest tick (fresh: it arrived since the
 * previous row). The report sums them at the end, leaving out agents lost in
 * or before the row's step: a liar's ticks go with its figures.
 */
struct coord_tick_cell {
	int64_t verified; /* this agent's sub-step so far; -1: no tick of this sub-step */
	int64_t count;    /* latencies in its fresh tick, 0 if not fresh */
	int64_t p50_us, p99_us, max_us;
};
struct coord_load_row {
	double t_s;
	int step, sub;
};
/* A phase boundary on the timeline. */
struct coord_mark {
	double t_s;
	const char *phase;
	int step;
};

#define COORD_TIMELINE_MS 500
/* Per step: connect, accept, echo, each load rate, hold, verify; then close and the rest. */
#define COORD_MAX_MARKS (MSG_MAX_STEPS * (5 + MSG_MAX_LOADS) + 4)

struct coord_options {
	const char *bind;              /* --bind ENDPOINT */
	const char *report;            /* --report PATH */
	bool quiet;                    /* --quiet */
	const char *curve_secret;      /* --curve-secret FILE: our CURVE secret key */
	const char *authorized_agents; /* --authorized-agents DIR: the agents' *.pub */
	const char *stats_key;         /* --stats-key FILE: the server's public key */
	bool insecure;                 /* --insecure: a non-loopback bind without keys */
	const char *gen_keys;          /* --gen-keys DIR */
	const char *name;              /* --name NAME: the key files' name for --gen-keys */
	const char *html;              /* --html PATH: the run's report as a page */
	const char *render_html;       /* --render-html PATH: a page from REPORT.json files */
	char **reports;                /*   (those files: the positional arguments) */
	int nreports;
};

struct coord;

/*
 * How the run's messages come and go. link.c's goes over ZeroMQ (pump.c); a
 * unit test's answers as scripted agents would.
 */
struct coord_io {
	/*
	 * Waits up to timeout_ms for messages and hands each to coord_on_agent(),
	 * coord_on_garbled(), coord_on_stats() or coord_on_stats_event(). False
	 * when it stopped with agent messages still unread (see agent_silent).
	 */
	bool (*wait)(struct coord *c, int timeout_ms);
	/* One message to agent id: 0; -1 with errno (EHOSTUNREACH: not connected now). */
	int (*send)(struct coord *c, const char *id, const void *body, size_t len);
	/* A stats request, numbered seq, to the server: 0 or -1. */
	int (*stats_send)(struct coord *c, uint64_t seq, const void *body, size_t len);
};

struct coord {
	const struct plan *plan;
	const struct coord_options *opt;
	volatile sig_atomic_t *interrupted;
	char target_host[MSG_NAME_MAX]; /* where agents connect (local: resolved port) */
	int64_t target_port;
	char stats_endpoint[MSG_TEXT_MAX]; /* "" = no server sampling */

	const struct coord_io *io;        /* how messages come and go (see struct coord_io) */
	struct pump pump;                 /*   the real one's sockets (link.c) */
	bool sampling;                    /* there is a server to sample */
	bool curve;                       /* keys given: agents must hold an authorized key */
	struct keys_pair kp;              /* ours, from --curve-secret */
	char stats_key[KEYS_Z85_LEN + 1]; /* the server's, from --stats-key; "" = none */
	int64_t stats_sent_ms;            /* outstanding stats_req, 0 = none */
	int64_t next_sample_ms;

	struct coord_agent *agents;
	int nagents;
	int64_t started_ms;
	/* Control-plane timing, ms since started_ms (0 = not reached). */
	int64_t joined_ms;  /* the last agent said hello */
	int64_t ready_ms;   /* every agent accepted its slice: the first go */
	int64_t closed_ms;  /* the close barrier passed */
	int64_t results_ms; /* every result in */
	int64_t next_heartbeat_ms;
	/*
	 * Control-plane timing, from the plan's agent count (coord_beat_set):
	 * heartbeats every beat_ms; an agent silent for lost_ms while others
	 * talk is lost, and after lost_alone_ms even when no agent at all was
	 * heard (a stalled host, or the coordinator's own link down); agents
	 * give up on a coordinator silent for deadman_ms (told in welcome).
	 */
	int64_t beat_ms, lost_ms, lost_alone_ms, deadman_ms;
	int64_t last_any_ms; /* the newest message from any agent of the run */
	const char *phase;   /* for progress */
	int cur_phase;       /* enum msg_phase of the barrier in progress, -1 = none */
	int step;
	bool joining; /* new agents are welcome */
	long dropped; /* malformed, unexpected or forged messages, never acted on */
	struct coord_loglimit log_drop; /* lines a peer can trigger, each kind bounded */
	struct coord_loglimit log_stop; /* stops answered to strangers */

	struct coord_sample *samples;
	int nsamples;
	size_t samples_cap;
	uint64_t stats_sent_seq;         /* number of the last stats request sent */
	uint64_t stats_seq;              /* newest request a reply has answered */
	uint64_t plateau_seq;            /* the request a plateau sample waits for */
	bool stats_connected;            /* its connection is up (and, with keys, authenticated) */
	int64_t stats_opened_ms;         /* when the stats socket was connected */
	int64_t last_answer_ms;          /* the newest reply, 0 = none ever */
	bool server_gone;                /* stopped (or never started) answering: not asked again */
	int stats_bad;                   /* unreadable stats replies in a row */
	char server_error[MSG_TEXT_MAX]; /* says so, for the report */
	bool have_last_stats;
	struct server_stats last_stats;
	struct coord_step steps[MSG_MAX_STEPS];
	int load_sub; /* the load rate running (an index into plan->load_rates) */
	int nsteps_done;
	struct hist *phase_hist; /* scratch for unpacking a phase_done's histogram */

	/* Every agent's open connections over time: tl_n rows of nagents values. */
	double *tl_t;
	int64_t *tl_current;
	int tl_n;
	size_t tl_cap;
	struct coord_load_row *tl_load;
	struct coord_tick_cell *tl_cells; /* tl_load_n rows of agents_count cells */
	int tl_load_n;
	size_t tl_load_cap;
	int64_t next_timeline_ms;
	struct coord_mark marks[COORD_MAX_MARKS];
	int nmarks;

	bool aborted;
	char failure[512]; /* why the run failed, "" if it did not */
	/*
	 * The local server's end (local.c's local_server_exited), asked while the
	 * run waits; NULL without a local server. Once it says the server exited,
	 * server_exited is set and the run stops as it does on a signal.
	 */
	bool (*server_exit)(void *arg, char *how, size_t size);
	void *server_exit_arg;
	bool server_exited;
	int64_t next_progress_ms;
	bool progress_dirty;
};

/* snprintf that truncates on purpose: reasons and names are bounded fields. */
void coord_text(char *dst, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * link.c: opens the sockets (with keys: the ZAP handler first, then a CURVE
 * ROUTER) and points c->io at them; 0, -1 when the endpoint cannot be bound,
 * -2 when authentication cannot be set up (the caller refuses to run), each
 * with the reason printed.
 */
int coord_open(struct coord *c);
void coord_close(struct coord *c);
/* Runs the plan from joining to final results; fills c->failure on failure. */
void coord_run(struct coord *c);

/* coord.c: what arrives, from c->io's wait */
void coord_on_agent(struct coord *c, const unsigned char *id, size_t idlen, const char *user_id,
                    const void *body, size_t len);
void coord_on_garbled(struct coord *c);
void coord_on_stats(struct coord *c, bool has_seq, uint64_t seq, const void *body, size_t len);
void coord_on_stats_event(struct coord *c, enum pump_stats_event ev);

/* bounds.c: NULL, or what is impossible in an agent's counts (in buf) */
/*
 * Its counts against its assignment: no counter past assigned x steps, none
 * open past open_max (the step's level, or the whole assignment), no more
 * latencies than connections x rounds.
 */
const char *coord_counts_impossible(const struct coord *c, const struct coord_agent *a,
                                    const struct msg_counts *k, int64_t open_max,
                                    const struct hist *connect, const struct hist *echo, char *buf,
                                    size_t size);
/* A load's or churn's phase_done against its go (go_bound, go_seconds, its ticks). */
const char *coord_work_impossible(const struct coord_agent *a, const struct msg_progress *p,
                                  char *buf, size_t size);

/* target.c: is the target a server the run can measure? (why: one sentence) */
/* Every agent's counts now, by index; NULL when out of memory (then no verdict). */
struct msg_counts *coord_counts_snapshot(const struct coord *c);
/* After a step's connect: connections tried since `before` and none open. */
bool coord_target_unreachable(const struct coord *c, const struct msg_counts *before, char *why,
                              size_t size);
/* After a step's echo: none verified, most without a reply, with other bytes or closed. */
bool coord_target_not_echo(const struct coord *c, const struct msg_counts *before, char *why,
                           size_t size);

/* work.c: a load's or churn's arithmetic */
/* An agent's part of load rate c->load_sub at step: in proportion to what it holds. */
struct msg_go_load coord_load_share(const struct coord *c, const struct coord_agent *a, int step);
/* Every ready agent's churn_rate: whole connections a second, summing to the plan's rate. */
void coord_churn_split(struct coord *c, int step);
struct msg_go_churn coord_churn_share(const struct coord *c, const struct coord_agent *a);
/* The most a load or churn answer may count (go_bound). */
int64_t coord_work_bound(double rate_per_s, int64_t duration_ms, int64_t held);
/* The server's and the host's CPU and the server's context switches between samples a and b. */
void coord_load_delta(struct coord_load *l, const struct server_stats *a,
                      const struct server_stats *b);
void coord_churn_delta(struct coord_churn *ch, const struct server_stats *a,
                       const struct server_stats *b);

/* sampling.c */
/* A request unanswered for COORD_STATS_SILENT_MS: says the server is gone. */
void coord_check_server(struct coord *c, int64_t now);

/* coord.c: what run.c needs */
/* Counts a message that is not acted on, and says why (within the log limit). */
void coord_drop(struct coord *c, const char *id, const char *why);
/* Sends due heartbeats, waits up to timeout_ms for messages, then does what is due. */
void coord_pump(struct coord *c, int timeout_ms);
int coord_send(struct coord *c, const char *id, json_t *msg);
struct coord_agent *coord_agent_find(struct coord *c, const char *id);
bool coord_agent_active(const struct coord_agent *a);
/* The control-plane timing for a run of `agents` agents (struct coord: beat_ms...). */
void coord_beat_set(struct coord *c, int64_t agents);
/* Welcomes agent `id` to the run, with the dead man's switch it must keep. */
void coord_welcome(struct coord *c, const char *id);
void coord_mark_lost(struct coord *c, struct coord_agent *a, const char *why);
/* true if a line of this kind may be written now (see struct coord_loglimit). */
bool coord_log_allowed(struct coord *c, struct coord_loglimit *l, const char *kind);
/* Sums up what the limits held back, at the end of the run. */
void coord_log_flush(struct coord *c);
void coord_request_stats(struct coord *c, bool fresh);
/* The server stopped answering (or never did): said once, it is not asked again. */
void coord_server_lost(struct coord *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Notes a phase boundary on the timeline. */
void coord_mark(struct coord *c, const char *phase, int step);
/* Frees what the run allocated (steps' histograms, timeline, samples, results). */
void coord_free(struct coord *c);
/* run.c: a hello from an identity not yet in the table. */
void coord_on_new_agent(struct coord *c, const char *id, const char *key,
                        const struct msg_hello *h);

/* progress.c */
void coord_progress(struct coord *c, bool force);
void coord_progress_end(struct coord *c);

#endif
