/*
 * loglimit — a per-kind limit on log lines a peer can trigger. Each kind says
 * its first LOGLIMIT_BURST lines of a window; the rest are counted, and once
 * the window is over the caller prints one summary for them. While lines keep
 * coming, every later window says only its summary; a quiet window resets the
 * burst. A coordinator sending 10,000 junk messages costs a few lines, not
 * 10,000.
 */
#ifndef CONNSCALE_LOGLIMIT_H
#define CONNSCALE_LOGLIMIT_H

#include <stdbool.h>
#include <stdint.h>

#define LOGLIMIT_BURST     5
#define LOGLIMIT_WINDOW_MS 10000

struct loglimit {
	int64_t window_ms;   /* when the current window started; 0 = none yet */
	unsigned said;       /* lines said in this window */
	unsigned suppressed; /* lines held back in this window */
	char last[160];      /* the last line held back, for the summary */
};

/* true: say line now. false: it was counted (and kept as the last held back). */
bool loglimit_pass(struct loglimit *l, int64_t now_ms, const char *line);
/*
 * Once the window is over: how many lines it held back (0: nothing to
 * summarise), with a new window started. Call it periodically.
 */
unsigned loglimit_due(struct loglimit *l, int64_t now_ms);

#endif
