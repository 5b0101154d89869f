/*
 * unit.proto.threshold.* — "METRIC OP NUMBER": every metric and operator
 * parses with any spacing, every malformed expression is refused saying
 * which part is wrong, and evaluation never passes on an unmeasured metric.
 */
#include <math.h>
#include <stdlib.h>

#include "check.h"
#include "threshold.h"

static void expect_ok(int *fails, const char *text, enum threshold_metric m, enum threshold_op op,
                      double value)
{
	struct proto_err err = {{0}};
	struct threshold t;

	memset(&t, 0x5a, sizeof(t));
	CHECK(fails, threshold_parse(text, &t, &err) == 0);
	if (err.msg[0])
		fprintf(stderr, "  \"%s\": %s\n", text, err.msg);
	CHECK_U64(fails, t.metric, m);
	CHECK_U64(fails, t.op, op);
	CHECK(fails, t.value == value);
	CHECK(fails, strcmp(t.expr, text) == 0);
}

static void parse_forms(int *fails)
{
	expect_ok(fails, "established_ratio >= 1.0", TM_ESTABLISHED_RATIO, TO_GE, 1.0);
	expect_ok(fails, "echo_errors == 0", TM_ECHO_ERRORS, TO_EQ, 0);
	expect_ok(fails, "echo_p99_ms<50", TM_ECHO_P99_MS, TO_LT, 50);
	expect_ok(fails, "  connect_p999_ms\t<=  2.5e3 ", TM_CONNECT_P999_MS, TO_LE, 2500);
	expect_ok(fails, "server_kernel_kb_per_conn < 24", TM_SERVER_KERNEL_KB_PER_CONN, TO_LT, 24);
	expect_ok(fails, "failed != 3", TM_FAILED, TO_NE, 3);
	expect_ok(fails, "lost_agents > -1", TM_LOST_AGENTS, TO_GT, -1);
	expect_ok(fails, "established >= .5", TM_ESTABLISHED, TO_GE, 0.5);
	expect_ok(fails, "server_max_conns >= +30000", TM_SERVER_MAX_CONNS, TO_GE, 30000);
}

/* Every metric name round-trips through parse, and the error list covers them all. */
static void every_metric(int *fails)
{
	static const char *const pcts[] = {"p50", "p90", "p99", "p999", "max"};
	struct proto_err err = {{0}};
	struct threshold t;

	CHECK(fails, threshold_parse("nope == 1", &t, &err) == -1);
	for (int m = 0; m < TM_METRIC_COUNT; m++) {
		const char *name = threshold_metric_name((enum threshold_metric)m);
		char text[96];

		CHECK(fails, name != NULL);
		if (name == NULL)
			continue;
		snprintf(text, sizeof(text), "%s == 1", name);
		expect_ok(fails, text, (enum threshold_metric)m, TO_EQ, 1);
		if (strstr(name, "_ms") == NULL && strstr(name, "_kb_per_conn") == NULL) {
			char quoted[64];

			/* Listed whole, delimited by ", " or the list's edges. */
			snprintf(quoted, sizeof(quoted), "%s%s", name,
			         m == TM_SERVER_MAX_CONNS ? ")" : ",");
			CHECK_STR_HAS(fails, err.msg, quoted);
		}
	}
	CHECK_STR_HAS(fails, err.msg, "{connect,echo}_{p50,p90,p99,p999,max}_ms");
	CHECK_STR_HAS(fails, err.msg, "server_{user,kernel}_kb_per_conn");
	for (size_t i = 0; i < sizeof(pcts) / sizeof(pcts[0]); i++) {
		char text[64];

		snprintf(text, sizeof(text), "connect_%s_ms < 1", pcts[i]);
		CHECK(fails, threshold_parse(text, &t, &err) == 0);
		snprintf(text, sizeof(text), "echo_%s_ms < 1", pcts[i]);
		CHECK(fails, threshold_parse(text, &t, &err) == 0);
	}
	CHECK(fails, threshold_metric_name(TM_METRIC_COUNT) == NULL);
}

static void expect_bad(int *fails, const char *text, const char *want)
{
	struct proto_err err = {{0}};
	struct threshold t;

	memset(&t, 0x5a, sizeof(t));
	CHECK(fails, threshold_parse(text, &t, &err) == -1);
	CHECK_STR_HAS(fails, err.msg, want);
	CHECK_U64(fails, (unsigned char)t.expr[0], 0x5a); /* untouched */
}

static void bad_metric(int *fails)
{
	expect_bad(fails, "echo_p98_ms < 50",
	           "unknown metric \"echo_p98_ms\" (one of held_ratio, held, established_ratio, "
	           "established, failed, "
	           "echo_errors, lost_agents, {connect,echo}_{p50,p90,p99,p999,max}_ms, "
	           "server_{user,kernel}_kb_per_conn, server_max_conns)");
	expect_bad(fails, "Echo_errors == 0", "unknown metric \"Echo_errors\"");
	expect_bad(fails, "< 5", "expected a metric name, got \"< 5\"");
	expect_bad(fails, "", "empty expression");
	expect_bad(fails, " \t ", "empty expression");
	expect_bad(fails, NULL, "expected an expression");
}

static void bad_operator(int *fails)
{
	expect_bad(fails, "echo_errors",
	           "expected an operator (< <= > >= == !=) after \"echo_errors\", got end of text");
	expect_bad(fails, "echo_errors 0", "after \"echo_errors\", got \"0\"");
	expect_bad(fails, "echo_errors = 0", "got \"= 0\"");
	expect_bad(fails, "echo_errors => 0", "got \"=> 0\"");
	expect_bad(fails, "echo_errors <== 0", "got \"<== 0\"");
	expect_bad(fails, "echo_errors ~ 0", "got \"~ 0\"");
}

static void bad_number(int *fails)
{
	expect_bad(fails,
	           "echo_errors ==", "expected a number after the operator, got end of text");
	expect_bad(fails, "echo_errors == zero",
	           "expected a number after the operator, got \"zero\"");
	expect_bad(fails, "echo_errors == inf", "got \"inf\"");
	expect_bad(fails, "echo_errors == nan", "got \"nan\"");
	expect_bad(fails, "echo_errors == -", "got \"-\"");
	expect_bad(fails, "echo_errors == 1e999", "1e999 is not a finite number");
	expect_bad(fails, "echo_errors == -1e999", "-1e999 is not a finite number");
}

static void bad_trailing(int *fails)
{
	char text[141];

	expect_bad(fails, "echo_p99_ms < 50ms", "unexpected \"ms\" after the number 50");
	expect_bad(fails, "echo_p99_ms < 50 and failed == 0", "unexpected \"and failed == 0\"");
	expect_bad(fails, "echo_p99_ms < 1.2.3", "unexpected \".3\"");
	memset(text, ' ', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	memcpy(text, "echo_errors == 0", 16);
	expect_bad(fails, text, "expression is 140 bytes, longer than 127");
}

static void eval(int *fails)
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
	};

	for (int m = 0; m < TM_METRIC_COUNT; m++)
		values[m] = 0;
	values[TM_ECHO_P99_MS] = 12.5;
	values[TM_ESTABLISHED_RATIO] = 0.9999;
	values[TM_SERVER_MAX_CONNS] = NAN;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct threshold t;
		int before = *fails;

		CHECK(fails, threshold_parse(rows[i].expr, &t, &err) == 0);
		CHECK(fails, threshold_eval(&t, values) == rows[i].want);
		if (*fails != before)
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
};

int main(int argc, char **argv)
{
	return CHECK_MAIN(cases);
}
