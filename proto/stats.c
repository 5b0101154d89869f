/*
 * stats — pack and strictly unpack the server's `server_stats` message.
 *
 * One table describes every scalar field, so packing, unpacking and the
 * unknown-key check cannot drift apart when a field is added.
 */
#include <stddef.h>
#include <string.h>

#include "stats.h"

enum stats_kind { STATS_STR, STATS_INT, STATS_DBL };

struct stats_field {
	const char *name;
	enum stats_kind kind;
	size_t off;
	size_t size; /* buffer size, STATS_STR only */
};

#define STATS_F(kind, field)                                                                       \
	{                                                                                          \
#field, kind, offsetof(struct server_stats, field),                                \
		    sizeof(((struct server_stats *)0)->field)                                      \
	}

static const struct stats_field stats_fields[] = {
    STATS_F(STATS_STR, model),
    STATS_F(STATS_STR, process),
    STATS_F(STATS_INT, processes),
    STATS_F(STATS_INT, stack_size),
    STATS_F(STATS_INT, uptime_ms),
    STATS_F(STATS_INT, conns_current),
    STATS_F(STATS_INT, conns_max),
    STATS_F(STATS_INT, conns_total),
    STATS_F(STATS_INT, resets),
    STATS_F(STATS_INT, threads),
    STATS_F(STATS_INT, fds),
    STATS_F(STATS_INT, rss_kb),
    STATS_F(STATS_INT, hwm_kb),
    STATS_F(STATS_INT, pss_kb),
    STATS_F(STATS_INT, kernel_stack_kb),
    STATS_F(STATS_INT, slab_kb),
    STATS_F(STATS_INT, page_tables_kb),
    STATS_F(STATS_DBL, user_kb_per_conn),
    STATS_F(STATS_DBL, kernel_kb_per_conn),
    STATS_F(STATS_DBL, cpu_user_s),
    STATS_F(STATS_DBL, cpu_sys_s),
    STATS_F(STATS_INT, ctxsw_voluntary),
    STATS_F(STATS_INT, ctxsw_involuntary),
    STATS_F(STATS_DBL, host_cpu_user_s),
    STATS_F(STATS_DBL, host_cpu_sys_s),
    STATS_F(STATS_DBL, host_cpu_softirq_s),
    STATS_F(STATS_DBL, host_cpu_idle_s),
    STATS_F(STATS_INT, capacity),
    STATS_F(STATS_STR, capacity_limit),
};

#define STATS_NFIELDS (sizeof(stats_fields) / sizeof(stats_fields[0]))

static const char *const stats_refusal_names[STATS_REFUSED_COUNT] = {
    [STATS_REFUSED_EMFILE] = "emfile", [STATS_REFUSED_ENFILE] = "enfile",
    [STATS_REFUSED_THREAD] = "thread", [STATS_REFUSED_MAX_CONNS] = "max_conns",
    [STATS_REFUSED_OTHER] = "other",
};

const char *stats_refusal_name(enum stats_refusal r)
{
	if ((int)r < 0 || r >= STATS_REFUSED_COUNT)
		return NULL;
	return stats_refusal_names[r];
}

json_t *stats_req_new(void)
{
	return proto_new(PROTO_STATS_REQ);
}

static json_t *stats_field_json(const struct server_stats *s, const struct stats_field *f)
{
	const char *p = (const char *)s + f->off;
	const char *end;
	int64_t i;
	double d;

	switch (f->kind) {
	case STATS_STR:
		/* Bounded (strnlen is not C11): a buffer the caller forgot to terminate. */
		end = memchr(p, '\0', f->size);
		return json_stringn(p, end ? (size_t)(end - p) : f->size);
	case STATS_INT:
		memcpy(&i, p, sizeof(i));
		return json_integer((json_int_t)i);
	case STATS_DBL:
		memcpy(&d, p, sizeof(d));
		return json_real(d); /* NULL for NaN/inf: such a message is a bug upstream */
	}
	return NULL;
}

static json_t *stats_refused_json(const struct server_stats *s)
{
	json_t *o = json_object();

	if (o == NULL)
		return NULL;
	for (int r = 0; r < STATS_REFUSED_COUNT; r++) {
		if (json_object_set_new(o, stats_refusal_names[r],
		                        json_integer((json_int_t)s->refused[r])) != 0) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

json_t *stats_pack(const struct server_stats *s)
{
	json_t *msg = proto_new(PROTO_SERVER_STATS);

	if (msg == NULL)
		return NULL;
	for (size_t i = 0; i < STATS_NFIELDS; i++) {
		const struct stats_field *f = &stats_fields[i];

		if (json_object_set_new(msg, f->name, stats_field_json(s, f)) != 0)
			goto error;
	}
	if (json_object_set_new(msg, "refused", stats_refused_json(s)) != 0)
		goto error;
	return msg;
error:
	json_decref(msg);
	return NULL;
}

static int stats_read_field(const json_t *v, const struct stats_field *f, struct server_stats *s,
                            struct proto_err *err)
{
	char *p = (char *)s + f->off;
	int64_t i;
	double d;

	if (v == NULL)
		return proto_fail(err, "server_stats: missing field \"%s\"", f->name);
	switch (f->kind) {
	case STATS_STR:
		if (!json_is_string(v))
			break;
		/* Reject rather than truncate: a cut sentence would mislead the report. */
		if (json_string_length(v) >= f->size)
			return proto_fail(
			    err, "server_stats: field \"%s\" is %zu bytes, longer than %zu",
			    f->name, json_string_length(v), f->size - 1);
		memcpy(p, json_string_value(v), json_string_length(v) + 1);
		return 0;
	case STATS_INT:
		if (!json_is_integer(v))
			break;
		i = (int64_t)json_integer_value(v);
		memcpy(p, &i, sizeof(i));
		return 0;
	case STATS_DBL:
		/* Other encoders write 0.0 as 0: any number is a valid ratio. */
		if (!json_is_number(v))
			break;
		d = json_number_value(v);
		memcpy(p, &d, sizeof(d));
		return 0;
	}
	return proto_fail(err, "server_stats: field \"%s\": expected %s, got %s", f->name,
	                  f->kind == STATS_STR   ? "a string"
	                  : f->kind == STATS_INT ? "an integer"
	                                         : "a number",
	                  proto_json_type_name(v));
}

static int stats_read_refused(const json_t *o, struct server_stats *s, struct proto_err *err)
{
	const char *key;
	json_t *v;

	if (o == NULL)
		return proto_fail(err, "server_stats: missing field \"refused\"");
	if (!json_is_object(o))
		return proto_fail(err,
		                  "server_stats: field \"refused\": expected an object, got %s",
		                  proto_json_type_name(o));
	json_object_foreach((json_t *)o, key, v)
	{
		int r = 0;

		while (r < STATS_REFUSED_COUNT && strcmp(stats_refusal_names[r], key) != 0)
			r++;
		if (r == STATS_REFUSED_COUNT)
			return proto_fail(err, "server_stats: unknown field \"refused.%.64s\"",
			                  key);
		if (!json_is_integer(v))
			return proto_fail(
			    err,
			    "server_stats: field \"refused.%s\": expected an integer, "
			    "got %s",
			    key, proto_json_type_name(v));
		s->refused[r] = (int64_t)json_integer_value(v);
	}
	/* Every key present is known and distinct, so fewer keys means one is missing. */
	for (int r = 0; r < STATS_REFUSED_COUNT; r++) {
		if (json_object_get(o, stats_refusal_names[r]) == NULL)
			return proto_fail(err, "server_stats: missing field \"refused.%s\"",
			                  stats_refusal_names[r]);
	}
	return 0;
}

/* Every key of msg must be "v", "type", "refused" or a table field. */
static int stats_check_keys(json_t *msg, struct proto_err *err)
{
	const char *key;
	json_t *v;

	json_object_foreach(msg, key, v)
	{
		size_t i = 0;

		if (!strcmp(key, "v") || !strcmp(key, "type") || !strcmp(key, "refused"))
			continue;
		while (i < STATS_NFIELDS && strcmp(stats_fields[i].name, key) != 0)
			i++;
		if (i == STATS_NFIELDS)
			return proto_fail(err, "server_stats: unknown field \"%.64s\"", key);
	}
	return 0;
}

int stats_unpack(json_t *msg, struct server_stats *s, struct proto_err *err)
{
	/* Filled aside so a failed unpack leaves the caller's struct untouched. */
	struct server_stats tmp;
	const char *type;

	memset(&tmp, 0, sizeof(tmp));
	if (!json_is_object(msg))
		return proto_fail(err, "server_stats: expected an object");
	type = json_string_value(json_object_get(msg, "type"));
	if (type != NULL && strcmp(type, "server_stats") != 0)
		return proto_fail(err, "server_stats: message has type \"%.64s\"", type);
	if (stats_check_keys(msg, err) != 0)
		return -1;
	for (size_t i = 0; i < STATS_NFIELDS; i++) {
		const struct stats_field *f = &stats_fields[i];

		if (stats_read_field(json_object_get(msg, f->name), f, &tmp, err) != 0)
			return -1;
	}
	if (stats_read_refused(json_object_get(msg, "refused"), &tmp, err) != 0)
		return -1;
	*s = tmp;
	return 0;
}
