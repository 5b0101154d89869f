/*
 * split.c — who opens how many connections. Pure arithmetic, unit-tested.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "split.h"

/*
 * Final shares by weight, capped by capacity ("water filling"): agents whose
 * weighted share exceeds their capacity get exactly their capacity and the
 * rest is shared again among the others.
 */
static void share_final(int n, const int64_t *cap, const double *w, int64_t total, int64_t *share)
{
	char *full = calloc((size_t)n, 1);
	int64_t left = total;
	double *frac = calloc((size_t)n, sizeof(double));

	for (int changed = 1; changed && full && frac;) {
		double wsum = 0;
		changed = 0;
		for (int i = 0; i < n; i++)
			if (!full[i])
				wsum += w[i];
		for (int i = 0; i < n && wsum > 0; i++) {
			if (full[i] || (double)left * w[i] / wsum < (double)cap[i])
				continue;
			full[i] = 1;
			share[i] = cap[i];
			left -= cap[i];
			changed = 1;
		}
		if (changed)
			continue;
		int64_t given = 0;
		for (int i = 0; i < n; i++) {
			if (full[i])
				continue;
			double ideal = wsum > 0 ? (double)left * w[i] / wsum : 0;
			share[i] = (int64_t)floor(ideal);
			frac[i] = ideal - (double)share[i];
			given += share[i];
		}
		/* Largest remainders take the leftover units, within capacity. */
		for (int64_t rest = left - given; rest > 0;) {
			int best = -1;
			for (int i = 0; i < n; i++)
				if (!full[i] && share[i] < cap[i] &&
				    (best < 0 || frac[i] > frac[best]))
					best = i;
			if (best < 0)
				break;
			share[best]++;
			frac[best] = -1;
			rest--;
		}
	}
	free(full);
	free(frac);
}

/* Intermediate levels in proportion, then topped up so each sums exactly. */
static void share_levels(int n, const int64_t *share, const int64_t *levels, int nlevels,
                         int64_t (*out)[MSG_MAX_STEPS])
{
	int64_t total = levels[nlevels - 1];

	for (int i = 0; i < n; i++) {
		for (int k = 0; k < nlevels - 1; k++)
			out[i][k] = total ? share[i] * levels[k] / total : 0;
		out[i][nlevels - 1] = share[i];
	}
	/* Backwards, so the room up to the next level is already final. */
	for (int k = nlevels - 2; k >= 0; k--) {
		int64_t sum = 0;
		for (int i = 0; i < n; i++)
			sum += out[i][k];
		for (int i = 0; i < n && sum < levels[k]; i++) {
			int64_t room = out[i][k + 1] - out[i][k];
			int64_t add = room < levels[k] - sum ? room : levels[k] - sum;
			out[i][k] += add;
			sum += add;
		}
	}
}

int split_connections(int n, const int64_t *capacity, const double *weight, const int64_t *levels,
                      int nlevels, int64_t (*out)[MSG_MAX_STEPS], char *why, size_t whylen)
{
	int64_t total = levels[nlevels - 1], room = 0;
	int64_t *share = calloc((size_t)n, sizeof(*share));

	if (share == NULL) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	/* Each counted up to the whole plan at most: no sum of declared capacities can wrap. */
	for (int i = 0; i < n; i++)
		if (weight[i] > 0 && capacity[i] > 0)
			room += capacity[i] < total ? capacity[i] : total;
	if (room < total) {
		snprintf(why, whylen,
		         "the plan needs %lld connections but its %d agent%s can hold %lld "
		         "in all (each agent's limit is in its hello; add agents or source "
		         "addresses, or raise their open-files limit)",
		         (long long)total, n, n == 1 ? "" : "s", (long long)room);
		free(share);
		return -1;
	}
	share_final(n, capacity, weight, total, share);
	share_levels(n, share, levels, nlevels, out);
	free(share);
	return 0;
}
