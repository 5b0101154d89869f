/*
 * unit.proto.hist.* — bucket arithmetic, precision, merging, percentiles,
 * clamping, the summary and the strict sparse JSON form.
 */
#include <math.h>
#include <stdlib.h>

#include "check.h"
#include "hist.h"

/* xorshift64*: reproducible values without global state or libc's rand(). */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545F4914F6CDD1DULL;
}

/* Log-uniform in 1 .. 1e8, so every decade gets the same attention. */
static uint64_t rng_latency(uint64_t *s)
{
	double u = (double)(rng_next(s) >> 11) / 9007199254740992.0; /* [0, 1) */
	uint64_t v = (uint64_t)pow(10.0, u * 8.0);

	return v < 1 ? 1 : v > HIST_MAX_US ? HIST_MAX_US : v;
}

static struct hist *hist_alloc(void)
{
	struct hist *h = malloc(sizeof(*h));

	if (h == NULL) {
		fprintf(stderr, "out of memory\n");
		abort();
	}
	hist_init(h);
	return h;
}

static void bucket_consistency(void)
{
	const unsigned top = HIST_BUCKETS - 1;

	/* The constant covers exactly 0 .. 1e8: 1e8 opens the last bucket. */
	CHECK_EQ_U(hist_bucket_of(HIST_MAX_US), top);
	CHECK_EQ_U(hist_bucket_low(top), HIST_MAX_US);
	CHECK_EQ_U(hist_bucket_of(HIST_MAX_US - 1), top - 1);
	CHECK_EQ_U(hist_bucket_of(999), 999);
	CHECK_EQ_U(hist_bucket_of(1000), 1000);
	CHECK_EQ_U(hist_bucket_of(1009), 1000);
	CHECK_EQ_U(hist_bucket_of(1010), 1001);
	CHECK_EQ_U(hist_bucket_of(9999), 1899);
	CHECK_EQ_U(hist_bucket_of(10000), 1900);
	for (unsigned b = 0; b < HIST_BUCKETS; b++) {
		uint64_t low = hist_bucket_low(b);

		CHECK_EQ_U(hist_bucket_of(low), b);
		CHECK(hist_bucket_low(hist_bucket_of(low)) <= low);
		if (b > 0) {
			/* Contiguous: the value just below a low edge is in the previous bucket. */
			CHECK(low > hist_bucket_low(b - 1));
			CHECK_EQ_U(hist_bucket_of(low - 1), b - 1);
		}
	}
}

static void relative_error(void)
{
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	double worst = 0;

	for (int i = 0; i < 1000000; i++) {
		uint64_t x = rng_latency(&seed);
		uint64_t low = hist_bucket_low(hist_bucket_of(x));
		double rel = (double)(x - low) / (double)x;

		CHECK(low <= x);
		if (rel > worst)
			worst = rel;
	}
	/* Edges of each decade, where the error is largest. */
	for (uint64_t d = 1000; d <= HIST_MAX_US; d *= 10) {
		uint64_t x = d * 101 / 100 - 1;
		double rel = (double)(x - hist_bucket_low(hist_bucket_of(x))) / (double)x;

		if (rel > worst)
			worst = rel;
	}
	if (worst > 0.01)
		fprintf(stderr, "worst relative error %.5f\n", worst);
	CHECK(worst <= 0.01);
}

static void merge(void)
{
	struct hist *a = hist_alloc(), *b = hist_alloc(), *all = hist_alloc(), *m = hist_alloc();
	static const double qs[] = {0.001, 0.25, 0.5, 0.9, 0.99, 0.999, 1.0};
	uint64_t seed = 42;

	for (int i = 0; i < 200000; i++) {
		uint64_t x = rng_latency(&seed);

		hist_record(i % 3 ? a : b, x);
		hist_record(all, x);
	}
	hist_record(b, 3 * HIST_MAX_US); /* clamped counts merge too */
	hist_record(all, 3 * HIST_MAX_US);
	hist_merge(m, a); /* into an empty histogram: takes a's min */
	hist_merge(m, b);
	CHECK(memcmp(m->buckets, all->buckets, sizeof(m->buckets)) == 0);
	CHECK_EQ_U(m->count, all->count);
	CHECK_EQ_U(m->clamped, 1);
	CHECK_EQ_U(m->min_us, all->min_us);
	CHECK_EQ_U(m->max_us, all->max_us);
	CHECK_EQ_U(m->sum_us, all->sum_us);
	for (size_t i = 0; i < sizeof(qs) / sizeof(qs[0]); i++)
		CHECK_EQ_U(hist_percentile(m, qs[i]), hist_percentile(all, qs[i]));
	free(a);
	free(b);
	free(all);
	free(m);
}

/* A step's latencies from cumulative snapshots: now - before == what came in between. */
static void delta(void)
{
	struct hist *h = hist_alloc(), *before = hist_alloc(), *later = hist_alloc();
	struct hist *d = hist_alloc();
	struct proto_err err;
	uint64_t seed = 7;

	for (int i = 0; i < 50000; i++)
		hist_record(h, rng_latency(&seed));
	*before = *h;
	for (int i = 0; i < 30000; i++) {
		uint64_t x = rng_latency(&seed) / 4;
		hist_record(h, x);
		hist_record(later, x);
	}
	hist_delta(d, h, before);
	CHECK(memcmp(d->buckets, later->buckets, sizeof(d->buckets)) == 0);
	CHECK_EQ_U(d->count, 30000);
	CHECK_EQ_U(d->sum_us, later->sum_us);
	CHECK_EQ_U(hist_percentile(d, 0.5), hist_percentile(later, 0.5));
	CHECK_EQ_U(hist_percentile(d, 0.99), hist_percentile(later, 0.99));
	CHECK_EQ_U(hist_bucket_of(d->min_us), hist_bucket_of(later->min_us));
	CHECK_EQ_U(hist_bucket_of(d->max_us), hist_bucket_of(later->max_us));
	/* What goes on the wire must be a valid histogram. */
	json_t *j = hist_to_json(d);
	CHECK(hist_from_json(j, before, &err) == 0);
	json_decref(j);
	hist_delta(d, h, h);
	CHECK_EQ_U(d->count, 0);
	free(h);
	free(before);
	free(later);
	free(d);
}

static void percentiles(void)
{
	struct hist *h = hist_alloc();

	CHECK_EQ_U(hist_percentile(h, 0.5), 0);
	for (uint64_t v = 1; v <= 1000; v++)
		hist_record(h, v);
	CHECK_EQ_U(hist_percentile(h, 0.5), 500);
	CHECK_EQ_U(hist_percentile(h, 0.9), 900);
	CHECK_EQ_U(hist_percentile(h, 0.99), 990);
	CHECK_EQ_U(hist_percentile(h, 0.999), 999);
	CHECK_EQ_U(hist_percentile(h, 1.0), 1000);
	CHECK_EQ_U(hist_percentile(h, 0.0001), 1);
	CHECK_EQ_U(h->min_us, 1);
	CHECK_EQ_U(h->max_us, 1000);
	CHECK_EQ_U(h->sum_us, 500500);

	/* Same shape a thousand times larger: answers within one bucket (3 digits). */
	hist_init(h);
	for (uint64_t v = 1; v <= 1000; v++)
		hist_record(h, v * 1000 + 7);
	CHECK_EQ_U(hist_percentile(h, 0.5), 500000);
	CHECK_EQ_U(hist_percentile(h, 0.99), 990000);
	CHECK_EQ_U(hist_percentile(h, 1.0), 1000000);
	free(h);
}

static void clamping(void)
{
	struct hist *h = hist_alloc();

	hist_record(h, HIST_MAX_US); /* exactly 100 s fits */
	hist_record(h, HIST_MAX_US + 1);
	hist_record(h, UINT64_MAX);
	hist_record(h, 5);
	CHECK_EQ_U(h->count, 4);
	CHECK_EQ_U(h->clamped, 2);
	CHECK_EQ_U(h->buckets[HIST_BUCKETS - 1], 3);
	CHECK_EQ_U(h->max_us, HIST_MAX_US);
	CHECK_EQ_U(h->sum_us, 3 * HIST_MAX_US + 5);
	CHECK_EQ_U(hist_percentile(h, 1.0), HIST_MAX_US);
	CHECK_EQ_U(hist_percentile(h, 0.25), 5);
	free(h);
}

static double num(const json_t *o, const char *key)
{
	return json_number_value(json_object_get(o, key));
}

static void summary(void)
{
	struct hist *h = hist_alloc();
	json_t *s;

	for (uint64_t v = 1; v <= 1000; v++)
		hist_record(h, v);
	s = hist_summary_json(h);
	CHECK(s != NULL && json_object_size(s) == 7);
	CHECK(json_is_integer(json_object_get(s, "count")));
	CHECK(json_is_real(json_object_get(s, "p50")));
	CHECK(num(s, "count") == 1000);
	CHECK(num(s, "p50") == 0.5);
	CHECK(num(s, "p90") == 0.9);
	CHECK(num(s, "p99") == 0.99);
	CHECK(num(s, "p999") == 0.999);
	CHECK(num(s, "max") == 1.0);
	CHECK(num(s, "mean") == 0.501); /* 500.5 us rounds to 501 */
	json_decref(s);
	hist_init(h);
	s = hist_summary_json(h);
	CHECK(s != NULL && num(s, "count") == 0 && num(s, "p99") == 0 && num(s, "mean") == 0);
	json_decref(s);
	free(h);
}

/* to_json -> text -> from_json gives back the identical struct. */
static void check_json_round_trip(const struct hist *h)
{
	struct hist *back = hist_alloc();
	struct proto_err err = {{0}};
	json_t *j = hist_to_json(h), *parsed;
	char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;

	CHECK(text != NULL);
	parsed = text ? json_loads(text, 0, NULL) : NULL;
	CHECK(parsed != NULL);
	CHECK(hist_from_json(parsed, back, &err) == 0);
	if (err.msg[0])
		fprintf(stderr, "unexpected error: %s\n", err.msg);
	CHECK(memcmp(back, h, sizeof(*h)) == 0);
	json_decref(parsed);
	json_decref(j);
	free(text);
	free(back);
}

static void json_round_trip(void)
{
	struct hist *h = hist_alloc();
	uint64_t seed = 7;
	json_t *j;

	check_json_round_trip(h); /* empty */
	for (int i = 0; i < 50000; i++)
		hist_record(h, rng_latency(&seed));
	hist_record(h, 0);
	hist_record(h, 10 * HIST_MAX_US);
	check_json_round_trip(h);
	/* Sparse: only non-empty buckets are written. */
	hist_init(h);
	hist_record(h, 12345);
	hist_record(h, 12349);
	j = hist_to_json(h);
	CHECK_EQ_U(json_array_size(json_object_get(j, "b")), 1);
	json_decref(j);
	free(h);
}

static void expect_error(const char *text, const char *want)
{
	struct hist *h = hist_alloc();
	struct proto_err err = {{0}};
	json_error_t jerr;
	json_t *j = json_loads(text, 0, &jerr);

	CHECK(j != NULL);
	h->count = 99;
	CHECK(hist_from_json(j, h, &err) == -1);
	CHECK_CONTAINS(err.msg, want);
	CHECK_EQ_U(h->count, 0); /* reset, never half-filled */
	json_decref(j);
	free(h);
}

#define HJ(rest) "{\"count\":3,\"clamped\":0,\"min\":5,\"max\":7," rest "}"
#define BAD(fname, text, want)                                                                     \
	static void fname(void)                                                                    \
	{                                                                                          \
		expect_error(text, want);                                                          \
	}

BAD(bad_bucket, HJ("\"sum\":18,\"b\":[[5,1],[99999,2]]"),
    "hist: bucket 99999 out of range (0..5500)")
BAD(negative_bucket, HJ("\"sum\":18,\"b\":[[-1,3]]"), "hist: bucket -1 out of range (0..5500)")
BAD(unsorted, HJ("\"sum\":18,\"b\":[[7,1],[5,2]]"),
    "hist: bucket 5 after bucket 7: buckets must be strictly increasing")
BAD(repeated_bucket, HJ("\"sum\":18,\"b\":[[5,1],[5,2]]"), "hist: bucket 5 after bucket 5")
BAD(count_mismatch, HJ("\"sum\":18,\"b\":[[5,1],[7,1]]"),
    "hist: bucket counts add up to 2, but count is 3")
BAD(count_overflow, HJ("\"sum\":18,\"b\":[[5,1],[7,9223372036854775807]]"),
    "hist: bucket counts add up to more than count 3")
BAD(zero_count, HJ("\"sum\":18,\"b\":[[5,0],[7,3]]"),
    "hist: bucket 5 has count 0, must be positive")
BAD(not_pair, HJ("\"sum\":18,\"b\":[[5,1,1]]"), "hist: \"b\" entries must be [bucket, count]")
BAD(b_not_array, HJ("\"sum\":18,\"b\":{}"), "hist: \"b\" must be an array, got object")
BAD(unknown_key, HJ("\"sum\":18,\"b\":[[5,3]],\"p50\":1"), "hist: unknown field \"p50\"")
BAD(missing_key, HJ("\"b\":[[5,3]]"), "hist: missing field \"sum\"")
BAD(negative_field, HJ("\"sum\":-1,\"b\":[[5,3]]"),
    "hist: field \"sum\": expected a non-negative integer, got -1")
BAD(string_field, HJ("\"sum\":\"18\",\"b\":[[5,3]]"),
    "hist: field \"sum\": expected a non-negative integer, got string")
BAD(min_not_first, HJ("\"sum\":18,\"b\":[[6,1],[7,2]]"),
    "hist: min/max do not fall in the first/last bucket")
BAD(clamped_too_many, "{\"count\":1,\"clamped\":2,\"min\":5,\"max\":5,\"sum\":5,\"b\":[[5,1]]}",
    "hist: clamped 2 exceeds the top bucket's count")
BAD(empty_nonzero, "{\"count\":0,\"clamped\":0,\"min\":0,\"max\":3,\"sum\":0,\"b\":[]}",
    "hist: empty histogram with non-zero fields")
BAD(not_object, "[1]", "hist: expected an object, got array")

static const struct check_case cases[] = {
    {"bucket_consistency", bucket_consistency},
    {"relative_error", relative_error},
    {"merge", merge},
    {"delta", delta},
    {"percentiles", percentiles},
    {"clamping", clamping},
    {"summary", summary},
    {"json_round_trip", json_round_trip},
    {"bad_bucket", bad_bucket},
    {"negative_bucket", negative_bucket},
    {"unsorted", unsorted},
    {"repeated_bucket", repeated_bucket},
    {"count_mismatch", count_mismatch},
    {"count_overflow", count_overflow},
    {"zero_count", zero_count},
    {"not_pair", not_pair},
    {"b_not_array", b_not_array},
    {"unknown_key", unknown_key},
    {"missing_key", missing_key},
    {"negative_field", negative_field},
    {"string_field", string_field},
    {"min_not_first", min_not_first},
    {"clamped_too_many", clamped_too_many},
    {"empty_nonzero", empty_nonzero},
    {"not_object", not_object},
};

int main(int argc, char **argv)
{
	return CHECK_MAIN(cases);
}
