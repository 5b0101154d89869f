/*
 * unit.proto.threshold.* — "METRIC OP NUMBER": every metric and operator
 * parses with any spacing, every malformed expression is refused saying
 * which part is wrong, and evaluation never passes on an unmeasured metric.
 */
#include <math.h>
#include <stdlib.h>

#include "check.h"
#include "threshold.h"

static void expect_ok(const char *text, enum threshold_metric m, enum threshold_op op, double value)
{
	struct proto_err err = {{0}};
	struct threshold t;

	memset(&t, 0x5a, sizeof(t));
	CHECK(threshold_parse(text, &t, &err) == 0);
	if (err.msg[0])
		fprintf(stderr, "  \"%s\": %s\n", text, err.msg);
	CHECK_EQ_U(t.metric, m);
	CHECK_EQ_U(t.op, op);
	CHECK(t.value == value);
	CHECK(strcmp(t.expr, text) == 0);
}

static void parse_forms(void)
{
	expect_ok("established_ratio >= 1.0", TM_ESTABLISHED_RATIO, TO_GE, 1.0);
	expect_ok("echo_errors == 0", TM_ECHO_ERRORS, TO_EQ, 0);
	expect_ok("echo_p99_ms<50", TM_ECHO_P99_MS, TO_LT, 50);
	expect_ok("  connect_p999_ms\t<=  2.5e3 ", TM_CONNECT_P999_MS, TO_LE, 2500);
	expect_ok("server_kernel_kb_per_conn < 24", TM_SERVER_KERNEL_KB_PER_CONN, TO_LT, 24);
	expect_ok("failed != 3", TM_FAILED, TO_NE, 3);
	expect_ok("lost_agents > -1", TM_LOST_AGENTS, TO_GT, -1);
	expect_ok("established >= .5", TM_ESTABLISHED, TO_GE, 0.5);
	expect_ok("server_max_conns >= +30000", TM_SERVER_MAX_CONNS, TO_GE, 30000);
	expect_ok("achieved_ratio >= 0.95", TM_ACHIEVED_RATIO, TO_GE, 0.95);
	expect_ok("behind_schedule == 0", TM_BEHIND_SCHEDULE, TO_EQ, 0);
	expect_ok("load_p99_ms < 5", TM_LOAD_P99_MS, TO_LT, 5);
	expect_ok("load_max_ms<=250", TM_LOAD_MAX_MS, TO_LE, 250);
	expect_ok("server_cpu_us_per_msg < 12.5", TM_SERVER_CPU_US_PER_MSG, TO_LT, 12.5);
}

/* Every metric name round-trips through parse, and the error list covers them all. */
static void every_metric(void)
{
	static const char *const pcts[] = {"p50", "p90", "p99", "p999", "max"};
	struct proto_err err = {{0}};
	struct threshold t;

	CHECK(threshold_parse("nope == 1", &t, &err) == -1);
	for (int m = 0; m < TM_METRIC_COUNT; m++) {
		const char *name = threshold_metric_name((enum threshold_metric)m);
		char text[96];

		CHECK(name != NULL);
		if (name == NULL)
			continue;
		snprintf(text, sizeof(text), "%s == 1", name);
		expect_ok(text, (enum threshold_metric)m, TO_EQ, 1);
		if (strstr(name, "_ms") == NULL && strstr(name, "_kb_per_conn") == NULL) {
			char quoted[64];

			/* Listed whole, delimited by ", ", the parenthesis or the text's end. */
			if (m == TM_SERVER_CPU_US_PER_MSG || m == TM_CHURN_FAILED)
				snprintf(quoted, sizeof(quoted), ", %s", name);
			else
				snprintf(quoted, sizeof(quoted), "%s%s", name,
				         m == TM_SERVER_MAX_CONNS ? ")" : ",");
			CHECK_CONTAINS(err.msg, quoted);
		}
	}
	CHECK_CONTAINS(err.msg, "{connect,echo}_{p50,p90,p99,p999,max}_ms");
	CHECK_CONTAINS(err.msg, "server_{user,kernel}_kb_per_conn");
	CHECK_CONTAINS(err.msg, "load_{p50,p90,p99,p999,max}_ms");
	CHECK(strlen(err.msg) > 0 &&
	      strcmp(err.msg + strlen(err.msg) - strlen(", churn_failed"), ", churn_failed") == 0);
	for (size_t i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++) {
		char text[64];

		snprintf(text, sizeof(text), "connect_%s_ms < 1", pcts[i]);
		CHECK(threshold_parse(text, &t, &err) == 0);
		snprintf(text, sizeof(text), "echo_%s_ms < 1", pcts[i]);
		CHECK(threshold_parse(text, &t, &err) == 0);
		snprintf(text, sizeof(text), "load_%s_ms < 1", pcts[i]);
		CHECK(threshold_parse(text, &t, &err) == 0);
	}
	CHECK(threshold_metric_name(TM_METRIC_COUNT) == NULL);
}

static void expect_bad(const char *text, const char *want)
{
	struct proto_err err = {{0}};
	struct threshold t;

	memset(&t, 0x5a, sizeof(t));
	CHECK(threshold_parse(text, &t, &err) == -1);
	CHECK_CONTAINS(err.msg, want);
	CHECK_EQ_U((unsigned char)t.expr[0], 0x5a); /* untouched */
}

static void bad_metric(void)
{
	expect_bad("echo_p98_ms < 50",
	           "unknown metric \"echo_p98_ms\" (one of held_ratio, held, established_ratio, "
	           "established, failed, "
	           "echo_errors, lost_agents, {connect,echo}_{p50,p90,p99,p999,max}_ms, "
	           "server_{user,kernel}_kb_per_conn, server_max_conns), or with a load: "
	           "achieved_ratio, behind_schedule, load_{p50,p90,p99,p999,max}_ms, "
	           "server_cpu_us_per_msg; with a churn: churn_achieved_ratio, churn_failed");
	expect_bad("load_p98_ms < 50", "unknown metric \"load_p98_ms\"");
	expect_bad("achieved < 50", "unknown metric \"achieved\"");
	expect_bad("Echo_errors == 0", "unknown metric \"Echo_errors\"");
	expect_bad("< 5", "expected a metric name, got \"< 5\"");
	expect_bad("", "empty expression");
	expect_bad(" \t ", "empty expression");
	expect_bad(NULL, "expected an expression");
}

static void bad_operator(void)
{
	expect_bad("echo_errors",
	           "expected an operator (< <= > >= == !=) after \"echo_errors\", got end of text");
	expect_bad("echo_errors 0", "after \"echo_errors\", got \"0\"");
	expect_bad("echo_errors = 0", "got \"= 0\"");
	expect_bad("echo_errors => 0", "got \"=> 0\"");
	expect_bad("echo_errors <== 0", "got \"<== 0\"");
	expect_bad("echo_errors ~ 0", "got \"~ 0\"");
}

static void bad_number(void)
{
	expect_bad("echo_errors ==", "expected a number after the operator, got end of text");
	expect_bad("echo_errors == zero", "expected a number after the operator, got \"zero\"");
	expect_bad("echo_errors == inf", "got \"inf\"");
	expect_bad("echo_errors == nan", "got \"nan\"");
	expect_bad("echo_errors == -", "got \"-\"");
	expect_bad("echo_errors == 1e999", "1e999 is not a finite number");
	expect_bad("echo_errors == -1e999", "-1e999 is not a finite number");
}

static void bad_trailing(void)
{
	char text[141];

	expect_bad("echo_p99_ms < 50ms", "unexpected \"ms\" after the number 50");
	expect_bad("echo_p99_ms < 50 and failed == 0", "unexpected \"and failed == 0\"");
	expect_bad("echo_p99_ms < 1.2.3", "unexpected \".3\"");
	memset(text, ' ', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	memcpy(text, "echo_errors == 0", 16);
	expect_bad(text, "expression is 140 bytes, longer than 127");
}

static void eval(void)
{
	struct proto_err err = {{0}};
	double values[TM_METRIC_COUNT];
	static const struct {
		const char *expr;
		bool want;
	} rows[] = {
	    {"echo_p99_ms < 50", true},
	    {"echo_p99_ms < 12.5", false},
	    {"echo_p99_ms <= 12.5", true},
	    {"echo_p99_ms > 12.5", false},
	    {"echo_p99_ms >= 12.5", true},
	    {"echo_p99_ms == 12.5", true},
	    {"echo_p99_ms != 12.5", false},
	    {"established_ratio >= 1.0", false},
	    {"echo_errors == 0", true},
	    {"echo_errors != 0", false},
	    /* not measured: NaN fails every operator, even != */
	    {"server_max_conns > 0", false},
	    {"server_max_conns <= 0", false},
	    {"server_max_conns != 1", false},
	    {"server_max_conns == 0", false},
	    /* a plan without a load: its metrics are not measured either */
	    {"achieved_ratio >= 0", false},
	    {"achieved_ratio < 1e9", false},
	    {"load_p99_ms < 1e9", false},
	    {"load_max_ms != 5", false},
	    {"behind_schedule == 0", false},
	    {"server_cpu_us_per_msg >= 0", false},
	};

	for (int m = 0; m < TM_METRIC_COUNT; m++)
		values[m] = 0;
	values[TM_ECHO_P99_MS] = 12.5;
	values[TM_ESTABLISHED_RATIO] = 0.9999;
	values[TM_SERVER_MAX_CONNS] = NAN;
	for (int m = TM_ACHIEVED_RATIO; m <= TM_SERVER_CPU_US_PER_MSG; m++)
		values[m] = NAN;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct threshold t;
		int before = check_failed();

		CHECK(threshold_parse(rows[i].expr, &t, &err) == 0);
		CHECK(threshold_eval(&t, values) == rows[i].want);
		if (check_failed() != before)
			fprintf(stderr, "  row %zu: %s\n", i, rows[i].expr);
	}
}

/* Measured, the load metrics compare like any other. */
static void eval_load(void)
{
	struct proto_err err = {{0}};
	double values[TM_METRIC_COUNT];
	static const struct {
		const char *expr;
		bool want;
	} rows[] = {
	    {"achieved_ratio >= 0.95", true}, {"achieved_ratio >= 0.98", false},
	    {"load_p99_ms < 5", true},        {"load_p99_ms < 0.001", false},
	    {"load_p50_ms <= 0.25", true},    {"load_max_ms < 40", false},
	    {"behind_schedule == 0", true},   {"server_cpu_us_per_msg < 12", true},
	};

	for (int m = 0; m < TM_METRIC_COUNT; m++)
		values[m] = NAN;
	values[TM_ACHIEVED_RATIO] = 0.97;
	values[TM_LOAD_P50_MS] = 0.25;
	values[TM_LOAD_P99_MS] = 1.5;
	values[TM_LOAD_MAX_MS] = 40;
	values[TM_BEHIND_SCHEDULE] = 0;
	values[TM_SERVER_CPU_US_PER_MSG] = 11.5;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct threshold t;
		int before = check_failed();

		CHECK(threshold_parse(rows[i].expr, &t, &err) == 0);
		CHECK(threshold_eval(&t, values) == rows[i].want);
		if (check_failed() != before)
			fprintf(stderr, "  row %zu: %s\n", i, rows[i].expr);
	}
}

static const struct check_case cases[] = {
    {"parse_forms", parse_forms},
    {"every_metric", every_metric},
    {"bad_metric", bad_metric},
    {"bad_operator", bad_operator},
    {"bad_number", bad_number},
    {"bad_trailing", bad_trailing},
    {"eval", eval},
    {"eval_load", eval_load},
};

int main(int argc, char **argv)
{
	return CHECK_MAIN(cases);
}
