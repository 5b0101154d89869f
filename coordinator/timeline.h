/*
 * timeline — the run over time (timeline.c): one row every COORD_TIMELINE_MS
 * of each agent's open connections and, while a load runs, its progress.
 */
#ifndef CONNSCALE_TIMELINE_H
#define CONNSCALE_TIMELINE_H

#include <jansson.h>
#include <stdint.h>

#include "msg.h"

struct coord;
struct coord_agent;

/* A row now (the pump calls it every COORD_TIMELINE_MS); rows stop, the run goes on, without
 * memory. */
void timeline_add(struct coord *c, int64_t now);
/* An agent's tick of the load sub-step it runs in `step`. */
void timeline_tick(struct coord_agent *a, int step, const struct msg_load_tick *t);
/* The report's "timeline" object. */
json_t *timeline_json(const struct coord *c);

#endif
