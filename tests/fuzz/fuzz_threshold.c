/*
 * fuzz_threshold — threshold_parse() on arbitrary text, threshold_eval() on
 * what it accepts.
 *
 * An accepted expression keeps its text, prints back to an expression that
 * parses to the same metric, operator and value, and evaluates as its
 * operator says: never true on an unmeasured (NaN) metric.
 */
#include "fuzz.h"

#include <math.h>
#include <string.h>

#include "threshold.h"

static const char *const fuzz_op_text[] = {
    [TO_LT] = "<", [TO_LE] = "<=", [TO_GT] = ">", [TO_GE] = ">=", [TO_EQ] = "==", [TO_NE] = "!=",
};

/* Every metric set to v, so the expression's metric reads v. */
static bool fuzz_eval_at(const struct threshold *t, double v)
{
	double values[TM_METRIC_COUNT];

	for (int i = 0; i < TM_METRIC_COUNT; i++)
		values[i] = v;
	return threshold_eval(t, values);
}

static void fuzz_check_eval(const struct threshold *t)
{
	double below = nextafter(t->value, -INFINITY), above = nextafter(t->value, INFINITY);
	bool lt = t->op == TO_LT, le = t->op == TO_LE, gt = t->op == TO_GT, ge = t->op == TO_GE;
	bool eq = t->op == TO_EQ, ne = t->op == TO_NE;

	FUZZ_ASSERT(!fuzz_eval_at(t, NAN));
	FUZZ_ASSERT(fuzz_eval_at(t, t->value) == (le || ge || eq));
	FUZZ_ASSERT(fuzz_eval_at(t, below) == (lt || le || ne));
	FUZZ_ASSERT(fuzz_eval_at(t, above) == (gt || ge || ne));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_err err = {{0}};
	struct threshold t, again;
	char *text = malloc(size + 1);
	char printed[192];

	/* The parser takes a C string: the input up to its first NUL. */
	FUZZ_ASSERT(text != NULL);
	memcpy(text, data, size);
	text[size] = '\0';
	memset(&t, 0xa5, sizeof(t));
	if (threshold_parse(text, &t, &err) != 0) {
		FUZZ_ASSERT(err.msg[0] != '\0');
		free(text);
		return 0;
	}
	fuzz_accepted++;
	FUZZ_ASSERT(strcmp(t.expr, text) == 0);
	FUZZ_ASSERT(threshold_metric_name(t.metric) != NULL);
	FUZZ_ASSERT((int)t.op >= TO_LT && t.op <= TO_NE);
	FUZZ_ASSERT(isfinite(t.value));
	fuzz_check_eval(&t);
	snprintf(printed, sizeof(printed), "%s %s %.17g", threshold_metric_name(t.metric),
	         fuzz_op_text[t.op], t.value);
	if (threshold_parse(printed, &again, &err) != 0) {
		fprintf(stderr, "\"%s\" printed as \"%s\" does not parse: %s\n", text, printed,
		        err.msg);
		abort();
	}
	FUZZ_ASSERT(again.metric == t.metric && again.op == t.op && again.value == t.value);
	free(text);
	return 0;
}
