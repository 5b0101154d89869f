/*
 * bounds.c — what an agent may report, bounded by what it was asked: its
 * counts by its assignment, a load's or churn's figures by its go. A report
 * past a bound is not believed (coord.c drops it, or counts the agent lost).
 */
#include <stdio.h>

#include "coord.h"

/* The largest counter, so one bound covers each without summing (no overflow). */
static int64_t counts_max(const struct msg_counts *k)
{
	int64_t m = k->attempted;
	const int64_t v[] = {k->established, k->lost, k->echo_ok, k->echo_errors};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		m = v[i] > m ? v[i] : m;
	for (int r = 0; r < MSG_REASON_COUNT; r++)
		m = k->failed[r] > m ? k->failed[r] : m;
	return m;
}

/*
 * What an agent may report is bounded by what it was asked: each step opens
 * at most its level, so no counter (each failure reason on its own, so no
 * sum can wrap) passes assigned x steps, nothing is open past `open_max`
 * (the step's level, or the whole assignment), and no histogram holds more
 * samples than connections x echo rounds. Returns NULL, or what is impossible.
 */
const char *coord_counts_impossible(const struct coord *c, const struct coord_agent *a,
                                    const struct msg_counts *k, int64_t open_max,
                                    const struct hist *connect, const struct hist *echo, char *buf,
                                    size_t size)
{
	int64_t assigned = a->assign.connections;
	int64_t ever = assigned * c->plan->nsteps;
	int64_t rounds = c->plan->rounds > 0 ? c->plan->rounds : 1;

	if (k->current > open_max || k->max_concurrent > assigned)
		coord_text(buf, size, "%lld connections open, but it was assigned %lld",
		           (long long)(k->current > open_max ? k->current : k->max_concurrent),
		           (long long)(k->current > open_max ? open_max : assigned));
	else if (counts_max(k) > ever)
		coord_text(buf, size,
		           "counters past %lld (%lld connections at most in each of %lld steps)",
		           (long long)ever, (long long)assigned, (long long)c->plan->nsteps);
	else if ((connect && connect->count > (uint64_t)ever) ||
	         (echo && echo->count > (uint64_t)(ever * rounds)))
		coord_text(buf, size,
		           "more latencies than its connections could give (%lld x %lld)",
		           (long long)ever, (long long)rounds);
	else
		return NULL;
	return buf;
}

/*
 * A load or churn answer is bounded by its go: no counter past go_bound (the
 * agent's rate x duration, with room for every held connection's last send),
 * so no sum of a thousand agents can wrap; no more verified than sent, no more
 * ok and failed than attempted, exactly one latency per verified message (or
 * connection), and no more time or CPU than the phase could take (go_seconds;
 * CPU on up to 1,024 cores). Returns NULL, or what is impossible.
 */
const char *coord_work_impossible(const struct coord_agent *a, const struct msg_progress *p,
                                  char *buf, size_t size)
{
	int64_t v[4 + MSG_REASON_COUNT], n = 0, max = 0, done = 0, failed = 0, of = 0;
	double elapsed = 0, cpu = 0;

	if (p->phase == MSG_PHASE_LOAD) {
		v[n++] = p->load.sent;
		v[n++] = p->load.verified;
		v[n++] = p->load.errors > p->load.behind ? p->load.errors : p->load.behind;
		v[n++] = p->load.scheduled;
		done = p->load.verified;
		of = p->load.sent;
		if (p->load.sent > p->load.scheduled) {
			coord_text(buf, size, "load: %lld sent of %lld scheduled",
			           (long long)p->load.sent, (long long)p->load.scheduled);
			return buf;
		}
		elapsed = p->load.elapsed_s;
		cpu = p->load.cpu_user_s + p->load.cpu_sys_s;
	} else if (p->phase == MSG_PHASE_CHURN) {
		v[n++] = p->churn.attempted;
		v[n++] = p->churn.ok;
		for (int r = 0; r < MSG_REASON_COUNT; r++)
			v[n++] = p->churn.failed[r];
		done = p->churn.ok;
		of = p->churn.attempted;
		elapsed = p->churn.elapsed_s;
		cpu = p->churn.cpu_user_s + p->churn.cpu_sys_s;
	} else {
		return NULL;
	}
	for (int i = 0; i < n; i++)
		max = v[i] > max ? v[i] : max;
	if (max > a->go_bound) {
		coord_text(buf, size, "%s counters past %lld, more than its rate and time allow",
		           msg_phase_name(p->phase), (long long)a->go_bound);
		return buf;
	}
	/* Each at most go_bound (< 2^62 here), so these sums cannot wrap. */
	for (int i = 2; p->phase == MSG_PHASE_CHURN && i < n; i++)
		failed += v[i];
	if (done + failed > of) {
		coord_text(buf, size, "%s: %lld verified and %lld failed of %lld started",
		           msg_phase_name(p->phase), (long long)done, (long long)failed,
		           (long long)of);
		return buf;
	}
	if (p->has_hist && p->hist->count != (uint64_t)done) {
		coord_text(buf, size, "%s: %llu latencies for %lld verified",
		           msg_phase_name(p->phase), (unsigned long long)p->hist->count,
		           (long long)done);
		return buf;
	}
	/* Its ticks said more was verified than its phase_done does: one of them lied. */
	if (p->phase == MSG_PHASE_LOAD && a->has_tick && a->tick_step == (int)p->step &&
	    a->tick.sub == p->load.sub && a->tick.verified > p->load.verified) {
		coord_text(buf, size, "load: %lld verified, after a tick that said %lld",
		           (long long)p->load.verified, (long long)a->tick.verified);
		return buf;
	}
	if (elapsed > a->go_seconds || cpu > a->go_seconds * 1024) {
		coord_text(buf, size,
		           "%s: %.3g s elapsed and %.3g s of CPU in a phase of %.3g s at most",
		           msg_phase_name(p->phase), elapsed, cpu, a->go_seconds);
		return buf;
	}
	return NULL;
}
