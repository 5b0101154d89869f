/*
 * msg — pack and strictly unpack the coordinator <-> agent control messages.
 *
 * Scalar fields are described once per message in a proto_field table (the
 * approach of stats.c, shared through proto.h), so pack, unpack and the
 * unknown-key check agree. Arrays, enums and nested objects have their own
 * readers below. An unpack fills a copy and only hands it over when every
 * field passed, so a rejected message never leaves half-written state.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "msg.h"

#define MSG_NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define MSG_BIT(t)   (1u << (t))

/* "failed" in counts: one integer per reason, keyed by the reason's name. */
#define MSG_FAILED(r, name)                                                                        \
	{                                                                                          \
		name, PROTO_KIND_INT, offsetof(struct msg_counts, failed) + (r) * sizeof(int64_t), \
		    sizeof(int64_t), 0, INT64_MAX                                                  \
	}
static const struct proto_field msg_failed_fields[MSG_REASON_COUNT] = {
#define MSG_FAILED_FIELD(id, name, doc) MSG_FAILED(MSG_##id, name),
    REASON_LIST(MSG_FAILED_FIELD)
#undef MSG_FAILED_FIELD
};

/* (one per line: clang-format would pack them into columns) */
/* clang-format off */
static const char *const msg_phase_names[MSG_PHASE_COUNT] = {
    [MSG_PHASE_CONNECT] = "connect",
    [MSG_PHASE_ECHO] = "echo",
    [MSG_PHASE_CLOSE] = "close",
    [MSG_PHASE_VERIFY] = "verify",
    [MSG_PHASE_LOAD] = "load",
    [MSG_PHASE_CHURN] = "churn",
};
/* clang-format on */

/* Keys every message carries besides its own fields (checked by proto_decode). */
static const char *const msg_envelope[] = {"v", "type", NULL};

static const struct proto_field msg_hello_fields[] = {
    PROTO_FIELD(struct msg_hello, name, PROTO_KIND_STR, 1, 0),
    PROTO_FIELD(struct msg_hello, version, PROTO_KIND_STR, 1, 0),
    PROTO_FIELD(struct msg_hello, host, PROTO_KIND_STR, 0, 0),
    PROTO_FIELD(struct msg_hello, max_connections, PROTO_KIND_INT, 0, INT64_MAX),
    PROTO_FIELD(struct msg_hello, threads, PROTO_KIND_INT, 0, INT64_MAX),
    PROTO_FIELD(struct msg_hello, nofile, PROTO_KIND_INT, 0, INT64_MAX),
    PROTO_FIELD(struct msg_hello, ports_per_source, PROTO_KIND_INT, 0, INT64_MAX),
    PROTO_FIELD(struct msg_hello, capacity, PROTO_KIND_STR, 0, 0),
};

static const struct proto_field msg_welcome_fields[] = {
    PROTO_FIELD(struct msg_welcome, run, PROTO_KIND_STR, 1, 0),
    PROTO_FIELD(struct msg_welcome, heartbeat_timeout_ms, PROTO_KIND_INT, 1, INT64_MAX),
};

static const struct proto_field msg_assign_fields[] = {
    PROTO_FIELD(struct msg_assign, target_host, PROTO_KIND_IPV4, 0, 0),
    PROTO_FIELD(struct msg_assign, target_port, PROTO_KIND_INT, 1, 65535),
    PROTO_FIELD(struct msg_assign, connections, PROTO_KIND_INT, 0, MSG_MAX_CONNECTIONS),
    PROTO_FIELD(struct msg_assign, rate_per_s, PROTO_KIND_DBL, 0, 0),
    PROTO_FIELD(struct msg_assign, connect_timeout_ms, PROTO_KIND_INT, 1, INT64_MAX),
    PROTO_FIELD(struct msg_assign, payload_bytes, PROTO_KIND_INT, 1, 1024 * 1024),
    PROTO_FIELD(struct msg_assign, rounds, PROTO_KIND_INT, 0, 1000000),
    PROTO_FIELD(struct msg_assign, interval_ms, PROTO_KIND_INT, 0, INT64_MAX),
    PROTO_FIELD(struct msg_assign, echo_timeout_ms, PROTO_KIND_INT, 1, INT64_MAX),
};

/* reject, bye and stop: the same one field. */
static const struct proto_field msg_reason_fields[] = {
    PROTO_FIELD(struct msg_reject, reason, PROTO_KIND_STR, 0, 0),
};

static const struct proto_field msg_go_fields[] = {
    PROTO_FIELD(struct msg_go, step, PROTO_KIND_INT, 0, MSG_MAX_STEPS - 1),
    PROTO_FIELD(struct msg_go, target, PROTO_KIND_INT, 0, MSG_MAX_CONNECTIONS),
};

static const struct proto_field msg_go_load_fields[] = {
    PROTO_FIELD(struct msg_go_load, sub, PROTO_KIND_INT, 0, MSG_MAX_LOADS - 1),
    PROTO_FIELD(struct msg_go_load, rate_per_s, PROTO_KIND_DBL, 0, 0),
    PROTO_FIELD(struct msg_go_load, duration_ms, PROTO_KIND_INT, 1, 86400000),
    PROTO_FIELD(struct msg_go_load, payload_bytes, PROTO_KIND_INT, 1, 1024 * 1024),
};

static const struct proto_field msg_load_done_fields[] = {
    PROTO_FIELD(struct msg_load_done, sub, PROTO_KIND_INT, 0, MSG_MAX_LOADS - 1),
    PROTO_FIELD(struct msg_load_done, scheduled, PROTO_KIND_INT, 0, INT64_MAX),
    PROTO_FIELD(struct msg_load_done, sent, PROTO_KIND_INT, 0, INT64_MAX),
    PROTO_FIELD(struct msg_load_done, verified, PROTO_KIND_INT, 0, INT64_MAX),
    PROTO_FIELD(struct msg_load_done, errors, PROTO_KIND_INT, 0, INT64_MAX),
    PROTO_FIELD(struct msg_load_done, behind, PROTO_KIND_INT, 0, INT64_MAX),
    PROTO_FIELD(struct msg_load_done, elapsed_s, PROTO_KIND_DBL, 0, MSG_MAX_SECONDS),
    PROTO_FIELD(struct msg_load_done, cpu_user_s, PROTO_KIND_DBL, 0, MSG_MAX_SECONDS),
    PROTO_FIELD(struct msg_load_done, cpu_sys_s, PROTO_KIND_DBL, 0, MSG_MAX_SECONDS),
};

static const struct proto_field msg_load_tick_fields[] = {
    PROTO_FIELD(struct msg_load_tick, sub, PROTO_KIND_INT, 0, MSG_MAX_LOADS - 1),
    PROTO_FIELD(struct msg_load_tick, verified, PROTO_KIND_INT, 0, INT64_MAX),
    PROTO_FIELD(struct msg_load_tick, count, PROTO_KIND_INT, 0, INT64_MAX),
    PROTO_FIELD(struct msg_load_tick, p50_us, PROTO_KIND_INT, 0, (int64_t)HIST_MAX_US),
    PROTO_FIELD(struct msg_load_tick, p99_us, PROTO_KIND_INT, 0, (int64_t)HIST_MAX_US),
    PROTO_FIELD(struct msg_load_tick, max_us, PROTO_KIND_INT, 0, (int64_t)HIST_MAX_US),
};

static const struct proto_field msg_go_churn_fields[] = {
    PROTO_FIELD(struct msg_go_churn, rate_per_s, PROTO_KIND_DBL, 0, 0),
    PROTO_FIELD(struct msg_go_churn, duration_ms, PROTO_KIND_INT, 1, 86400000),
};

static const struct proto_field msg_churn_done_fields[] = {
    PROTO_FIELD(struct msg_churn_done, attempted, PROTO_KIND_INT, 0, INT64_MAX),
    PROTO_FIELD(struct msg_churn_done, ok, PROTO_KIND_INT, 0, INT64_MAX),
    PROTO_FIELD(struct msg_churn_done, elapsed_s, PROTO_KIND_DBL, 0, MSG_MAX_SECONDS),
    PROTO_FIELD(struct msg_churn_done, cpu_user_s, PROTO_KIND_DBL, 0, MSG_MAX_SECONDS),
    PROTO_FIELD(struct msg_churn_done, cpu_sys_s, PROTO_KIND_DBL, 0, MSG_MAX_SECONDS),
};

static const struct proto_field msg_progress_fields[] = {
    PROTO_FIELD(struct msg_progress, step, PROTO_KIND_INT, 0, MSG_MAX_STEPS - 1),
};

#define MSG_COUNTS_HEAD 4 /* fields before "failed" */
static const struct proto_field msg_counts_fields[] = {
    PROTO_FIELD(struct msg_counts, attempted, PROTO_KIND_INT, 0, INT64_MAX),
    PROTO_FIELD(struct msg_counts, established, PROTO_KIND_INT, 0, INT64_MAX),
    PROTO_FIELD(struct msg_counts, current, PROTO_KIND_INT, 0, INT64_MAX),
    PROTO_FIELD(struct msg_counts, max_concurrent, PROTO_KIND_INT, 0, INT64_MAX),
    /* MSG_COUNTS_HEAD: "failed" is packed here */
    PROTO_FIELD(struct msg_counts, echo_ok, PROTO_KIND_INT, 0, INT64_MAX),
    PROTO_FIELD(struct msg_counts, echo_errors, PROTO_KIND_INT, 0, INT64_MAX),
    PROTO_FIELD(struct msg_counts, lost, PROTO_KIND_INT, 0, INT64_MAX),
};

const char *msg_reason_name(enum msg_reason r)
{
	if ((int)r < 0 || r >= MSG_REASON_COUNT)
		return NULL;
	return msg_failed_fields[r].name;
}

bool msg_agent_name_valid(const void *bytes, size_t len)
{
	const unsigned char *b = bytes;

	if (len == 0 || len > MSG_AGENT_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (b[i] <= ' ' || b[i] > '~')
			return false;
	return true;
}

const char *msg_phase_name(enum msg_phase p)
{
	if ((int)p < 0 || p >= MSG_PHASE_COUNT)
		return NULL;
	return msg_phase_names[p];
}

/*
 * The first step of every unpack: msg must be an object whose "type" is one of
 * `allowed` (a mask of MSG_BIT(type)). Returns the type, or -1 naming `want`.
 */
static int msg_check_type(const json_t *msg, unsigned allowed, const char *want,
                          struct proto_err *err)
{
	const char *name;
	int t;

	if (!json_is_object(msg))
		return proto_fail(err, "%s: expected a message object", want);
	name = json_string_value(json_object_get(msg, "type"));
	if (name == NULL)
		return proto_fail(err, "%s: missing \"type\"", want);
	t = proto_type_from_name(name);
	if (t < 0 || (allowed & MSG_BIT(t)) == 0)
		return proto_fail(err, "%s: message has type \"%.64s\"", want, name);
	return t;
}

/* What an unpack accepts: its types, its table, and the other keys it reads itself. */
struct msg_shape {
	unsigned allowed; /* MSG_BIT()s of the accepted types */
	const char *want; /* names them in errors: "progress or phase_done" */
	const struct proto_field *f;
	size_t n;
	const char *const *extra; /* "v", "type" and the non-table keys */
};

/* Type, unknown keys and table fields into tmp; returns the message's name, or NULL. */
static const char *msg_read(const json_t *msg, const struct msg_shape *s, void *tmp,
                            struct proto_err *err)
{
	int t = msg_check_type(msg, s->allowed, s->want, err);
	const char *what;

	if (t < 0)
		return NULL;
	what = proto_type_name((enum proto_type)t);
	if (proto_check_keys(msg, s->f, s->n, s->extra, what, "", err) != 0 ||
	    proto_fields_unpack(msg, tmp, s->f, s->n, what, "", err) != 0)
		return NULL;
	return what;
}

/* A new message of `type` with the table's fields; NULL when out of memory. */
static json_t *msg_new(enum proto_type type, const void *s, const struct proto_field *f, size_t n)
{
	json_t *msg = proto_new(type);

	if (msg == NULL)
		return NULL;
	if (proto_fields_pack(msg, s, f, n) != 0) {
		json_decref(msg);
		return NULL;
	}
	return msg;
}

/* Steals v into obj under key; on failure decrefs obj and returns NULL. */
static json_t *msg_add(json_t *obj, const char *key, json_t *v)
{
	if (obj == NULL) {
		json_decref(v);
		return NULL;
	}
	if (json_object_set_new(obj, key, v) != 0) {
		json_decref(obj);
		return NULL;
	}
	return obj;
}

/* Reads the phase enum by name from msg["phase"]. */
static int msg_read_phase(const json_t *msg, const char *what, enum msg_phase *p,
                          struct proto_err *err)
{
	const json_t *v = json_object_get(msg, "phase");
	const char *name = json_string_value(v);
	char got[40];

	if (v == NULL)
		return proto_fail(err, "%s: missing field \"phase\"", what);
	for (int i = 0; name != NULL && i < MSG_PHASE_COUNT; i++) {
		if (strcmp(msg_phase_names[i], name) == 0 &&
		    strlen(name) == json_string_length(v)) {
			*p = (enum msg_phase)i;
			return 0;
		}
	}
	if (name == NULL)
		snprintf(got, sizeof(got), "%s", proto_json_type_name(v));
	else
		snprintf(got, sizeof(got), "\"%.32s\"", name);
	return proto_fail(err,
	                  "%s: field \"phase\": expected one of connect, echo, close, verify, "
	                  "load, churn, got %s",
	                  what, got);
}

json_t *msg_hello_pack(const struct msg_hello *m)
{
	json_t *msg = msg_new(PROTO_HELLO, m, msg_hello_fields, MSG_NELEM(msg_hello_fields));
	json_t *a = json_array();

	if (m->nsources < 0 || m->nsources > MSG_MAX_SOURCES) {
		json_decref(a);
		json_decref(msg);
		return NULL;
	}
	for (int64_t i = 0; a != NULL && i < m->nsources; i++) {
		const char *s = m->sources[i];
		const char *end = memchr(s, '\0', sizeof(m->sources[i]));

		if (json_array_append_new(
		        a, json_stringn(s, end ? (size_t)(end - s) : sizeof(m->sources[i]))) != 0) {
			json_decref(a);
			a = NULL;
		}
	}
	msg = msg_add(msg, "sources", a);
	if (msg != NULL && stats_boot_id_pack(msg, m->boot_id) != 0) {
		json_decref(msg);
		msg = NULL;
	}
	return msg;
}

static int msg_read_sources(const json_t *a, struct msg_hello *m, struct proto_err *err)
{
	const json_t *v;
	size_t i;

	if (a == NULL)
		return proto_fail(err, "hello: missing field \"sources\"");
	if (!json_is_array(a) || json_array_size(a) > MSG_MAX_SOURCES)
		return proto_fail(err,
		                  "hello: field \"sources\": expected an array of at most %d IPv4 "
		                  "addresses, got %s",
		                  MSG_MAX_SOURCES,
		                  json_is_array(a) ? "more" : proto_json_type_name(a));
	json_array_foreach(a, i, v)
	{
		const char *s = json_string_value(v);

		if (s == NULL || strlen(s) != json_string_length(v) || !proto_is_ipv4(s))
			return proto_fail(err,
			                  "hello: field \"sources[%zu]\": expected an IPv4 address "
			                  "(dotted quad), got %s%.20s%s",
			                  i, s ? "\"" : proto_json_type_name(v), s ? s : "",
			                  s ? "\"" : "");
		memcpy(m->sources[i], s, strlen(s) + 1); /* a valid quad is at most 15 bytes */
	}
	m->nsources = (int64_t)json_array_size(a);
	return 0;
}

int msg_hello_unpack(json_t *msg, struct msg_hello *m, struct proto_err *err)
{
	static const char *const extra[] = {"v", "type", "sources", "boot_id", NULL};
	static const struct msg_shape shape = {MSG_BIT(PROTO_HELLO), "hello", msg_hello_fields,
	                                       MSG_NELEM(msg_hello_fields), extra};
	struct msg_hello tmp;

	memset(&tmp, 0, sizeof(tmp));
	/* boot_id is optional: an agent that does not say its kernel leaves it "" (unknown). */
	if (msg_read(msg, &shape, &tmp, err) == NULL ||
	    msg_read_sources(json_object_get(msg, "sources"), &tmp, err) != 0 ||
	    stats_boot_id_unpack(msg, "hello", tmp.boot_id, err) != 0)
		return -1;
	*m = tmp;
	return 0;
}

json_t *msg_welcome_pack(const struct msg_welcome *m)
{
	return msg_new(PROTO_WELCOME, m, msg_welcome_fields, MSG_NELEM(msg_welcome_fields));
}

int msg_welcome_unpack(json_t *msg, struct msg_welcome *m, struct proto_err *err)
{
	static const struct msg_shape shape = {MSG_BIT(PROTO_WELCOME), "welcome",
	                                       msg_welcome_fields, MSG_NELEM(msg_welcome_fields),
	                                       msg_envelope};
	struct msg_welcome tmp;

	memset(&tmp, 0, sizeof(tmp));
	if (msg_read(msg, &shape, &tmp, err) == NULL)
		return -1;
	*m = tmp;
	return 0;
}

json_t *msg_assign_pack(const struct msg_assign *m)
{
	json_t *msg = msg_new(PROTO_ASSIGN, m, msg_assign_fields, MSG_NELEM(msg_assign_fields));
	json_t *a = json_array();

	if (m->nsteps < 1 || m->nsteps > MSG_MAX_STEPS) {
		json_decref(a);
		json_decref(msg);
		return NULL;
	}
	for (int64_t i = 0; a != NULL && i < m->nsteps; i++) {
		if (json_array_append_new(a, json_integer((json_int_t)m->steps[i])) != 0) {
			json_decref(a);
			a = NULL;
		}
	}
	return msg_add(msg, "steps", a);
}

/*
 * Steps are this agent's cumulative totals. Its share may stay level from one
 * step to the next (3 connections over 3 agents in steps 1, 2, 3), so they
 * only need to be non-decreasing; the last one is its whole share.
 */
static int msg_read_steps(const json_t *a, struct msg_assign *m, struct proto_err *err)
{
	const json_t *v;
	size_t i, n = json_array_size(a);

	if (a == NULL)
		return proto_fail(err, "assign: missing field \"steps\"");
	json_array_foreach(a, i, v)
	{
		if (!json_is_integer(v) || json_integer_value(v) < 0)
			n = 0;
	}
	if (!json_is_array(a) || n < 1 || n > MSG_MAX_STEPS)
		return proto_fail(
		    err,
		    "assign: field \"steps\": expected an array of 1..%d non-negative "
		    "integers",
		    MSG_MAX_STEPS);
	for (i = 0; i < n; i++) {
		m->steps[i] = (int64_t)json_integer_value(json_array_get(a, i));
		if ((i > 0 && m->steps[i] < m->steps[i - 1]) ||
		    (i == n - 1 && m->steps[i] != m->connections))
			return proto_fail(err,
			                  "assign: field \"steps\": expected non-decreasing steps "
			                  "ending at connections (%" PRId64 "), got %" PRId64
			                  " at steps[%zu]",
			                  m->connections, m->steps[i], i);
	}
	m->nsteps = (int64_t)n;
	return 0;
}

int msg_assign_unpack(json_t *msg, struct msg_assign *m, struct proto_err *err)
{
	static const char *const extra[] = {"v", "type", "steps", NULL};
	static const struct msg_shape shape = {MSG_BIT(PROTO_ASSIGN), "assign", msg_assign_fields,
	                                       MSG_NELEM(msg_assign_fields), extra};
	struct msg_assign tmp;

	memset(&tmp, 0, sizeof(tmp));
	if (msg_read(msg, &shape, &tmp, err) == NULL ||
	    msg_read_steps(json_object_get(msg, "steps"), &tmp, err) != 0)
		return -1;
	*m = tmp;
	return 0;
}

#define MSG_EMPTY_TYPES                                                                            \
	(MSG_BIT(PROTO_READY) | MSG_BIT(PROTO_RESULT_ACK) | MSG_BIT(PROTO_HEARTBEAT))

json_t *msg_empty_pack(enum proto_type type)
{
	if ((int)type < 0 || type >= PROTO_TYPE_COUNT || (MSG_EMPTY_TYPES & MSG_BIT(type)) == 0)
		return NULL;
	return proto_new(type);
}

int msg_empty_unpack(json_t *msg, struct proto_err *err)
{
	static const struct msg_shape shape = {MSG_EMPTY_TYPES, "ready, result_ack or heartbeat",
	                                       NULL, 0, msg_envelope};

	return msg_read(msg, &shape, NULL, err) == NULL ? -1 : 0;
}

/* reject, bye and stop share the one-field shape; `allowed` picks the types. */
static int msg_reason_unpack(json_t *msg, unsigned allowed, const char *want, char *reason,
                             struct proto_err *err)
{
	const struct msg_shape shape = {allowed, want, msg_reason_fields,
	                                MSG_NELEM(msg_reason_fields), msg_envelope};
	struct msg_reject tmp;

	_Static_assert(sizeof(((struct msg_stop *)0)->reason) == sizeof(tmp.reason),
	               "stop and reject reasons share a table");
	memset(&tmp, 0, sizeof(tmp));
	if (msg_read(msg, &shape, &tmp, err) == NULL)
		return -1;
	memcpy(reason, tmp.reason, sizeof(tmp.reason));
	return 0;
}

json_t *msg_reject_pack(enum proto_type type, const struct msg_reject *m)
{
	if (type != PROTO_REJECT && type != PROTO_BYE)
		return NULL;
	return msg_new(type, m, msg_reason_fields, MSG_NELEM(msg_reason_fields));
}

int msg_reject_unpack(json_t *msg, struct msg_reject *m, struct proto_err *err)
{
	return msg_reason_unpack(msg, MSG_BIT(PROTO_REJECT) | MSG_BIT(PROTO_BYE), "reject or bye",
	                         m->reason, err);
}

json_t *msg_stop_pack(const struct msg_stop *m)
{
	struct msg_reject r;

	memcpy(r.reason, m->reason, sizeof(r.reason));
	return msg_new(PROTO_STOP, &r, msg_reason_fields, MSG_NELEM(msg_reason_fields));
}

int msg_stop_unpack(json_t *msg, struct msg_stop *m, struct proto_err *err)
{
	return msg_reason_unpack(msg, MSG_BIT(PROTO_STOP), "stop", m->reason, err);
}

/* A table's fields as a new object, for a message's nested part; NULL when out of memory. */
static json_t *msg_object(const void *s, const struct proto_field *f, size_t n)
{
	json_t *o = json_object();

	if (o != NULL && proto_fields_pack(o, s, f, n) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* msg[key], an object holding exactly the table's fields, into s. */
static int msg_read_object(const json_t *msg, const char *key, void *s, const struct proto_field *f,
                           size_t n, const char *what, struct proto_err *err)
{
	const json_t *o = json_object_get(msg, key);
	char prefix[32];

	if (!json_is_object(o))
		return proto_fail(err, "%s: field \"%s\": expected an object, got %s", what, key,
		                  o ? proto_json_type_name(o) : "nothing");
	snprintf(prefix, sizeof(prefix), "%s.", key);
	if (proto_check_keys(o, f, n, NULL, what, prefix, err) != 0 ||
	    proto_fields_unpack(o, s, f, n, what, prefix, err) != 0)
		return -1;
	return 0;
}

json_t *msg_go_pack(const struct msg_go *m)
{
	const char *phase = msg_phase_name(m->phase);
	json_t *msg;

	if (phase == NULL)
		return NULL;
	msg = msg_add(msg_new(PROTO_GO, m, msg_go_fields, MSG_NELEM(msg_go_fields)), "phase",
	              json_string(phase));
	if (m->phase == MSG_PHASE_LOAD)
		msg = msg_add(
		    msg, "load",
		    msg_object(&m->load, msg_go_load_fields, MSG_NELEM(msg_go_load_fields)));
	if (m->phase == MSG_PHASE_CHURN)
		msg = msg_add(
		    msg, "churn",
		    msg_object(&m->churn, msg_go_churn_fields, MSG_NELEM(msg_go_churn_fields)));
	return msg;
}

int msg_go_unpack(json_t *msg, struct msg_go *m, struct proto_err *err)
{
	static const char *const extra[] = {"v", "type", "phase", "load", "churn", NULL};
	static const struct msg_shape shape = {MSG_BIT(PROTO_GO), "go", msg_go_fields,
	                                       MSG_NELEM(msg_go_fields), extra};
	struct msg_go tmp;

	memset(&tmp, 0, sizeof(tmp));
	if (msg_read(msg, &shape, &tmp, err) == NULL ||
	    msg_read_phase(msg, "go", &tmp.phase, err) != 0)
		return -1;
	if (tmp.phase != MSG_PHASE_CHURN) {
		if (json_object_get(msg, "churn") != NULL)
			return proto_fail(err, "go: field \"churn\": only phase churn takes one");
	} else if (msg_read_object(msg, "churn", &tmp.churn, msg_go_churn_fields,
	                           MSG_NELEM(msg_go_churn_fields), "go", err) != 0) {
		return -1;
	} else if (tmp.churn.rate_per_s > MSG_MAX_CHURN_RATE) {
		return proto_fail(err, "go: field \"churn.rate_per_s\": expected at most %g",
		                  MSG_MAX_CHURN_RATE);
	}
	if (tmp.phase != MSG_PHASE_LOAD) {
		if (json_object_get(msg, "load") != NULL)
			return proto_fail(err, "go: field \"load\": only phase load takes one");
	} else if (msg_read_object(msg, "load", &tmp.load, msg_go_load_fields,
	                           MSG_NELEM(msg_go_load_fields), "go", err) != 0) {
		return -1;
	} else if (!(tmp.load.rate_per_s > 0 && tmp.load.rate_per_s <= MSG_MAX_LOAD_RATE)) {
		return proto_fail(
		    err, "go: field \"load.rate_per_s\": expected a positive number up to %g",
		    MSG_MAX_LOAD_RATE);
	}
	*m = tmp;
	return 0;
}

static int64_t msg_add_saturated(int64_t sum, int64_t n)
{
	if (n <= 0)
		return sum;
	return n > INT64_MAX - sum ? INT64_MAX : sum + n;
}

int64_t msg_failed_total(const struct msg_counts *c)
{
	int64_t n = 0;

	for (int r = 0; r < MSG_REASON_COUNT; r++)
		n = msg_add_saturated(n, c->failed[r]);
	return n;
}

int64_t msg_failed_total_json(const json_t *counts)
{
	const json_t *failed = json_object_get(counts, "failed");
	int64_t n = 0;

	for (int r = 0; r < MSG_REASON_COUNT; r++) {
		const json_t *v = json_object_get(failed, msg_failed_fields[r].name);
		if (json_is_integer(v))
			n = msg_add_saturated(n, (int64_t)json_integer_value(v));
	}
	return n;
}

json_t *msg_counts_pack(const struct msg_counts *c)
{
	const size_t n = MSG_NELEM(msg_counts_fields);
	json_t *failed = json_object();
	json_t *o = json_object();

	if (failed != NULL && proto_fields_pack(failed, c, msg_failed_fields, MSG_REASON_COUNT)) {
		json_decref(failed);
		failed = NULL;
	}
	/* "failed" sits after max_concurrent, where a reader of the report looks for it. */
	if (o != NULL && proto_fields_pack(o, c, msg_counts_fields, MSG_COUNTS_HEAD) != 0) {
		json_decref(o);
		o = NULL;
	}
	o = msg_add(o, "failed", failed);
	if (o != NULL && proto_fields_pack(o, c, msg_counts_fields + MSG_COUNTS_HEAD,
	                                   n - MSG_COUNTS_HEAD) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* The "failed" object: exactly the reason names, each a non-negative integer. */
static int msg_read_failed(const json_t *o, struct msg_counts *c, const char *what,
                           const char *prefix, struct proto_err *err)
{
	char path[64];

	if (o == NULL)
		return proto_fail(err, "%s: missing field \"%sfailed\"", what, prefix);
	if (!json_is_object(o))
		return proto_fail(err, "%s: field \"%sfailed\": expected an object, got %s", what,
		                  prefix, proto_json_type_name(o));
	snprintf(path, sizeof(path), "%sfailed.", prefix);
	if (proto_check_keys(o, msg_failed_fields, MSG_REASON_COUNT, NULL, what, path, err) != 0)
		return -1;
	return proto_fields_unpack(o, c, msg_failed_fields, MSG_REASON_COUNT, what, path, err);
}

/* Counts at `prefix` inside a message ("counts.") or standalone (""). */
static int msg_read_counts(const json_t *j, struct msg_counts *c, const char *what,
                           const char *prefix, struct proto_err *err)
{
	static const char *const extra[] = {"failed", NULL};
	const size_t n = MSG_NELEM(msg_counts_fields);
	struct msg_counts tmp;

	memset(&tmp, 0, sizeof(tmp));
	if (!json_is_object(j) && *prefix != '\0')
		return proto_fail(err, "%s: field \"%.*s\": expected an object, got %s", what,
		                  (int)strlen(prefix) - 1, prefix,
		                  j ? proto_json_type_name(j) : "nothing");
	if (!json_is_object(j))
		return proto_fail(err, "%s: expected an object, got %s", what,
		                  j ? proto_json_type_name(j) : "nothing");
	if (proto_check_keys(j, msg_counts_fields, n, extra, what, prefix, err) != 0 ||
	    proto_fields_unpack(j, &tmp, msg_counts_fields, n, what, prefix, err) != 0 ||
	    msg_read_failed(json_object_get(j, "failed"), &tmp, what, prefix, err) != 0)
		return -1;
	*c = tmp;
	return 0;
}

int msg_counts_unpack(const json_t *j, struct msg_counts *c, const char *what,
                      struct proto_err *err)
{
	return msg_read_counts(j, c, what ? what : "counts", "", err);
}

/* phase_done's "churn": the table's fields plus "failed" by reason, as in counts. */
static json_t *msg_churn_pack(const struct msg_churn_done *d)
{
	struct msg_counts tmp;
	json_t *failed = json_object();

	memset(&tmp, 0, sizeof(tmp));
	memcpy(tmp.failed, d->failed, sizeof(tmp.failed));
	if (failed != NULL &&
	    proto_fields_pack(failed, &tmp, msg_failed_fields, MSG_REASON_COUNT)) {
		json_decref(failed);
		failed = NULL;
	}
	return msg_add(msg_object(d, msg_churn_done_fields, MSG_NELEM(msg_churn_done_fields)),
	               "failed", failed);
}

static int msg_churn_unpack(const json_t *msg, struct msg_churn_done *d, const char *what,
                            struct proto_err *err)
{
	static const char *const extra[] = {"failed", NULL};
	const json_t *o = json_object_get(msg, "churn");
	struct msg_counts tmp;

	if (!json_is_object(o))
		return proto_fail(err, "%s: field \"churn\": expected an object, got %s", what,
		                  proto_json_type_name(o));
	memset(&tmp, 0, sizeof(tmp));
	if (proto_check_keys(o, msg_churn_done_fields, MSG_NELEM(msg_churn_done_fields), extra,
	                     what, "churn.", err) != 0 ||
	    proto_fields_unpack(o, d, msg_churn_done_fields, MSG_NELEM(msg_churn_done_fields), what,
	                        "churn.", err) != 0 ||
	    msg_read_failed(json_object_get(o, "failed"), &tmp, what, "churn.", err) != 0)
		return -1;
	memcpy(d->failed, tmp.failed, sizeof(d->failed));
	return 0;
}

json_t *msg_progress_pack(enum proto_type type, const struct msg_progress *m)
{
	const char *phase = msg_phase_name(m->phase);
	json_t *msg;

	if (phase == NULL || (type != PROTO_PROGRESS && type != PROTO_PHASE_DONE))
		return NULL;
	msg = msg_new(type, m, msg_progress_fields, MSG_NELEM(msg_progress_fields));
	if (m->hist != NULL)
		msg = msg_add(msg, "hist", hist_to_json(m->hist));
	if (m->has_load)
		msg = msg_add(
		    msg, "load",
		    msg_object(&m->load, msg_load_done_fields, MSG_NELEM(msg_load_done_fields)));
	if (m->has_churn)
		msg = msg_add(msg, "churn", msg_churn_pack(&m->churn));
	if (m->has_tick)
		msg = msg_add(
		    msg, "tick",
		    msg_object(&m->tick, msg_load_tick_fields, MSG_NELEM(msg_load_tick_fields)));

	msg = msg_add(msg, "phase", json_string(phase));
	return msg_add(msg, "counts", msg_counts_pack(&m->counts));
}

int msg_progress_unpack(json_t *msg, struct msg_progress *m, struct proto_err *err)
{
	static const char *const extra[] = {"v",    "type",  "phase", "counts", "hist",
	                                    "load", "churn", "tick",  NULL};
	static const struct msg_shape shape = {MSG_BIT(PROTO_PROGRESS) | MSG_BIT(PROTO_PHASE_DONE),
	                                       "progress or phase_done", msg_progress_fields,
	                                       MSG_NELEM(msg_progress_fields), extra};
	const json_t *counts = json_object_get(msg, "counts");
	struct msg_progress tmp;
	const char *what;

	memset(&tmp, 0, sizeof(tmp));
	what = msg_read(msg, &shape, &tmp, err);
	if (what == NULL || msg_read_phase(msg, what, &tmp.phase, err) != 0)
		return -1;
	if (counts == NULL)
		return proto_fail(err, "%s: missing field \"counts\"", what);
	if (msg_read_counts(counts, &tmp.counts, what, "counts.", err) != 0)
		return -1;
	const json_t *hist = json_object_get(msg, "hist");
	if (hist != NULL && m->hist != NULL) {
		struct proto_err herr = {{0}};
		if (hist_from_json(hist, m->hist, &herr) != 0)
			return proto_fail(err, "%s: field \"hist\": %s", what, herr.msg);
		tmp.has_hist = true;
	}
	if (json_object_get(msg, "load") != NULL) {
		if (tmp.phase != MSG_PHASE_LOAD)
			return proto_fail(err, "%s: field \"load\": only phase load has one", what);
		if (msg_read_object(msg, "load", &tmp.load, msg_load_done_fields,
		                    MSG_NELEM(msg_load_done_fields), what, err) != 0)
			return -1;
		tmp.has_load = true;
	}
	if (json_object_get(msg, "churn") != NULL) {
		if (tmp.phase != MSG_PHASE_CHURN)
			return proto_fail(err, "%s: field \"churn\": only phase churn has one",
			                  what);
		if (msg_churn_unpack(msg, &tmp.churn, what, err) != 0)
			return -1;
		tmp.has_churn = true;
	}
	if (json_object_get(msg, "tick") != NULL) {
		if (tmp.phase != MSG_PHASE_LOAD)
			return proto_fail(err, "%s: field \"tick\": only phase load has one", what);
		if (msg_read_object(msg, "tick", &tmp.tick, msg_load_tick_fields,
		                    MSG_NELEM(msg_load_tick_fields), what, err) != 0)
			return -1;
		if (tmp.tick.p50_us > tmp.tick.p99_us || tmp.tick.p99_us > tmp.tick.max_us)
			return proto_fail(
			    err,
			    "%s: field \"tick\": p50_us <= p99_us <= max_us, got %lld, %lld, %lld",
			    what, (long long)tmp.tick.p50_us, (long long)tmp.tick.p99_us,
			    (long long)tmp.tick.max_us);
		tmp.has_tick = true;
	}
	tmp.hist = m->hist;
	*m = tmp;
	return 0;
}

json_t *msg_result_pack(const struct msg_result *m)
{
	json_t *hist = json_object();

	hist = msg_add(hist, "connect", hist_to_json(&m->connect));
	hist = msg_add(hist, "echo", hist_to_json(&m->echo));
	return msg_add(msg_add(proto_new(PROTO_RESULT), "counts", msg_counts_pack(&m->counts)),
	               "hist", hist);
}

/* hist.c's errors start with "hist: "; this names which one: "result: field \"hist.echo\": ..." */
static int msg_read_hist(const json_t *o, const char *key, struct hist *h, struct proto_err *err)
{
	struct proto_err herr = {{0}};
	const json_t *v = json_object_get(o, key);

	if (v == NULL)
		return proto_fail(err, "result: missing field \"hist.%s\"", key);
	if (hist_from_json(v, h, &herr) != 0) {
		const char *reason = strncmp(herr.msg, "hist: ", 6) == 0 ? herr.msg + 6 : herr.msg;

		return proto_fail(err, "result: field \"hist.%s\": %.200s", key, reason);
	}
	return 0;
}

static int msg_read_hists(const json_t *o, struct msg_result *m, struct proto_err *err)
{
	static const char *const keys[] = {"connect", "echo", NULL};

	if (o == NULL)
		return proto_fail(err, "result: missing field \"hist\"");
	if (!json_is_object(o))
		return proto_fail(err, "result: field \"hist\": expected an object, got %s",
		                  proto_json_type_name(o));
	if (proto_check_keys(o, NULL, 0, keys, "result", "hist.", err) != 0 ||
	    msg_read_hist(o, "connect", &m->connect, err) != 0 ||
	    msg_read_hist(o, "echo", &m->echo, err) != 0)
		return -1;
	return 0;
}

/*
 * Two histograms make struct msg_result ~90 KB, too big for a second copy on
 * a control thread's stack: this one unpacks in place and clears *m on failure.
 */
int msg_result_unpack(json_t *msg, struct msg_result *m, struct proto_err *err)
{
	static const char *const extra[] = {"v", "type", "counts", "hist", NULL};
	static const struct msg_shape shape = {MSG_BIT(PROTO_RESULT), "result", NULL, 0, extra};
	const json_t *counts = json_object_get(msg, "counts");

	if (msg_read(msg, &shape, NULL, err) == NULL)
		return -1;
	if (counts == NULL)
		return proto_fail(err, "result: missing field \"counts\"");
	if (msg_read_counts(counts, &m->counts, "result", "counts.", err) != 0 ||
	    msg_read_hists(json_object_get(msg, "hist"), m, err) != 0) {
		memset(m, 0, sizeof(*m));
		return -1;
	}
	return 0;
}
