/*
 * unit.proto.plan.* — plan.json: every example plan parses (and its
 * defaults-filled JSON parses back to the same plan), every broken plan in
 * tests/plans/bad fails with the sentence its .expect file names, and no
 * truncated or mutated plan crashes the parser.
 */
#define _POSIX_C_SOURCE 200809L /* opendir */

#include <dirent.h>
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "plan.h"

#define EXAMPLES CONNSCALE_SOURCE_DIR "/examples/plans"
#define BAD_DIR  CONNSCALE_SOURCE_DIR "/tests/plans/bad"

/* A plan is ~10 KB with its thresholds: keep them off the stack frames. */
static struct plan plan_a, plan_b;

/* Reads a whole small file into a NUL-terminated malloc'ed buffer, or NULL. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = malloc(PLAN_MAX_BYTES + 1);
	size_t n = 0;

	if (f != NULL && buf != NULL) {
		n = fread(buf, 1, PLAN_MAX_BYTES, f);
		buf[n] = '\0';
	}
	if (f != NULL)
		fclose(f);
	if (f == NULL) {
		free(buf);
		return NULL;
	}
	if (len != NULL)
		*len = n;
	return buf;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Calls fn(dir/name) for every *.json in dir, sorted; returns how many. */
static int for_each_json(const char *dir, void (*fn)(const char *))
{
	struct dirent **list = NULL;
	char path[512];
	int n = scandir(dir, &list, NULL, alphasort), count = 0;

	CHECK(n > 0);
	for (int i = 0; i < n; i++) {
		if (ends_with(list[i]->d_name, ".json")) {
			snprintf(path, sizeof(path), "%s/%s", dir, list[i]->d_name);
			fn(path);
			count++;
		}
		free(list[i]);
	}
	free(list);
	return count;
}

static void check_same_plan(const struct plan *a, const struct plan *b)
{
	CHECK(strcmp(a->name, b->name) == 0);
	CHECK(strcmp(a->target_host, b->target_host) == 0);
	CHECK_EQ_U(a->target_port, b->target_port);
	CHECK_EQ_U(a->agents_count, b->agents_count);
	CHECK(a->join_timeout_s == b->join_timeout_s);
	CHECK_EQ_U(a->nnames, b->nnames);
	for (int64_t i = 0; i < a->nnames && i < b->nnames; i++)
		CHECK(strcmp(a->names[i], b->names[i]) == 0);
	CHECK_EQ_U(a->nweights, b->nweights);
	for (int64_t i = 0; i < a->nweights && i < b->nweights; i++) {
		CHECK(strcmp(a->weights[i].name, b->weights[i].name) == 0);
		CHECK(a->weights[i].weight == b->weights[i].weight);
	}
	CHECK_EQ_U(a->connections, b->connections);
	CHECK_EQ_U(a->nsteps, b->nsteps);
	CHECK(memcmp(a->steps, b->steps, sizeof(a->steps)) == 0);
	CHECK(a->rate_per_s == b->rate_per_s);
	CHECK_EQ_U(a->connect_timeout_ms, b->connect_timeout_ms);
	CHECK_EQ_U(a->payload_bytes, b->payload_bytes);
	CHECK_EQ_U(a->rounds, b->rounds);
	CHECK_EQ_U(a->interval_ms, b->interval_ms);
	CHECK_EQ_U(a->echo_timeout_ms, b->echo_timeout_ms);
	CHECK(a->hold_s == b->hold_s);
	CHECK(strcmp(a->server_stats, b->server_stats) == 0);
	CHECK_EQ_U(a->server_interval_ms, b->server_interval_ms);
	CHECK_EQ_U(a->nthresholds, b->nthresholds);
	CHECK(memcmp(a->thresholds, b->thresholds, sizeof(a->thresholds)) == 0);
	CHECK(a->local == b->local);
	CHECK_EQ_U(a->local_agents, b->local_agents);
	CHECK(strcmp(a->local_model, b->local_model) == 0);
	CHECK(strcmp(a->local_stack_size, b->local_stack_size) == 0);
	CHECK_EQ_U(a->local_processes, b->local_processes);
	CHECK_EQ_U(a->local_ncommand, b->local_ncommand);
	for (int64_t i = 0; i < a->local_ncommand && i < b->local_ncommand; i++)
		CHECK(strcmp(a->local_command[i], b->local_command[i]) == 0);
	CHECK(a->local_ready_s == b->local_ready_s);
}

/* Loads path, then re-parses its p->json: the report's plan is the same plan. */
static void example_parses(const char *path)
{
	struct proto_err err = {{0}};
	char *text;

	memset(&plan_a, 0, sizeof(plan_a));
	CHECK(plan_load(path, &plan_a, &err) == 0);
	if (err.msg[0])
		fprintf(stderr, "  %s: %s\n", path, err.msg);
	CHECK(plan_a.json != NULL);
	text = plan_a.json ? json_dumps(plan_a.json, JSON_INDENT(2)) : NULL;
	CHECK(text != NULL);
	if (text != NULL) {
		CHECK(plan_parse(text, strlen(text), "p->json", &plan_b, &err) == 0);
		if (err.msg[0])
			fprintf(stderr, "  %s re-parsed: %s\n", path, err.msg);
		check_same_plan(&plan_a, &plan_b);
		plan_free(&plan_b);
	}
	free(text);
	plan_free(&plan_a);
}

static void examples(void)
{
	CHECK(for_each_json(EXAMPLES, example_parses) >= 4);
}

/*
 * tests/plans/bad/X.json must fail with X.expect's one line in the message
 * (the coordinator's e2e test greps its stderr for the same line).
 */
static void bad_plan_fails(const char *path)
{
	struct proto_err err = {{0}};
	char expect_path[512];
	size_t len = 0;
	char *expect;

	snprintf(expect_path, sizeof(expect_path), "%.*s.expect", (int)(strlen(path) - 5), path);
	expect = slurp(expect_path, &len);
	CHECK(expect != NULL);
	if (expect == NULL) {
		fprintf(stderr, "  %s: no .expect file\n", path);
		return;
	}
	while (len > 0 && expect[len - 1] == '\n')
		expect[--len] = '\0';
	CHECK(len > 0 && strchr(expect, '\n') == NULL);
	memset(&plan_a, 0x5a, sizeof(plan_a));
	CHECK(plan_load(path, &plan_a, &err) == -1);
	CHECK_CONTAINS(err.msg, expect);
	/* A failed parse owns nothing: plan_free is harmless, the pointers are clear. */
	CHECK(plan_a.names == NULL && plan_a.weights == NULL && plan_a.json == NULL &&
	      plan_a.local_command == NULL);
	plan_free(&plan_a);
	free(expect);
}

static void bad_corpus(void)
{
	CHECK(for_each_json(BAD_DIR, bad_plan_fails) >= 60);
}

/* A bad threshold's sentence, metric list and all, fits behind the file and path. */
static void bad_threshold_whole(void)
{
	struct proto_err err = {{0}};
	size_t len = 0;
	char *text = slurp(BAD_DIR "/bad-threshold.json", &len);

	CHECK(text != NULL);
	if (text == NULL)
		return;
	CHECK(plan_parse(text, len, "tests/plans/bad/bad-threshold.json", &plan_a, &err) == -1);
	CHECK_CONTAINS(err.msg,
	               "tests/plans/bad/bad-threshold.json: thresholds[1]: unknown metric "
	               "\"echo_p98_ms\" (one of held_ratio, held, established_ratio, established, "
	               "failed, echo_errors, "
	               "lost_agents, {connect,echo}_{p50,p90,p99,p999,max}_ms, "
	               "server_{user,kernel}_kb_per_conn, server_max_conns)");
	free(text);
}

static const char minimal[] = "{\"name\": \"min\", \"target\": {\"host\": \"10.0.0.1\", \"port\": "
                              "80}, \"agents\": {\"count\": 1}, \"connections\": 5}";

static void defaults(void)
{
	struct proto_err err = {{0}};
	char *text;

	CHECK(plan_parse(minimal, sizeof(minimal) - 1, "min.json", &plan_a, &err) == 0);
	CHECK(plan_a.join_timeout_s == 30);
	CHECK_EQ_U(plan_a.nnames, 0);
	CHECK_EQ_U(plan_a.nweights, 0);
	CHECK_EQ_U(plan_a.nsteps, 1);
	CHECK_EQ_U(plan_a.steps[0], 5);
	CHECK(plan_a.rate_per_s == 0);
	CHECK_EQ_U(plan_a.connect_timeout_ms, 3000);
	CHECK_EQ_U(plan_a.payload_bytes, 64);
	CHECK_EQ_U(plan_a.rounds, 1);
	CHECK_EQ_U(plan_a.interval_ms, 0);
	CHECK_EQ_U(plan_a.echo_timeout_ms, 5000);
	CHECK(plan_a.hold_s == 0);
	CHECK(plan_a.server_stats[0] == '\0');
	CHECK_EQ_U(plan_a.server_interval_ms, 500);
	CHECK_EQ_U(plan_a.nthresholds, 0);
	CHECK(!plan_a.local);
	text = plan_a.json ? json_dumps(plan_a.json, JSON_COMPACT) : NULL;
	CHECK_CONTAINS(text,
	               "{\"name\":\"min\",\"target\":{\"host\":\"10.0.0.1\",\"port\":80},"
	               "\"agents\":{\"count\":1,\"join_timeout_s\":30.0},\"connections\":5,"
	               "\"steps\":[5],\"ramp\":{\"rate_per_s\":0.0,\"connect_timeout_ms\":3000},"
	               "\"echo\":{\"payload_bytes\":64,\"rounds\":1,\"interval_ms\":0,"
	               "\"timeout_ms\":5000},\"hold_s\":0.0,\"server\":{\"interval_ms\":500},"
	               "\"thresholds\":[]}");
	free(text);
	plan_free(&plan_a);
	plan_free(&plan_a); /* twice is harmless */
}

static void local_defaults(void)
{
	static const char text[] =
	    "{\"name\": \"l\", \"target\": {\"host\": \"127.0.0.1\", \"port\": "
	    "0}, \"agents\": {\"count\": 2}, \"connections\": 5, \"local\": {}}";
	struct proto_err err = {{0}};
	char *dump;

	CHECK(plan_parse(text, sizeof(text) - 1, "l.json", &plan_a, &err) == 0);
	CHECK(plan_a.local);
	CHECK_EQ_U(plan_a.target_port, 0);
	CHECK_EQ_U(plan_a.local_agents, 2);
	CHECK(strcmp(plan_a.local_model, "threads") == 0);
	CHECK(strcmp(plan_a.local_stack_size, "64k") == 0);
	CHECK_EQ_U(plan_a.local_processes, 0); /* the coordinator decides */
	dump = plan_a.json ? json_dumps(json_object_get(plan_a.json, "local"), JSON_COMPACT) : NULL;
	CHECK_CONTAINS(dump,
	               "{\"agents\":2,\"server\":{\"model\":\"threads\",\"stack_size\":\"64k\"}}");
	free(dump);
	plan_free(&plan_a);
}

/* A local plan whose local.server is `server` (JSON text), on target.port `port`. */
static size_t command_plan(char *buf, size_t size, const char *server, int port)
{
	return (size_t)snprintf(buf, size,
	                        "{\"name\": \"c\", \"target\": {\"host\": \"127.0.0.1\", "
	                        "\"port\": %d}, \"agents\": {\"count\": 2}, \"connections\": 4, "
	                        "\"local\": {\"server\": %s}}",
	                        port, server);
}

/*
 * local.server.command: any server's argv, "{port}" put in for the port the
 * coordinator picks; the report's plan keeps it as written, with its timeout.
 */
static void local_command(void)
{
	static const char server[] =
	    "{\"command\": [\"python3\", \"echo.py\", \"--port\", \"{port}\", "
	    "\"--name=p{port}x{port}\", \"{por}\", \"\"]}";
	struct proto_err err = {{0}};
	char text[1024], *dump;
	size_t len = command_plan(text, sizeof(text), server, 0);

	CHECK(plan_parse(text, len, "c.json", &plan_a, &err) == 0);
	if (err.msg[0])
		fprintf(stderr, "  %s\n", err.msg);
	CHECK_EQ_U(plan_a.local_ncommand, 7);
	CHECK(plan_a.local_ready_s == 10);
	CHECK(plan_a.local_ncommand == 7 && strcmp(plan_a.local_command[3], "{port}") == 0);
	dump = plan_a.json ? json_dumps(json_object_get(plan_a.json, "local"), JSON_COMPACT) : NULL;
	CHECK_CONTAINS(dump, "{\"agents\":2,\"server\":{\"command\":[\"python3\",\"echo.py\","
	                     "\"--port\",\"{port}\",\"--name=p{port}x{port}\",\"{por}\",\"\"],"
	                     "\"ready_timeout_s\":10.0}}");
	/* parse(serialise(p)) == p */
	char *whole = plan_a.json ? json_dumps(plan_a.json, 0) : NULL;
	CHECK(whole != NULL && plan_parse(whole, strlen(whole), "j", &plan_b, &err) == 0);
	check_same_plan(&plan_a, &plan_b);
	plan_free(&plan_b);
	free(whole);
	free(dump);

	char **argv = plan_command_argv(&plan_a, 40123);
	CHECK(argv != NULL);
	if (argv != NULL) {
		static const char *const want[] = {
		    "python3", "echo.py", "--port", "40123", "--name=p40123x40123", "{por}", ""};
		for (size_t i = 0; i < 7; i++)
			CHECK_CONTAINS(argv[i], want[i]);
		CHECK(strcmp(argv[3], "40123") == 0 && strcmp(argv[6], "") == 0);
		CHECK(argv[7] == NULL);
	}
	plan_argv_free(argv);
	argv = plan_command_argv(&plan_a, 7);
	CHECK(argv != NULL && strcmp(argv[4], "--name=p7x7") == 0);
	plan_argv_free(argv);
	plan_free(&plan_a);

	len = command_plan(text, sizeof(text),
	                   "{\"command\": [\"./s\", \"{port}\"], \"ready_timeout_s\": 2.5}", 0);
	CHECK(plan_parse(text, len, "c.json", &plan_a, &err) == 0);
	CHECK(plan_a.local_ready_s == 2.5);
	plan_free(&plan_a);
}

/* Each broken local.server with a command, and the sentence that names its path. */
static void local_command_errors(void)
{
	static const struct {
		const char *server;
		int port;
		const char *want;
	} cases[] = {
	    {"{\"command\": [\"./s\", \"{port}\"], \"model\": \"epoll\"}", 0,
	     "c.json: local.server.model: not with local.server.command"},
	    {"{\"stack_size\": \"16k\", \"command\": [\"./s\", \"{port}\"]}", 0,
	     "c.json: local.server.stack_size: not with local.server.command"},
	    {"{\"command\": [\"./s\", \"{port}\"], \"processes\": 2}", 0,
	     "c.json: local.server.processes: not with local.server.command"},
	    {"{\"command\": \"./s --port {port}\"}", 0,
	     "c.json: local.server.command: expected the server's argv, an array of 1..256 "
	     "strings like [\"./echo\", \"--port\", \"{port}\"], got \"./s --port {port}\""},
	    {"{\"command\": []}", 0, "local.server.command: expected the server's argv, an array "},
	    {"{\"command\": []}", 0, "got 0 entries"},
	    {"{\"command\": [1, \"{port}\"]}", 0,
	     "c.json: local.server.command[0]: expected a non-empty string of at most 4095 bytes, "
	     "got 1"},
	    {"{\"command\": [\"\", \"{port}\"]}", 0,
	     "local.server.command[0]: expected a non-empty string of at most 4095 bytes, got "
	     "\"\""},
	    {"{\"command\": [\"./s\", null]}", 0,
	     "local.server.command[1]: expected a string of at most 4095 bytes, got null"},
	    {"{\"command\": [\"./s\", \"--port\", \"8080\"]}", 0,
	     "c.json: local.server.command: expected \"{port}\" in at least one argument"},
	    {"{\"command\": [\"./s\", \"{PORT}\"]}", 0, "expected \"{port}\" in at least one"},
	    {"{\"ready_timeout_s\": 5}", 0,
	     "c.json: local.server.ready_timeout_s: only with local.server.command"},
	    {"{\"command\": [\"./s\", \"{port}\"], \"ready_timeout_s\": 0}", 0,
	     "local.server.ready_timeout_s: expected a number of seconds from 0.1 to 600, got 0"},
	    {"{\"command\": [\"./s\", \"{port}\"], \"ready_timeout_s\": \"10\"}", 0,
	     "local.server.ready_timeout_s: expected a number of seconds from 0.1 to 600, got "
	     "\"10\""},
	    {"{\"command\": [\"./s\", \"{port}\"]}", 1234,
	     "c.json: target.port: expected 0 with local.server.command (the coordinator picks a "
	     "free port for it), got 1234"},
	    {"{\"command\": [\"./s\", \"{port}\"], \"cmd\": 1}", 0,
	     "local.server.cmd: unknown key (expected model, stack_size, processes, command, "
	     "ready_timeout_s)"},
	};
	struct proto_err err = {{0}};
	char text[1024];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len = command_plan(text, sizeof(text), cases[i].server, cases[i].port);
		int rc = plan_parse(text, len, "c.json", &plan_a, &err);

		if (rc == 0)
			fprintf(stderr, "  %s passed\n", cases[i].server);
		CHECK(rc == -1);
		CHECK_CONTAINS(err.msg, cases[i].want);
		CHECK(plan_a.local_command == NULL && plan_a.json == NULL);
		plan_free(&plan_a);
	}
}

/* Too many arguments, and one too long: each said with its size. */
static void local_command_limits(void)
{
	struct proto_err err = {{0}};
	size_t size = 64 * 1024, len;
	char *server = malloc(size), *text = malloc(size + 512);

	CHECK(server != NULL && text != NULL);
	if (server == NULL || text == NULL) {
		free(server);
		free(text);
		return;
	}
	len = (size_t)snprintf(server, size, "{\"command\": [\"{port}\"");
	for (int i = 1; i < PLAN_MAX_ARGS + 1; i++)
		len += (size_t)snprintf(server + len, size - len, ", \"a\"");
	snprintf(server + len, size - len, "]}");
	len = command_plan(text, size + 512, server, 0);
	CHECK(plan_parse(text, len, "c.json", &plan_a, &err) == -1);
	CHECK_CONTAINS(err.msg, "local.server.command: expected the server's argv");
	CHECK_CONTAINS(err.msg, "got 257 entries");
	plan_free(&plan_a);

	len = (size_t)snprintf(server, size, "{\"command\": [\"./s\", \"{port}\", \"");
	memset(server + len, 'x', PLAN_MAX_ARG_BYTES);
	snprintf(server + len + PLAN_MAX_ARG_BYTES, size - len - PLAN_MAX_ARG_BYTES, "\"]}");
	len = command_plan(text, size + 512, server, 0);
	CHECK(plan_parse(text, len, "c.json", &plan_a, &err) == -1);
	CHECK_CONTAINS(err.msg,
	               "local.server.command[2]: expected a string of at most 4095 bytes, got "
	               "4096 bytes");
	plan_free(&plan_a);
	free(server);
	free(text);
}

static void weights_example(void)
{
	struct proto_err err = {{0}};

	CHECK(plan_load(EXAMPLES "/weights.json", &plan_a, &err) == 0);
	CHECK_EQ_U(plan_a.nnames, 3);
	CHECK(plan_a.nnames == 3 && strcmp(plan_a.names[2], "client-spare") == 0);
	CHECK_EQ_U(plan_a.nweights, 3);
	CHECK(plan_a.nweights == 3 && strcmp(plan_a.weights[0].name, "client-big") == 0 &&
	      plan_a.weights[0].weight == 3 && plan_a.weights[2].weight == 0.5);
	CHECK_EQ_U(plan_a.nthresholds, 4);
	CHECK_EQ_U(plan_a.thresholds[0].metric, TM_HELD);
	CHECK_EQ_U(plan_a.thresholds[2].metric, TM_ECHO_P50_MS);
	CHECK(plan_a.hold_s == 2.5);
	plan_free(&plan_a);
}

static void load_errors(void)
{
	char path[512];
	struct proto_err err = {{0}};
	FILE *f;

	CHECK(plan_load("no/such/plan.json", &plan_a, &err) == -1);
	CHECK_CONTAINS(err.msg, "no/such/plan.json: cannot read: No such file or directory");
	CHECK(plan_load(EXAMPLES, &plan_a, &err) == -1);
	CHECK_CONTAINS(err.msg, "/examples/plans: cannot read: Is a directory");

	snprintf(path, sizeof(path), "%s/plan-2000000.json", CONNSCALE_BINARY_DIR);
	f = fopen(path, "wb");
	CHECK(f != NULL);
	if (f == NULL)
		return;
	for (int i = 0; i < 2000000; i++)
		fputc(' ', f);
	fclose(f);
	CHECK(plan_load(path, &plan_a, &err) == -1);
	CHECK_CONTAINS(err.msg,
	               "plan-2000000.json: 2000000 bytes exceeds the plan size limit of 1048576");
	remove(path);
	CHECK(plan_parse(minimal, PLAN_MAX_BYTES + 1, "big.json", &plan_a, &err) == -1);
	CHECK_CONTAINS(err.msg, "big.json: 1048577 bytes exceeds the plan size limit");
}

/* xorshift64: the same variants on every run, so a crash replays. */
static uint64_t fuzz_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Variants tried, and how many of them parsed: the fuzz must reach past the JSON syntax. */
static int fuzz_tried, fuzz_parsed;

static void fuzz_one(const char *text, size_t len, const char *what)
{
	struct proto_err err = {{0}};
	int rc = plan_parse(text, len, "fuzz.json", &plan_a, &err);

	CHECK(rc == 0 || rc == -1);
	if (rc == -1 && err.msg[0] == '\0')
		fprintf(stderr, "  %s: failed without a message\n", what);
	CHECK(rc == 0 || err.msg[0] != '\0');
	CHECK(rc != 0 || plan_a.json != NULL);
	fuzz_tried++;
	fuzz_parsed += rc == 0;
	plan_free(&plan_a);
}

/* Every truncation, then byte mutations (replace, insert, delete) of two full plans. */
static void fuzz(void)
{
	static const char *const sources[] = {EXAMPLES "/local-demo.json",
	                                      EXAMPLES "/weights.json"};
	static const char bytes[] = "{}[]\",:0123456789-.eE +\\u\nabtrnl";
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	char *buf = malloc(PLAN_MAX_BYTES + 2);

	CHECK(buf != NULL);
	for (size_t s = 0; buf != NULL && s < sizeof(sources) / sizeof(sources[0]); s++) {
		size_t len = 0;
		char *text = slurp(sources[s], &len);

		CHECK(text != NULL);
		for (size_t cut = 0; text != NULL && cut < len; cut++)
			fuzz_one(text, cut, "truncation");
		for (int i = 0; text != NULL && i < 2000; i++) {
			size_t n = len, at = fuzz_next(&seed) % len;
			int edits = 1 + (int)(fuzz_next(&seed) % 3);

			memcpy(buf, text, len);
			while (edits-- > 0 && n > 1) {
				uint64_t r = fuzz_next(&seed);
				char b = (r >> 8) & 1 ? bytes[(r >> 16) % (sizeof(bytes) - 1)]
				                      : (char)(r >> 24);

				at = (size_t)(r >> 32) % n;
				if (r % 3 == 0) {
					buf[at] = b;
				} else if (r % 3 == 1 && n < len + 8) {
					memmove(buf + at + 1, buf + at, n - at);
					buf[at] = b;
					n++;
				} else {
					memmove(buf + at, buf + at + 1, n - at - 1);
					n--;
				}
			}
			fuzz_one(buf, n, "mutation");
		}
		free(text);
	}
	free(buf);
	fprintf(stderr, "fuzz: %d variants, %d parsed\n", fuzz_tried, fuzz_parsed);
	CHECK(fuzz_tried >= 4000);
	CHECK(fuzz_parsed > 0 && fuzz_parsed < fuzz_tried);
}

/* A plan's text with this target.host (and "local" when local). */
static size_t host_plan(char *buf, size_t size, const char *host, bool local)
{
	return (size_t)snprintf(buf, size,
	                        "{\"name\": \"h\", \"target\": {\"host\": \"%s\", \"port\": %d}, "
	                        "\"agents\": {\"count\": 1}, \"connections\": 1%s}",
	                        host, local ? 0 : 80, local ? ", \"local\": {}" : "");
}

/*
 * target.host may be a host name: plan_parse() checks its form only (no DNS
 * while parsing), plan_resolve()/plan_load() look it up once; the plan keeps
 * the name, target_host is the address agents are sent.
 */
static void host_names(void)
{
	static const char *const refused[] = {"lab_server", "-lab",      "lab-",
	                                      "a..b",       "127.1",     "198.18.0.256",
	                                      "10.0.0",     "host name", ""};
	struct proto_err err = {{0}};
	char text[512], path[512];
	char *dump;
	size_t len;

	len = host_plan(text, sizeof(text), "localhost", false);
	CHECK(plan_parse(text, len, "h.json", &plan_a, &err) == 0);
	CHECK(strcmp(plan_a.target_name, "localhost") == 0);
	CHECK(strcmp(plan_a.target_host, "localhost") == 0); /* not looked up yet */
	CHECK(plan_resolve(&plan_a, "h.json", &err) == 0);
	CHECK(strncmp(plan_a.target_host, "127.", 4) == 0);
	CHECK(strcmp(plan_a.target_name, "localhost") == 0);
	dump =
	    plan_a.json ? json_dumps(json_object_get(plan_a.json, "target"), JSON_COMPACT) : NULL;
	CHECK_CONTAINS(dump, "{\"host\":\"localhost\",\"port\":80}"); /* the plan as written */
	free(dump);
	plan_free(&plan_a);

	/* With "local" the name must be loopback once resolved: localhost is. */
	len = host_plan(text, sizeof(text), "localhost", true);
	CHECK(plan_parse(text, len, "h.json", &plan_a, &err) == 0);
	CHECK(plan_resolve(&plan_a, "h.json", &err) == 0);
	CHECK(strncmp(plan_a.target_host, "127.", 4) == 0);
	plan_free(&plan_a);

	/* A dotted quad is left alone. */
	len = host_plan(text, sizeof(text), "198.18.0.1", false);
	CHECK(plan_parse(text, len, "h.json", &plan_a, &err) == 0);
	CHECK(plan_resolve(&plan_a, "h.json", &err) == 0);
	CHECK(strcmp(plan_a.target_host, "198.18.0.1") == 0);
	plan_free(&plan_a);

	/* A name that does not resolve: plan_load() fails naming the path. */
	snprintf(path, sizeof(path), "%s/host-unknown.json", CONNSCALE_BINARY_DIR);
	len = host_plan(text, sizeof(text), "nosuch.invalid", false);
	FILE *f = fopen(path, "w");
	CHECK(f != NULL && fwrite(text, 1, len, f) == len);
	if (f != NULL)
		fclose(f);
	CHECK(plan_load(path, &plan_a, &err) == -1);
	CHECK_CONTAINS(err.msg, "host-unknown.json: target.host: cannot resolve "
	                        "'nosuch.invalid' to an IPv4 address");
	/* ...and one that does loads with its address. */
	len = host_plan(text, sizeof(text), "localhost", true);
	f = fopen(path, "w");
	CHECK(f != NULL && fwrite(text, 1, len, f) == len);
	if (f != NULL)
		fclose(f);
	CHECK(plan_load(path, &plan_a, &err) == 0);
	CHECK(strncmp(plan_a.target_host, "127.", 4) == 0);
	plan_free(&plan_a);
	unlink(path);

	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		len = host_plan(text, sizeof(text), refused[i], false);
		int rc = plan_parse(text, len, "h.json", &plan_a, &err);
		if (rc == 0)
			fprintf(stderr, "  \"%s\" passed for a host\n", refused[i]);
		CHECK(rc == -1);
		if (rc == 0)
			plan_free(&plan_a);
		else if (refused[i][0] != '\0')
			CHECK_CONTAINS(
			    err.msg,
			    "h.json: target.host: expected an IPv4 address (dotted quad) or "
			    "a host name");
	}
}

/*
 * Texts the coordinator prints (the run's name, agents' names, hosts) refuse
 * what would rewrite a terminal or a page: C0 and C1 controls, DEL, bidi
 * overrides; other UTF-8 is kept.
 */
static void control_chars(void)
{
	static const struct {
		const char *name; /* as it stands in the JSON text */
		const char *msg;  /* "" = accepted */
	} cases[] = {
	    {"h: pass\\u001b[8m", "name: a control character at byte 7"},
	    {"ok\\r", "name: a control character at byte 2"},
	    {"a\\nb", "name: a control character at byte 1"},
	    {"del\\u007f", "name: a control character at byte 3"},
	    {"c1\\u009b31m", "name: a control character at byte 2"},
	    {"evil\\u202etxt.exe", "name: a control character at byte 4"},
	    {"iso\\u2066x", "name: a control character at byte 3"},
	    {"caf\\u00e9 \\u2192 \\u6f22", ""},
	};
	struct proto_err err = {{0}};
	char text[512];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int n = snprintf(text, sizeof(text),
		                 "{\"name\": \"%s\", \"target\": {\"host\": \"10.0.0.1\", "
		                 "\"port\": 80}, \"agents\": {\"count\": 1}, \"connections\": 10}",
		                 cases[i].name);
		int rc = plan_parse(text, (size_t)n, "c.json", &plan_a, &err);
		if (cases[i].msg[0] == '\0') {
			CHECK(rc == 0, "%s: %s", cases[i].name, err.msg);
			plan_free(&plan_a);
		} else {
			CHECK(rc == -1, "%s accepted", cases[i].name);
			CHECK_CONTAINS(err.msg, cases[i].msg);
		}
	}
}

static const struct check_case cases[] = {
    {"examples", examples},
    {"bad_corpus", bad_corpus},
    {"bad_threshold_whole", bad_threshold_whole},
    {"defaults", defaults},
    {"local_defaults", local_defaults},
    {"local_command", local_command},
    {"local_command_errors", local_command_errors},
    {"local_command_limits", local_command_limits},
    {"weights_example", weights_example},
    {"load_errors", load_errors},
    {"fuzz", fuzz},
    {"host_names", host_names},
    {"control_chars", control_chars},
};

int main(int argc, char **argv)
{
	return CHECK_MAIN(cases);
}
