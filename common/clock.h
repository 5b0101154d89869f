/*
 * clock — the monotonic clock, in the units each caller counts in. Every
 * deadline, rate and elapsed time in connscale is taken from here.
 */
#ifndef CONNSCALE_CLOCK_H
#define CONNSCALE_CLOCK_H

#include <stdint.h>

int64_t clock_ms(void);
uint64_t clock_us(void);
double clock_s(void);

#endif
