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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#define PROTO_VERSION 1
/* Largest message either side accepts; also set as ZMQ_MAXMSGSIZE on sockets. */
#define PROTO_MAX_MSG (1024 * 1024)
/*
 * Deepest nesting of arrays and objects either side accepts. The deepest real
 * message (result: hist.connect.b[[bucket, n]]) nests 5 levels; the limit
 * keeps a hostile peer from making jansson recurse thousands of levels deep.
 */
#define PROTO_MAX_DEPTH 16

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
	char msg[512]; /* room for a long file path before the sentence */
};

/* printf into err->msg; returns -1 so callers can `return proto_fail(...)`. */
int proto_fail(struct proto_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

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
 * filled: not JSON, not an object, oversized, nested deeper than
 * PROTO_MAX_DEPTH, missing/wrong "v" or "type",
 * unknown version (naming both versions), unknown type.
 */
json_t *proto_decode(const void *buf, size_t len, enum proto_type *type, struct proto_err *err);

/*
 * True when buf is a well-formed envelope of another protocol version: a
 * peer worth telling why nothing will happen (decided on the message, never
 * on an error's wording).
 */
bool proto_other_version(const void *buf, size_t len);

/*
 * (Addition.) How deeply arrays and objects nest in the JSON text buf, found
 * by a scan that skips strings, without parsing. Stops counting once the
 * depth passes limit, so the cost is one pass whatever the input.
 */
int proto_json_depth(const void *buf, size_t len, int limit);

/* Serialises msg compactly; returns a malloc'ed buffer (caller frees) or NULL. */
char *proto_encode(const json_t *msg, size_t *len);

/*
 * Field tables (additions for msg.c): one row per scalar member of a struct,
 * so packing, strict unpacking and the unknown-key check share one
 * description and cannot drift apart. The JSON key is the member's name.
 */
enum proto_kind {
	PROTO_KIND_STR,  /* char buffer; min = shortest length, longest is size - 1 */
	PROTO_KIND_IPV4, /* char buffer holding an IPv4 dotted quad */
	PROTO_KIND_INT,  /* int64_t in min..max */
	PROTO_KIND_DBL   /* double >= min, and <= max if max > 0 (JSON integers are accepted too) */
};

struct proto_field {
	const char *name;
	enum proto_kind kind;
	size_t off;  /* offsetof the member */
	size_t size; /* sizeof the member */
	int64_t min;
	int64_t max;
};

#define PROTO_FIELD(type, member, kind, min, max)                                                  \
	{                                                                                          \
#member, kind, offsetof(type, member), sizeof(((type *)0)->member), min, max       \
	}

/* Sets every table field of struct s on obj; 0 or -1 (out of memory). */
int proto_fields_pack(json_t *obj, const void *s, const struct proto_field *f, size_t n);

/*
 * Reads every table field of obj into struct s; missing, wrong-typed and
 * out-of-range fields are errors reading `<what>: field "<prefix><name>":
 * expected ..., got ...`. prefix names the enclosing object ("counts.") or "".
 */
int proto_fields_unpack(const json_t *obj, void *s, const struct proto_field *f, size_t n,
                        const char *what, const char *prefix, struct proto_err *err);

/*
 * Every key of obj must be a table field or one of extra (NULL-terminated,
 * may be NULL): `<what>: unknown field "<prefix><key>"`.
 */
int proto_check_keys(const json_t *obj, const struct proto_field *f, size_t n,
                     const char *const *extra, const char *what, const char *prefix,
                     struct proto_err *err);

/* true for a strict IPv4 dotted quad: four decimal 0..255, no leading zeros. */
bool proto_is_ipv4(const char *s);

#endif
