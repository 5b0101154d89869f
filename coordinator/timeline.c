/*
 * timeline.c — the run over time, one row every COORD_TIMELINE_MS: every
 * agent's open connections, and while a load runs each agent's messages
 * verified so far and the latency of its last tick (msg_load_tick), summed
 * for the report's "timeline" and the HTML charts over time.
 */
#include <stdlib.h>

#include "coord.h"
#include "grow.h"
#include "timeline.h"

static void connections_row(struct coord *c, int64_t now)
{
	size_t width = (size_t)c->plan->agents_count;

	if ((size_t)c->tl_n == c->tl_cap) {
		/* Both tables grow together: tl_cap rows each. */
		size_t cap_t = c->tl_cap, cap_cur = c->tl_cap;
		if (grow((void **)&c->tl_t, &cap_t, sizeof(*c->tl_t), 256) < 0 ||
		    grow((void **)&c->tl_current, &cap_cur, width * sizeof(*c->tl_current), 256) <
		        0)
			return; /* the timeline stops growing; the run goes on */
		c->tl_cap = cap_t;
	}
	int64_t *row = &c->tl_current[(size_t)c->tl_n * width];
	/* A lost agent's connections are gone (its dead man's switch closed them). */
	for (int i = 0; i < c->plan->agents_count; i++)
		row[i] = i < c->nagents && c->agents[i].state != AGENT_LOST
		             ? c->agents[i].counts.current
		             : 0;
	c->tl_t[c->tl_n++] = (double)(now - c->started_ms) / 1000.0;
}

/*
 * While a load sub-step runs: each agent's latest tick of it, marked fresh if
 * it came since the previous row. No row before any tick of it arrived.
 */
static void load_row(struct coord *c, int64_t now)
{
	size_t width = (size_t)c->plan->agents_count;
	bool any = false;

	if (c->cur_phase != MSG_PHASE_LOAD)
		return;
	for (int i = 0; i < c->nagents && !any; i++)
		any = c->agents[i].has_tick && c->agents[i].tick_step == c->step &&
		      c->agents[i].tick.sub == c->load_sub;
	if (!any)
		return;
	if ((size_t)c->tl_load_n == c->tl_load_cap) {
		size_t cap_rows = c->tl_load_cap, cap_cells = c->tl_load_cap;
		if (grow((void **)&c->tl_load, &cap_rows, sizeof(*c->tl_load), 64) < 0 ||
		    grow((void **)&c->tl_cells, &cap_cells, width * sizeof(*c->tl_cells), 64) < 0)
			return; /* the rows stop; the run goes on */
		c->tl_load_cap = cap_rows;
	}
	struct coord_tick_cell *cell = &c->tl_cells[(size_t)c->tl_load_n * width];
	for (size_t i = 0; i < width; i++) {
		struct coord_agent *a = i < (size_t)c->nagents ? &c->agents[i] : NULL;
		bool mine = a != NULL && a->has_tick && a->tick_step == c->step &&
		            a->tick.sub == c->load_sub;
		cell[i] = (struct coord_tick_cell){.verified = mine ? a->tick.verified : -1};
		if (mine && a->tick_new) {
			cell[i].count = a->tick.count;
			cell[i].p50_us = a->tick.p50_us;
			cell[i].p99_us = a->tick.p99_us;
			cell[i].max_us = a->tick.max_us;
			a->tick_new = false;
		}
	}
	c->tl_load[c->tl_load_n++] = (struct coord_load_row){
	    .t_s = (double)(now - c->started_ms) / 1000.0, .step = c->step, .sub = c->load_sub};
}

void timeline_add(struct coord *c, int64_t now)
{
	connections_row(c, now);
	load_row(c, now);
}

/* The latest tick of an agent's running load sub-step: the next row reads it. */
void timeline_tick(struct coord_agent *a, int step, const struct msg_load_tick *t)
{
	a->tick = *t;
	a->tick_step = step;
	a->has_tick = true;
	a->tick_new = true;
}

/*
 * One row as the report gives it: the agents' verified summed, and among the
 * fresh ticks the latency count summed and the worst agent's percentiles;
 * agents lost in or before the row's step are left out.
 */
static json_t *load_row_json(const struct coord *c, int k)
{
	const struct coord_load_row *r = &c->tl_load[k];
	const struct coord_tick_cell *cell =
	    &c->tl_cells[(size_t)k * (size_t)c->plan->agents_count];
	int64_t verified = 0, count = 0, p50 = 0, p99 = 0, max = 0;
	int agents = 0;

	for (int i = 0; i < c->nagents; i++) {
		const struct coord_agent *a = &c->agents[i];
		if (cell[i].verified < 0 || (a->lost_step >= 0 && a->lost_step <= r->step))
			continue;
		verified += cell[i].verified;
		if (cell[i].count == 0)
			continue;
		agents++;
		count += cell[i].count;
		p50 = cell[i].p50_us > p50 ? cell[i].p50_us : p50;
		p99 = cell[i].p99_us > p99 ? cell[i].p99_us : p99;
		max = cell[i].max_us > max ? cell[i].max_us : max;
	}
	/* No latency recorded since the previous row: nothing measured, null. */
	return json_pack("{s:f, s:i, s:i, s:f, s:i, s:I, s:I, s:o, s:o, s:o}", "t", r->t_s, "step",
	                 r->step, "sub", r->sub, "rate_per_s", c->plan->load_rates[r->sub],
	                 "agents", agents, "verified", (json_int_t)verified, "count",
	                 (json_int_t)count, "p50_ms", count ? json_real(p50 / 1e3) : json_null(),
	                 "p99_ms", count ? json_real(p99 / 1e3) : json_null(), "max_ms",
	                 count ? json_real(max / 1e3) : json_null());
}

static json_t *load_json(const struct coord *c)
{
	json_t *rows = json_array();

	for (int k = 0; k < c->tl_load_n; k++)
		json_array_append_new(rows, load_row_json(c, k));
	return rows;
}

/*
 * {"t": [...], "agents": [{"name", "current": [...]}], "phases": [{"t", "phase", "step"}],
 *  "load": [{"t", "step", "sub", "rate_per_s", "agents", "verified", "count",
 *            "p50_ms", "p99_ms", "max_ms"}]}
 */
json_t *timeline_json(const struct coord *c)
{
	json_t *t = json_array(), *agents = json_array(), *phases = json_array();
	size_t width = (size_t)c->plan->agents_count;

	for (int k = 0; k < c->tl_n; k++)
		json_array_append_new(t, json_real(c->tl_t[k]));
	for (int i = 0; i < c->nagents; i++) {
		json_t *cur = json_array();
		for (int k = 0; k < c->tl_n; k++)
			json_array_append_new(
			    cur, json_integer(c->tl_current[(size_t)k * width + (size_t)i]));
		json_array_append_new(
		    agents, json_pack("{s:s, s:o}", "name", c->agents[i].id, "current", cur));
	}
	for (int m = 0; m < c->nmarks; m++)
		json_array_append_new(phases,
		                      json_pack("{s:f, s:s, s:i}", "t", c->marks[m].t_s, "phase",
		                                c->marks[m].phase, "step", c->marks[m].step));
	return json_pack("{s:o, s:o, s:o, s:o}", "t", t, "agents", agents, "phases", phases, "load",
	                 load_json(c));
}
