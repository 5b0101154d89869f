/*
 * unit.proto.decode.* — proto_decode() refuses every malformed envelope with
 * a sentence that says what was wrong. One ctest per bad input.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "proto.h"

static void expect_error(const void *buf, size_t len, const char *want)
{
	struct proto_err err = {{0}};
	enum proto_type type = PROTO_TYPE_COUNT;
	json_t *root = proto_decode(buf, len, &type, &err);

	CHECK(root == NULL);
	CHECK_EQ_U(type, PROTO_TYPE_COUNT); /* untouched on failure */
	CHECK_CONTAINS(err.msg, want);
	json_decref(root);
}

#define BAD(fname, input, want)                                                                    \
	static void fname(void)                                                                    \
	{                                                                                          \
		expect_error(input, sizeof(input) - 1, want);                                      \
	}

/*
 * Not JSON: our sentence is "not JSON: <the parser's reason> at LINE:COLUMN".
 * The reason is jansson's wording, not ours, so only our frame is pinned: the
 * prefix, and a position on the input's one line.
 */
static void expect_not_json(const char *input)
{
	struct proto_err err = {{0}};
	enum proto_type type = PROTO_TYPE_COUNT;
	size_t len = strlen(input);
	json_t *root = proto_decode(input, len, &type, &err);
	const char *at = strstr(err.msg, " at 1:");
	char *end = NULL;
	unsigned long column = at ? strtoul(at + 6, &end, 10) : 0;

	CHECK(root == NULL);
	CHECK_EQ_U(type, PROTO_TYPE_COUNT);
	CHECK(strncmp(err.msg, "not JSON: ", 10) == 0, "\"%s\" does not start \"not JSON: \"",
	      err.msg);
	CHECK(at != NULL && *end == '\0' && column <= len + 1,
	      "\"%s\" does not end \" at 1:COLUMN\" (a column of its %zu bytes)", err.msg, len);
	json_decref(root);
}

#define NOT_JSON(fname, input)                                                                     \
	static void fname(void)                                                                    \
	{                                                                                          \
		expect_not_json(input);                                                            \
	}

NOT_JSON(not_json, "hello there")
NOT_JSON(truncated, "{\"v\":1,\"type\":\"he")
NOT_JSON(empty, "")
BAD(array, "[1,2,3]", "expected a JSON object, got array")
BAD(scalar, "42", "expected a JSON object, got integer")
BAD(missing_v, "{\"type\":\"hello\"}", "missing \"v\"")
BAD(v_string, "{\"v\":\"1\",\"type\":\"hello\"}", "\"v\" must be an integer, got string")
BAD(v_2, "{\"v\":2,\"type\":\"hello\"}",
    "protocol version 2 is not supported (this side speaks version 1)")
BAD(missing_type, "{\"v\":1}", "missing \"type\"")
BAD(type_not_string, "{\"v\":1,\"type\":7}", "\"type\" must be a string, got integer")
BAD(unknown_type, "{\"v\":1,\"type\":\"foo\"}", "unknown message type \"foo\"")
/* Two peers could read different values from one message: duplicate keys are not JSON here. */
NOT_JSON(duplicate_keys, "{\"v\":1,\"type\":\"hello\",\"v\":1}")

/* One byte over the limit is refused before any parsing. */
static void oversized(void)
{
	size_t len = PROTO_MAX_MSG + 1;
	char *buf = malloc(len);
	char want[128];

	CHECK(buf != NULL);
	if (buf == NULL)
		return;
	memset(buf, ' ', len);
	buf[0] = '{';
	buf[len - 1] = '}';
	snprintf(want, sizeof(want), "message of %zu bytes exceeds the limit of %d", len,
	         PROTO_MAX_MSG);
	expect_error(buf, len, want);
	free(buf);
}

/* Exactly at the limit is still accepted. */
static void at_limit(void)
{
	static const char head[] = "{\"v\":1,\"type\":\"bye\"";
	size_t len = PROTO_MAX_MSG;
	char *buf = malloc(len);
	struct proto_err err = {{0}};
	enum proto_type type;
	json_t *root;

	CHECK(buf != NULL);
	if (buf == NULL)
		return;
	memset(buf, ' ', len);
	memcpy(buf, head, sizeof(head) - 1);
	buf[len - 1] = '}';
	root = proto_decode(buf, len, &type, &err);
	CHECK(root != NULL);
	CHECK_EQ_U(type, PROTO_BYE);
	json_decref(root);
	free(buf);
}

/* 17 levels of arrays: refused before jansson parses (and recurses into) any of it. */
BAD(too_deep, "{\"v\":1,\"type\":\"go\",\"x\":[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]}",
    "message nests deeper than the limit of 16 levels")
/* Brackets inside strings are text, not nesting. */
static void depth_skips_strings(void)
{
	static const char text[] = "{\"a\":\"[[[[[[[[[[[[[[[[[[[[\\\"[[[[[[\",\"b\":[[1]]}";

	CHECK_EQ_U(proto_json_depth(text, sizeof(text) - 1, PROTO_MAX_DEPTH), 3);
}

/* Exactly at the depth limit is still parsed (and then refused for what it is). */
static void at_depth_limit(void)
{
	static const char text[] =
	    "{\"v\":1,\"type\":\"go\",\"x\":[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]}";
	struct proto_err err = {{0}};
	enum proto_type type;
	json_t *root = proto_decode(text, sizeof(text) - 1, &type, &err);

	CHECK_EQ_U(proto_json_depth(text, sizeof(text) - 1, PROTO_MAX_DEPTH), 16);
	CHECK(root != NULL);
	CHECK_EQ_U(type, PROTO_GO);
	json_decref(root);
}

static const struct check_case cases[] = {
    {"not_json", not_json},
    {"truncated", truncated},
    {"empty", empty},
    {"array", array},
    {"scalar", scalar},
    {"missing_v", missing_v},
    {"v_string", v_string},
    {"v_2", v_2},
    {"missing_type", missing_type},
    {"type_not_string", type_not_string},
    {"unknown_type", unknown_type},
    {"duplicate_keys", duplicate_keys},
    {"oversized", oversized},
    {"at_limit", at_limit},
    {"too_deep", too_deep},
    {"depth_skips_strings", depth_skips_strings},
    {"at_depth_limit", at_depth_limit},
};

int main(int argc, char **argv)
{
	return CHECK_MAIN(cases);
}
