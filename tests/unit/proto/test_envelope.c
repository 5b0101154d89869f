/*
 * unit.proto.envelope.* — type names, proto_new -> encode -> decode, and the
 * strictness of the field-table decoder (proto_check_keys, proto_fields_unpack).
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "proto.h"

static void type_names(void)
{
	static const char *const want[PROTO_TYPE_COUNT] = {
	    "hello",  "ready",     "reject",     "progress",  "phase_done",
	    "result", "heartbeat", "bye",        "welcome",   "assign",
	    "go",     "stop",      "result_ack", "stats_req", "server_stats",
	};

	for (int t = 0; t < PROTO_TYPE_COUNT; t++) {
		CHECK_CONTAINS(proto_type_name((enum proto_type)t), want[t]);
		CHECK(strcmp(proto_type_name((enum proto_type)t), want[t]) == 0);
		CHECK_EQ_U(proto_type_from_name(want[t]), t);
	}
	CHECK(proto_type_name(PROTO_TYPE_COUNT) == NULL);
	CHECK(proto_type_name((enum proto_type) - 1) == NULL);
	CHECK(proto_type_from_name("Hello") == -1);
	CHECK(proto_type_from_name("") == -1);
	CHECK(proto_type_from_name(NULL) == -1);
}

/* Every type survives new -> encode -> decode, and the encoding is compact. */
static void round_trip(void)
{
	for (int t = 0; t < PROTO_TYPE_COUNT; t++) {
		struct proto_err err = {{0}};
		enum proto_type got = PROTO_TYPE_COUNT;
		json_t *msg = proto_new((enum proto_type)t), *back;
		size_t len = 0;
		char *buf, want[64];

		CHECK(msg != NULL);
		buf = proto_encode(msg, &len);
		CHECK(buf != NULL);
		if (buf == NULL) {
			json_decref(msg);
			continue;
		}
		snprintf(want, sizeof(want), "{\"v\":1,\"type\":\"%s\"}",
		         proto_type_name((enum proto_type)t));
		CHECK(strcmp(buf, want) == 0);
		CHECK_EQ_U(len, strlen(want));
		back = proto_decode(buf, len, &got, &err);
		CHECK(back != NULL);
		CHECK_EQ_U(got, t);
		CHECK(json_equal(msg, back));
		json_decref(back);
		json_decref(msg);
		free(buf);
	}
	CHECK(proto_new(PROTO_TYPE_COUNT) == NULL);
}

/* The field-table decoder every message uses: a reject-like body of two fields. */
struct sample {
	char reason[16];
	int64_t n;
};
static const struct proto_field sample_fields[] = {
    PROTO_FIELD(struct sample, reason, PROTO_KIND_STR, 1, 0),
    PROTO_FIELD(struct sample, n, PROTO_KIND_INT, 0, 10),
};
#define SAMPLE_N (sizeof(sample_fields) / sizeof(sample_fields[0]))

/* Decodes json with the table; 0 or -1, the message in err. */
static int sample_decode(const char *json, struct sample *out, struct proto_err *err)
{
	static const char *const extra[] = {"v", "type", NULL};
	json_t *msg = proto_decode(json, strlen(json), NULL, err);
	int rc = msg == NULL ? -1
	         : proto_check_keys(msg, sample_fields, SAMPLE_N, extra, "reject", "", err) ||
	                 proto_fields_unpack(msg, out, sample_fields, SAMPLE_N, "reject", "", err)
	             ? -1
	             : 0;

	json_decref(msg);
	return rc;
}

static void unpack_ok(void)
{
	struct proto_err err = {{0}};
	struct sample s = {.n = 0};

	CHECK(sample_decode("{\"v\":1,\"type\":\"reject\",\"reason\":\"full\",\"n\":3}", &s,
	                    &err) == 0);
	CHECK(strcmp(s.reason, "full") == 0);
	CHECK_EQ_U(s.n, 3);
}

static void expect_unpack_error(const char *json, const char *want)
{
	struct proto_err err = {{0}};
	struct sample s;

	CHECK(sample_decode(json, &s, &err) == -1);
	CHECK_CONTAINS(err.msg, want);
}

static void unpack_unknown_key(void)
{
	expect_unpack_error("{\"v\":1,\"type\":\"reject\",\"reason\":\"x\",\"n\":1,\"extra\":0}",
	                    "reject: unknown field \"extra\"");
}

static void unpack_missing_key(void)
{
	expect_unpack_error("{\"v\":1,\"type\":\"reject\",\"reason\":\"x\"}",
	                    "reject: missing field \"n\"");
}

static void unpack_wrong_type(void)
{
	expect_unpack_error("{\"v\":1,\"type\":\"reject\",\"reason\":\"x\",\"n\":\"1\"}",
	                    "reject: field \"n\": expected an integer in 0..10, got string");
}

static void unpack_out_of_range(void)
{
	expect_unpack_error("{\"v\":1,\"type\":\"reject\",\"reason\":\"x\",\"n\":11}",
	                    "reject: field \"n\": expected an integer in 0..10, got 11");
	expect_unpack_error(
	    "{\"v\":1,\"type\":\"reject\",\"reason\":\"\",\"n\":1}",
	    "reject: field \"reason\": expected a non-empty string of at most 15 bytes");
}

/* proto_fail truncates instead of overflowing, and tolerates a NULL err. */
static void fail_truncates(void)
{
	struct proto_err err;
	char big[600];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	CHECK(proto_fail(&err, "long: %s", big) == -1);
	CHECK_EQ_U(strlen(err.msg), sizeof(err.msg) - 1);
	CHECK(proto_fail(NULL, "ignored %d", 1) == -1);
}

static const struct check_case cases[] = {
    {"type_names", type_names},
    {"round_trip", round_trip},
    {"unpack_ok", unpack_ok},
    {"unpack_unknown_key", unpack_unknown_key},
    {"unpack_missing_key", unpack_missing_key},
    {"unpack_wrong_type", unpack_wrong_type},
    {"unpack_out_of_range", unpack_out_of_range},
    {"fail_truncates", fail_truncates},
};

int main(int argc, char **argv)
{
	return CHECK_MAIN(cases);
}
