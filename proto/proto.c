/*
 * proto — envelope checks and strict unpacking for connscale's wire messages.
 */
#include <errno.h>
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

int proto_unpack(json_t *msg, struct proto_err *err, const char *what, const char *fmt, ...)
{
	json_error_t jerr;
	json_t *body;
	va_list ap;
	int rc;

	if (!json_is_object(msg))
		return proto_fail(err, "%s: expected an object", what);
	/*
	 * The caller's format describes only its own fields. A shallow copy
	 * without "v" and "type" lets JSON_STRICT reject every other unknown
	 * key without touching the caller's argument list. Values are shared
	 * with msg, so borrowed strings and objects stay valid while msg lives.
	 */
	body = json_copy(msg);
	if (body == NULL)
		return proto_fail(err, "%s: out of memory", what);
	json_object_del(body, "v");
	json_object_del(body, "type");

	va_start(ap, fmt);
	rc = json_vunpack_ex(body, &jerr, JSON_STRICT, fmt, ap);
	va_end(ap);
	json_decref(body);
	if (rc != 0)
		return proto_fail(err, "%s: %s", what, jerr.text);
	return 0;
}
