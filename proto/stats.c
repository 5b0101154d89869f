/*
 * stats — pack and strictly unpack the server's `server_stats` message.
 *
 * One proto_field table (proto.h) describes every field, with its range, so
 * packing, strict unpacking and the unknown-key check cannot drift apart when
 * a field is added; the same decoder as every other message.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "stats.h"

#define COUNT(field) PROTO_FIELD(struct server_stats, field, PROTO_KIND_INT, 0, INT64_MAX)
/* Deltas since the server started: memory the host gave back reads below zero. */
#define DELTA(field)          PROTO_FIELD(struct server_stats, field, PROTO_KIND_INT, INT64_MIN, INT64_MAX)
#define RATIO(field)          PROTO_FIELD(struct server_stats, field, PROTO_KIND_DBL, INT64_MIN, 0)
#define SECS(field)           PROTO_FIELD(struct server_stats, field, PROTO_KIND_DBL, 0, 0)
#define TEXT(field, shortest) PROTO_FIELD(struct server_stats, field, PROTO_KIND_STR, shortest, 0)

static const struct proto_field stats_fields[] = {
    TEXT(model, 1),
    TEXT(process, 0),
    COUNT(processes),
    COUNT(stack_size),
    COUNT(uptime_ms),
    COUNT(conns_current),
    COUNT(conns_max),
    COUNT(conns_total),
    COUNT(resets),
    COUNT(threads),
    COUNT(fds),
    COUNT(rss_kb),
    COUNT(hwm_kb),
    COUNT(pss_kb),
    DELTA(kernel_stack_kb),
    DELTA(slab_kb),
    DELTA(page_tables_kb),
    RATIO(user_kb_per_conn),
    RATIO(kernel_kb_per_conn),
    SECS(cpu_user_s),
    SECS(cpu_sys_s),
    COUNT(ctxsw_voluntary),
    COUNT(ctxsw_involuntary),
    SECS(host_cpu_user_s),
    SECS(host_cpu_sys_s),
    SECS(host_cpu_softirq_s),
    SECS(host_cpu_idle_s),
    /* -1: no limit could be read (host_capacity()). */
    PROTO_FIELD(struct server_stats, capacity, PROTO_KIND_INT, -1, INT64_MAX),
    TEXT(capacity_limit, 0),
};

#define STATS_NFIELDS (sizeof(stats_fields) / sizeof(stats_fields[0]))

/* Fields a server may leave out (an older build): STATS_UNKNOWN when absent. */
static const struct proto_field optional_fields[] = {
    PROTO_FIELD(struct server_stats, page_frag_kb, PROTO_KIND_INT, 0, INT64_MAX),
};

#define STATS_NOPTIONAL (sizeof(optional_fields) / sizeof(optional_fields[0]))

/* "refused": one count per reason, each a member of the refused[] array. */
#define REFUSED(name, r)                                                                           \
	{                                                                                          \
		name, PROTO_KIND_INT,                                                              \
		    offsetof(struct server_stats, refused) + (size_t)(r) * sizeof(int64_t),        \
		    sizeof(int64_t), 0, INT64_MAX                                                  \
	}

static const struct proto_field refused_fields[STATS_REFUSED_COUNT] = {
    REFUSED("emfile", STATS_REFUSED_EMFILE), REFUSED("enfile", STATS_REFUSED_ENFILE),
    REFUSED("thread", STATS_REFUSED_THREAD), REFUSED("max_conns", STATS_REFUSED_MAX_CONNS),
    REFUSED("other", STATS_REFUSED_OTHER),
};

const char *stats_refusal_name(enum stats_refusal r)
{
	if ((int)r < 0 || r >= STATS_REFUSED_COUNT)
		return NULL;
	return refused_fields[r].name;
}

int64_t stats_page_frag_kb(void)
{
	long page = sysconf(_SC_PAGESIZE);

	return (page > 32768 ? page : 32768) / 1024;
}

json_t *stats_req_new(void)
{
	return proto_new(PROTO_STATS_REQ);
}

int stats_boot_id_read(char *out, size_t size)
{
	char buf[64];
	ssize_t n;
	int fd;

	if (size == 0)
		return -EINVAL;
	out[0] = '\0';
	fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	do
		n = read(fd, buf, sizeof(buf) - 1);
	while (n < 0 && errno == EINTR);
	int err = n < 0 ? -errno : 0;
	close(fd);
	if (err < 0)
		return err;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (!stats_boot_id_valid(buf))
		return -EINVAL;
	if (strlen(buf) >= size)
		return -ERANGE; /* never a prefix: it would match nothing, or the wrong kernel */
	memcpy(out, buf, strlen(buf) + 1);
	return 0;
}

int stats_boot_id_valid(const char *s)
{
	size_t n = strspn(s, "0123456789abcdef-");

	return n > 0 && n < STATS_BOOT_ID_MAX && s[n] == '\0';
}

int stats_boot_id_unpack(const json_t *msg, const char *type, char out[STATS_BOOT_ID_MAX],
                         struct proto_err *err)
{
	const json_t *v = json_object_get(msg, "boot_id");

	if (v == NULL)
		return 0;
	if (!json_is_string(v) || !stats_boot_id_valid(json_string_value(v)))
		return proto_fail(err,
		                  "%s: field \"boot_id\": expected a boot id (1 to %d "
		                  "characters of 0-9, a-f and -), got %s",
		                  type, STATS_BOOT_ID_MAX - 1,
		                  json_is_string(v) ? "another string" : proto_json_type_name(v));
	snprintf(out, STATS_BOOT_ID_MAX, "%s", json_string_value(v));
	return 0;
}

int stats_boot_id_pack(json_t *msg, const char id[STATS_BOOT_ID_MAX])
{
	if (memchr(id, '\0', STATS_BOOT_ID_MAX) == NULL || !stats_boot_id_valid(id))
		return 0; /* unknown, or not a boot id: left out */
	return json_object_set_new(msg, "boot_id", json_string(id));
}

static int optional_pack(json_t *msg, const struct server_stats *s)
{
	for (size_t i = 0; i < STATS_NOPTIONAL; i++) {
		const int64_t *v = (const int64_t *)((const char *)s + optional_fields[i].off);

		if (*v != STATS_UNKNOWN && proto_fields_pack(msg, s, &optional_fields[i], 1) != 0)
			return -1;
	}
	return 0;
}

/* Each optional field: read when present (checked like any other), else STATS_UNKNOWN. */
static int optional_unpack(json_t *msg, struct server_stats *s, struct proto_err *err)
{
	for (size_t i = 0; i < STATS_NOPTIONAL; i++) {
		int64_t *v = (int64_t *)((char *)s + optional_fields[i].off);

		*v = STATS_UNKNOWN;
		if (json_object_get(msg, optional_fields[i].name) != NULL &&
		    proto_fields_unpack(msg, s, &optional_fields[i], 1, "server_stats", "", err))
			return -1;
	}
	return 0;
}

json_t *stats_pack(const struct server_stats *s)
{
	json_t *msg = proto_new(PROTO_SERVER_STATS), *refused = json_object();

	if (msg == NULL || refused == NULL ||
	    proto_fields_pack(msg, s, stats_fields, STATS_NFIELDS) != 0 ||
	    optional_pack(msg, s) != 0 ||
	    proto_fields_pack(refused, s, refused_fields, STATS_REFUSED_COUNT) != 0 ||
	    json_object_set(msg, "refused", refused) != 0 ||
	    stats_boot_id_pack(msg, s->boot_id) != 0) {
		json_decref(msg);
		msg = NULL;
	}
	json_decref(refused);
	return msg;
}

int stats_unpack(json_t *msg, struct server_stats *s, struct proto_err *err)
{
	static const char *const extra[] = {"v",       "type",         "refused",
	                                    "boot_id", "page_frag_kb", NULL};
	/* Filled aside so a failed unpack leaves the caller's struct untouched. */
	struct server_stats tmp;
	const char *type;
	const json_t *refused;

	memset(&tmp, 0, sizeof(tmp));
	if (!json_is_object(msg))
		return proto_fail(err, "server_stats: expected an object");
	type = json_string_value(json_object_get(msg, "type"));
	if (type == NULL)
		return proto_fail(err, "server_stats: missing field \"type\"");
	if (strcmp(type, "server_stats") != 0)
		return proto_fail(err, "server_stats: message has type \"%.64s\"", type);
	refused = json_object_get(msg, "refused");
	if (proto_check_keys(msg, stats_fields, STATS_NFIELDS, extra, "server_stats", "", err) ||
	    proto_fields_unpack(msg, &tmp, stats_fields, STATS_NFIELDS, "server_stats", "", err) ||
	    optional_unpack(msg, &tmp, err))
		return -1;
	if (refused == NULL)
		return proto_fail(err, "server_stats: missing field \"refused\"");
	if (!json_is_object(refused))
		return proto_fail(err,
		                  "server_stats: field \"refused\": expected an object, got %s",
		                  proto_json_type_name(refused));
	if (proto_check_keys(refused, refused_fields, STATS_REFUSED_COUNT, NULL, "server_stats",
	                     "refused.", err) ||
	    proto_fields_unpack(refused, &tmp, refused_fields, STATS_REFUSED_COUNT, "server_stats",
	                        "refused.", err) ||
	    stats_boot_id_unpack(msg, "server_stats", tmp.boot_id, err))
		return -1;
	*s = tmp;
	return 0;
}
