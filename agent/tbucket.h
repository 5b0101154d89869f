/*
 * tbucket — a token bucket shared by all worker threads, lock-free.
 *
 * Implemented as GCRA (a virtual clock): one atomic "theoretical arrival
 * time" advances by 1/rate per token; a burst of up to `burst` tokens is
 * allowed when the bucket has been idle. Time is passed in, so tests drive it.
 */
#ifndef CONNSCALE_TBUCKET_H
#define CONNSCALE_TBUCKET_H

#include <stdatomic.h>
#include <stdint.h>

struct tbucket {
	_Atomic uint64_t tat_ns; /* when the bucket is next empty-and-refilled */
	uint64_t interval_ns;    /* 1e9 / rate; 0 = unlimited */
	uint64_t burst_ns;       /* burst * interval_ns */
};

/* rate tokens per second (0 = unlimited), burst >= 1 tokens, starting full at now_ns. */
void tbucket_init(struct tbucket *tb, uint64_t rate, uint64_t burst, uint64_t now_ns);

/*
 * Takes up to want tokens at now_ns; returns how many were granted (0..want).
 * When it grants fewer than want and wait_ns is not NULL, *wait_ns is how long
 * until the next token is due.
 */
uint64_t tbucket_take(struct tbucket *tb, uint64_t now_ns, uint64_t want, uint64_t *wait_ns);

#endif
