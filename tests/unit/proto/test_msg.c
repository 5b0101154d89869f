/*
 * unit.proto.msg.* — the control messages: pack -> encode -> decode -> unpack
 * is the identity for every type, and every malformed field, wrong type or
 * wrong message is refused with an error naming the message and the field.
 */
#include <stdlib.h>

#include "check.h"
#include "msg.h"

/* A result is ~90 KB: keep the big structs out of the test's stack frames. */
static struct msg_result result_in, result_out;

static void sample_hello(struct msg_hello *m)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "agent-01");
	snprintf(m->version, sizeof(m->version), "0.1.0");
	snprintf(m->host, sizeof(m->host), "lab-client-1.example");
	m->max_connections = 56464;
	m->threads = 4;
	m->nofile = 1048576;
	m->ports_per_source = 28232;
	m->nsources = 2;
	snprintf(m->sources[0], sizeof(m->sources[0]), "198.18.1.1");
	snprintf(m->sources[1], sizeof(m->sources[1]), "255.255.255.255");
	snprintf(m->capacity, sizeof(m->capacity),
	         "2 source addresses x 28232 ports = 56464 connections");
}

static void sample_assign(struct msg_assign *m)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->target_host, sizeof(m->target_host), "198.18.0.1");
	m->target_port = 1234;
	m->connections = 10000;
	m->nsteps = 3;
	m->steps[0] = 3333;
	m->steps[1] = 3333; /* an agent's share may stay level */
	m->steps[2] = 10000;
	m->rate_per_s = 1666.5;
	m->connect_timeout_ms = 3000;
	m->payload_bytes = 64;
	m->rounds = 2;
	m->interval_ms = 10;
	m->echo_timeout_ms = 5000;
}

static void sample_counts(struct msg_counts *c)
{
	memset(c, 0, sizeof(*c));
	c->attempted = 10010;
	c->established = 10000;
	c->current = 9990;
	c->max_concurrent = 10000;
	for (int r = 0; r < MSG_REASON_COUNT; r++)
		c->failed[r] = r + 1;
	c->echo_ok = 9980;
	c->echo_errors = 20;
	c->lost = 3;
}

static void sample_result(struct msg_result *m)
{
	sample_counts(&m->counts);
	hist_init(&m->connect);
	hist_init(&m->echo);
	for (uint64_t us = 1; us < 200000000; us = us * 3 + 7)
		hist_record(&m->connect, us);
	hist_record(&m->echo, 250);
	hist_record(&m->echo, 250);
}

/* pack -> encode -> decode: the message as the peer sees it, or NULL. */
static json_t *wire(json_t *msg, enum proto_type want)
{
	struct proto_err err = {{0}};
	enum proto_type type = PROTO_TYPE_COUNT;
	json_t *back = NULL;
	size_t len = 0;
	char *buf;

	CHECK(msg != NULL);
	if (msg == NULL)
		return NULL;
	buf = proto_encode(msg, &len);
	CHECK(buf != NULL);
	if (buf != NULL)
		back = proto_decode(buf, len, &type, &err);
	CHECK(back != NULL);
	if (back == NULL)
		fprintf(stderr, "decode: %s\n", err.msg);
	CHECK_EQ_U(type, want);
	free(buf);
	json_decref(msg);
	return back;
}

static void check_ok(int rc, const struct proto_err *err)
{
	CHECK(rc == 0);
	if (rc != 0)
		fprintf(stderr, "unexpected error: %s\n", err->msg);
}

static void hello_round_trip(void)
{
	struct msg_hello in, out;
	struct proto_err err = {{0}};
	json_t *msg;

	sample_hello(&in);
	memset(&out, 0x5a, sizeof(out));
	msg = wire(msg_hello_pack(&in), PROTO_HELLO);
	check_ok(msg_hello_unpack(msg, &out, &err), &err);
	CHECK(memcmp(&in, &out, sizeof(in)) == 0);
	json_decref(msg);
}

static void welcome_round_trip(void)
{
	struct msg_welcome in = {"30k-threads", 5000}, out;
	struct proto_err err = {{0}};
	json_t *msg = wire(msg_welcome_pack(&in), PROTO_WELCOME);

	memset(&out, 0x5a, sizeof(out));
	check_ok(msg_welcome_unpack(msg, &out, &err), &err);
	CHECK(strcmp(out.run, "30k-threads") == 0);
	CHECK_EQ_U(out.heartbeat_timeout_ms, 5000);
	json_decref(msg);
}

static void assign_round_trip(void)
{
	struct msg_assign in, out;
	struct proto_err err = {{0}};
	json_t *msg;

	sample_assign(&in);
	memset(&out, 0x5a, sizeof(out));
	msg = wire(msg_assign_pack(&in), PROTO_ASSIGN);
	check_ok(msg_assign_unpack(msg, &out, &err), &err);
	CHECK(memcmp(&in, &out, sizeof(in)) == 0);
	json_decref(msg);
}

static void empty_round_trip(void)
{
	static const enum proto_type types[] = {PROTO_READY, PROTO_RESULT_ACK, PROTO_HEARTBEAT};
	struct proto_err err = {{0}};

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		json_t *msg = wire(msg_empty_pack(types[i]), types[i]);

		check_ok(msg_empty_unpack(msg, &err), &err);
		json_decref(msg);
	}
	/* Only the three field-less control messages. */
	CHECK(msg_empty_pack(PROTO_GO) == NULL);
	CHECK(msg_empty_pack(PROTO_TYPE_COUNT) == NULL);
}

static void reject_bye_stop_round_trip(void)
{
	struct msg_reject in = {"nofile 1024 allows 1000 connections, assigned 10000"}, out;
	struct msg_stop sin = {"SIGINT"}, sout;
	struct proto_err err = {{0}};
	json_t *msg;

	msg = wire(msg_reject_pack(PROTO_REJECT, &in), PROTO_REJECT);
	check_ok(msg_reject_unpack(msg, &out, &err), &err);
	CHECK(strcmp(in.reason, out.reason) == 0);
	json_decref(msg);
	msg = wire(msg_reject_pack(PROTO_BYE, &in), PROTO_BYE);
	check_ok(msg_reject_unpack(msg, &out, &err), &err);
	json_decref(msg);
	CHECK(msg_reject_pack(PROTO_STOP, &in) == NULL);
	msg = wire(msg_stop_pack(&sin), PROTO_STOP);
	check_ok(msg_stop_unpack(msg, &sout, &err), &err);
	CHECK(strcmp(sout.reason, "SIGINT") == 0);
	json_decref(msg);
}

static void go_round_trip(void)
{
	struct proto_err err = {{0}};

	for (int p = 0; p < MSG_PHASE_COUNT; p++) {
		struct msg_go in, out;
		json_t *msg;

		memset(&in, 0, sizeof(in));
		in.phase = (enum msg_phase)p;
		in.step = p;
		in.target = p == MSG_PHASE_CONNECT ? 20000 : 0;
		if (p == MSG_PHASE_LOAD)
			in.load = (struct msg_go_load){3, 12500.5, 2000, 128};
		if (p == MSG_PHASE_CHURN)
			in.churn = (struct msg_go_churn){250.5, 3000};
		msg = wire(msg_go_pack(&in), PROTO_GO);
		memset(&out, 0x5a, sizeof(out));
		check_ok(msg_go_unpack(msg, &out, &err), &err);
		/* Field by field: memcmp would compare the padding after phase too. */
		CHECK(out.phase == in.phase && out.step == in.step && out.target == in.target);
		if (p == MSG_PHASE_CHURN)
			CHECK(out.churn.rate_per_s == 250.5 && out.churn.duration_ms == 3000);
		if (p == MSG_PHASE_LOAD)
			CHECK(out.load.sub == 3 && out.load.rate_per_s == 12500.5 &&
			      out.load.duration_ms == 2000 && out.load.payload_bytes == 128);
		json_decref(msg);
	}
	/* load is required with phase load, refused with any other, and checked. */
	struct {
		const char *text, *error;
	} bad[] = {
	    {"{\"v\":1,\"type\":\"go\",\"phase\":\"load\",\"step\":0,\"target\":0}",
	     "go: field \"load\": expected an object, got nothing"},
	    {"{\"v\":1,\"type\":\"go\",\"phase\":\"echo\",\"step\":0,\"target\":0,"
	     "\"load\":{}}",
	     "go: field \"load\": only phase load takes one"},
	    {"{\"v\":1,\"type\":\"go\",\"phase\":\"load\",\"step\":0,\"target\":0,"
	     "\"load\":{\"sub\":0,\"rate_per_s\":0,\"duration_ms\":1000,\"payload_bytes\":64}}",
	     "go: field \"load.rate_per_s\": expected a positive number up to 1e+09"},
	    {"{\"v\":1,\"type\":\"go\",\"phase\":\"load\",\"step\":0,\"target\":0,"
	     "\"load\":{\"sub\":0,\"rate_per_s\":1e308,\"duration_ms\":1000,\"payload_bytes\":64}}",
	     "go: field \"load.rate_per_s\": expected a positive number up to 1e+09"},
	    {"{\"v\":1,\"type\":\"go\",\"phase\":\"churn\",\"step\":0,\"target\":0,"
	     "\"churn\":{\"rate_per_s\":1e308,\"duration_ms\":1000}}",
	     "go: field \"churn.rate_per_s\": expected at most 1e+07"},
	    {"{\"v\":1,\"type\":\"go\",\"phase\":\"churn\",\"step\":0,\"target\":0,"
	     "\"churn\":{\"rate_per_s\":-1,\"duration_ms\":1000}}",
	     "go: field \"churn.rate_per_s\": expected a number >= 0, got -1"},
	    {"{\"v\":1,\"type\":\"go\",\"phase\":\"load\",\"step\":0,\"target\":0,"
	     "\"load\":{\"sub\":16,\"rate_per_s\":5,\"duration_ms\":1000,\"payload_bytes\":64}}",
	     NULL},
	    {"{\"v\":1,\"type\":\"go\",\"phase\":\"load\",\"step\":0,\"target\":0,"
	     "\"load\":{\"sub\":0,\"rate_per_s\":5,\"duration_ms\":1000,\"payload_bytes\":64,"
	     "\"x\":1}}",
	     "go: unknown field \"load.x\""},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *msg = json_loads(bad[i].text, 0, NULL);
		struct msg_go out;

		CHECK(msg != NULL && msg_go_unpack(msg, &out, &err) != 0);
		if (bad[i].error)
			CHECK_STR_EQ(err.msg, bad[i].error);
		json_decref(msg);
	}
}

static void progress_round_trip(void)
{
	struct msg_progress in, out;
	struct proto_err err = {{0}};
	json_t *msg;

	memset(&in, 0, sizeof(in));
	in.phase = MSG_PHASE_ECHO;
	in.step = 2;
	sample_counts(&in.counts);
	msg = wire(msg_progress_pack(PROTO_PROGRESS, &in), PROTO_PROGRESS);
	memset(&out, 0x5a, sizeof(out));
	out.hist = NULL; /* the caller's choice: no storage, no histogram */
	check_ok(msg_progress_unpack(msg, &out, &err), &err);
	CHECK(memcmp(&in, &out, sizeof(in)) == 0);
	json_decref(msg);

	/* phase_done of a load carries what the sub-step did. */
	in.phase = MSG_PHASE_LOAD;
	in.has_load = true;
	in.load = (struct msg_load_done){2, 1000, 1000, 990, 1, 7, 2.5, 0.25, 0.5};
	msg = wire(msg_progress_pack(PROTO_PHASE_DONE, &in), PROTO_PHASE_DONE);
	memset(&out, 0, sizeof(out));
	check_ok(msg_progress_unpack(msg, &out, &err), &err);
	CHECK(out.has_load && out.load.sub == 2 && out.load.sent == 1000 &&
	      out.load.verified == 990 && out.load.errors == 1 && out.load.behind == 7 &&
	      out.load.elapsed_s == 2.5 && out.load.cpu_user_s == 0.25 &&
	      out.load.cpu_sys_s == 0.5);
	json_decref(msg);

	/* progress of a load carries its tick: the sub-step so far, the latency since the last. */
	in.has_load = false;
	in.has_tick = true;
	in.tick = (struct msg_load_tick){1, 5000, 480, 120, 900, 4100};
	msg = wire(msg_progress_pack(PROTO_PROGRESS, &in), PROTO_PROGRESS);
	memset(&out, 0, sizeof(out));
	check_ok(msg_progress_unpack(msg, &out, &err), &err);
	CHECK(out.has_tick && !out.has_load && out.tick.sub == 1 && out.tick.verified == 5000 &&
	      out.tick.count == 480 && out.tick.p50_us == 120 && out.tick.p99_us == 900 &&
	      out.tick.max_us == 4100);
	json_decref(msg);
	/* Percentiles out of order are no latency at all. */
	in.tick.p99_us = 5000;
	msg = msg_progress_pack(PROTO_PROGRESS, &in);
	CHECK(msg_progress_unpack(msg, &out, &err) < 0 &&
	      strstr(err.msg, "p50_us <= p99_us <= max_us") != NULL);
	json_decref(msg);
	/* Only a load has one. */
	in.tick.p99_us = 900;
	in.phase = MSG_PHASE_ECHO;
	msg = msg_progress_pack(PROTO_PROGRESS, &in);
	CHECK(msg_progress_unpack(msg, &out, &err) < 0 &&
	      strstr(err.msg, "\"tick\": only phase load has one") != NULL);
	json_decref(msg);
	in.has_tick = false;

	/* phase_done of a churn: its counts and failures by reason. */
	memset(&in, 0, sizeof(in));
	in.phase = MSG_PHASE_CHURN;
	sample_counts(&in.counts);
	in.has_churn = true;
	in.churn = (struct msg_churn_done){1000, 990, {0}, 2.5, 0.25, 0.5};
	in.churn.failed[MSG_REFUSED] = 6;
	in.churn.failed[MSG_TIMEOUT] = 4;
	msg = wire(msg_progress_pack(PROTO_PHASE_DONE, &in), PROTO_PHASE_DONE);
	memset(&out, 0, sizeof(out));
	check_ok(msg_progress_unpack(msg, &out, &err), &err);
	CHECK(out.has_churn && out.churn.attempted == 1000 && out.churn.ok == 990 &&
	      out.churn.failed[MSG_REFUSED] == 6 && out.churn.failed[MSG_TIMEOUT] == 4 &&
	      out.churn.elapsed_s == 2.5);
	json_decref(msg);
	in.has_churn = false;
	in.phase = MSG_PHASE_LOAD;

	/* phase_done with this phase's histogram: read only into storage the caller gives. */
	struct hist *h = calloc(2, sizeof(*h));
	hist_init(&h[0]);
	for (uint64_t us = 1; us <= 5000; us += 7)
		hist_record(&h[0], us);
	in.hist = &h[0];
	msg = wire(msg_progress_pack(PROTO_PHASE_DONE, &in), PROTO_PHASE_DONE);
	out.hist = NULL;
	check_ok(msg_progress_unpack(msg, &out, &err), &err);
	CHECK(!out.has_hist);
	out.hist = &h[1];
	check_ok(msg_progress_unpack(msg, &out, &err), &err);
	CHECK(out.has_hist);
	CHECK(memcmp(&h[0], &h[1], sizeof(h[0])) == 0);
	json_decref(msg);
	free(h);
}

static void result_round_trip(void)
{
	struct proto_err err = {{0}};
	json_t *msg;

	sample_result(&result_in);
	memset(&result_out, 0x5a, sizeof(result_out));
	msg = wire(msg_result_pack(&result_in), PROTO_RESULT);
	check_ok(msg_result_unpack(msg, &result_out, &err), &err);
	CHECK(memcmp(&result_in, &result_out, sizeof(result_in)) == 0);
	json_decref(msg);
}

static void counts_shape(void)
{
	struct msg_counts c;
	json_t *j;
	char *s;

	sample_counts(&c);
	j = msg_counts_pack(&c);
	s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	CHECK_CONTAINS(s, "{\"attempted\":10010,\"established\":10000,\"current\":9990,"
	                  "\"max_concurrent\":10000,"
	                  "\"failed\":{\"refused\":1,\"timeout\":2,\"reset\":3,"
	                  "\"addr_not_available\":4,\"eof_early\":5,\"mismatch\":6,\"other\":7},"
	                  "\"echo_ok\":9980,\"echo_errors\":20,\"lost\":3}");
	free(s);
	json_decref(j);
}

static void names(void)
{
	CHECK(strcmp(msg_reason_name(MSG_ADDR_NOT_AVAILABLE), "addr_not_available") == 0);
	CHECK(msg_reason_name(MSG_REASON_COUNT) == NULL);
	CHECK(strcmp(msg_phase_name(MSG_PHASE_CLOSE), "close") == 0);
	CHECK(strcmp(msg_phase_name(MSG_PHASE_VERIFY), "verify") == 0);
	CHECK(msg_phase_name(MSG_PHASE_COUNT) == NULL);
}

/* Routing ids arrive as bytes: a NUL, a space or a control byte makes another name. */
static void agent_names(void)
{
	CHECK(msg_agent_name_valid("a1", 2));
	CHECK(msg_agent_name_valid("host-1.example:4242_x", 21));
	CHECK(msg_agent_name_valid("abcdefghijabcdefghijabcdefghijabcdefghijabcdefg", 47));
	CHECK(!msg_agent_name_valid("abcdefghijabcdefghijabcdefghijabcdefghijabcdefgh", 48));
	CHECK(!msg_agent_name_valid("", 0));
	CHECK(!msg_agent_name_valid("a1\0x", 4));
	CHECK(!msg_agent_name_valid("a 1", 3));
	CHECK(!msg_agent_name_valid("a\n", 2));
	CHECK(!msg_agent_name_valid("\xc3\xa9", 2));
	CHECK(!msg_agent_name_valid("\x7f", 1));
}

/* ---- malformed messages ---- */

/* Which message a bad-field row starts from, and which unpack it goes to. */
enum kind { K_HELLO, K_WELCOME, K_ASSIGN, K_READY, K_REJECT, K_GO, K_PROGRESS, K_RESULT, K_STOP };

struct bad {
	enum kind kind;
	const char *path;  /* dotted path into the message to replace or delete */
	const char *value; /* JSON text to store there; NULL deletes the key */
	const char *want;  /* substring of the error */
};

static json_t *make(enum kind k)
{
	struct msg_hello hello;
	struct msg_assign assign;
	struct msg_welcome welcome = {"run", 1000};
	struct msg_reject reject = {"no"};
	struct msg_stop stop = {"stop"};
	struct msg_go go = {MSG_PHASE_CONNECT, 0, 10, {0, 0, 0, 0}, {0, 0}};
	struct msg_progress progress = {.phase = MSG_PHASE_ECHO, .step = 1};

	switch (k) {
	case K_HELLO:
		sample_hello(&hello);
		return msg_hello_pack(&hello);
	case K_WELCOME:
		return msg_welcome_pack(&welcome);
	case K_ASSIGN:
		sample_assign(&assign);
		return msg_assign_pack(&assign);
	case K_READY:
		return msg_empty_pack(PROTO_READY);
	case K_REJECT:
		return msg_reject_pack(PROTO_REJECT, &reject);
	case K_GO:
		return msg_go_pack(&go);
	case K_PROGRESS:
		sample_counts(&progress.counts);
		return msg_progress_pack(PROTO_PROGRESS, &progress);
	case K_RESULT:
		sample_result(&result_in);
		return msg_result_pack(&result_in);
	case K_STOP:
		return msg_stop_pack(&stop);
	}
	return NULL;
}

static int unpack(enum kind k, json_t *msg, struct proto_err *err)
{
	struct msg_hello hello;
	struct msg_assign assign;
	struct msg_welcome welcome;
	struct msg_reject reject;
	struct msg_stop stop;
	struct msg_go go;
	struct msg_progress progress;

	switch (k) {
	case K_HELLO:
		return msg_hello_unpack(msg, &hello, err);
	case K_WELCOME:
		return msg_welcome_unpack(msg, &welcome, err);
	case K_ASSIGN:
		return msg_assign_unpack(msg, &assign, err);
	case K_READY:
		return msg_empty_unpack(msg, err);
	case K_REJECT:
		return msg_reject_unpack(msg, &reject, err);
	case K_GO:
		return msg_go_unpack(msg, &go, err);
	case K_PROGRESS:
		return msg_progress_unpack(msg, &progress, err);
	case K_RESULT:
		return msg_result_unpack(msg, &result_out, err);
	case K_STOP:
		return msg_stop_unpack(msg, &stop, err);
	}
	return 0;
}

/* Replaces (or with value NULL deletes) the member at a dotted path. */
static void edit(json_t *msg, const char *path, const char *value)
{
	char buf[128];
	char *key = buf, *dot;
	json_t *obj = msg;

	snprintf(buf, sizeof(buf), "%s", path);
	while ((dot = strchr(key, '.')) != NULL) {
		*dot = '\0';
		obj = json_object_get(obj, key);
		key = dot + 1;
	}
	if (value == NULL)
		json_object_del(obj, key);
	else
		json_object_set_new(obj, key,
		                    json_loads(value, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL));
}

static void expect_bad(const struct bad *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct proto_err err = {{0}};
		json_t *msg = make(rows[i].kind);
		int before = check_failed();

		CHECK(msg != NULL);
		if (msg == NULL)
			continue;
		edit(msg, rows[i].path, rows[i].value);
		CHECK(unpack(rows[i].kind, msg, &err) == -1);
		CHECK_CONTAINS(err.msg, rows[i].want);
		if (check_failed() != before)
			fprintf(stderr, "  row %zu: %s = %s\n", i, rows[i].path,
			        rows[i].value ? rows[i].value : "(deleted)");
		json_decref(msg);
	}
}

#define BAD_TABLE(fname, ...)                                                                      \
	static void fname(void)                                                                    \
	{                                                                                          \
		static const struct bad rows[] = {__VA_ARGS__};                                    \
		expect_bad(rows, sizeof(rows) / sizeof(rows[0]));                                  \
	}

/* A 64-byte name: one more than the buffer holds with its NUL. */
#define NAME64 "\"0123456789012345678901234567890123456789012345678901234567890123\""

BAD_TABLE(hello_bad, {K_HELLO, "name", NULL, "hello: missing field \"name\""},
          {K_HELLO, "name", "\"\"", "hello: field \"name\": expected a non-empty string"},
          {K_HELLO, "name", NAME64,
           "hello: field \"name\": expected a non-empty string of at most 63 bytes, got 64 bytes"},
          {K_HELLO, "name", "7",
           "hello: field \"name\": expected a non-empty string of at "
           "most 63 bytes, got integer"},
          {K_HELLO, "name", "\"a\\u0000b\"", "hello: field \"name\""},
          {K_HELLO, "threads", "-1",
           "hello: field \"threads\": expected a non-negative integer, got -1"},
          {K_HELLO, "nofile", "1.5",
           "hello: field \"nofile\": expected a non-negative integer, got real"},
          {K_HELLO, "bogus", "1", "hello: unknown field \"bogus\""},
          {K_HELLO, "nsources", "2", "hello: unknown field \"nsources\""},
          {K_HELLO, "sources", NULL, "hello: missing field \"sources\""},
          {K_HELLO, "sources", "{}",
           "hello: field \"sources\": expected an array of at most 256 IPv4 addresses, got object"},
          {K_HELLO, "sources", "[\"10.0.0.1\", \"10.0.0\"]",
           "hello: field \"sources[1]\": expected an IPv4 address (dotted quad), got \"10.0.0\""},
          {K_HELLO, "sources", "[\"010.0.0.1\"]", "hello: field \"sources[0]\""},
          {K_HELLO, "sources", "[\"256.0.0.1\"]", "hello: field \"sources[0]\""},
          {K_HELLO, "sources", "[\"1.2.3.4 \"]", "hello: field \"sources[0]\""},
          {K_HELLO, "sources", "[1]",
           "hello: field \"sources[0]\": expected an IPv4 address "
           "(dotted quad), got integer"},
          {K_HELLO, "type", "\"go\"", "hello: message has type \"go\""}, )

BAD_TABLE(welcome_bad, {K_WELCOME, "run", NULL, "welcome: missing field \"run\""},
          {K_WELCOME, "heartbeat_timeout_ms", "0",
           "welcome: field \"heartbeat_timeout_ms\": expected a positive integer, got 0"},
          {K_WELCOME, "extra", "null", "welcome: unknown field \"extra\""},
          {K_WELCOME, "type", "\"assign\"", "welcome: message has type \"assign\""}, )

BAD_TABLE(assign_bad,
          {K_ASSIGN, "steps",
           "[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, "
           "21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, "
           "38, 39, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, 52, 53, 54, "
           "55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 10000]",
           "assign: field \"steps\": expected an array of 1..64 non-negative integers"},
          {K_ASSIGN, "steps", "[]",
           "assign: field \"steps\": expected an array of 1..64 non-negative integers"},
          {K_ASSIGN, "steps", "[-1, 10000]", "assign: field \"steps\": expected an array"},
          {K_ASSIGN, "steps", "[\"1\", 10000]", "assign: field \"steps\": expected an array"},
          {K_ASSIGN, "steps", "10000", "assign: field \"steps\": expected an array"},
          {K_ASSIGN, "steps", NULL, "assign: missing field \"steps\""},
          {K_ASSIGN, "steps", "[5000, 4000, 10000]",
           "assign: field \"steps\": expected non-decreasing steps ending at connections "
           "(10000), got 4000 at steps[1]"},
          {K_ASSIGN, "steps", "[5000, 9000]",
           "ending at connections (10000), got 9000 at steps[1]"},
          {K_ASSIGN, "target_host", "\"lab-server\"",
           "assign: field \"target_host\": expected an IPv4 address (dotted quad), got "
           "\"lab-server\""},
          {K_ASSIGN, "target_port", "0",
           "assign: field \"target_port\": expected an integer in 1..65535, got 0"},
          {K_ASSIGN, "target_port", "65536", "expected an integer in 1..65535, got 65536"},
          {K_ASSIGN, "rate_per_s", "-0.5",
           "assign: field \"rate_per_s\": expected a number >= 0, got -0.5"},
          {K_ASSIGN, "rate_per_s", "\"fast\"",
           "field \"rate_per_s\": expected a number >= 0, got string"},
          {K_ASSIGN, "payload_bytes", "0",
           "field \"payload_bytes\": expected an integer in 1..1048576, got 0"},
          {K_ASSIGN, "rounds", "1000001", "field \"rounds\": expected an integer in 0..1000000"},
          {K_ASSIGN, "connections", "-3",
           "field \"connections\": expected an integer in 0..100000000, got -3"},
          {K_ASSIGN, "connections", "100000001",
           "assign: field \"connections\": expected an integer in 0..100000000, got 100000001"},
          {K_ASSIGN, "echo_timeout_ms", NULL, "assign: missing field \"echo_timeout_ms\""},
          {K_ASSIGN, "nsteps", "3", "assign: unknown field \"nsteps\""}, )

BAD_TABLE(empty_bad, {K_READY, "reason", "\"x\"", "ready: unknown field \"reason\""},
          {K_READY, "type", "\"go\"", "ready, result_ack or heartbeat: message has type \"go\""}, )

BAD_TABLE(reason_bad, {K_REJECT, "reason", NULL, "reject: missing field \"reason\""},
          {K_REJECT, "reason", "[]", "reject: field \"reason\": expected a string"},
          {K_REJECT, "why", "\"\"", "reject: unknown field \"why\""},
          {K_REJECT, "type", "\"stop\"", "reject or bye: message has type \"stop\""},
          {K_STOP, "reason", "false",
           "stop: field \"reason\": expected a string of at most 255 bytes, got false"},
          {K_STOP, "type", "\"bye\"", "stop: message has type \"bye\""}, )

BAD_TABLE(
    go_bad,
    {K_GO, "phase", "\"hold\"",
     "go: field \"phase\": expected one of connect, echo, close, verify, load, churn, got "
     "\"hold\""},
    {K_GO, "phase", "1",
     "go: field \"phase\": expected one of connect, echo, close, verify, load, churn, got integer"},
    {K_GO, "phase", NULL, "go: missing field \"phase\""},
    {K_GO, "step", "64", "go: field \"step\": expected an integer in 0..63, got 64"},
    {K_GO, "target", "-1", "go: field \"target\": expected an integer in 0..100000000, got -1"},
    {K_GO, "target", "100000001",
     "go: field \"target\": expected an integer in 0..100000000, got 100000001"},
    {K_GO, "type", "\"hello\"", "go: message has type \"hello\""}, )

BAD_TABLE(
    progress_bad, {K_PROGRESS, "counts", NULL, "progress: missing field \"counts\""},
    {K_PROGRESS, "counts", "[]", "progress: field \"counts\": expected an object, got array"},
    {K_PROGRESS, "counts.attempted", NULL, "progress: missing field \"counts.attempted\""},
    {K_PROGRESS, "counts.lost", "-1",
     "progress: field \"counts.lost\": expected a non-negative integer, got -1"},
    {K_PROGRESS, "counts.extra", "0", "progress: unknown field \"counts.extra\""},
    {K_PROGRESS, "counts.failed", NULL, "progress: missing field \"counts.failed\""},
    {K_PROGRESS, "counts.failed", "0",
     "progress: field \"counts.failed\": expected an object, got integer"},
    {K_PROGRESS, "counts.failed.reset", NULL, "progress: missing field \"counts.failed.reset\""},
    {K_PROGRESS, "counts.failed.eperm", "1", "progress: unknown field \"counts.failed.eperm\""},
    {K_PROGRESS, "counts.failed.timeout", "-2",
     "progress: field \"counts.failed.timeout\": expected a non-negative integer, got -2"},
    {K_PROGRESS, "step", "-1", "progress: field \"step\": expected an integer in 0..63"},
    {K_PROGRESS, "phase", "\"Echo\"", "progress: field \"phase\""},
    {K_PROGRESS, "type", "\"result\"", "progress or phase_done: message has type \"result\""}, )

BAD_TABLE(result_bad, {K_RESULT, "hist", NULL, "result: missing field \"hist\""},
          {K_RESULT, "hist", "7", "result: field \"hist\": expected an object, got integer"},
          {K_RESULT, "hist.echo", NULL, "result: missing field \"hist.echo\""},
          {K_RESULT, "hist.other", "{}", "result: unknown field \"hist.other\""},
          {K_RESULT, "hist.connect.count", "1", "result: field \"hist.connect\": "},
          {K_RESULT, "hist.echo.b", "[[99999, 1]]", "result: field \"hist.echo\": bucket 99999"},
          {K_RESULT, "counts.echo_ok", "\"x\"",
           "result: field \"counts.echo_ok\": expected a non-negative integer, got string"},
          {K_RESULT, "counts", NULL, "result: missing field \"counts\""},
          {K_RESULT, "extra", "1", "result: unknown field \"extra\""},
          {K_RESULT, "type", "\"progress\"", "result: message has type \"progress\""}, )

/* Each unpack refuses every other message type, whatever its fields. */
static void wrong_type_everywhere(void)
{
	for (int a = K_HELLO; a <= K_STOP; a++) {
		for (int b = K_HELLO; b <= K_STOP; b++) {
			struct proto_err err = {{0}};
			json_t *msg;

			if (a == b)
				continue;
			msg = make((enum kind)a);
			CHECK(unpack((enum kind)b, msg, &err) == -1);
			CHECK_CONTAINS(err.msg, "message has type");
			json_decref(msg);
		}
	}
}

/* A failed unpack leaves the caller's struct as it was (result: cleared). */
static void failure_leaves_struct(void)
{
	struct proto_err err = {{0}};
	struct msg_assign out;
	json_t *msg = make(K_ASSIGN);

	memset(&out, 0x5a, sizeof(out));
	json_object_set_new(msg, "rounds", json_integer(-1));
	CHECK(msg_assign_unpack(msg, &out, &err) == -1);
	CHECK_EQ_U((unsigned char)out.target_host[0], 0x5a);
	json_decref(msg);

	msg = make(K_RESULT);
	memset(&result_out, 0x5a, sizeof(result_out));
	json_object_set_new(json_object_get(msg, "hist"), "echo", json_null());
	CHECK(msg_result_unpack(msg, &result_out, &err) == -1);
	CHECK_EQ_U(result_out.counts.attempted, 0);
	CHECK_EQ_U(result_out.connect.count, 0);
	json_decref(msg);
}

static void counts_standalone(void)
{
	struct proto_err err = {{0}};
	struct msg_counts c;
	json_t *j = json_pack("{s:i}", "attempted", 1);

	CHECK(msg_counts_unpack(j, &c, "report: totals", &err) == -1);
	CHECK_CONTAINS(err.msg, "report: totals: missing field \"established\"");
	CHECK(msg_counts_unpack(NULL, &c, "totals", &err) == -1);
	CHECK_CONTAINS(err.msg, "totals: expected an object, got nothing");
	json_decref(j);
}

/* "failed" is defined once: the sum over the reasons, struct or JSON, never wrapping. */
static void failed_total(void)
{
	struct msg_counts c;
	json_t *j;

	sample_counts(&c); /* failed = 1..7 */
	CHECK_EQ_U(msg_failed_total(&c), 28);
	j = msg_counts_pack(&c);
	CHECK_EQ_U(msg_failed_total_json(j), 28);
	/* Keys that are not reasons, and values that are not counts, count nothing. */
	json_object_set_new(json_object_get(j, "failed"), "bogus", json_integer(1000));
	json_object_set_new(json_object_get(j, "failed"), "refused", json_string("9"));
	json_object_set_new(json_object_get(j, "failed"), "other", json_integer(-50));
	CHECK_EQ_U(msg_failed_total_json(j), 28 - 1 - 7);
	json_decref(j);
	CHECK_EQ_U(msg_failed_total_json(NULL), 0);
	j = json_pack("{s:{}}", "failed");
	CHECK_EQ_U(msg_failed_total_json(j), 0);
	json_decref(j);
	for (int r = 0; r < MSG_REASON_COUNT; r++)
		c.failed[r] = INT64_MAX / 2;
	CHECK_EQ_U(msg_failed_total(&c), INT64_MAX);
	j = msg_counts_pack(&c);
	CHECK_EQ_U(msg_failed_total_json(j), INT64_MAX);
	json_decref(j);
}

/* The wire's reasons are reason.h's list, in its order. */
static void reasons_from_list(void)
{
#define REASON_NAME(id, name, doc) name,
	static const char *const list[] = {REASON_LIST(REASON_NAME)};
#undef REASON_NAME
	CHECK_EQ_U(sizeof(list) / sizeof(list[0]), MSG_REASON_COUNT);
	for (int r = 0; r < MSG_REASON_COUNT; r++)
		CHECK(strcmp(msg_reason_name((enum msg_reason)r), list[r]) == 0);
	CHECK(MSG_OTHER == MSG_REASON_COUNT - 1 && MSG_REFUSED == 0);
}

static const struct check_case cases[] = {
    {"hello_round_trip", hello_round_trip},
    {"welcome_round_trip", welcome_round_trip},
    {"assign_round_trip", assign_round_trip},
    {"empty_round_trip", empty_round_trip},
    {"reject_bye_stop_round_trip", reject_bye_stop_round_trip},
    {"go_round_trip", go_round_trip},
    {"progress_round_trip", progress_round_trip},
    {"result_round_trip", result_round_trip},
    {"counts_shape", counts_shape},
    {"names", names},
    {"agent_names", agent_names},
    {"hello_bad", hello_bad},
    {"welcome_bad", welcome_bad},
    {"assign_bad", assign_bad},
    {"empty_bad", empty_bad},
    {"reason_bad", reason_bad},
    {"go_bad", go_bad},
    {"progress_bad", progress_bad},
    {"result_bad", result_bad},
    {"wrong_type_everywhere", wrong_type_everywhere},
    {"failure_leaves_struct", failure_leaves_struct},
    {"counts_standalone", counts_standalone},
    {"failed_total", failed_total},
    {"reasons_from_list", reasons_from_list},
};

int main(int argc, char **argv)
{
	return CHECK_MAIN(cases);
}
