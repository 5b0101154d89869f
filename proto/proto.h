/*
 * proto — connscale's wire messages: one ZeroMQ frame, one JSON object,
 * {"v": 1, "type": "...", ...}.
 *
 * Decoding is two-stage: proto_decode() checks the envelope (JSON object, size,
 * version, known type) and hands back the root; a strict per-type unpack
 * (e.g. stats_unpack()) then checks every field and rejects unknown ones.
 * Every failure fills a caller-owned struct proto_err with one human sentence.
 */
#ifndef CONNSCALE_PROTO_H
#define CONNSCALE_PROTO_H

#include <stddef.h>

#include <jansson.h>

#define PROTO_VERSION 1
/* Largest message either side accepts; also set as ZMQ_MAXMSGSIZE on sockets. */
#define PROTO_MAX_MSG (1024 * 1024)

enum proto_type {
	/* agent -> coordinator */
	PROTO_HELLO,
	PROTO_READY,
	PROTO_REJECT,
	PROTO_PROGRESS,
	PROTO_PHASE_DONE,
	PROTO_RESULT,
	PROTO_HEARTBEAT,
	PROTO_BYE,
	/* coordinator -> agent */
	PROTO_WELCOME,
	PROTO_ASSIGN,
	PROTO_GO,
	PROTO_STOP,
	PROTO_RESULT_ACK,
	/* anyone -> server stats endpoint, and its answer */
	PROTO_STATS_REQ,
	PROTO_SERVER_STATS,
	PROTO_TYPE_COUNT
};

struct proto_err {
	char msg[256];
};

/* printf into err->msg; returns -1 so callers can `return proto_fail(...)`. */
int proto_fail(struct proto_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* "hello", "server_stats", ...; NULL for an out-of-range value. */
const char *proto_type_name(enum proto_type type);
/* Returns the type for a name, or -1. */
int proto_type_from_name(const char *name);

/* "object", "array", "string", "integer", "real", "true", "false", "null" (for error text). */
const char *proto_json_type_name(const json_t *j);

/* A new object {"v": PROTO_VERSION, "type": name}; the caller adds fields. */
json_t *proto_new(enum proto_type type);

/*
 * Stage one: parse len bytes (not NUL-terminated) as a message envelope.
 * Returns the root object (caller decrefs) with *type set, or NULL with err
 * filled: not JSON, not an object, oversized, missing/wrong "v" or "type",
 * unknown version (naming both versions), unknown type.
 */
json_t *proto_decode(const void *buf, size_t len, enum proto_type *type, struct proto_err *err);

/* Serialises msg compactly; returns a malloc'ed buffer (caller frees) or NULL. */
char *proto_encode(const json_t *msg, size_t *len);

/*
 * Stage two helper: strict json_unpack_ex over a message body whose "v" and
 * "type" were already checked. fmt is a jansson format string for an object
 * that must also accept "v" and "type" (this function adds them); unknown keys
 * are errors. On failure, err reads "<what>: <jansson's reason>".
 */
int proto_unpack(json_t *msg, struct proto_err *err, const char *what, const char *fmt, ...);

#endif
