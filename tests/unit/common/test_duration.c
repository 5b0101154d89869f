/* Durations: one grammar (NUMBER[ms|s|m|h]), exact values, and the exact error sentences. */
#include <errno.h>

#include "check.h"
#include "duration.h"

static char err[256];

/* The value in microseconds, rounded, or the error code. */
static long long parse(const char *arg, enum duration_unit bare, double lo, double hi)
{
	double ms = -1;
	int rc;

	err[0] = '\0';
	rc = duration_parse("--x", arg, bare, lo, hi, &ms, err, sizeof(err));
	return rc < 0 ? rc : (long long)(ms * 1000 + 0.5);
}

static void test_good(void)
{
	/* A bare number takes the option's unit. */
	CHECK_EQ_U(parse("1.5", DURATION_S, 0, 1e9), 1500000);
	CHECK_EQ_U(parse("2", DURATION_S, 0, 1e9), 2000000);
	CHECK_EQ_U(parse("3000", DURATION_MS, 0, 1e9), 3000000);
	CHECK_EQ_U(parse("0.5", DURATION_MS, 0, 1e9), 500);
	CHECK_EQ_U(parse(".25", DURATION_S, 0, 1e9), 250000);
	CHECK_EQ_U(parse("1.", DURATION_S, 0, 1e9), 1000000);
	/* Units override it, whatever the option's unit. */
	CHECK_EQ_U(parse("250ms", DURATION_S, 0, 1e9), 250000);
	CHECK_EQ_U(parse("2.5s", DURATION_MS, 0, 1e9), 2500000);
	CHECK_EQ_U(parse("1.5m", DURATION_MS, 0, 1e9), 90000000);
	CHECK_EQ_U(parse("1h", DURATION_S, 0, 1e9), 3600000000LL);
	CHECK_EQ_U(parse("0", DURATION_S, 0, 1e9), 0);
	/* The bounds themselves are in range. */
	CHECK_EQ_U(parse("604800", DURATION_S, 0, 604800000.0), 604800000000LL);
	CHECK_EQ_U(parse("1", DURATION_MS, 1, 3600000), 1000);
}

static void expect_error(const char *arg, enum duration_unit bare, double lo, double hi,
                         const char *expected)
{
	CHECK_EQ_U(parse(arg, bare, lo, hi), (unsigned long long)-EINVAL);
	CHECK_STR_EQ(err, expected);
}

static void test_errors(void)
{
	const char *sec = "--x: expected a duration in seconds (e.g. 1.5, 250ms, 2m), got '%s'";
	const char *bad[] = {"",    "x",   "-1",   "+1", "1e3", "1.5x", "1 s",   " 1", "1,5",
	                     "inf", "nan", "0x10", ".",  "1ss", "1S",   "1.2.3", "ms", NULL};
	char want[256];

	for (int i = 0; bad[i]; i++) {
		snprintf(want, sizeof(want), sec, bad[i]);
		expect_error(bad[i], DURATION_S, 0, 1e9, want);
	}
	expect_error("5q", DURATION_MS, 1, 3600000,
	             "--x: expected a duration in milliseconds (e.g. 500, 2.5s, 1m), got '5q'");
	expect_error("700000", DURATION_S, 0, 604800000.0,
	             "--x: expected a duration from 0 to 604800 s, got '700000'");
	expect_error("0.2", DURATION_MS, 1, 3600000,
	             "--x: expected a duration from 1 ms to 3600 s, got '0.2'");
	expect_error("2h", DURATION_MS, 1, 3600000,
	             "--x: expected a duration from 1 ms to 3600 s, got '2h'");
	/* Digits past any range stay finite and are refused by the range check. */
	expect_error("99999999999999999999999999999999", DURATION_S, 0, 604800000.0,
	             "--x: expected a duration from 0 to 604800 s, got "
	             "'99999999999999999999999999999999'");
}

int main(void)
{
	test_good();
	test_errors();
	return check_exit("unit.common.duration");
}
