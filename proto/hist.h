/*
 * hist — a mergeable log-linear latency histogram in microseconds.
 *
 * Values below 1000 us have a bucket each; above, every decade is split into
 * 900 buckets by its three leading digits (100..999), so any recorded value is
 * known to three significant digits. Range 0 .. 100 s; larger values are
 * clamped into the top bucket and counted in `clamped`.
 *
 * Histograms are recorded per thread (no locking) and merged by adding bucket
 * counts, so a percentile over the merge equals the percentile over one
 * histogram that saw every value. Serialisation is sparse.
 */
#ifndef CONNSCALE_HIST_H
#define CONNSCALE_HIST_H

#include <stdint.h>

#include <jansson.h>

#include "proto.h"

#define HIST_MAX_US 100000000ULL /* 100 s */
/* 0..999 one each, 5 decades (1e3..1e8-1) of 900, plus one for exactly 1e8 (and clamped). */
#define HIST_BUCKETS (1000 + 5 * 900 + 1)

struct hist {
	uint64_t count;
	uint64_t clamped;
	uint64_t min_us;
	uint64_t max_us;
	uint64_t sum_us;
	uint64_t buckets[HIST_BUCKETS];
};

void hist_init(struct hist *h);
void hist_record(struct hist *h, uint64_t us);
void hist_merge(struct hist *dst, const struct hist *src);
/*
 * out = now - before, where before is an earlier copy of the same histogram:
 * the values recorded in between (per step, from cumulative snapshots).
 * min/max are exact when they are the cumulative extremes, else bucket edges.
 */
void hist_delta(struct hist *out, const struct hist *now, const struct hist *before);

/* Bucket index of a value, and the lowest value a bucket holds. */
unsigned hist_bucket_of(uint64_t us);
uint64_t hist_bucket_low(unsigned bucket);

/*
 * The value at quantile q (0 < q <= 1): the low edge of the bucket holding the
 * ceil(q * count)-th smallest value, never above max_us. 0 for an empty histogram.
 */
uint64_t hist_percentile(const struct hist *h, double q);

/*
 * Summary object in milliseconds with three decimals:
 * {"count", "p50", "p90", "p99", "p999", "max", "mean"}.
 */
json_t *hist_summary_json(const struct hist *h);

/* Sparse form: {"count", "clamped", "min", "max", "sum", "b": [[bucket, n], ...]}. */
json_t *hist_to_json(const struct hist *h);
/* Strict inverse of hist_to_json: checks indices, ordering and that the counts add up. */
int hist_from_json(const json_t *j, struct hist *h, struct proto_err *err);

#endif
