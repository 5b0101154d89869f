/*
 * msg — the control messages between coordinator and agents (see docs/design.md,
 * "The control protocol"). Each has a struct, a pack function that returns a new
 * message object ({"v":1,"type":...} plus fields) and a strict unpack that
 * takes a message already accepted by proto_decode() and names the field
 * that is wrong: "assign: field \"steps\": expected an array of at most 64
 * integers".
 *
 * Conversation:
 *   agent: hello (every second until welcomed)      coordinator: welcome
 *   coordinator: assign                              agent: ready | reject
 *   coordinator: go {connect, step, target}          agent: progress..., phase_done
 *   coordinator: go {echo, step}                     agent: progress..., phase_done
 *   coordinator: go {load, step, load:{sub,...}}     agent: progress {tick}..., phase_done {load}
 *   (one load per rate of the plan's load.rate_per_s, lowest first)
 *   coordinator: go {churn, step, churn:{...}}       agent: progress..., phase_done {churn}
 *   (hold: nothing but heartbeats)
 *   coordinator: go {verify, step}                   agent: phase_done (counts now)
 *   (repeat per step)
 *   coordinator: go {close}                          agent: phase_done, then result
 *   coordinator: result_ack                          agent: back to idle (hello again)
 *   either side: heartbeat once a beat (welcome's heartbeat_timeout_ms / 8: 1 s, longer
 *   with many agents; any message counts); coordinator: stop {reason} at any time
 *   (the agent closes everything and answers with its result); agent: bye on exit.
 */
#ifndef CONNSCALE_MSG_H
#define CONNSCALE_MSG_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "hist.h"
#include "proto.h"
#include "reason.h"
#include "stats.h"

#define MSG_NAME_MAX       64  /* agent names, run names, host names (with NUL) */
#define MSG_AGENT_NAME_MAX 47  /* an agent's name (its routing id): bytes, without NUL */
#define MSG_TEXT_MAX       256 /* reasons, capacity sentences (with NUL) */
#define MSG_MAX_SOURCES    256 /* source addresses listed in hello */
#define MSG_MAX_STEPS      64
#define MSG_MAX_LOADS      16  /* rates in one load sweep */
#define MSG_MAX_LOAD_RATE  1e9 /* messages/s one go may ask (the plan's own limit) */
#define MSG_MAX_CHURN_RATE 1e7 /* connections/s one go may ask (likewise) */
/* Seconds a phase_done may report (elapsed, CPU): a year, so any sum stays finite. */
#define MSG_MAX_SECONDS 31536000
/* Most connections one assign or go may ask of an agent (the plan's own limit). */
#define MSG_MAX_CONNECTIONS 100000000LL

/* What a run does when not told: the plan's defaults and the standalone agent's, one place. */
#define MSG_DEFAULT_CONNECT_TIMEOUT_MS 3000
#define MSG_DEFAULT_ECHO_TIMEOUT_MS    5000
#define MSG_DEFAULT_PAYLOAD_BYTES      64
#define MSG_DEFAULT_ROUNDS             1
#define MSG_DEFAULT_LOAD_DURATION_S    10
#define MSG_DEFAULT_CHURN_DURATION_S   10

/* Failure reasons, the JSON keys under "failed": reason.h's list, in its order. */
/* (clang-format would indent the count as if it continued the list) */
/* clang-format off */
enum msg_reason {
#define MSG_REASON_ENUM(id, name, doc) MSG_##id,
	REASON_LIST(MSG_REASON_ENUM)
#undef MSG_REASON_ENUM
	MSG_REASON_COUNT
};
/* clang-format on */
const char *msg_reason_name(enum msg_reason r);

/*
 * An agent's name is its ZeroMQ routing id, so it arrives as bytes: 1 to
 * MSG_AGENT_NAME_MAX of printable ASCII without spaces. Anything else (a NUL
 * inside, control characters, UTF-8) would print or compare as another name.
 */
bool msg_agent_name_valid(const void *bytes, size_t len);

/*
 * verify ends a plateau: the agent answers at once with its counts as they are
 * now, so the coordinator counts what is still open (and was verified by the
 * echo phase) after the hold, not what was open before it.
 */
enum msg_phase {
	MSG_PHASE_CONNECT,
	MSG_PHASE_ECHO,
	MSG_PHASE_CLOSE,
	MSG_PHASE_VERIFY,
	MSG_PHASE_LOAD,
	MSG_PHASE_CHURN,
	MSG_PHASE_COUNT
};
/* "connect", "echo", "close", "verify", "load", "churn" */
const char *msg_phase_name(enum msg_phase p);

struct msg_hello {
	char name[MSG_NAME_MAX];  /* unique per agent; also its ZeroMQ routing id */
	char version[32];         /* connscale version, e.g. "0.1.0" */
	char host[MSG_NAME_MAX];  /* hostname */
	int64_t max_connections;  /* what it can hold: min(open files, sources x ports) */
	int64_t threads;          /* engine worker threads */
	int64_t nofile;           /* its RLIMIT_NOFILE */
	int64_t ports_per_source; /* ip_local_port_range size */
	int64_t nsources;         /* 0 = the kernel picks the source address */
	char sources[MSG_MAX_SOURCES][16];
	char capacity[MSG_TEXT_MAX]; /* the sentence naming what binds max_connections */
	/*
	 * Its kernel (stats_boot_id_read()), "" when unknown: optional on the wire
	 * ("boot_id", left out when ""). The same as the server's means the host's
	 * kernel memory deltas in server_stats hold this agent's sockets too.
	 */
	char boot_id[STATS_BOOT_ID_MAX];
};

struct msg_welcome {
	char run[MSG_NAME_MAX];       /* the plan's name */
	int64_t heartbeat_timeout_ms; /* the agent's dead man's switch */
};

struct msg_assign {
	char target_host[MSG_NAME_MAX]; /* IPv4 dotted quad */
	int64_t target_port;
	int64_t connections;          /* this agent's share of the final level */
	int64_t nsteps;               /* >= 1; steps[nsteps-1] == connections */
	int64_t steps[MSG_MAX_STEPS]; /* this agent's cumulative total at each step */
	double rate_per_s;            /* this agent's share of ramp.rate_per_s; 0 = unlimited */
	int64_t connect_timeout_ms;
	int64_t payload_bytes;
	int64_t rounds;
	int64_t interval_ms;
	int64_t echo_timeout_ms;
};

struct msg_reject {
	char reason[MSG_TEXT_MAX];
};

/* go {load}: this agent's part of one rate of the sweep (the object "load"). */
struct msg_go_load {
	int64_t sub;           /* index of the rate in load.rate_per_s */
	double rate_per_s;     /* this agent's share of the rate, messages/s (> 0) */
	int64_t duration_ms;   /* sends are scheduled over this long */
	int64_t payload_bytes; /* bytes per message */
};

/* go {churn}: this agent's part of the churn (the object "churn"). */
struct msg_go_churn {
	double rate_per_s;   /* new connections a second (0: none from this agent) */
	int64_t duration_ms; /* new ones are opened for this long */
};

struct msg_go {
	enum msg_phase phase;
	int64_t step;              /* index into assign.steps */
	int64_t target;            /* connect: total connections to hold after it; else 0 */
	struct msg_go_load load;   /* phase load only (required there, refused elsewhere) */
	struct msg_go_churn churn; /* phase churn only, likewise */
};

/* phase_done {load}: what one load sub-step did on this agent (the object "load"). */
struct msg_load_done {
	int64_t sub;
	int64_t scheduled; /* messages its schedule held */
	int64_t sent;      /* messages started (no more than scheduled) */
	int64_t verified;  /* echoed and verified byte for byte */
	int64_t errors;    /* connections that failed during it */
	int64_t behind;    /* sends the agent's own loop made > 1 ms late */
	double elapsed_s;  /* its schedule's start to its last echo verified */
	double cpu_user_s; /* the agent process's CPU during it */
	double cpu_sys_s;
};

/*
 * progress {load}: a load sub-step as it runs (the object "tick"), for the
 * report's view over time. verified counts this sub-step so far, so a lost
 * progress loses nothing; count and the percentiles are the latencies
 * recorded since this agent's previous tick, in microseconds.
 */
struct msg_load_tick {
	int64_t sub;
	int64_t verified;
	int64_t count;
	int64_t p50_us;
	int64_t p99_us;
	int64_t max_us;
};

struct msg_counts {
	int64_t attempted;
	int64_t established;
	int64_t current;
	int64_t max_concurrent;
	int64_t failed[MSG_REASON_COUNT];
	int64_t echo_ok;
	int64_t echo_errors;
	int64_t lost;
};

/* phase_done {churn}: what the churn did on this agent (the object "churn"). */
struct msg_churn_done {
	int64_t attempted; /* churn connections started */
	int64_t ok;        /* opened, echo verified, closed */
	int64_t failed[MSG_REASON_COUNT];
	double elapsed_s;
	double cpu_user_s; /* the agent process's CPU during it */
	double cpu_sys_s;
};

/* progress and phase_done share this shape. */
struct msg_progress {
	enum msg_phase phase;
	int64_t step;
	struct msg_counts counts;
	/*
	 * Optional "hist": the latencies measured in this phase alone (connect
	 * times, or echo round trips), so the coordinator has percentiles per
	 * step. Pack includes it when non-NULL; unpack fills it only when the
	 * caller points it at storage, and sets has_hist.
	 */
	struct hist *hist; /* churn: each connection's open -> its one echo verified */
	bool has_hist;
	struct msg_load_done load; /* phase load, phase_done only: packed when has_load */
	bool has_load;
	struct msg_churn_done churn; /* phase churn, phase_done only: packed when has_churn */
	bool has_churn;
	struct msg_load_tick tick; /* phase load, progress only: packed when has_tick */
	bool has_tick;
};

/* result: the counters and the two histograms, mergeable at the coordinator. */
struct msg_result {
	struct msg_counts counts;
	struct hist connect;
	struct hist echo;
};

struct msg_stop {
	char reason[MSG_TEXT_MAX];
};

json_t *msg_hello_pack(const struct msg_hello *m);
int msg_hello_unpack(json_t *msg, struct msg_hello *m, struct proto_err *err);
json_t *msg_welcome_pack(const struct msg_welcome *m);
int msg_welcome_unpack(json_t *msg, struct msg_welcome *m, struct proto_err *err);
json_t *msg_assign_pack(const struct msg_assign *m);
int msg_assign_unpack(json_t *msg, struct msg_assign *m, struct proto_err *err);
/* ready, result_ack, heartbeat: no fields beyond the envelope. */
json_t *msg_empty_pack(enum proto_type type);
int msg_empty_unpack(json_t *msg, struct proto_err *err);
/* reject and bye carry a reason. */
json_t *msg_reject_pack(enum proto_type type, const struct msg_reject *m);
int msg_reject_unpack(json_t *msg, struct msg_reject *m, struct proto_err *err);
json_t *msg_go_pack(const struct msg_go *m);
int msg_go_unpack(json_t *msg, struct msg_go *m, struct proto_err *err);
/* type is PROTO_PROGRESS or PROTO_PHASE_DONE. */
json_t *msg_progress_pack(enum proto_type type, const struct msg_progress *m);
int msg_progress_unpack(json_t *msg, struct msg_progress *m, struct proto_err *err);
/* {"counts":{...}, "hist":{"connect":sparse,"echo":sparse}} */
json_t *msg_result_pack(const struct msg_result *m);
int msg_result_unpack(json_t *msg, struct msg_result *m, struct proto_err *err);
json_t *msg_stop_pack(const struct msg_stop *m);
int msg_stop_unpack(json_t *msg, struct msg_stop *m, struct proto_err *err);

/* The counters as a JSON object, the shape used in progress, result and the report. */
json_t *msg_counts_pack(const struct msg_counts *c);
int msg_counts_unpack(const json_t *j, struct msg_counts *c, const char *what,
                      struct proto_err *err);

/*
 * "failed": every failure whatever its reason, the sum of failed[] over the
 * reasons. The one definition the verdict, the console and the HTML page
 * use. Saturates at INT64_MAX rather than wrapping.
 */
int64_t msg_failed_total(const struct msg_counts *c);
/*
 * The same over counts as JSON (an object holding "failed": {reason: n}, as
 * in progress, result and the report's agents and totals): the known reasons
 * only; a reason missing, negative or not an integer counts 0.
 */
int64_t msg_failed_total_json(const json_t *counts);

#endif
