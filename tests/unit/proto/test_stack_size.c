/*
 * unit.proto.stack_size.* — the one stack-size grammar (plan's
 * local.server.stack_size and server --stack-size): what it takes, in bytes,
 * what it refuses, and that the plan refuses exactly what it refuses.
 */
#include <errno.h>
#include <stdlib.h>

#include "check.h"
#include "plan.h"
#include "stack_size.h"

static void takes(void)
{
	/* Bytes first: a {"name", fn} line would read as a test case to CMake. */
	static const struct {
		size_t bytes;
		const char *text;
	} ok[] = {
	    {0, "default"},
	    {16384, "16k"},
	    {65536, "64K"},
	    {8 << 20, "8m"},
	    {8 << 20, "8M"},
	    {(size_t)1 << 30, "1g"},
	    {(size_t)1 << 30, "1G"},
	    {65536, "65536"},
	    {1, "1"},
	    {(size_t)1 << 30, "1024m"},
	    {(size_t)1 << 30, "1048576k"},
	    {(size_t)1 << 30, "1073741824"},
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		size_t bytes = 12345;
		int rc = stack_size_parse(ok[i].text, &bytes);
		if (rc != 0 || bytes != ok[i].bytes)
			fprintf(stderr, "  '%s': rc %d, %zu bytes\n", ok[i].text, rc, bytes);
		CHECK(rc == 0);
		CHECK_EQ_U(bytes, ok[i].bytes);
	}
}

static void refuses(void)
{
	static const char *const bad[] = {
	    "",   "0",    "0k",   "016k", "k",  "64 KB",   "64kb",  "1.5m",
	    "-1", "+64k", " 64k", "64k ", "1t", "DEFAULT", "0x100", "99999999999999999999999x"};
	static const char *const big[] = {"2g", "1025m", "1073741825", "99999999999999999999999",
	                                  "1048577k"};
	size_t bytes = 777;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = stack_size_parse(bad[i], &bytes);
		if (rc != -EINVAL)
			fprintf(stderr, "  '%s': rc %d, expected -EINVAL\n", bad[i], rc);
		CHECK(rc == -EINVAL);
	}
	for (size_t i = 0; i < sizeof(big) / sizeof(big[0]); i++) {
		int rc = stack_size_parse(big[i], &bytes);
		if (rc != -ERANGE)
			fprintf(stderr, "  '%s': rc %d, expected -ERANGE\n", big[i], rc);
		CHECK(rc == -ERANGE);
	}
	CHECK_EQ_U(bytes, 777); /* untouched on error */
}

/* local.server.stack_size goes through the same parser: "1g" passes, "2g" is named. */
static void plan_agrees(void)
{
	static const char *const sizes[] = {"1g", "16k", "default", "2g", "016k", "64 KB", "1t"};
	char text[512];
	struct plan p;
	struct proto_err err = {{0}};

	for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t bytes;
		snprintf(text, sizeof(text),
		         "{\"name\": \"s\", \"target\": {\"host\": \"127.0.0.1\", \"port\": 0}, "
		         "\"agents\": {\"count\": 1}, \"connections\": 1, \"local\": {\"server\": "
		         "{\"stack_size\": \"%s\"}}}",
		         sizes[i]);
		int plan_rc = plan_parse(text, strlen(text), "s.json", &p, &err);
		int size_rc = stack_size_parse(sizes[i], &bytes);
		if ((plan_rc == 0) != (size_rc == 0))
			fprintf(stderr, "  '%s': plan %d, parser %d (%s)\n", sizes[i], plan_rc,
			        size_rc, err.msg);
		CHECK((plan_rc == 0) == (size_rc == 0));
		if (plan_rc == 0) {
			CHECK(strcmp(p.local_stack_size, sizes[i]) == 0);
			plan_free(&p);
		}
	}
	snprintf(text, sizeof(text),
	         "{\"name\": \"s\", \"target\": {\"host\": \"127.0.0.1\", \"port\": 0}, "
	         "\"agents\": {\"count\": 1}, \"connections\": 1, \"local\": {\"server\": "
	         "{\"stack_size\": \"2g\"}}}");
	CHECK(plan_parse(text, strlen(text), "s.json", &p, &err) == -1);
	CHECK_CONTAINS(err.msg, "s.json: local.server.stack_size: expected at most \"1g\", "
	                        "got \"2g\"");
}

static const struct check_case cases[] = {
    {"takes", takes},
    {"refuses", refuses},
    {"plan_agrees", plan_agrees},
};

int main(int argc, char **argv)
{
	return CHECK_MAIN(cases);
}
