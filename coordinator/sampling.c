/*
 * sampling.c — the server as the run sees it: stats requests, one at a time
 * and numbered, their replies recorded as samples, and the verdict that the
 * server is gone (its connection closed, a failed handshake, unreadable
 * replies in a row, or silence).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "coord.h"
#include "grow.h"

static void record_sample(struct coord *c, const struct server_stats *st)
{
	/* Out of memory: the samples thin out; the run goes on. */
	if ((size_t)c->nsamples == c->samples_cap &&
	    grow((void **)&c->samples, &c->samples_cap, sizeof(*c->samples), 256) < 0)
		return;
	c->samples[c->nsamples].t_s = (double)(clock_ms() - c->started_ms) / 1000.0;
	c->samples[c->nsamples++].stats = *st;
	c->last_stats = *st;
	c->have_last_stats = true;
}

/*
 * A stats reply. Only one that answers a request sent and not yet answered
 * (its number newer than the newest answered, and not past the last sent)
 * is taken: a copy, or a number never sent, is dropped and counted, so a
 * peer can neither flood the samples nor pass off one old sample as every
 * fresh one. Replies come back in order, so a server never sends those.
 * Unreadable replies are counted (COORD_STATS_BAD_MAX in a row: gone).
 * Once the server is judged gone, a late reply (one held up by a partition
 * past the silence bound) is not taken: the report's verdict, its last
 * answer and its samples stay one story.
 */
void coord_on_stats(struct coord *c, bool has_seq, uint64_t seq, const void *body, size_t len)
{
	enum proto_type type;
	struct proto_err err;
	struct server_stats st;

	if (c->server_gone)
		return;
	if (!has_seq) {
		coord_drop(c, "the server", "stats reply without its request number");
		return;
	}
	if (seq <= c->stats_seq || seq > c->stats_sent_seq) {
		coord_drop(c, "the server", "a stats reply to no outstanding request");
		return;
	}
	if (seq == c->stats_sent_seq)
		c->stats_sent_ms = 0;
	json_t *msg = body ? proto_decode(body, len, &type, &err) : NULL;
	if (msg != NULL && stats_unpack(msg, &st, &err) == 0) {
		c->last_answer_ms = clock_ms();
		c->stats_bad = 0;
		record_sample(c, &st);
		c->stats_seq = seq;
	} else {
		const char *why = body != NULL ? err.msg
		                  : len > 0    ? "stats reply too large"
		                               : "a stats reply of more than two frames, or empty";
		coord_drop(c, "the server", why);
		if (++c->stats_bad == COORD_STATS_BAD_MAX)
			coord_server_lost(
			    c, "the server at %s answered %d unreadable replies in a row (%s)",
			    c->stats_endpoint, COORD_STATS_BAD_MAX, why);
	}
	json_decref(msg);
}

void coord_server_lost(struct coord *c, const char *fmt, ...)
{
	va_list ap;

	if (c->server_gone)
		return;
	c->server_gone = true;
	va_start(ap, fmt);
	vsnprintf(c->server_error, sizeof(c->server_error), fmt, ap);
	va_end(ap);
	coord_progress_end(c);
	fprintf(stderr, "coordinator: %s; not asking it again\n", c->server_error);
}

static double run_s(const struct coord *c, int64_t ms)
{
	return (double)(ms - c->started_ms) / 1000.0;
}

void coord_on_stats_event(struct coord *c, enum pump_stats_event ev)
{
	if (ev == PUMP_STATS_CONNECTED) {
		c->stats_connected = true;
	} else if (ev == PUMP_STATS_DISCONNECTED && c->stats_connected) {
		c->stats_connected = false;
		coord_server_lost(c, "the server stopped answering at t=%.1f s (%s closed)",
		                  run_s(c, clock_ms()), c->stats_endpoint);
	} else if (ev != PUMP_STATS_DISCONNECTED) {
		coord_server_lost(c, "the server at %s failed the CURVE handshake (%s)",
		                  c->stats_endpoint,
		                  ev == PUMP_STATS_KEY_REFUSED
		                      ? "it refused the coordinator's key"
		                      : "it is not the server of --stats-key, or speaks no CURVE");
	}
}

/* A request unanswered too long: the server is hung, or was never there. */
void coord_check_server(struct coord *c, int64_t now)
{
	if (!c->sampling || c->server_gone || c->stats_sent_ms == 0 ||
	    now - c->stats_sent_ms < COORD_STATS_SILENT_MS)
		return;
	if (c->last_answer_ms == 0)
		coord_server_lost(c, "the server never answered at %s", c->stats_endpoint);
	else
		coord_server_lost(c,
		                  "the server stopped answering at t=%.1f s (no answer for %d s)",
		                  run_s(c, c->last_answer_ms), COORD_STATS_SILENT_MS / 1000);
}

/* Asks the server for a sample; `fresh` sends a new request even if one is outstanding. */
void coord_request_stats(struct coord *c, bool fresh)
{
	int64_t now = clock_ms();
	size_t len;

	/*
	 * One outstanding periodic request at a time (a server holding 300K
	 * threads needs seconds to sum its memory).
	 */
	if (!c->sampling || c->server_gone ||
	    (!fresh && c->stats_sent_ms && now - c->stats_sent_ms < COORD_STATS_SILENT_MS))
		return;
	json_t *req = stats_req_new();
	char *body = req ? proto_encode(req, &len) : NULL;
	uint64_t seq = c->stats_sent_seq + 1;
	json_decref(req);
	if (body && c->io->stats_send(c, seq, body, len) == 0) {
		c->stats_sent_ms = now;
		c->stats_sent_seq = seq;
	}
	free(body);
}
