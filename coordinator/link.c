/*
 * link.c — the run's I/O over ZeroMQ: coord_open() opens the pump's sockets
 * (pump.c) and points c->io at them; the pump's handlers are the run's
 * coord_on_*() (coord.c).
 */
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "coord.h"
#include "pump.h"

static void on_agent(void *arg, const unsigned char *id, size_t idlen, const char *user_id,
                     const void *body, size_t len)
{
	coord_on_agent(arg, id, idlen, user_id, body, len);
}

static void on_garbled(void *arg)
{
	coord_on_garbled(arg);
}

static void on_stats(void *arg, bool has_seq, uint64_t seq, const void *body, size_t len)
{
	coord_on_stats(arg, has_seq, seq, body, len);
}

static void on_stats_event(void *arg, enum pump_stats_event ev)
{
	coord_on_stats_event(arg, ev);
}

static bool zmq_wait(struct coord *c, int timeout_ms)
{
	const struct pump_handlers h = {.arg = c,
	                                .agent = on_agent,
	                                .agent_garbled = on_garbled,
	                                .stats = on_stats,
	                                .stats_event = on_stats_event};

	return pump_wait(&c->pump, timeout_ms, COORD_PASS_MS, &h);
}

static int zmq_send_to(struct coord *c, const char *id, const void *body, size_t len)
{
	return pump_send(&c->pump, id, body, len);
}

static int zmq_stats_send(struct coord *c, uint64_t seq, const void *body, size_t len)
{
	return pump_stats_send(&c->pump, seq, body, len);
}

static const struct coord_io zmq_io = {
    .wait = zmq_wait, .send = zmq_send_to, .stats_send = zmq_stats_send};

int coord_open(struct coord *c)
{
	const struct pump_options o = {.bind = c->opt->bind,
	                               .kp = c->curve ? &c->kp : NULL,
	                               .authorized_agents = c->opt->authorized_agents,
	                               .stats_endpoint = c->stats_endpoint,
	                               .stats_key = c->stats_key};
	char err[768];
	int rc;

	coord_beat_set(c, c->plan->agents_count);
	c->io = &zmq_io;
	rc = pump_open(&c->pump, &o, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "coordinator: %s\n", err);
		return rc;
	}
	if (!c->opt->quiet)
		fprintf(stderr, "coordinator: waiting for agents on %s%s\n", c->pump.bound,
		        c->curve ? " (CURVE, authorized keys only)" : "");
	if (c->stats_endpoint[0] == '\0')
		return 0;
	if (pump_connect_stats(&c->pump, &o, err, sizeof(err)) < 0) {
		fprintf(stderr, "coordinator: %s\n", err);
		return -1;
	}
	c->sampling = true;
	c->stats_opened_ms = clock_ms();
	return 0;
}

void coord_close(struct coord *c)
{
	pump_close(&c->pump);
	c->sampling = false;
	memset(&c->kp, 0, sizeof(c->kp));
}
