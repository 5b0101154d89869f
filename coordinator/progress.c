/*
 * progress.c — live progress on stderr: one refreshing line on a TTY,
 * a line a second otherwise, nothing with --quiet.
 */
#include <stdio.h>
#include <unistd.h>

#include "coord.h"
#include "host.h"

void coord_progress(struct coord *c, bool force)
{
	int64_t now = coord_now_ms();
	bool tty = isatty(STDERR_FILENO);
	int64_t cur = 0, failed = 0, echo_ok = 0, planned = 0;
	int alive = 0;
	char b1[32], b2[32], b3[32];

	if (c->opt->quiet || (!force && now < c->next_progress_ms))
		return;
	c->next_progress_ms = now + (tty ? 250 : 1000);
	for (int i = 0; i < c->nagents; i++) {
		const struct coord_agent *a = &c->agents[i];
		cur += a->counts.current;
		echo_ok += a->counts.echo_ok;
		for (int r = 0; r < MSG_REASON_COUNT; r++)
			failed += a->counts.failed[r];
		alive += a->state != AGENT_LOST && a->state != AGENT_REJECTED;
		planned += a->assign.connections;
	}
	fprintf(stderr,
	        "%s[%5.1fs] %-7s step %d/%lld  open %s/%s  failed %lld  echo ok %s  agents %d/%d",
	        tty ? "\r" : "", (double)(now - c->started_ms) / 1000.0, c->phase ? c->phase : "",
	        c->step + 1, (long long)c->plan->nsteps, host_fmt_count((long)cur, b1, sizeof(b1)),
	        host_fmt_count((long)planned, b2, sizeof(b2)), (long long)failed,
	        host_fmt_count((long)echo_ok, b3, sizeof(b3)), alive, c->nagents);
	if (c->server_gone)
		fprintf(stderr, "  server silent");
	else if (c->have_last_stats)
		fprintf(stderr, "  server %s conns %lld MB rss",
		        host_fmt_count((long)c->last_stats.conns_current, b1, sizeof(b1)),
		        (long long)(c->last_stats.rss_kb / 1024));
	fprintf(stderr, "%s", tty ? "\033[K" : "\n");
	c->progress_dirty = tty;
}

/* Ends a refreshing line so the next message starts on its own line. */
void coord_progress_end(struct coord *c)
{
	if (c->progress_dirty)
		fputc('\n', stderr);
	c->progress_dirty = false;
}
