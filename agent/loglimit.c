#include <stdio.h>

#include "loglimit.h"

bool loglimit_pass(struct loglimit *l, int64_t now_ms, const char *line)
{
	/* A window over with nothing held back: nothing to summarise, a fresh burst. */
	if (l->window_ms == 0 ||
	    (now_ms - l->window_ms >= LOGLIMIT_WINDOW_MS && l->suppressed == 0)) {
		l->window_ms = now_ms;
		l->said = 0;
	}
	if (l->said < LOGLIMIT_BURST) {
		l->said++;
		return true;
	}
	l->suppressed++;
	snprintf(l->last, sizeof(l->last), "%s", line);
	return false;
}

unsigned loglimit_due(struct loglimit *l, int64_t now_ms)
{
	unsigned n = l->suppressed;

	if (l->window_ms == 0 || now_ms - l->window_ms < LOGLIMIT_WINDOW_MS)
		return 0;
	/* Still flooding: the next window says only its summary. Quiet: a fresh burst. */
	l->window_ms = now_ms;
	l->said = n > 0 ? LOGLIMIT_BURST : 0;
	l->suppressed = 0;
	return n;
}
