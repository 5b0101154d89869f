#include <time.h>

#include "clock.h"

static struct timespec now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts;
}

int64_t clock_ms(void)
{
	struct timespec ts = now();

	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

uint64_t clock_us(void)
{
	struct timespec ts = now();

	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

double clock_s(void)
{
	struct timespec ts = now();

	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
