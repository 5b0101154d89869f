/*
 * threshold — parse and evaluate "METRIC OP NUMBER" pass/fail expressions.
 *
 * The grammar is small enough for a hand-written scanner, which lets every
 * error say exactly which part is wrong and what was found there.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "threshold.h"

static const char *const threshold_metric_names[TM_METRIC_COUNT] = {
    [TM_HELD_RATIO] = "held_ratio",
    [TM_HELD] = "held",
    [TM_ESTABLISHED_RATIO] = "established_ratio",
    [TM_ESTABLISHED] = "established",
    [TM_FAILED] = "failed",
    [TM_ECHO_ERRORS] = "echo_errors",
    [TM_LOST_AGENTS] = "lost_agents",
    [TM_CONNECT_P50_MS] = "connect_p50_ms",
    [TM_CONNECT_P90_MS] = "connect_p90_ms",
    [TM_CONNECT_P99_MS] = "connect_p99_ms",
    [TM_CONNECT_P999_MS] = "connect_p999_ms",
    [TM_CONNECT_MAX_MS] = "connect_max_ms",
    [TM_ECHO_P50_MS] = "echo_p50_ms",
    [TM_ECHO_P90_MS] = "echo_p90_ms",
    [TM_ECHO_P99_MS] = "echo_p99_ms",
    [TM_ECHO_P999_MS] = "echo_p999_ms",
    [TM_ECHO_MAX_MS] = "echo_max_ms",
    [TM_SERVER_USER_KB_PER_CONN] = "server_user_kb_per_conn",
    [TM_SERVER_KERNEL_KB_PER_CONN] = "server_kernel_kb_per_conn",
    [TM_SERVER_MAX_CONNS] = "server_max_conns",
    [TM_ACHIEVED_RATIO] = "achieved_ratio",
    [TM_BEHIND_SCHEDULE] = "behind_schedule",
    [TM_LOAD_P50_MS] = "load_p50_ms",
    [TM_LOAD_P90_MS] = "load_p90_ms",
    [TM_LOAD_P99_MS] = "load_p99_ms",
    [TM_LOAD_P999_MS] = "load_p999_ms",
    [TM_LOAD_MAX_MS] = "load_max_ms",
    [TM_SERVER_CPU_US_PER_MSG] = "server_cpu_us_per_msg",
    [TM_CHURN_ACHIEVED_RATIO] = "churn_achieved_ratio",
    [TM_CHURN_FAILED] = "churn_failed",
};

/*
 * The list in error text, with the latency names folded so the sentence
 * fits a proto_err behind a "plan.json: thresholds[N]: " prefix. A unit test
 * checks that it covers every name above. The load sweep's metrics come
 * after the parenthesis, as a group of their own: they mean nothing without
 * a "load" in the plan.
 */
#define THRESHOLD_METRIC_LIST                                                                      \
	"held_ratio, held, established_ratio, established, failed, echo_errors, lost_agents, "     \
	"{connect,echo}_{p50,p90,p99,p999,max}_ms, server_{user,kernel}_kb_per_conn, "             \
	"server_max_conns"
#define THRESHOLD_LOAD_METRIC_LIST                                                                 \
	"achieved_ratio, behind_schedule, load_{p50,p90,p99,p999,max}_ms, server_cpu_us_per_msg; " \
	"with a churn: churn_achieved_ratio, churn_failed"

/* Longest first, so "<=" is not read as "<" followed by "=". */
static const struct {
	const char *text;
	enum threshold_op op;
} threshold_ops[] = {
    {"<=", TO_LE}, {">=", TO_GE}, {"==", TO_EQ}, {"!=", TO_NE}, {"<", TO_LT}, {">", TO_GT},
};

const char *threshold_metric_name(enum threshold_metric m)
{
	if ((int)m < 0 || m >= TM_METRIC_COUNT)
		return NULL;
	return threshold_metric_names[m];
}

static const char *threshold_skip_space(const char *s)
{
	while (*s != '\0' && isspace((unsigned char)*s))
		s++;
	return s;
}

/* What is at s, for error text: `"=> 5"` or `end of text`. */
static void threshold_describe(const char *s, char *buf, size_t size)
{
	if (*s == '\0')
		snprintf(buf, size, "end of text");
	else
		snprintf(buf, size, "\"%.24s%s\"", s, strlen(s) > 24 ? "..." : "");
}

/* Reads the metric name at *s and advances past it. */
static int threshold_read_metric(const char **s, struct threshold *t, struct proto_err *err)
{
	const char *p = *s;
	char got[40];
	size_t n = 0;

	while (p[n] == '_' || isalnum((unsigned char)p[n]))
		n++;
	if (n == 0) {
		threshold_describe(p, got, sizeof(got));
		return proto_fail(err, "expected a metric name, got %s", got);
	}
	for (int m = 0; m < TM_METRIC_COUNT; m++) {
		if (strlen(threshold_metric_names[m]) == n &&
		    strncmp(threshold_metric_names[m], p, n) == 0) {
			t->metric = (enum threshold_metric)m;
			*s = p + n;
			return 0;
		}
	}
	return proto_fail(err,
	                  "unknown metric \"%.*s\" (one of " THRESHOLD_METRIC_LIST
	                  "), or with a load: " THRESHOLD_LOAD_METRIC_LIST,
	                  n > 32 ? 32 : (int)n, p);
}

static int threshold_read_op(const char **s, struct threshold *t, struct proto_err *err)
{
	char got[40];

	for (size_t i = 0; i < sizeof(threshold_ops) / sizeof(threshold_ops[0]); i++) {
		size_t n = strlen(threshold_ops[i].text);

		/* "<==" or "=<" must not pass as "<=" followed by garbage in the number. */
		if (strncmp(*s, threshold_ops[i].text, n) == 0 &&
		    ((*s)[n] == '\0' || strchr("<>=!", (*s)[n]) == NULL)) {
			t->op = threshold_ops[i].op;
			*s += n;
			return 0;
		}
	}
	threshold_describe(*s, got, sizeof(got));
	return proto_fail(err, "expected an operator (< <= > >= == !=) after \"%s\", got %s",
	                  threshold_metric_names[t->metric], got);
}

static int threshold_read_number(const char **s, struct threshold *t, struct proto_err *err)
{
	const char *p = *s;
	char got[40];
	char *end;
	double v;

	threshold_describe(p, got, sizeof(got));
	/* strtod would also take "inf", "nan" and hex; a plan means a plain decimal. */
	if (!(isdigit((unsigned char)*p) || *p == '.' ||
	      ((*p == '-' || *p == '+') && (isdigit((unsigned char)p[1]) || p[1] == '.'))))
		return proto_fail(err, "expected a number after the operator, got %s", got);
	v = strtod(p, &end);
	if (end == p)
		return proto_fail(err, "expected a number after the operator, got %s", got);
	if (!isfinite(v))
		return proto_fail(err, "%.*s is not a finite number",
		                  (int)(end - p > 32 ? 32 : end - p), p);
	t->value = v;
	*s = end;
	return 0;
}

int threshold_parse(const char *text, struct threshold *t, struct proto_err *err)
{
	struct threshold tmp;
	const char *s;
	char got[40];

	memset(&tmp, 0, sizeof(tmp));
	if (text == NULL)
		return proto_fail(err, "expected an expression like \"echo_errors == 0\"");
	if (strlen(text) >= sizeof(tmp.expr))
		return proto_fail(err, "expression is %zu bytes, longer than %zu", strlen(text),
		                  sizeof(tmp.expr) - 1);
	memcpy(tmp.expr, text, strlen(text) + 1);
	s = threshold_skip_space(text);
	if (*s == '\0')
		return proto_fail(err, "empty expression (expected e.g. \"echo_errors == 0\")");
	if (threshold_read_metric(&s, &tmp, err) != 0)
		return -1;
	s = threshold_skip_space(s);
	if (threshold_read_op(&s, &tmp, err) != 0)
		return -1;
	s = threshold_skip_space(s);
	if (threshold_read_number(&s, &tmp, err) != 0)
		return -1;
	s = threshold_skip_space(s);
	if (*s != '\0') {
		threshold_describe(s, got, sizeof(got));
		return proto_fail(err, "unexpected %s after the number %g", got, tmp.value);
	}
	*t = tmp;
	return 0;
}

bool threshold_eval(const struct threshold *t, const double values[TM_METRIC_COUNT])
{
	double v;

	if ((int)t->metric < 0 || t->metric >= TM_METRIC_COUNT)
		return false;
	v = values[t->metric];
	/*
	 * A metric that was not measured proves nothing: every comparison fails,
	 * even !=. Nor does one that overflowed (infinite: the report says null).
	 */
	if (!isfinite(v) || isnan(t->value))
		return false;
	switch (t->op) {
	case TO_LT:
		return v < t->value;
	case TO_LE:
		return v <= t->value;
	case TO_GT:
		return v > t->value;
	case TO_GE:
		return v >= t->value;
	case TO_EQ:
		return v == t->value;
	case TO_NE:
		return v != t->value;
	}
	return false;
}
