#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "duration.h"

/* Milliseconds per unit suffix; 0 if the suffix is not a unit. */
static double duration_unit_ms(const char *suffix, enum duration_unit bare)
{
	if (suffix[0] == '\0')
		return bare == DURATION_S ? 1000.0 : 1.0;
	if (strcmp(suffix, "ms") == 0)
		return 1.0;
	if (strcmp(suffix, "s") == 0)
		return 1000.0;
	if (strcmp(suffix, "m") == 0)
		return 60000.0;
	if (strcmp(suffix, "h") == 0)
		return 3600000.0;
	return 0;
}

/* "1.5" -> 1.5 ms or s: whole and fractional digits read by hand (no locale, no 1e3). */
static const char *duration_number(const char *p, double *out)
{
	double v = 0, scale = 1;
	int digits = 0;

	for (; *p >= '0' && *p <= '9'; p++, digits++)
		if (v < 1e15) /* beyond any range checked; avoids inf */
			v = v * 10 + (*p - '0');
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, digits++) {
			scale /= 10;
			v += (*p - '0') * scale;
		}
	}
	*out = v;
	return digits > 0 ? p : NULL;
}

/* "0 to 604800 s", "1 ms to 3600 s": the range in the units a reader would use. */
static void duration_range(double lo_ms, double hi_ms, enum duration_unit bare, char *buf,
                           size_t size)
{
	if (bare == DURATION_S)
		snprintf(buf, size, "%g to %g s", lo_ms / 1000.0, hi_ms / 1000.0);
	else
		snprintf(buf, size, "%g ms to %g s", lo_ms, hi_ms / 1000.0);
}

int duration_parse(const char *name, const char *arg, enum duration_unit bare, double lo_ms,
                   double hi_ms, double *out_ms, char *err, size_t errlen)
{
	const char *end;
	double v, unit;
	char range[64];

	end = duration_number(arg, &v);
	unit = end ? duration_unit_ms(end, bare) : 0;
	if (unit == 0) {
		snprintf(err, errlen, "%s: expected a duration in %s (e.g. %s), got '%s'", name,
		         bare == DURATION_S ? "seconds" : "milliseconds",
		         bare == DURATION_S ? "1.5, 250ms, 2m" : "500, 2.5s, 1m", arg);
		return -EINVAL;
	}
	v *= unit;
	if (v < lo_ms || v > hi_ms) {
		duration_range(lo_ms, hi_ms, bare, range, sizeof(range));
		snprintf(err, errlen, "%s: expected a duration from %s, got '%s'", name, range,
		         arg);
		return -EINVAL;
	}
	*out_ms = v;
	return 0;
}
