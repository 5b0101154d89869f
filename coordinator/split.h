/*
 * split — connections per agent per step: pure arithmetic, no run.
 */
#ifndef CONNSCALE_SPLIT_H
#define CONNSCALE_SPLIT_H

#include <stddef.h>
#include <stdint.h>

#include "msg.h"

/*
 * Splits `levels` (cumulative totals, the last one the run's connections)
 * across n agents in proportion to weight[i], never above capacity[i]:
 * out[i][k] is agent i's cumulative total at level k; every column sums to
 * levels[k] exactly and every row is non-decreasing. Returns 0, or -1 with
 * why filled when the agents together cannot hold the last level.
 */
int split_connections(int n, const int64_t *capacity, const double *weight, const int64_t *levels,
                      int nlevels, int64_t (*out)[MSG_MAX_STEPS], char *why, size_t whylen);

#endif
