/*
 * proto — envelope checks and strict unpacking for connscale's wire messages.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

/* Indexed by enum proto_type; these strings are the wire names. */
static const char *const proto_type_names[PROTO_TYPE_COUNT] = {
    [PROTO_HELLO] = "hello",
    [PROTO_READY] = "ready",
    [PROTO_REJECT] = "reject",
    [PROTO_PROGRESS] = "progress",
    [PROTO_PHASE_DONE] = "phase_done",
    [PROTO_RESULT] = "result",
    [PROTO_HEARTBEAT] = "heartbeat",
    [PROTO_BYE] = "bye",
    [PROTO_WELCOME] = "welcome",
    [PROTO_ASSIGN] = "assign",
    [PROTO_GO] = "go",
    [PROTO_STOP] = "stop",
    [PROTO_RESULT_ACK] = "result_ack",
    [PROTO_STATS_REQ] = "stats_req",
    [PROTO_SERVER_STATS] = "server_stats",
};

int proto_fail(struct proto_err *err, const char *fmt, ...)
{
	va_list ap;

	/* Callers may not care about the reason; the -1 still tells them it failed. */
	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

const char *proto_type_name(enum proto_type type)
{
	/* The enum may arrive from a cast int, so check both ends. */
	if ((int)type < 0 || type >= PROTO_TYPE_COUNT)
		return NULL;
	return proto_type_names[type];
}

int proto_type_from_name(const char *name)
{
	if (name == NULL)
		return -1;
	for (int i = 0; i < PROTO_TYPE_COUNT; i++) {
		if (strcmp(proto_type_names[i], name) == 0)
			return i;
	}
	return -1;
}

const char *proto_json_type_name(const json_t *j)
{
	switch (json_typeof(j)) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
		return "integer";
	case JSON_REAL:
		return "real";
	case JSON_TRUE:
		return "true";
	case JSON_FALSE:
		return "false";
	case JSON_NULL:
		return "null";
	}
	return "unknown";
}

json_t *proto_new(enum proto_type type)
{
	const char *name = proto_type_name(type);
	json_t *msg;

	if (name == NULL)
		return NULL;
	msg = json_object();
	if (msg == NULL)
		return NULL;
	if (json_object_set_new(msg, "v", json_integer(PROTO_VERSION)) != 0 ||
	    json_object_set_new(msg, "type", json_string(name)) != 0) {
		json_decref(msg);
		return NULL;
	}
	return msg;
}

bool proto_other_version(const void *buf, size_t len)
{
	json_error_t jerr;
	bool sane =
	    len <= PROTO_MAX_MSG && proto_json_depth(buf, len, PROTO_MAX_DEPTH) <= PROTO_MAX_DEPTH;
	json_t *root = sane ? json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr) : NULL;
	const json_t *v = json_object_get(root, "v");
	bool other = json_is_integer(v) && json_integer_value(v) != PROTO_VERSION &&
	             json_is_string(json_object_get(root, "type"));

	json_decref(root);
	return other;
}

/* Checks "v" and "type" of a parsed root object; returns the type or -1. */
static int proto_check_envelope(const json_t *root, struct proto_err *err)
{
	const json_t *v = json_object_get(root, "v");
	const json_t *type = json_object_get(root, "type");
	int t;

	if (v == NULL)
		return proto_fail(err, "missing \"v\" (protocol version)");
	if (!json_is_integer(v))
		return proto_fail(err, "\"v\" must be an integer, got %s", proto_json_type_name(v));
	if (json_integer_value(v) != PROTO_VERSION)
		return proto_fail(err,
		                  "protocol version %" JSON_INTEGER_FORMAT
		                  " is not supported (this side speaks version %d)",
		                  json_integer_value(v), PROTO_VERSION);
	if (type == NULL)
		return proto_fail(err, "missing \"type\"");
	if (!json_is_string(type))
		return proto_fail(err, "\"type\" must be a string, got %s",
		                  proto_json_type_name(type));
	t = proto_type_from_name(json_string_value(type));
	if (t < 0)
		return proto_fail(err, "unknown message type \"%.64s\"", json_string_value(type));
	return t;
}

int proto_json_depth(const void *buf, size_t len, int limit)
{
	const unsigned char *p = buf;
	bool in_string = false, escaped = false;
	int depth = 0, deepest = 0;

	for (size_t i = 0; i < len && deepest <= limit; i++) {
		if (in_string) {
			/* A quote ends the string unless a backslash escapes it. */
			if (escaped)
				escaped = false;
			else if (p[i] == '\\')
				escaped = true;
			else if (p[i] == '"')
				in_string = false;
		} else if (p[i] == '"') {
			in_string = true;
		} else if (p[i] == '[' || p[i] == '{') {
			if (++depth > deepest)
				deepest = depth;
		} else if ((p[i] == ']' || p[i] == '}') && depth > 0) {
			depth--;
		}
	}
	return deepest;
}

json_t *proto_decode(const void *buf, size_t len, enum proto_type *type, struct proto_err *err)
{
	json_error_t jerr;
	json_t *root;
	int t;

	/* Checked before parsing so a hostile peer cannot make us parse megabytes. */
	if (len > PROTO_MAX_MSG) {
		proto_fail(err, "message of %zu bytes exceeds the limit of %d", len, PROTO_MAX_MSG);
		return NULL;
	}
	if (proto_json_depth(buf, len, PROTO_MAX_DEPTH) > PROTO_MAX_DEPTH) {
		proto_fail(err, "message nests deeper than the limit of %d levels",
		           PROTO_MAX_DEPTH);
		return NULL;
	}
	/*
	 * Duplicate keys are rejected because two peers could otherwise read
	 * different values from one message. DECODE_ANY lets a bare scalar
	 * reach the "not an object" check, which names what was sent.
	 */
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (root == NULL) {
		proto_fail(err, "not JSON: %s at %d:%d", jerr.text, jerr.line, jerr.column);
		return NULL;
	}
	if (!json_is_object(root)) {
		proto_fail(err, "expected a JSON object, got %s", proto_json_type_name(root));
		json_decref(root);
		return NULL;
	}
	t = proto_check_envelope(root, err);
	if (t < 0) {
		json_decref(root);
		return NULL;
	}
	if (type != NULL)
		*type = (enum proto_type)t;
	return root;
}

char *proto_encode(const json_t *msg, size_t *len)
{
	char *buf = json_dumps(msg, JSON_COMPACT);
	size_t n;

	if (buf == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	n = strlen(buf);
	/* The peer would refuse it (ZMQ_MAXMSGSIZE, proto_decode): fail here, loudly. */
	if (n > PROTO_MAX_MSG) {
		free(buf);
		errno = EMSGSIZE;
		return NULL;
	}
	if (len != NULL)
		*len = n;
	return buf;
}

bool proto_is_ipv4(const char *s)
{
	int parts = 0;

	if (s == NULL)
		return false;
	for (;;) {
		int digits = 0, val = 0;

		while (*s >= '0' && *s <= '9' && digits < 4) {
			val = val * 10 + (*s - '0');
			digits++;
			s++;
		}
		/* "01" would read as octal to inet_aton: refuse the ambiguity. */
		if (digits == 0 || digits > 3 || val > 255 || (digits > 1 && s[-digits] == '0'))
			return false;
		if (++parts == 4)
			return *s == '\0';
		if (*s++ != '.')
			return false;
	}
}

static json_t *proto_field_json(const void *s, const struct proto_field *f)
{
	const char *p = (const char *)s + f->off;
	const char *end;
	int64_t i;
	double d;

	switch (f->kind) {
	case PROTO_KIND_STR:
	case PROTO_KIND_IPV4:
		/* Bounded: a buffer the caller forgot to terminate. */
		end = memchr(p, '\0', f->size);
		return json_stringn(p, end ? (size_t)(end - p) : f->size);
	case PROTO_KIND_INT:
		memcpy(&i, p, sizeof(i));
		return json_integer((json_int_t)i);
	case PROTO_KIND_DBL:
		memcpy(&d, p, sizeof(d));
		return json_real(d); /* NULL for NaN/inf: the pack then fails */
	}
	return NULL;
}

int proto_fields_pack(json_t *obj, const void *s, const struct proto_field *f, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (json_object_set_new(obj, f[i].name, proto_field_json(s, &f[i])) != 0)
			return -1;
	}
	return 0;
}

/* What a field must be, for error text: "a non-negative integer", "an integer in 1..65535". */
static void proto_field_expect(const struct proto_field *f, char *buf, size_t size)
{
	switch (f->kind) {
	case PROTO_KIND_STR:
		snprintf(buf, size, "a %sstring of at most %zu bytes",
		         f->min > 0 ? "non-empty " : "", f->size - 1);
		return;
	case PROTO_KIND_IPV4:
		snprintf(buf, size, "an IPv4 address (dotted quad)");
		return;
	case PROTO_KIND_INT:
		if (f->max == INT64_MAX && f->min == INT64_MIN)
			snprintf(buf, size, "an integer");
		else if (f->max == INT64_MAX && f->min == 0)
			snprintf(buf, size, "a non-negative integer");
		else if (f->max == INT64_MAX && f->min == 1)
			snprintf(buf, size, "a positive integer");
		else if (f->max == INT64_MAX)
			snprintf(buf, size, "an integer >= %" PRId64, f->min);
		else
			snprintf(buf, size, "an integer in %" PRId64 "..%" PRId64, f->min, f->max);
		return;
	case PROTO_KIND_DBL:
		if (f->min == INT64_MIN && f->max <= 0)
			snprintf(buf, size, "a number");
		else if (f->max > 0)
			snprintf(buf, size, "a number in %" PRId64 "..%" PRId64, f->min, f->max);
		else
			snprintf(buf, size, "a number >= %" PRId64, f->min);
		return;
	}
	snprintf(buf, size, "a value");
}

/* Checks v against f and stores it; 1 if it has the wrong type, -1 if the value is out of range. */
static int proto_field_store(const json_t *v, const struct proto_field *f, void *s)
{
	char *p = (char *)s + f->off;
	size_t len;
	int64_t i;
	double d;

	switch (f->kind) {
	case PROTO_KIND_STR:
	case PROTO_KIND_IPV4:
		if (!json_is_string(v))
			return 1;
		len = json_string_length(v);
		/* Reject rather than truncate: a cut name would address another agent. */
		if (len >= f->size || (int64_t)len < f->min || strlen(json_string_value(v)) != len)
			return -1;
		if (f->kind == PROTO_KIND_IPV4 && !proto_is_ipv4(json_string_value(v)))
			return -1;
		memcpy(p, json_string_value(v), len + 1);
		return 0;
	case PROTO_KIND_INT:
		if (!json_is_integer(v))
			return 1;
		i = (int64_t)json_integer_value(v);
		if (i < f->min || i > f->max)
			return -1;
		memcpy(p, &i, sizeof(i));
		return 0;
	case PROTO_KIND_DBL:
		if (!json_is_number(v))
			return 1;
		d = json_number_value(v);
		if (!(d >= (double)f->min) || (f->max > 0 && !(d <= (double)f->max)))
			return -1;
		memcpy(p, &d, sizeof(d));
		return 0;
	}
	return 1;
}

/* The offending value for error text: `got -5`, `got 70 bytes`, `got "1.2.3"`, `got string`. */
static void proto_field_got(const json_t *v, int bad, char *buf, size_t size)
{
	if (bad > 0)
		snprintf(buf, size, "%s", proto_json_type_name(v));
	else if (json_is_integer(v))
		snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else if (json_is_real(v))
		snprintf(buf, size, "%g", json_real_value(v));
	else if (json_string_length(v) > 40 ||
	         strlen(json_string_value(v)) != json_string_length(v))
		snprintf(buf, size, "%zu bytes", json_string_length(v));
	else
		snprintf(buf, size, "\"%s\"", json_string_value(v));
}

int proto_fields_unpack(const json_t *obj, void *s, const struct proto_field *f, size_t n,
                        const char *what, const char *prefix, struct proto_err *err)
{
	for (size_t i = 0; i < n; i++) {
		const json_t *v = json_object_get(obj, f[i].name);
		char expect[64], got[64];
		int bad;

		if (v == NULL)
			return proto_fail(err, "%s: missing field \"%s%s\"", what, prefix,
			                  f[i].name);
		bad = proto_field_store(v, &f[i], s);
		if (bad == 0)
			continue;
		proto_field_expect(&f[i], expect, sizeof(expect));
		proto_field_got(v, bad, got, sizeof(got));
		return proto_fail(err, "%s: field \"%s%s\": expected %s, got %s", what, prefix,
		                  f[i].name, expect, got);
	}
	return 0;
}

int proto_check_keys(const json_t *obj, const struct proto_field *f, size_t n,
                     const char *const *extra, const char *what, const char *prefix,
                     struct proto_err *err)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)obj, key, v)
	{
		bool known = false;

		for (size_t i = 0; i < n && !known; i++)
			known = strcmp(f[i].name, key) == 0;
		for (size_t i = 0; extra != NULL && extra[i] != NULL && !known; i++)
			known = strcmp(extra[i], key) == 0;
		if (!known)
			return proto_fail(err, "%s: unknown field \"%s%.64s\"", what, prefix, key);
	}
	return 0;
}

#ifdef __SANITIZE_THREAD__
/*
 * ThreadSanitizer builds only: the same rule as tests/tsan.supp, built in, so
 * the binaries stay quiet where no TSAN_OPTIONS reaches them (started over
 * SSH by the deploy tests). libzmq passes messages to its I/O thread through
 * lock-free pipes TSan cannot see; races in connscale's own code still report.
 * The name is the TSan runtime's hook.
 */
const char *__tsan_default_suppressions(void);
const char *__tsan_default_suppressions(void)
{
	return "race:libzmq.so\n";
}
#endif
