/*
 * timeline.c — the run over time, one row every COORD_TIMELINE_MS: every
 * agent's open connections, and while a load runs its messages verified so
 * far and the latency of the last ticks (msg_load_tick), for the report's
 * "timeline" and the HTML charts over time.
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
		    grow((void **)&c->tl_current, &cap_cur, width * sizeof(*c->tl_current), 256) < 0)
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
 * While a load sub-step runs: the agents' verified so far summed, and of the
 * ticks that arrived since the last row, the latency count and the worst
 * agent's percentiles. No row before any tick of this sub-step arrived.
 */
static void load_row(struct coord *c, int64_t now)
{
	struct coord_load_row r = {.step = c->step, .sub = c->load_sub};
	bool any = false;

	if (c->cur_phase != MSG_PHASE_LOAD)
		return;
	for (int i = 0; i < c->nagents; i++) {
		struct coord_agent *a = &c->agents[i];

		if (!a->has_tick || a->tick_step != c->step || a->tick.sub != c->load_sub ||
		    a->state == AGENT_LOST)
			continue;
		any = true;
		r.verified += a->tick.verified;
		if (!a->tick_new)
			continue;
		a->tick_new = false;
		r.agents++;
		r.count += a->tick.count;
		r.p50_us = a->tick.p50_us > r.p50_us ? a->tick.p50_us : r.p50_us;
		r.p99_us = a->tick.p99_us > r.p99_us ? a->tick.p99_us : r.p99_us;
		r.max_us = a->tick.max_us > r.max_us ? a->tick.max_us : r.max_us;
	}
	if (!any || ((size_t)c->tl_load_n == c->tl_load_cap &&
	             grow((void **)&c->tl_load, &c->tl_load_cap, sizeof(*c->tl_load), 64) < 0))
		return;
	r.t_s = (double)(now - c->started_ms) / 1000.0;
	c->tl_load[c->tl_load_n++] = r;
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

static json_t *load_json(const struct coord *c)
{
	json_t *rows = json_array();

	for (int k = 0; k < c->tl_load_n; k++) {
		const struct coord_load_row *r = &c->tl_load[k];
		json_array_append_new(
		    rows, json_pack("{s:f, s:i, s:i, s:f, s:i, s:I, s:I, s:f, s:f, s:f}", "t", r->t_s,
		                    "step", r->step, "sub", r->sub, "rate_per_s",
		                    c->plan->load_rates[r->sub], "agents", r->agents, "verified",
		                    (json_int_t)r->verified, "count", (json_int_t)r->count, "p50_ms",
		                    r->p50_us / 1e3, "p99_ms", r->p99_us / 1e3, "max_ms",
		                    r->max_us / 1e3));
	}
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
			json_array_append_new(cur,
			                      json_integer(c->tl_current[(size_t)k * width + (size_t)i]));
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
