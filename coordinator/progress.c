/*
 * progress.c — live progress on stderr: one refreshing line on a TTY,
 * a line a second otherwise, nothing with --quiet.
 *
 * On a TTY the line is drawn as "\r<status>\033[K" in one write, so it never
 * interleaves with another writer's line. Before any log line the status line
 * is erased (coord_progress_end) and the next pump pass draws it again below
 * the log; lines from local agents and the server come through console.c,
 * which erases the line the same way. No log text ever lands on it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "console.h"
#include "coord.h"
#include "host.h"
#include "progress.h"

/* Appends to buf at *len, truncating quietly: the status line is bounded. */
__attribute__((format(printf, 4, 5))) static void progress_add(char *buf, size_t size, size_t *len,
                                                               const char *fmt, ...)
{
	va_list ap;
	int n;

	if (*len >= size - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf + *len, size - *len, fmt, ap);
	va_end(ap);
	if (n > 0)
		*len = (size_t)n < size - *len ? *len + (size_t)n : size - 1;
}

/* The plan's name for agent k (0-based) when it has one: agents.names, or local-N. */
static bool progress_planned_name(const struct coord *c, int64_t k, char *buf, size_t size)
{
	if (k < c->plan->nnames)
		snprintf(buf, size, "%s", c->plan->names[k]);
	else if (c->plan->local && k < c->plan->local_agents)
		snprintf(buf, size, "local-%lld", (long long)k + 1);
	else
		return false;
	return true;
}

/* While joining: who has not said hello yet, by name when the plan knows the names. */
static void progress_missing(const struct coord *c, char *buf, size_t size, size_t *len)
{
	int64_t expected = c->plan->agents_count, shown = 0;
	char name[MSG_NAME_MAX];

	if (c->nagents >= expected)
		return;
	for (int64_t k = 0; k < expected; k++) {
		if (!progress_planned_name(c, k, name, sizeof(name)))
			break;
		bool joined = false;
		for (int i = 0; i < c->nagents && !joined; i++)
			joined = strcmp(c->agents[i].id, name) == 0;
		if (joined)
			continue;
		if (shown == 4) {
			progress_add(buf, size, len, ", ...");
			return;
		}
		progress_add(buf, size, len, "%s%s", shown ? ", " : "  waiting for ", name);
		shown++;
	}
	if (shown == 0)
		progress_add(buf, size, len, "  waiting for %lld more",
		             (long long)(expected - c->nagents));
}

void coord_progress(struct coord *c, bool force)
{
	int64_t now = clock_ms();
	bool tty = isatty(STDERR_FILENO);
	int64_t cur = 0, failed = 0, echo_ok = 0, planned = 0;
	int alive = 0;
	char b1[32], b2[32], b3[32], line[512];
	size_t len = 0;

	if (c->opt->quiet || (!force && now < c->next_progress_ms))
		return;
	c->next_progress_ms = now + (tty ? 250 : 1000);
	for (int i = 0; i < c->nagents; i++) {
		const struct coord_agent *a = &c->agents[i];
		cur += a->counts.current;
		echo_ok += a->counts.echo_ok;
		failed += msg_failed_total(&a->counts);
		alive += a->state != AGENT_LOST && a->state != AGENT_REJECTED;
		planned += a->assign.connections;
	}
	progress_add(
	    line, sizeof(line), &len,
	    "%s[%5.1fs] %-7s step %d/%lld  open %s/%s  failed %lld  echo ok %s  agents "
	    "%d/%lld",
	    tty ? "\r" : "", (double)(now - c->started_ms) / 1000.0, c->phase ? c->phase : "",
	    c->step + 1, (long long)c->plan->nsteps, host_fmt_count((long)cur, b1, sizeof(b1)),
	    host_fmt_count((long)planned, b2, sizeof(b2)), (long long)failed,
	    host_fmt_count((long)echo_ok, b3, sizeof(b3)), alive, (long long)c->plan->agents_count);
	if (c->joining)
		progress_missing(c, line, sizeof(line), &len);
	/* Under load: which rate of the sweep, and what it asks of all agents. */
	if (c->cur_phase == MSG_PHASE_LOAD && c->phase != NULL && strcmp(c->phase, "load") == 0)
		progress_add(
		    line, sizeof(line), &len, "  rate %d/%lld %s/s", c->load_sub + 1,
		    (long long)c->plan->nload_rates,
		    host_fmt_count((long)c->plan->load_rates[c->load_sub], b1, sizeof(b1)));
	if (c->cur_phase == MSG_PHASE_CHURN && c->phase != NULL && strcmp(c->phase, "churn") == 0)
		progress_add(line, sizeof(line), &len, "  churn %s/s",
		             host_fmt_count((long)c->plan->churn_rate_per_s, b1, sizeof(b1)));
	if (c->server_gone)
		progress_add(line, sizeof(line), &len, "  server silent");
	else if (c->have_last_stats)
		progress_add(line, sizeof(line), &len, "  server %s conns %lld MB rss",
		             host_fmt_count((long)c->last_stats.conns_current, b1, sizeof(b1)),
		             (long long)(c->last_stats.rss_kb / 1024));
	/* Room is kept for the ending: a long line is cut, never left unterminated. */
	if (len > sizeof(line) - 8)
		len = sizeof(line) - 8;
	memcpy(line + len, tty ? "\033[K" : "\n", tty ? 4 : 2);
	len += tty ? 3 : 1;
	fflush(stderr); /* what stdio holds goes first */
	console_write(STDERR_FILENO, line, len);
	c->progress_dirty = tty;
}

/*
 * Before a log line: the status line is erased and drawn again by the next
 * pump pass, below the log. When the run is over it is kept, ended by a newline.
 */
void coord_progress_end(struct coord *c)
{
	bool over = c->phase != NULL && strcmp(c->phase, "done") == 0;

	if (c->progress_dirty) {
		fflush(stderr);
		console_write(STDERR_FILENO, over ? "\n" : "\r\033[K", over ? 1 : 4);
		if (!over)
			c->next_progress_ms = 0;
	}
	c->progress_dirty = false;
}

/* The plan's weight for name: agents.weights, 1 when it names nobody or not this agent. */
static double progress_weight(const struct plan *p, const char *name)
{
	for (int64_t i = 0; i < p->nweights; i++)
		if (strcmp(p->weights[i].name, name) == 0)
			return p->weights[i].weight;
	return 1.0;
}

void coord_join_capacity(const struct coord *c, const struct msg_hello *h, char *buf, size_t size)
{
	const struct plan *p = c->plan;
	double sum = 0;
	char name[MSG_NAME_MAX], b1[32];
	const char *cut = NULL, *dash;

	/* Everyone the plan expects, by name when it has them (unnamed agents weigh 1). */
	for (int64_t k = 0; k < p->agents_count; k++)
		sum += progress_planned_name(c, k, name, sizeof(name)) ? progress_weight(p, name)
		                                                       : 1.0;
	double w = progress_weight(p, h->name);
	int64_t share = sum > 0 ? (int64_t)((double)p->connections * w / sum + 0.999) : 0;

	for (dash = strstr(h->capacity, " — "); dash != NULL; dash = strstr(dash + 1, " — "))
		cut = dash;
	host_fmt_count((long)share, b1, sizeof(b1));
	if (h->max_connections < share || cut == NULL)
		snprintf(buf, size, "%s (its share: %s)", h->capacity, b1);
	else
		snprintf(buf, size, "%.*s (its share: %s)", (int)(cut - h->capacity), h->capacity,
		         b1);
}
