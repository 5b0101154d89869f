/*
 * unit.proto.stats.* — server_stats: pack -> encode -> decode -> unpack is the
 * identity, and every malformed field is named in the error.
 */
#include <stdlib.h>

#include "check.h"
#include "stats.h"

static void sample(struct server_stats *s)
{
	memset(s, 0, sizeof(*s));
	snprintf(s->model, sizeof(s->model), "external");
	snprintf(s->process, sizeof(s->process), "python3,nginx");
	s->processes = 2;
	s->stack_size = 65536;
	s->uptime_ms = 123456789;
	s->conns_current = 30000;
	s->conns_max = 30001;
	s->conns_total = 90000;
	for (int r = 0; r < STATS_REFUSED_COUNT; r++)
		s->refused[r] = 10 + r;
	s->resets = 7;
	s->threads = 30005;
	s->fds = 30010;
	s->rss_kb = 250000;
	s->hwm_kb = 260000;
	s->pss_kb = 240000;
	s->kernel_stack_kb = -16; /* deltas may go down */
	s->slab_kb = 123456;
	s->page_tables_kb = 4242;
	s->page_frag_kb = 960000;
	s->user_kb_per_conn = 8.25;
	s->kernel_kb_per_conn = 0.1; /* not exact in binary: must still round-trip */
	s->cpu_user_s = 1.25;
	s->cpu_sys_s = 0.3; /* not exact in binary */
	s->ctxsw_voluntary = 4000000001LL;
	s->ctxsw_involuntary = 17;
	s->host_cpu_user_s = 10.5;
	s->host_cpu_sys_s = 3.25;
	s->host_cpu_softirq_s = 0.01;
	s->host_cpu_idle_s = 100.75;
	s->capacity = INT64_MAX;
	snprintf(s->capacity_limit, sizeof(s->capacity_limit),
	         "RLIMIT_NOFILE 1048576 allows 1048570 connections; raise it with ulimit -n");
}

static void check_equal(const struct server_stats *a, const struct server_stats *b)
{
	CHECK(strcmp(a->model, b->model) == 0);
	CHECK(strcmp(a->process, b->process) == 0);
	CHECK_EQ_U(a->processes, b->processes);
	CHECK_EQ_U(a->stack_size, b->stack_size);
	CHECK_EQ_U(a->uptime_ms, b->uptime_ms);
	CHECK_EQ_U(a->conns_current, b->conns_current);
	CHECK_EQ_U(a->conns_max, b->conns_max);
	CHECK_EQ_U(a->conns_total, b->conns_total);
	for (int r = 0; r < STATS_REFUSED_COUNT; r++)
		CHECK_EQ_U(a->refused[r], b->refused[r]);
	CHECK_EQ_U(a->resets, b->resets);
	CHECK_EQ_U(a->threads, b->threads);
	CHECK_EQ_U(a->fds, b->fds);
	CHECK_EQ_U(a->rss_kb, b->rss_kb);
	CHECK_EQ_U(a->hwm_kb, b->hwm_kb);
	CHECK_EQ_U(a->pss_kb, b->pss_kb);
	CHECK_EQ_U(a->kernel_stack_kb, b->kernel_stack_kb);
	CHECK_EQ_U(a->slab_kb, b->slab_kb);
	CHECK_EQ_U(a->page_tables_kb, b->page_tables_kb);
	CHECK_EQ_U(a->page_frag_kb, b->page_frag_kb);
	CHECK(a->user_kb_per_conn == b->user_kb_per_conn);
	CHECK(a->kernel_kb_per_conn == b->kernel_kb_per_conn);
	CHECK(a->cpu_user_s == b->cpu_user_s);
	CHECK(a->cpu_sys_s == b->cpu_sys_s);
	CHECK_EQ_U(a->ctxsw_voluntary, b->ctxsw_voluntary);
	CHECK_EQ_U(a->ctxsw_involuntary, b->ctxsw_involuntary);
	CHECK(a->host_cpu_user_s == b->host_cpu_user_s);
	CHECK(a->host_cpu_sys_s == b->host_cpu_sys_s);
	CHECK(a->host_cpu_softirq_s == b->host_cpu_softirq_s);
	CHECK(a->host_cpu_idle_s == b->host_cpu_idle_s);
	CHECK_EQ_U(a->capacity, b->capacity);
	CHECK(strcmp(a->capacity_limit, b->capacity_limit) == 0);
}

static void round_trip(void)
{
	struct server_stats in, out;
	struct proto_err err = {{0}};
	enum proto_type type = PROTO_TYPE_COUNT;
	json_t *msg, *back = NULL;
	size_t len = 0;
	char *buf;

	sample(&in);
	memset(&out, 0, sizeof(out));
	msg = stats_pack(&in);
	CHECK(msg != NULL);
	buf = proto_encode(msg, &len);
	CHECK(buf != NULL);
	if (buf != NULL)
		back = proto_decode(buf, len, &type, &err);
	CHECK(back != NULL);
	CHECK_EQ_U(type, PROTO_SERVER_STATS);
	CHECK(stats_unpack(back, &out, &err) == 0);
	if (err.msg[0])
		fprintf(stderr, "unexpected error: %s\n", err.msg);
	check_equal(&in, &out);
	json_decref(back);
	json_decref(msg);
	free(buf);
}

static void names_and_req(void)
{
	static const char *const want[] = {"emfile", "enfile", "thread", "max_conns", "other"};
	json_t *req = stats_req_new();
	char *buf = req ? proto_encode(req, NULL) : NULL;

	for (int r = 0; r < STATS_REFUSED_COUNT; r++)
		CHECK(strcmp(stats_refusal_name((enum stats_refusal)r), want[r]) == 0);
	CHECK(stats_refusal_name(STATS_REFUSED_COUNT) == NULL);
	CHECK(buf != NULL && strcmp(buf, "{\"v\":1,\"type\":\"stats_req\"}") == 0);
	free(buf);
	json_decref(req);
}

/* Other encoders may write a whole-number ratio as an integer; that is still a number. */
static void double_as_integer(void)
{
	struct server_stats in, out;
	struct proto_err err = {{0}};
	json_t *msg;

	sample(&in);
	msg = stats_pack(&in);
	CHECK(msg != NULL);
	json_object_set_new(msg, "user_kb_per_conn", json_integer(8));
	CHECK(stats_unpack(msg, &out, &err) == 0);
	CHECK(out.user_kb_per_conn == 8.0);
	json_decref(msg);
}

/* Packs the sample, lets `edit` spoil it, and expects stats_unpack to say `want`. */
static void expect_error(void (*edit)(json_t *msg), const char *want)
{
	struct server_stats in, out;
	struct proto_err err = {{0}};
	json_t *msg;

	sample(&in);
	memset(&out, 0x5a, sizeof(out));
	msg = stats_pack(&in);
	CHECK(msg != NULL);
	if (msg == NULL)
		return;
	edit(msg);
	CHECK(stats_unpack(msg, &out, &err) == -1);
	CHECK_CONTAINS(err.msg, want);
	CHECK_EQ_U((unsigned char)out.model[0], 0x5a); /* left untouched */
	json_decref(msg);
}

static void del_uptime(json_t *m)
{
	json_object_del(m, "uptime_ms");
}
static void del_cpu_user(json_t *m)
{
	json_object_del(m, "cpu_user_s");
}
static void del_ctxsw_involuntary(json_t *m)
{
	json_object_del(m, "ctxsw_involuntary");
}
static void del_host_softirq(json_t *m)
{
	json_object_del(m, "host_cpu_softirq_s");
}
static void real_ctxsw(json_t *m)
{
	json_object_set_new(m, "ctxsw_voluntary", json_real(3.5));
}
static void string_cpu_sys(json_t *m)
{
	json_object_set_new(m, "cpu_sys_s", json_string("0.3"));
}
static void add_unknown(json_t *m)
{
	json_object_set_new(m, "bogus", json_integer(1));
}
static void string_fds(json_t *m)
{
	json_object_set_new(m, "fds", json_string("12"));
}
static void real_threads(json_t *m)
{
	json_object_set_new(m, "threads", json_real(1.5));
}
static void string_ratio(json_t *m)
{
	json_object_set_new(m, "kernel_kb_per_conn", json_string("0.1"));
}
static void int_model(json_t *m)
{
	json_object_set_new(m, "model", json_integer(1));
}
static void long_model(json_t *m)
{
	json_object_set_new(m, "model", json_string("threads-and-then-some"));
}
static void del_process(json_t *m)
{
	json_object_del(m, "process");
}
static void null_process(json_t *m)
{
	json_object_set_new(m, "process", json_null());
}
static void long_process(json_t *m)
{
	char name[80];

	memset(name, 'p', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	json_object_set_new(m, "process", json_string(name));
}
static void del_refused(json_t *m)
{
	json_object_del(m, "refused");
}
static void refused_array(json_t *m)
{
	json_object_set_new(m, "refused", json_array());
}
static void refused_missing(json_t *m)
{
	json_object_del(json_object_get(m, "refused"), "max_conns");
}
static void refused_unknown(json_t *m)
{
	json_object_set_new(json_object_get(m, "refused"), "eperm", json_integer(0));
}
static void refused_wrong_type(json_t *m)
{
	json_object_set_new(json_object_get(m, "refused"), "thread", json_null());
}
static void negative_conns(json_t *m)
{
	json_object_set_new(m, "conns_current", json_integer(-1));
}
static void negative_refused(json_t *m)
{
	json_object_set_new(json_object_get(m, "refused"), "emfile", json_integer(-3));
}
static void negative_cpu(json_t *m)
{
	json_object_set_new(m, "cpu_user_s", json_real(-0.5));
}
static void empty_model(json_t *m)
{
	json_object_set_new(m, "model", json_string(""));
}
static void no_type(json_t *m)
{
	json_object_del(m, "type");
}
static void string_page_frag(json_t *m)
{
	json_object_set_new(m, "page_frag_kb", json_string("32"));
}

static void negative_page_frag(json_t *m)
{
	json_object_set_new(m, "page_frag_kb", json_integer(-5));
}

static void wrong_message(json_t *m)
{
	json_object_set_new(m, "type", json_string("hello"));
}

#define BAD(fname, edit, want)                                                                     \
	static void fname(void)                                                                    \
	{                                                                                          \
		expect_error(edit, want);                                                          \
	}

BAD(missing_field, del_uptime, "server_stats: missing field \"uptime_ms\"")
BAD(missing_cpu_user, del_cpu_user, "server_stats: missing field \"cpu_user_s\"")
BAD(missing_ctxsw, del_ctxsw_involuntary, "server_stats: missing field \"ctxsw_involuntary\"")
BAD(missing_host_softirq, del_host_softirq, "server_stats: missing field \"host_cpu_softirq_s\"")
BAD(real_for_ctxsw, real_ctxsw,
    "field \"ctxsw_voluntary\": expected a non-negative integer, got real")
BAD(string_for_cpu, string_cpu_sys, "field \"cpu_sys_s\": expected a number >= 0, got string")
BAD(unknown_field, add_unknown, "server_stats: unknown field \"bogus\"")
BAD(wrong_type, string_fds,
    "server_stats: field \"fds\": expected a non-negative integer, got string")
BAD(real_for_int, real_threads, "field \"threads\": expected a non-negative integer, got real")
BAD(string_for_double, string_ratio, "field \"kernel_kb_per_conn\": expected a number, got string")
BAD(int_for_string, int_model,
    "field \"model\": expected a non-empty string of at most 15 bytes, got integer")
BAD(string_too_long, long_model,
    "field \"model\": expected a non-empty string of at most 15 bytes, got "
    "\"threads-and-then-some\"")
BAD(missing_process, del_process, "server_stats: missing field \"process\"")
BAD(null_for_process, null_process,
    "field \"process\": expected a string of at most 63 bytes, got null")
BAD(process_too_long, long_process,
    "field \"process\": expected a string of at most 63 bytes, got 79 bytes")
BAD(missing_refused, del_refused, "server_stats: missing field \"refused\"")
BAD(refused_not_object, refused_array, "field \"refused\": expected an object, got array")
BAD(refused_missing_key, refused_missing, "server_stats: missing field \"refused.max_conns\"")
BAD(refused_unknown_key, refused_unknown, "server_stats: unknown field \"refused.eperm\"")
BAD(refused_bad_type, refused_wrong_type,
    "field \"refused.thread\": expected a non-negative integer, got null")
BAD(wrong_message_type, wrong_message, "server_stats: message has type \"hello\"")
BAD(missing_type, no_type, "server_stats: missing field \"type\"")
BAD(negative_count, negative_conns,
    "field \"conns_current\": expected a non-negative integer, got -1")
BAD(negative_refusals, negative_refused,
    "field \"refused.emfile\": expected a non-negative integer, got -3")
BAD(negative_seconds, negative_cpu, "field \"cpu_user_s\": expected a number >= 0, got -0.5")
BAD(string_for_page_frag, string_page_frag,
    "field \"page_frag_kb\": expected a non-negative integer, got string")
BAD(negative_page_frags, negative_page_frag,
    "field \"page_frag_kb\": expected a non-negative integer, got -5")
BAD(empty_model_name, empty_model,
    "field \"model\": expected a non-empty string of at most 15 bytes")

/* Kernel memory the host gave back since the server started reads below zero: still valid. */
static void negative_deltas(void)
{
	struct server_stats in, out;
	struct proto_err err = {{0}};
	json_t *msg;

	sample(&in);
	in.slab_kb = -120;
	in.kernel_stack_kb = -16;
	in.page_tables_kb = -4;
	in.kernel_kb_per_conn = -0.25;
	in.user_kb_per_conn = -1.5;
	in.capacity = -1; /* no limit could be read */
	msg = stats_pack(&in);
	CHECK(msg != NULL && stats_unpack(msg, &out, &err) == 0);
	CHECK(out.slab_kb == -120 && out.kernel_stack_kb == -16 && out.page_tables_kb == -4 &&
	      out.page_frag_kb == 960000 && out.kernel_kb_per_conn == -0.25 &&
	      out.user_kb_per_conn == -1.5 && out.capacity == -1);
	json_decref(msg);
}

/*
 * page_frag_kb is optional on the wire (an older server has no such field):
 * unknown is left out when packing and is what an absent field unpacks to.
 */
static void page_frag_optional(void)
{
	struct server_stats in, out;
	struct proto_err err = {{0}};
	json_t *msg;

	sample(&in);
	in.page_frag_kb = STATS_UNKNOWN;
	msg = stats_pack(&in);
	CHECK(msg != NULL && json_object_get(msg, "page_frag_kb") == NULL);
	out.page_frag_kb = 0;
	CHECK(msg != NULL && stats_unpack(msg, &out, &err) == 0);
	CHECK(out.page_frag_kb == STATS_UNKNOWN);
	json_decref(msg);
	/* Present, it is read; the sentinel itself is not a value a sender may send. */
	sample(&in);
	msg = stats_pack(&in);
	CHECK(msg != NULL && stats_unpack(msg, &out, &err) == 0 && out.page_frag_kb == 960000);
	if (msg != NULL)
		json_object_set_new(msg, "page_frag_kb", json_integer(INT64_MIN));
	CHECK(msg != NULL && stats_unpack(msg, &out, &err) == -1);
	CHECK_CONTAINS(err.msg, "field \"page_frag_kb\"");
	json_decref(msg);
}

static const struct check_case cases[] = {
    {"round_trip", round_trip},
    {"names_and_req", names_and_req},
    {"double_as_integer", double_as_integer},
    {"missing_field", missing_field},
    {"missing_cpu_user", missing_cpu_user},
    {"missing_ctxsw", missing_ctxsw},
    {"missing_host_softirq", missing_host_softirq},
    {"real_for_ctxsw", real_for_ctxsw},
    {"string_for_cpu", string_for_cpu},
    {"unknown_field", unknown_field},
    {"wrong_type", wrong_type},
    {"real_for_int", real_for_int},
    {"string_for_double", string_for_double},
    {"int_for_string", int_for_string},
    {"string_too_long", string_too_long},
    {"missing_process", missing_process},
    {"null_for_process", null_for_process},
    {"process_too_long", process_too_long},
    {"missing_refused", missing_refused},
    {"refused_not_object", refused_not_object},
    {"refused_missing_key", refused_missing_key},
    {"refused_unknown_key", refused_unknown_key},
    {"refused_bad_type", refused_bad_type},
    {"wrong_message_type", wrong_message_type},
    {"missing_type", missing_type},
    {"negative_count", negative_count},
    {"negative_refusals", negative_refusals},
    {"negative_seconds", negative_seconds},
    {"empty_model_name", empty_model_name},
    {"string_for_page_frag", string_for_page_frag},
    {"negative_page_frags", negative_page_frags},
    {"page_frag_optional", page_frag_optional},
    {"negative_deltas", negative_deltas},
};

int main(int argc, char **argv)
{
	return CHECK_MAIN(cases);
}
