/*
 * plan — strict parsing of plan.json.
 *
 * Each section has a reader that first checks its keys against a list (so a
 * typo is an error naming the full path and the keys that would have been
 * valid), then reads each value through a typed getter that says what was
 * expected and what was found. Rules that span sections (port 0 needs
 * "local", steps end at connections, ...) run last, in plan_check().
 */
#define _POSIX_C_SOURCE 200809L /* O_CLOEXEC, fdopen */

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "netaddr.h"
#include "plan.h"
#include "stack_size.h"

struct plan_ctx {
	const char *file; /* prefixes every error */
	struct proto_err *err;
};

/* "<file>: <path>: <sentence>" (or "<file>: <sentence>" at the top level). */
__attribute__((format(printf, 3, 4))) static int plan_fail(const struct plan_ctx *c,
                                                           const char *path, const char *fmt, ...)
{
	char msg[sizeof(c->err->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (path[0] == '\0')
		return proto_fail(c->err, "%s: %s", c->file, msg);
	return proto_fail(c->err, "%s: %s: %s", c->file, path, msg);
}

/* The value as the user wrote it, for "got ...": -5, 1.5, "abc", array. */
static const char *plan_got(const json_t *v, char *buf, size_t size)
{
	if (json_is_integer(v))
		snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, size, "%g", json_real_value(v));
	else if (json_is_string(v))
		snprintf(buf, size, "\"%.40s%s\"", json_string_value(v),
		         json_string_length(v) > 40 ? "..." : "");
	else
		snprintf(buf, size, "%s", proto_json_type_name(v));
	return buf;
}

/* parent.key, or key at the top level. */
static const char *plan_path(char *buf, size_t size, const char *parent, const char *key)
{
	snprintf(buf, size, "%s%s%.64s", parent, parent[0] ? "." : "", key);
	return buf;
}

/* obj must be an object whose keys are all in keys (NULL-terminated). */
static int plan_keys(const struct plan_ctx *c, const json_t *obj, const char *path,
                     const char *const *keys)
{
	char list[160] = "", got[64], kpath[128];
	const char *key;
	json_t *v;

	if (!json_is_object(obj))
		return plan_fail(c, path, "expected an object, got %s",
		                 plan_got(obj, got, sizeof(got)));
	json_object_foreach((json_t *)obj, key, v)
	{
		size_t i = 0;

		while (keys[i] != NULL && strcmp(keys[i], key) != 0)
			i++;
		if (keys[i] != NULL)
			continue;
		for (i = 0; keys[i] != NULL; i++) {
			size_t len = strlen(list);

			snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "", keys[i]);
		}
		return plan_fail(c, plan_path(kpath, sizeof(kpath), path, key),
		                 "unknown key (expected %s)", list);
	}
	return 0;
}

static int plan_require(const struct plan_ctx *c, const json_t *obj, const char *parent,
                        const char *key, const char *what)
{
	char path[128];

	if (json_object_get(obj, key) != NULL)
		return 0;
	return plan_fail(c, plan_path(path, sizeof(path), parent, key), "missing (required: %s)",
	                 what);
}

/* An optional integer in min..max; absent leaves *out (the default) alone. */
static int plan_int(const struct plan_ctx *c, const json_t *obj, const char *parent,
                    const char *key, int64_t min, int64_t max, int64_t *out)
{
	const json_t *v = json_object_get(obj, key);
	char path[128], want[64], got[64];

	if (v == NULL)
		return 0;
	if (json_is_integer(v) && json_integer_value(v) >= min && json_integer_value(v) <= max) {
		*out = (int64_t)json_integer_value(v);
		return 0;
	}
	if (max == INT64_MAX && min == 0)
		snprintf(want, sizeof(want), "a non-negative integer");
	else if (max == INT64_MAX && min == 1)
		snprintf(want, sizeof(want), "a positive integer");
	else
		snprintf(want, sizeof(want), "an integer in %" PRId64 "..%" PRId64, min, max);
	return plan_fail(c, plan_path(path, sizeof(path), parent, key), "expected %s, got %s", want,
	                 plan_got(v, got, sizeof(got)));
}

/*
 * An optional number in lo..hi (lo itself only if lo_ok); absent leaves *out
 * alone. want says it in words: "a positive number (or 0 for unlimited)".
 */
static int plan_num(const struct plan_ctx *c, const json_t *obj, const char *parent,
                    const char *key, double lo, bool lo_ok, double hi, const char *want,
                    double *out)
{
	const json_t *v = json_object_get(obj, key);
	char path[128], got[64];
	double d = json_number_value(v);

	if (v == NULL)
		return 0;
	if (json_is_number(v) && (d > lo || (lo_ok && d == lo)) && d <= hi) {
		*out = d;
		return 0;
	}
	return plan_fail(c, plan_path(path, sizeof(path), parent, key), "expected %s, got %s", want,
	                 plan_got(v, got, sizeof(got)));
}

/*
 * Where s (len bytes of UTF-8) holds a character that would rewrite a terminal
 * or page it is printed on: a C0 control or DEL, a C1 control, or a bidi
 * override or isolate (U+202A-U+202E, U+2066-U+2069); -1 if none.
 */
static long plan_control_at(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;

	for (size_t i = 0; i < len; i++) {
		if (u[i] < 0x20 || u[i] == 0x7f)
			return (long)i;
		if (u[i] == 0xc2 && i + 1 < len && u[i + 1] >= 0x80 && u[i + 1] <= 0x9f)
			return (long)i;
		if (u[i] == 0xe2 && i + 2 < len &&
		    ((u[i + 1] == 0x80 && u[i + 2] >= 0xaa && u[i + 2] <= 0xae) ||
		     (u[i + 1] == 0x81 && u[i + 2] >= 0xa6 && u[i + 2] <= 0xa9)))
			return (long)i;
	}
	return -1;
}

/*
 * A string that fits buf (and is non-empty if asked), checked against v
 * directly; printed on terminals and pages, so no control character.
 */
static int plan_str_value(const struct plan_ctx *c, const json_t *v, const char *path, char *buf,
                          size_t size, bool nonempty)
{
	char got[64];
	size_t len = json_string_length(v);
	long bad = json_is_string(v) ? plan_control_at(json_string_value(v), len) : -1;

	if (bad >= 0)
		return plan_fail(c, path,
		                 "a control character at byte %ld (terminals and pages would "
		                 "obey it): write the text without it",
		                 bad);
	if (json_is_string(v) && len < size && (len > 0 || !nonempty)) {
		memcpy(buf, json_string_value(v), len + 1);
		return 0;
	}
	if (json_is_string(v) && len >= size)
		snprintf(got, sizeof(got), "%zu bytes", len);
	else
		plan_got(v, got, sizeof(got));
	return plan_fail(c, path, "expected a %sstring of at most %zu bytes, got %s",
	                 nonempty ? "non-empty " : "", size - 1, got);
}

static int plan_str(const struct plan_ctx *c, const json_t *obj, const char *parent,
                    const char *key, char *buf, size_t size, bool nonempty)
{
	const json_t *v = json_object_get(obj, key);
	char path[128];

	if (v == NULL)
		return 0;
	return plan_str_value(c, v, plan_path(path, sizeof(path), parent, key), buf, size,
	                      nonempty);
}

static int plan_parse_target(const struct plan_ctx *c, const json_t *o, struct plan *p)
{
	static const char *const keys[] = {"host", "port", NULL};
	const json_t *port = json_object_get(o, "port");
	char got[64];

	/* Port 0 (pick a free one) is valid only with "local": plan_check() knows both. */
	if (plan_keys(c, o, "target", keys) != 0 ||
	    plan_require(c, o, "target", "host", "the server's IPv4 address or host name") != 0 ||
	    plan_require(c, o, "target", "port", "the server's port") != 0 ||
	    plan_str(c, o, "target", "host", p->target_name, sizeof(p->target_name), true) != 0 ||
	    (!(json_is_integer(port) && json_integer_value(port) == 0) &&
	     plan_int(c, o, "target", "port", 1, 65535, &p->target_port) != 0))
		return -1;
	/* A name is only checked for its form here: plan_resolve() looks it up. */
	if (!proto_is_ipv4(p->target_name) && !netaddr_is_hostname(p->target_name))
		return plan_fail(c, "target.host",
		                 "expected an IPv4 address (dotted quad) or a host name, got %s",
		                 plan_got(json_object_get(o, "host"), got, sizeof(got)));
	memcpy(p->target_host, p->target_name, sizeof(p->target_host));
	return 0;
}

static int plan_parse_names(const struct plan_ctx *c, const json_t *a, struct plan *p)
{
	char path[64], got[64];
	const json_t *v;
	size_t i;

	if (!json_is_array(a))
		return plan_fail(c, "agents.names", "expected an array of agent names, got %s",
		                 plan_got(a, got, sizeof(got)));
	if ((int64_t)json_array_size(a) != p->agents_count)
		return plan_fail(c, "agents.names",
		                 "expected %" PRId64 " agent names (agents.count), got %zu",
		                 p->agents_count, json_array_size(a));
	p->names = calloc(json_array_size(a), sizeof(*p->names));
	if (p->names == NULL)
		return plan_fail(c, "agents.names", "out of memory");
	json_array_foreach(a, i, v)
	{
		snprintf(path, sizeof(path), "agents.names[%zu]", i);
		if (plan_str_value(c, v, path, p->names[i], sizeof(p->names[i]), true) != 0)
			return -1;
		for (size_t j = 0; j < i; j++) {
			if (strcmp(p->names[j], p->names[i]) == 0)
				return plan_fail(c, path, "\"%s\" is already agents.names[%zu]",
				                 p->names[i], j);
		}
		p->nnames = (int64_t)i + 1;
	}
	return 0;
}

static int plan_parse_weights(const struct plan_ctx *c, const json_t *o, struct plan *p)
{
	const char *key;
	char path[128];
	json_t *v;

	if (!json_is_object(o))
		return plan_fail(c, "agents.weights", "expected an object of name: weight, got %s",
		                 plan_got(o, path, sizeof(path)));
	if ((int64_t)json_object_size(o) > p->agents_count)
		return plan_fail(c, "agents.weights",
		                 "expected at most %" PRId64 " weights (agents.count), got %zu",
		                 p->agents_count, json_object_size(o));
	p->weights = calloc(json_object_size(o) + 1, sizeof(*p->weights));
	if (p->weights == NULL)
		return plan_fail(c, "agents.weights", "out of memory");
	json_object_foreach((json_t *)o, key, v)
	{
		struct plan_agent_weight *w = &p->weights[p->nweights];
		int64_t i = 0;

		plan_path(path, sizeof(path), "agents.weights", key);
		if (key[0] == '\0' || strlen(key) >= sizeof(w->name))
			return plan_fail(c, path, "expected an agent name of 1..%zu bytes",
			                 sizeof(w->name) - 1);
		memcpy(w->name, key, strlen(key) + 1);
		while (i < p->nnames && strcmp(p->names[i], key) != 0)
			i++;
		if (p->nnames > 0 && i == p->nnames)
			return plan_fail(c, path, "\"%s\" is not one of agents.names", key);
		w->weight = -1;
		if (plan_num(c, o, "agents.weights", key, 0, false, 1e6,
		             "a positive number (at most 1e6)", &w->weight) != 0)
			return -1;
		p->nweights++;
	}
	return 0;
}

static int plan_parse_agents(const struct plan_ctx *c, const json_t *o, struct plan *p)
{
	static const char *const keys[] = {"count", "join_timeout_s", "names", "weights", NULL};

	if (plan_keys(c, o, "agents", keys) != 0 ||
	    plan_require(c, o, "agents", "count", "how many agents run the plan") != 0 ||
	    plan_int(c, o, "agents", "count", 1, PLAN_MAX_AGENTS, &p->agents_count) != 0 ||
	    plan_num(c, o, "agents", "join_timeout_s", 0, false, 86400,
	             "a positive number of seconds (at most 86400)", &p->join_timeout_s) != 0)
		return -1;
	if (json_object_get(o, "names") != NULL &&
	    plan_parse_names(c, json_object_get(o, "names"), p) != 0)
		return -1;
	if (json_object_get(o, "weights") != NULL &&
	    plan_parse_weights(c, json_object_get(o, "weights"), p) != 0)
		return -1;
	return 0;
}

/* steps: strictly increasing connection levels, the last one the whole plan. */
static int plan_parse_steps(const struct plan_ctx *c, const json_t *a, struct plan *p)
{
	char path[48], got[64];
	const json_t *v;
	size_t i;

	if (!json_is_array(a) || json_array_size(a) < 1 || json_array_size(a) > MSG_MAX_STEPS) {
		if (json_is_array(a))
			snprintf(got, sizeof(got), "%zu entries", json_array_size(a));
		return plan_fail(c, "steps", "expected an array of 1..%d connection levels, got %s",
		                 MSG_MAX_STEPS, json_is_array(a) ? got : proto_json_type_name(a));
	}
	json_array_foreach(a, i, v)
	{
		int64_t n = (int64_t)json_integer_value(v);

		snprintf(path, sizeof(path), "steps[%zu]", i);
		if (!json_is_integer(v) || n < 1)
			return plan_fail(c, path, "expected a positive integer, got %s",
			                 plan_got(v, got, sizeof(got)));
		if ((i > 0 && n <= p->steps[i - 1]) || n > p->connections ||
		    (i == json_array_size(a) - 1 && n != p->connections))
			return plan_fail(c, path,
			                 "expected steps in increasing order ending at connections "
			                 "(%" PRId64 "), got %" PRId64,
			                 p->connections, n);
		p->steps[i] = n;
	}
	p->nsteps = (int64_t)json_array_size(a);
	return 0;
}

static int plan_parse_ramp(const struct plan_ctx *c, const json_t *o, struct plan *p)
{
	static const char *const keys[] = {"rate_per_s", "connect_timeout_ms", NULL};

	if (plan_keys(c, o, "ramp", keys) != 0 ||
	    plan_num(c, o, "ramp", "rate_per_s", 0, true, 1e9,
	             "a positive number (or 0 for unlimited, at most 1e9)", &p->rate_per_s) != 0 ||
	    plan_int(c, o, "ramp", "connect_timeout_ms", 1, 3600000, &p->connect_timeout_ms) != 0)
		return -1;
	return 0;
}

static int plan_parse_echo(const struct plan_ctx *c, const json_t *o, struct plan *p)
{
	static const char *const keys[] = {"payload_bytes", "rounds", "interval_ms", "timeout_ms",
	                                   NULL};

	if (plan_keys(c, o, "echo", keys) != 0 ||
	    plan_int(c, o, "echo", "payload_bytes", 1, 1024 * 1024, &p->payload_bytes) != 0 ||
	    plan_int(c, o, "echo", "rounds", 0, 1000000, &p->rounds) != 0 ||
	    plan_int(c, o, "echo", "interval_ms", 0, 3600000, &p->interval_ms) != 0 ||
	    plan_int(c, o, "echo", "timeout_ms", 1, 3600000, &p->echo_timeout_ms) != 0)
		return -1;
	return 0;
}

/* One rate of load.rate_per_s, at `path`. */
static int plan_load_rate(const struct plan_ctx *c, const json_t *v, const char *path, double *out)
{
	char got[64];
	double d = json_number_value(v);

	if (json_is_number(v) && d > 0 && d <= 1e9) {
		*out = d;
		return 0;
	}
	return plan_fail(c, path, "expected a positive number of messages/s (at most 1e9), got %s",
	                 plan_got(v, got, sizeof(got)));
}

/* load.rate_per_s: one rate, or a sweep of up to MSG_MAX_LOADS, lowest first. */
static int plan_parse_load_rates(const struct plan_ctx *c, const json_t *v, struct plan *p)
{
	char path[48], got[64];
	const json_t *r;
	size_t i;

	if (!json_is_array(v)) {
		p->nload_rates = 1;
		return plan_load_rate(c, v, "load.rate_per_s", &p->load_rates[0]);
	}
	if (json_array_size(v) < 1 || json_array_size(v) > MSG_MAX_LOADS) {
		snprintf(got, sizeof(got), "%zu entries", json_array_size(v));
		return plan_fail(c, "load.rate_per_s",
		                 "expected a rate or a list of 1..%d rates, got %s", MSG_MAX_LOADS,
		                 got);
	}
	json_array_foreach(v, i, r)
	{
		snprintf(path, sizeof(path), "load.rate_per_s[%zu]", i);
		if (plan_load_rate(c, r, path, &p->load_rates[i]) != 0)
			return -1;
		if (i > 0 && p->load_rates[i] <= p->load_rates[i - 1])
			return plan_fail(c, path,
			                 "expected rates in increasing order, got %g after %g",
			                 p->load_rates[i], p->load_rates[i - 1]);
	}
	p->nload_rates = (int64_t)json_array_size(v);
	return 0;
}

static int plan_parse_load(const struct plan_ctx *c, const json_t *o, struct plan *p)
{
	static const char *const keys[] = {"rate_per_s", "duration_s", "payload_bytes", NULL};

	p->load_payload_bytes = 0; /* 0 until given: plan_check() defaults it to echo's */
	if (plan_keys(c, o, "load", keys) != 0 ||
	    plan_require(c, o, "load", "rate_per_s", "messages per second, or a list of rates") !=
	        0 ||
	    plan_parse_load_rates(c, json_object_get(o, "rate_per_s"), p) != 0 ||
	    plan_num(c, o, "load", "duration_s", 0.001, true, 86400,
	             "a number of seconds from 0.001 to 86400", &p->load_duration_s) != 0 ||
	    plan_int(c, o, "load", "payload_bytes", 1, 1024 * 1024, &p->load_payload_bytes) != 0)
		return -1;
	return 0;
}

static int plan_parse_churn(const struct plan_ctx *c, const json_t *o, struct plan *p)
{
	static const char *const keys[] = {"rate_per_s", "duration_s", NULL};

	if (plan_keys(c, o, "churn", keys) != 0 ||
	    plan_require(c, o, "churn", "rate_per_s", "new connections per second") != 0 ||
	    plan_num(c, o, "churn", "rate_per_s", 1, true, 1e7,
	             "a number of connections/s from 1 to 1e7", &p->churn_rate_per_s) != 0 ||
	    plan_num(c, o, "churn", "duration_s", 0.001, true, 86400,
	             "a number of seconds from 0.001 to 86400", &p->churn_duration_s) != 0)
		return -1;
	return 0;
}

static int plan_parse_server(const struct plan_ctx *c, const json_t *o, struct plan *p)
{
	static const char *const keys[] = {"stats", "interval_ms", NULL};

	if (plan_keys(c, o, "server", keys) != 0 ||
	    plan_str(c, o, "server", "stats", p->server_stats, sizeof(p->server_stats), true) !=
	        0 ||
	    plan_int(c, o, "server", "interval_ms", 10, 3600000, &p->server_interval_ms) != 0)
		return -1;
	if (p->server_stats[0] != '\0' && strstr(p->server_stats, "://") == NULL)
		return plan_fail(c, "server.stats",
		                 "expected a ZeroMQ endpoint like \"tcp://198.18.0.1:5701\", got "
		                 "\"%.64s\"",
		                 p->server_stats);
	return 0;
}

static int plan_parse_thresholds(const struct plan_ctx *c, const json_t *a, struct plan *p)
{
	struct proto_err terr = {{0}};
	char path[48], got[64];
	const json_t *v;
	size_t i;

	if (!json_is_array(a) || json_array_size(a) > PLAN_MAX_THRESHOLDS) {
		if (json_is_array(a))
			snprintf(got, sizeof(got), "%zu", json_array_size(a));
		return plan_fail(
		    c, "thresholds", "expected an array of at most %d expressions, got %s",
		    PLAN_MAX_THRESHOLDS, json_is_array(a) ? got : proto_json_type_name(a));
	}
	json_array_foreach(a, i, v)
	{
		snprintf(path, sizeof(path), "thresholds[%zu]", i);
		if (!json_is_string(v))
			return plan_fail(c, path,
			                 "expected a string like \"echo_errors == 0\", got %s",
			                 plan_got(v, got, sizeof(got)));
		if (threshold_parse(json_string_value(v), &p->thresholds[i], &terr) != 0)
			return plan_fail(c, path, "%s", terr.msg);
		p->nthresholds = (int64_t)i + 1;
	}
	return 0;
}

/* local.server.command[i]: a string (jansson refuses \u0000), the program's name non-empty. */
static int plan_command_arg(const struct plan_ctx *c, const json_t *v, size_t i, struct plan *p)
{
	char path[48], got[64];
	size_t len = json_string_length(v);

	snprintf(path, sizeof(path), "local.server.command[%zu]", i);
	if (!json_is_string(v) || len >= PLAN_MAX_ARG_BYTES || (i == 0 && len == 0)) {
		if (json_is_string(v) && len > 0)
			snprintf(got, sizeof(got), "%zu bytes", len);
		else
			plan_got(v, got, sizeof(got));
		return plan_fail(c, path, "expected a %sstring of at most %d bytes, got %s",
		                 i == 0 ? "non-empty " : "", PLAN_MAX_ARG_BYTES - 1, got);
	}
	p->local_command[i] = strdup(json_string_value(v));
	if (p->local_command[i] == NULL)
		return plan_fail(c, path, "out of memory");
	p->local_ncommand = (int64_t)i + 1;
	return 0;
}

/*
 * local.server.command: the argv of any server, started instead of
 * connscale's. The coordinator picks its port, so "{port}" must be in it.
 */
static int plan_parse_command(const struct plan_ctx *c, const json_t *a, struct plan *p)
{
	bool has_port = false;
	char got[64];
	const json_t *v;
	size_t i;

	if (!json_is_array(a) || json_array_size(a) < 1 || json_array_size(a) > PLAN_MAX_ARGS) {
		if (json_is_array(a))
			snprintf(got, sizeof(got), "%zu entries", json_array_size(a));
		return plan_fail(c, "local.server.command",
		                 "expected the server's argv, an array of 1..%d strings like "
		                 "[\"./echo\", \"--port\", \"{port}\"], got %s",
		                 PLAN_MAX_ARGS,
		                 json_is_array(a) ? got : plan_got(a, got, sizeof(got)));
	}
	p->local_command = calloc(json_array_size(a), sizeof(*p->local_command));
	if (p->local_command == NULL)
		return plan_fail(c, "local.server.command", "out of memory");
	json_array_foreach(a, i, v)
	{
		if (plan_command_arg(c, v, i, p) != 0)
			return -1;
		has_port |= strstr(p->local_command[i], PLAN_PORT_TOKEN) != NULL;
	}
	if (!has_port)
		return plan_fail(c, "local.server.command",
		                 "expected \"" PLAN_PORT_TOKEN "\" in at least one argument (the "
		                 "coordinator picks a free port and puts it there)");
	return 0;
}

/* With "command", connscale's own server's settings have no meaning, and the other way. */
static int plan_command_excludes(const struct plan_ctx *c, const json_t *o)
{
	static const char *const own[] = {"model", "stack_size", "processes"};
	bool command = json_object_get(o, "command") != NULL;
	char path[64];

	for (size_t i = 0; command && i < sizeof(own) / sizeof(own[0]); i++)
		if (json_object_get(o, own[i]) != NULL)
			return plan_fail(c, plan_path(path, sizeof(path), "local.server", own[i]),
			                 "not with local.server.command (it sets up connscale's "
			                 "own server; the command is the whole server)");
	if (!command && json_object_get(o, "ready_timeout_s") != NULL)
		return plan_fail(c, "local.server.ready_timeout_s",
		                 "only with local.server.command (connscale's own server says "
		                 "when it is ready)");
	return 0;
}

static int plan_parse_local_server(const struct plan_ctx *c, const json_t *o, struct plan *p)
{
	static const char *const keys[] = {"model",   "stack_size",      "processes",
	                                   "command", "ready_timeout_s", NULL};

	if (plan_keys(c, o, "local.server", keys) != 0 || plan_command_excludes(c, o) != 0)
		return -1;
	if (json_object_get(o, "command") != NULL) {
		if (plan_parse_command(c, json_object_get(o, "command"), p) != 0 ||
		    plan_num(c, o, "local.server", "ready_timeout_s", 0.1, true, 600,
		             "a number of seconds from 0.1 to 600", &p->local_ready_s) != 0)
			return -1;
		return 0;
	}
	if (plan_str(c, o, "local.server", "model", p->local_model, sizeof(p->local_model), true) !=
	        0 ||
	    plan_str(c, o, "local.server", "stack_size", p->local_stack_size,
	             sizeof(p->local_stack_size), true) != 0 ||
	    plan_int(c, o, "local.server", "processes", 1, 1024, &p->local_processes) != 0)
		return -1;
	if (strcmp(p->local_model, "threads") != 0 && strcmp(p->local_model, "epoll") != 0)
		return plan_fail(c, "local.server.model",
		                 "expected \"threads\" or \"epoll\", got \"%s\"", p->local_model);
	/* The server's own parser: what passes here, `server --stack-size` takes. */
	size_t bytes;
	int rc = stack_size_parse(p->local_stack_size, &bytes);
	if (rc == -ERANGE)
		return plan_fail(c, "local.server.stack_size",
		                 "expected at most \"1g\", got \"%s\"", p->local_stack_size);
	if (rc != 0)
		return plan_fail(c, "local.server.stack_size",
		                 "expected a size like \"16k\", \"64k\", \"8m\" or \"default\", "
		                 "got \"%s\"",
		                 p->local_stack_size);
	return 0;
}

static int plan_parse_local(const struct plan_ctx *c, const json_t *o, struct plan *p)
{
	static const char *const keys[] = {"agents", "server", NULL};

	p->local = true;
	p->local_agents = p->agents_count;
	if (plan_keys(c, o, "local", keys) != 0 ||
	    plan_int(c, o, "local", "agents", 1, PLAN_MAX_AGENTS, &p->local_agents) != 0)
		return -1;
	if (json_object_get(o, "server") != NULL &&
	    plan_parse_local_server(c, json_object_get(o, "server"), p) != 0)
		return -1;
	return 0;
}

/* Rules that join two sections. */
/*
 * The agents share a churn in whole connections a second, and it opens rate x
 * duration of them: a fraction of a rate, or less than one connection in all,
 * would silently open fewer than asked.
 */
static int plan_check_churn(const struct plan_ctx *c, const struct plan *p)
{
	if (p->churn_rate_per_s <= 0)
		return 0;
	if (p->churn_rate_per_s != floor(p->churn_rate_per_s))
		return plan_fail(c, "churn.rate_per_s",
		                 "expected a whole number of connections/s (the agents share whole "
		                 "connections a second), got %g",
		                 p->churn_rate_per_s);
	if (p->churn_rate_per_s * p->churn_duration_s < 1)
		return plan_fail(c, "churn.duration_s",
		                 "%g s at %g connections/s is less than one connection",
		                 p->churn_duration_s, p->churn_rate_per_s);
	return 0;
}

static int plan_check(const struct plan_ctx *c, const struct plan *p)
{
	if (p->target_port == 0 && !p->local)
		return plan_fail(c, "target.port",
		                 "expected an integer in 1..65535, got 0 (port 0, a free port, "
		                 "needs \"local\")");
	/* A name is checked once resolved (plan_resolve). */
	if (p->local && proto_is_ipv4(p->target_host) && strncmp(p->target_host, "127.", 4) != 0)
		return plan_fail(c, "target.host",
		                 "expected a loopback address (127.x.x.x) with \"local\", got "
		                 "\"%s\"",
		                 p->target_host);
	if (p->local_ncommand > 0 && p->target_port != 0)
		return plan_fail(c, "target.port",
		                 "expected 0 with local.server.command (the coordinator picks a "
		                 "free port for it), got %" PRId64,
		                 p->target_port);
	if (p->local && p->local_agents != p->agents_count)
		return plan_fail(c, "local.agents",
		                 "expected agents.count (%" PRId64 "), got %" PRId64,
		                 p->agents_count, p->local_agents);
	if (p->local && p->server_stats[0] != '\0')
		return plan_fail(c, "server.stats",
		                 "a \"local\" plan samples the server it starts: leave it out (got "
		                 "\"%.64s\")",
		                 p->server_stats);
	return plan_check_churn(c, p);
}

/* Runs a section reader on root[key] when present. */
static int plan_section(const struct plan_ctx *c, const json_t *root, const char *key,
                        int (*fn)(const struct plan_ctx *, const json_t *, struct plan *),
                        struct plan *p)
{
	const json_t *v = json_object_get(root, key);

	return v == NULL ? 0 : fn(c, v, p);
}

static int plan_parse_root(const struct plan_ctx *c, const json_t *root, struct plan *p)
{
	static const char *const keys[] = {
	    "name", "target", "agents", "connections", "steps",      "ramp",  "echo",
	    "load", "churn",  "hold_s", "server",      "thresholds", "local", NULL};

	if (plan_keys(c, root, "", keys) != 0 ||
	    plan_require(c, root, "", "name", "a name for the run") != 0 ||
	    plan_require(c, root, "", "target", "{\"host\", \"port\"}") != 0 ||
	    plan_require(c, root, "", "agents", "{\"count\"}") != 0 ||
	    plan_require(c, root, "", "connections", "how many connections to open") != 0 ||
	    plan_str(c, root, "", "name", p->name, sizeof(p->name), true) != 0 ||
	    plan_parse_target(c, json_object_get(root, "target"), p) != 0 ||
	    plan_parse_agents(c, json_object_get(root, "agents"), p) != 0 ||
	    plan_int(c, root, "", "connections", 1, PLAN_MAX_CONNECTIONS, &p->connections) != 0)
		return -1;
	p->steps[0] = p->connections;
	if (plan_section(c, root, "steps", plan_parse_steps, p) != 0 ||
	    plan_section(c, root, "ramp", plan_parse_ramp, p) != 0 ||
	    plan_section(c, root, "echo", plan_parse_echo, p) != 0 ||
	    plan_section(c, root, "load", plan_parse_load, p) != 0 ||
	    plan_section(c, root, "churn", plan_parse_churn, p) != 0 ||
	    plan_num(c, root, "", "hold_s", 0, true, 604800,
	             "a non-negative number of seconds (at most 604800)", &p->hold_s) != 0 ||
	    plan_section(c, root, "server", plan_parse_server, p) != 0 ||
	    plan_section(c, root, "thresholds", plan_parse_thresholds, p) != 0 ||
	    plan_section(c, root, "local", plan_parse_local, p) != 0)
		return -1;
	if (p->load_payload_bytes == 0)
		p->load_payload_bytes = p->payload_bytes;
	return plan_check(c, p);
}

static void plan_defaults(struct plan *p)
{
	memset(p, 0, sizeof(*p));
	p->join_timeout_s = 30;
	p->nsteps = 1;
	p->connect_timeout_ms = MSG_DEFAULT_CONNECT_TIMEOUT_MS;
	p->payload_bytes = MSG_DEFAULT_PAYLOAD_BYTES;
	p->rounds = MSG_DEFAULT_ROUNDS;
	p->echo_timeout_ms = MSG_DEFAULT_ECHO_TIMEOUT_MS;
	p->load_duration_s = MSG_DEFAULT_LOAD_DURATION_S;
	p->churn_duration_s = MSG_DEFAULT_CHURN_DURATION_S;
	p->server_interval_ms = 500;
	snprintf(p->local_model, sizeof(p->local_model), "threads");
	snprintf(p->local_stack_size, sizeof(p->local_stack_size), "64k");
	p->local_ready_s = 10;
}

int plan_parse(const char *text, size_t len, const char *file, struct plan *p,
               struct proto_err *err)
{
	struct plan_ctx c = {file ? file : "plan", err};
	json_error_t jerr;
	json_t *root;
	int rc;

	plan_defaults(p);
	if (len > PLAN_MAX_BYTES)
		return proto_fail(err, "%s: %zu bytes exceeds the plan size limit of %d", c.file,
		                  len, PLAN_MAX_BYTES);
	if (proto_json_depth(text, len, PLAN_MAX_DEPTH) > PLAN_MAX_DEPTH)
		return proto_fail(err, "%s: nests deeper than the plan nesting limit of %d levels",
		                  c.file, PLAN_MAX_DEPTH);
	/* DECODE_ANY lets "42" reach the "expected an object" check, which says what it got. */
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (root == NULL)
		return proto_fail(err, "%s:%d:%d: not JSON: %s", c.file, jerr.line, jerr.column,
		                  jerr.text);
	rc = plan_parse_root(&c, root, p);
	json_decref(root);
	if (rc == 0) {
		p->json = plan_to_json(p);
		if (p->json == NULL)
			rc = proto_fail(err, "%s: out of memory", c.file);
	}
	if (rc != 0)
		plan_free(p);
	return rc;
}

/* "N bytes exceeds ..." for a regular file; a pipe cannot say its size. */
static int plan_too_big(FILE *f, const char *path, struct proto_err *err)
{
	long size = -1;

	if (fseek(f, 0, SEEK_END) == 0)
		size = ftell(f);
	if (size > PLAN_MAX_BYTES)
		return proto_fail(err, "%s: %ld bytes exceeds the plan size limit of %d", path,
		                  size, PLAN_MAX_BYTES);
	return proto_fail(err, "%s: more than %d bytes exceeds the plan size limit", path,
	                  PLAN_MAX_BYTES);
}

static const char *plan_file_kind(mode_t mode)
{
	if (S_ISDIR(mode))
		return strerror(EISDIR);
	if (S_ISFIFO(mode))
		return "Is a FIFO";
	if (S_ISCHR(mode) || S_ISBLK(mode))
		return "Is a device";
	return "Not a regular file";
}

/*
 * The plan as a stream, refused unless it is a regular file: a FIFO would
 * block the run before it starts (O_NONBLOCK lets the open return so fstat can
 * say so), a device could be read forever.
 */
static FILE *plan_open(const char *path, struct proto_err *err)
{
	struct stat st;
	FILE *f;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);

	if (fd < 0) {
		proto_fail(err, "%s: cannot read: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) < 0) {
		proto_fail(err, "%s: cannot read: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		proto_fail(err, "%s: cannot read: %s (a plan must be a regular file)", path,
		           plan_file_kind(st.st_mode));
		goto fail;
	}
	f = fdopen(fd, "rb");
	if (f == NULL) {
		proto_fail(err, "%s: cannot read: %s", path, strerror(errno));
		goto fail;
	}
	return f;
fail:
	close(fd);
	return NULL;
}

int plan_load(const char *path, struct plan *p, struct proto_err *err)
{
	FILE *f;
	char *buf;
	size_t n;
	int rc;

	plan_defaults(p);
	f = plan_open(path, err);
	if (f == NULL)
		return -1;
	/* One byte past the limit tells "too big" from "exactly at the limit". */
	buf = malloc(PLAN_MAX_BYTES + 1);
	if (buf == NULL) {
		fclose(f);
		return proto_fail(err, "%s: out of memory", path);
	}
	n = fread(buf, 1, PLAN_MAX_BYTES + 1, f);
	if (ferror(f))
		rc = proto_fail(err, "%s: cannot read: %s", path, strerror(errno));
	else if (n > PLAN_MAX_BYTES)
		rc = plan_too_big(f, path, err);
	else
		rc = plan_parse(buf, n, path, p, err);
	free(buf);
	fclose(f);
	if (rc == 0 && (rc = plan_resolve(p, path, err)) != 0)
		plan_free(p);
	return rc;
}

int plan_resolve(struct plan *p, const char *file, struct proto_err *err)
{
	const struct plan_ctx c = {file, err};
	char why[320];
	struct in_addr a;

	if (proto_is_ipv4(p->target_name))
		return 0;
	if (netaddr_resolve(p->target_name, &a, why, sizeof(why)) != 0)
		return plan_fail(&c, "target.host", "%s", why);
	inet_ntop(AF_INET, &a, p->target_host, sizeof(p->target_host));
	if (p->local && strncmp(p->target_host, "127.", 4) != 0)
		return plan_fail(&c, "target.host",
		                 "expected a loopback address (127.x.x.x) with \"local\", got "
		                 "\"%s\" (%s)",
		                 p->target_name, p->target_host);
	return 0;
}

void plan_free(struct plan *p)
{
	if (p == NULL)
		return;
	free(p->names);
	free(p->weights);
	for (int64_t i = 0; p->local_command != NULL && i < p->local_ncommand; i++)
		free(p->local_command[i]);
	free(p->local_command);
	json_decref(p->json);
	p->local_command = NULL;
	p->local_ncommand = 0;
	p->names = NULL;
	p->weights = NULL;
	p->json = NULL;
	p->nnames = 0;
	p->nweights = 0;
}

/* arg with every PLAN_PORT_TOKEN replaced by port: never longer than arg. */
static char *plan_subst_port(const char *arg, int port)
{
	char digits[16], *out = malloc(strlen(arg) + 1), *o = out;
	size_t tlen = strlen(PLAN_PORT_TOKEN);
	int dlen = snprintf(digits, sizeof(digits), "%d", port);

	if (out == NULL || dlen < 0 || (size_t)dlen > tlen) {
		free(out);
		return NULL;
	}
	while (*arg != '\0') {
		if (strncmp(arg, PLAN_PORT_TOKEN, tlen) == 0) {
			memcpy(o, digits, (size_t)dlen);
			o += dlen;
			arg += tlen;
		} else {
			*o++ = *arg++;
		}
	}
	*o = '\0';
	return out;
}

char **plan_command_argv(const struct plan *p, int port)
{
	char **argv = calloc((size_t)p->local_ncommand + 1, sizeof(*argv));

	if (argv == NULL || port < 0 || port > 65535) {
		free(argv);
		return NULL;
	}
	for (int64_t i = 0; i < p->local_ncommand; i++) {
		argv[i] = plan_subst_port(p->local_command[i], port);
		if (argv[i] == NULL) {
			plan_argv_free(argv);
			return NULL;
		}
	}
	return argv;
}

void plan_argv_free(char **argv)
{
	for (size_t i = 0; argv != NULL && argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}
