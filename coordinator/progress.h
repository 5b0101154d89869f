/*
 * progress — what the coordinator says on stderr while it runs. The status
 * line itself (coord_progress, coord_progress_end) is declared in coord.h.
 */
#ifndef CONNSCALE_PROGRESS_H
#define CONNSCALE_PROGRESS_H

#include <stddef.h>

#include "coord.h"

/*
 * The capacity an agent declared in its hello, for its join line: the
 * sentence it sent ("capacity 19,984 connections: open-files limit 20000
 * per process — raise it (ulimit -n ...)") with the advice after its last
 * " — " only when that capacity is below the agent's share of the plan's
 * connections (by agents.weights; 1 each otherwise), and the share said:
 *   "capacity 19,984 connections: open-files limit 20000 per process
 *    (its share: 2,000)"
 */
void coord_join_capacity(const struct coord *c, const struct msg_hello *h, char *buf, size_t size);

#endif
