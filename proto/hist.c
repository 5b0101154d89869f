/*
 * hist — log-linear latency histogram: recording, merging, percentiles, JSON.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "hist.h"

#define HIST_TOP (HIST_BUCKETS - 1)

/* Compile-time proof that the top bucket's low edge is exactly HIST_MAX_US. */
_Static_assert(HIST_TOP == 1000 + 5 * 900, "HIST_BUCKETS must end at exactly 1e8 us");

void hist_init(struct hist *h)
{
	memset(h, 0, sizeof(*h));
}

unsigned hist_bucket_of(uint64_t us)
{
	unsigned e = 0;

	if (us > HIST_MAX_US)
		us = HIST_MAX_US;
	if (us < 1000)
		return (unsigned)us;
	/* Keep the three leading digits; e counts the digits dropped (the decade). */
	while (us >= 1000) {
		us /= 10;
		e++;
	}
	return 1000 + (e - 1) * 900 + (unsigned)(us - 100);
}

uint64_t hist_bucket_low(unsigned bucket)
{
	uint64_t low;
	unsigned e;

	if (bucket >= HIST_TOP)
		return HIST_MAX_US;
	if (bucket < 1000)
		return bucket;
	bucket -= 1000;
	low = bucket % 900 + 100;
	for (e = bucket / 900 + 1; e > 0; e--)
		low *= 10;
	return low;
}

void hist_record(struct hist *h, uint64_t us)
{
	/*
	 * A clamped value is stored as 100 s everywhere (min, max, sum), so the
	 * fields stay consistent with the buckets; `clamped` says it happened.
	 */
	if (us > HIST_MAX_US) {
		us = HIST_MAX_US;
		h->clamped++;
	}
	if (h->count == 0 || us < h->min_us)
		h->min_us = us;
	if (us > h->max_us)
		h->max_us = us;
	h->count++;
	h->sum_us += us;
	h->buckets[hist_bucket_of(us)]++;
}

void hist_merge(struct hist *dst, const struct hist *src)
{
	if (src->count == 0)
		return;
	if (dst->count == 0 || src->min_us < dst->min_us)
		dst->min_us = src->min_us;
	if (src->max_us > dst->max_us)
		dst->max_us = src->max_us;
	dst->count += src->count;
	dst->clamped += src->clamped;
	dst->sum_us += src->sum_us;
	for (unsigned i = 0; i < HIST_BUCKETS; i++)
		dst->buckets[i] += src->buckets[i];
}

void hist_delta(struct hist *out, const struct hist *now, const struct hist *before)
{
	unsigned first = HIST_BUCKETS, last = 0;

	hist_init(out);
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		uint64_t n = now->buckets[i] >= before->buckets[i]
		                 ? now->buckets[i] - before->buckets[i]
		                 : 0;
		out->buckets[i] = n;
		out->count += n;
		if (n > 0 && first == HIST_BUCKETS)
			first = i;
		if (n > 0)
			last = i;
	}
	if (out->count == 0)
		return;
	out->clamped = now->clamped - before->clamped;
	out->sum_us = now->sum_us - before->sum_us;
	/* Exact where the extremes are the cumulative ones, else the bucket's edge. */
	out->min_us = hist_bucket_of(now->min_us) == first ? now->min_us : hist_bucket_low(first);
	out->max_us = hist_bucket_of(now->max_us) == last ? now->max_us : hist_bucket_low(last);
}

uint64_t hist_percentile(const struct hist *h, double q)
{
	uint64_t rank, seen = 0;
	double r;

	if (h->count == 0)
		return 0;
	/*
	 * The small epsilon keeps 0.99 * 1000 at rank 990 even when the product
	 * comes out as 990.0000000001 in binary floating point.
	 */
	r = ceil(q * (double)h->count - 1e-9);
	rank = r < 1 ? 1 : (uint64_t)r;
	if (rank > h->count)
		rank = h->count;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += h->buckets[i];
		if (seen >= rank) {
			uint64_t low = hist_bucket_low(i);
			return low < h->max_us ? low : h->max_us;
		}
	}
	return h->max_us; /* unreachable while buckets add up to count */
}

/* Microseconds as milliseconds with three decimals (exact: 1 us = 0.001 ms). */
static json_t *hist_ms(uint64_t us)
{
	return json_real((double)us / 1000.0);
}

json_t *hist_summary_json(const struct hist *h)
{
	uint64_t mean = 0;
	json_t *j = json_object();

	if (j == NULL)
		return NULL;
	if (h->count > 0)
		mean = (uint64_t)llround((double)h->sum_us / (double)h->count);
	if (json_object_set_new(j, "count", json_integer((json_int_t)h->count)) != 0 ||
	    json_object_set_new(j, "p50", hist_ms(hist_percentile(h, 0.50))) != 0 ||
	    json_object_set_new(j, "p90", hist_ms(hist_percentile(h, 0.90))) != 0 ||
	    json_object_set_new(j, "p99", hist_ms(hist_percentile(h, 0.99))) != 0 ||
	    json_object_set_new(j, "p999", hist_ms(hist_percentile(h, 0.999))) != 0 ||
	    json_object_set_new(j, "max", hist_ms(h->max_us)) != 0 ||
	    json_object_set_new(j, "mean", hist_ms(mean)) != 0) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* [[bucket, n], ...] for the non-empty buckets, in increasing bucket order. */
static json_t *hist_buckets_json(const struct hist *h)
{
	json_t *b = json_array();

	if (b == NULL)
		return NULL;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		if (h->buckets[i] == 0)
			continue;
		if (json_array_append_new(
		        b, json_pack("[I,I]", (json_int_t)i, (json_int_t)h->buckets[i])) != 0) {
			json_decref(b);
			return NULL;
		}
	}
	return b;
}

json_t *hist_to_json(const struct hist *h)
{
	json_t *b = hist_buckets_json(h);

	if (b == NULL)
		return NULL;
	/* "o" steals b, also when json_pack fails. */
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:o}", "count", (json_int_t)h->count, "clamped",
	                 (json_int_t)h->clamped, "min", (json_int_t)h->min_us, "max",
	                 (json_int_t)h->max_us, "sum", (json_int_t)h->sum_us, "b", b);
}

/* A required non-negative integer field of the sparse form. */
/* The scalar members, by their JSON names: the decoder every message uses (proto.h). */
#define HIST_U64(name, member)                                                                     \
	{                                                                                          \
		name, PROTO_KIND_INT, offsetof(struct hist, member), sizeof(uint64_t), 0,          \
		    INT64_MAX                                                                      \
	}
static const struct proto_field hist_fields[] = {
    HIST_U64("count", count), HIST_U64("clamped", clamped), HIST_U64("min", min_us),
    HIST_U64("max", max_us),  HIST_U64("sum", sum_us),
};
#define HIST_NFIELDS (sizeof(hist_fields) / sizeof(hist_fields[0]))

/* Reads one [bucket, n] pair; `prev` is the previous bucket index or -1. */
static int hist_get_pair(const json_t *pair, long prev, struct hist *h, struct proto_err *err)
{
	const json_t *jb = json_array_get(pair, 0);
	const json_t *jn = json_array_get(pair, 1);
	json_int_t b, n;

	if (!json_is_array(pair) || json_array_size(pair) != 2 || !json_is_integer(jb) ||
	    !json_is_integer(jn))
		return proto_fail(err, "hist: \"b\" entries must be [bucket, count] integer pairs");
	b = json_integer_value(jb);
	n = json_integer_value(jn);
	if (b < 0 || b >= HIST_BUCKETS)
		return proto_fail(err, "hist: bucket %" JSON_INTEGER_FORMAT " out of range (0..%d)",
		                  b, HIST_BUCKETS - 1);
	if (b <= prev)
		return proto_fail(err,
		                  "hist: bucket %" JSON_INTEGER_FORMAT
		                  " after bucket %ld: buckets must be strictly increasing",
		                  b, prev);
	if (n <= 0)
		return proto_fail(err,
		                  "hist: bucket %" JSON_INTEGER_FORMAT
		                  " has count %" JSON_INTEGER_FORMAT ", must be positive",
		                  b, n);
	h->buckets[b] = (uint64_t)n;
	return (int)b;
}

/* Fills h->buckets from "b" and checks they add up to h->count. */
static int hist_read_buckets(const json_t *arr, struct hist *h, struct proto_err *err)
{
	uint64_t total = 0;
	long prev = -1;
	size_t i;
	json_t *pair;

	if (!json_is_array(arr))
		return proto_fail(err, "hist: \"b\" must be an array, got %s",
		                  arr ? proto_json_type_name(arr) : "nothing");
	json_array_foreach(arr, i, pair)
	{
		int b = hist_get_pair(pair, prev, h, err);

		if (b < 0)
			return -1;
		/* Compared before adding so a hostile total cannot wrap around. */
		if (h->buckets[b] > h->count - total)
			return proto_fail(err, "hist: bucket counts add up to more than count %llu",
			                  (unsigned long long)h->count);
		total += h->buckets[b];
		prev = b;
	}
	if (total != h->count)
		return proto_fail(err, "hist: bucket counts add up to %llu, but count is %llu",
		                  (unsigned long long)total, (unsigned long long)h->count);
	return 0;
}

/* Cross-checks the summary fields against the buckets they were built with. */
static int hist_check_summary(const struct hist *h, struct proto_err *err)
{
	unsigned first = 0, last = HIST_TOP;

	if (h->count == 0) {
		if (h->clamped || h->min_us || h->max_us || h->sum_us)
			return proto_fail(err, "hist: empty histogram with non-zero fields");
		return 0;
	}
	while (h->buckets[first] == 0)
		first++;
	while (h->buckets[last] == 0)
		last--;
	if (h->max_us > HIST_MAX_US || h->min_us > h->max_us)
		return proto_fail(err, "hist: min %llu / max %llu out of order or above %llu",
		                  (unsigned long long)h->min_us, (unsigned long long)h->max_us,
		                  HIST_MAX_US);
	if (hist_bucket_of(h->min_us) != first || hist_bucket_of(h->max_us) != last)
		return proto_fail(err, "hist: min/max do not fall in the first/last bucket");
	if (h->clamped > h->buckets[HIST_TOP])
		return proto_fail(err, "hist: clamped %llu exceeds the top bucket's count",
		                  (unsigned long long)h->clamped);
	return 0;
}

int hist_from_json(const json_t *j, struct hist *h, struct proto_err *err)
{
	static const char *const extra[] = {"b", NULL};
	/* The table's rows are int64_t-shaped; every value is >= 0, so the bits are the same. */
	_Static_assert(sizeof(int64_t) == sizeof(uint64_t), "hist fields are 64-bit");

	hist_init(h);
	if (!json_is_object(j))
		return proto_fail(err, "hist: expected an object, got %s",
		                  j ? proto_json_type_name(j) : "nothing");
	if (proto_check_keys(j, hist_fields, HIST_NFIELDS, extra, "hist", "", err) ||
	    proto_fields_unpack(j, h, hist_fields, HIST_NFIELDS, "hist", "", err) ||
	    hist_read_buckets(json_object_get(j, "b"), h, err) || hist_check_summary(h, err)) {
		/* Never hand back half a histogram. */
		hist_init(h);
		return -1;
	}
	return 0;
}
