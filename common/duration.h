/*
 * duration — one grammar for every duration on a command line:
 *
 *   NUMBER[UNIT]   NUMBER: decimal digits with an optional fraction (1, 1.5, .25)
 *                  UNIT:   ms, s, m or h; without one, the option's own unit
 *
 * so `--hold 1.5`, `--hold 1500ms` and `--connect-timeout 2.5s` all parse, as
 * the plan's `hold_s: 2.5` does. No sign, exponent, spaces, inf or nan.
 * Errors are one sentence naming the option and the value as given:
 *   "--hold: expected a duration in seconds (e.g. 1.5, 250ms, 2m), got 'x'"
 *   "--hold: expected a duration from 0 to 604800 s, got '1000000'"
 */
#ifndef CONNSCALE_DURATION_H
#define CONNSCALE_DURATION_H

#include <stddef.h>

enum duration_unit {
	DURATION_MS, /* a bare number is milliseconds (--connect-timeout 3000) */
	DURATION_S,  /* a bare number is seconds (--hold 1.5) */
};

/*
 * Parses arg into milliseconds (fractions kept: 0.5 ms is 0.5) and checks
 * lo_ms <= value <= hi_ms. Returns 0, or -EINVAL with err filled as
 * "NAME: ..." (the caller prefixes the program: "agent: --hold: ...").
 */
int duration_parse(const char *name, const char *arg, enum duration_unit bare, double lo_ms,
                   double hi_ms, double *out_ms, char *err, size_t errlen);

#endif
