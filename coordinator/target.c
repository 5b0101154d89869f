/*
 * target.c — whether the target is a server the run can measure, judged
 * after a step's connect and after its echo, from the counts the agents in
 * the run reported since a snapshot (a lost agent's say nothing of the
 * server). When it is not, every further step would only wait out the same
 * deadlines: run.c stops the run there (aborted, exit 3) with the sentence
 * written here.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coord.h"

static bool in_run(const struct coord_agent *a)
{
	return a->state == AGENT_READY || a->state == AGENT_DONE;
}

struct msg_counts *coord_counts_snapshot(const struct coord *c)
{
	struct msg_counts *k = calloc((size_t)c->nagents + 1, sizeof(*k));

	for (int i = 0; k != NULL && i < c->nagents; i++)
		k[i] = c->agents[i].counts;
	return k;
}

/* The change since before, summed over the agents in the run; false without a snapshot. */
static bool delta(const struct coord *c, const struct msg_counts *before, struct msg_counts *d)
{
	memset(d, 0, sizeof(*d));
	if (before == NULL)
		return false;
	for (int i = 0; i < c->nagents; i++) {
		const struct msg_counts *now = &c->agents[i].counts, *was = &before[i];
		if (!in_run(&c->agents[i]))
			continue;
		d->attempted += now->attempted - was->attempted;
		d->current += now->current;
		d->echo_ok += now->echo_ok - was->echo_ok;
		d->echo_errors += now->echo_errors - was->echo_errors;
		for (int r = 0; r < MSG_REASON_COUNT; r++)
			d->failed[r] += now->failed[r] - was->failed[r];
	}
	return true;
}

/* ", 3 reset, 2 timeout": the reasons that counted, for a sentence. */
static void reasons(const struct msg_counts *d, char *buf, size_t size)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int r = 0; r < MSG_REASON_COUNT && off < size; r++)
		if (d->failed[r] > 0)
			off += (size_t)snprintf(buf + off, size - off, "%s%lld %s", off ? ", " : "",
			                        (long long)d->failed[r],
			                        msg_reason_name((enum msg_reason)r));
}

/*
 * After a step's connect (and the wait for the server to accept): the step
 * tried connections and none is open. Every one refused: nothing listens.
 * Otherwise the server took them and closed or reset every one.
 */
bool coord_target_unreachable(const struct coord *c, const struct msg_counts *before, char *why,
                              size_t size)
{
	struct msg_counts d;
	char r[160];

	if (!delta(c, before, &d) || d.attempted <= 0 || d.current > 0)
		return false;
	if (d.failed[MSG_REFUSED] == d.attempted)
		coord_text(why, size,
		           "nothing accepts connections at %s:%lld: %lld of %lld refused",
		           c->target_host, (long long)c->target_port, (long long)d.attempted,
		           (long long)d.attempted);
	else {
		reasons(&d, r, sizeof(r));
		coord_text(why, size,
		           "no connection stayed open at %s:%lld: %lld tried, none held (%s)",
		           c->target_host, (long long)c->target_port, (long long)d.attempted,
		           r[0] ? r : "no failure reported");
	}
	return true;
}

/*
 * After a step's echo: no connection was verified and most failed for lack
 * of a reply (timeout: echo.timeout_ms passed), with other bytes (mismatch)
 * or closed before replying (eof_early, reset).
 */
bool coord_target_not_echo(const struct coord *c, const struct msg_counts *before, char *why,
                           size_t size)
{
	struct msg_counts d;

	if (!delta(c, before, &d))
		return false;
	int64_t n = d.echo_ok + d.echo_errors, timeout = d.failed[MSG_TIMEOUT];
	/* Closed: a FIN, or a reset when the close met bytes in flight (timing decides which). */
	int64_t mismatch = d.failed[MSG_MISMATCH];
	int64_t eof = d.failed[MSG_EOF_EARLY] + d.failed[MSG_RESET];
	double within_s = (double)c->plan->echo_timeout_ms / 1000.0;

	if (d.echo_ok > 0 || n <= 0 || (timeout + mismatch + eof) * 2 <= n)
		return false;
	if (mismatch == 0 && eof == 0)
		coord_text(why, size,
		           "not an echo server (or slower than echo.timeout_ms): %lld of %lld "
		           "connections waited %g s for a reply in vain",
		           (long long)timeout, (long long)n, within_s);
	else if (timeout == 0 && eof == 0)
		coord_text(why, size,
		           "not an echo server: %lld of %lld connections replied with bytes that "
		           "differ from what was sent",
		           (long long)mismatch, (long long)n);
	else if (timeout == 0 && mismatch == 0)
		coord_text(why, size,
		           "not an echo server: it closed or reset %lld of %lld connections before "
		           "replying",
		           (long long)eof, (long long)n);
	else
		coord_text(
		    why, size,
		    "not an echo server: none of %lld connections echoed: %lld waited %g s for "
		    "a reply in vain (echo.timeout_ms), %lld replied with other bytes, %lld "
		    "were closed before replying",
		    (long long)n, (long long)timeout, within_s, (long long)mismatch,
		    (long long)eof);
	return true;
}
