/*
 * coord_join_capacity: an agent's join line gives "raise it" advice only when
 * its capacity is below its share of the plan (by weight), and says the share.
 */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "progress.h"

#define OPEN_FILES                                                                                 \
	"capacity 19,984 connections: open-files limit 20000 per process — raise it (ulimit "    \
	"-n, LimitNOFILE=; hard limit 20,000, fs.nr_open 1,048,576)"

static void hello(struct msg_hello *h, const char *name, int64_t cap, const char *sentence)
{
	memset(h, 0, sizeof(*h));
	snprintf(h->name, sizeof(h->name), "%s", name);
	h->max_connections = cap;
	snprintf(h->capacity, sizeof(h->capacity), "%s", sentence);
}

int main(void)
{
	struct plan p;
	struct coord c;
	struct msg_hello h;
	char buf[512];
	char names[2][MSG_NAME_MAX] = {"big", "small"};
	struct plan_agent_weight w[1];

	memset(&p, 0, sizeof(p));
	memset(&c, 0, sizeof(c));
	c.plan = &p;
	p.agents_count = 2;

	/* 4,000 over two agents: 2,000 each fits in 19,984, so no advice. */
	p.connections = 4000;
	hello(&h, "local-1", 19984, OPEN_FILES);
	coord_join_capacity(&c, &h, buf, sizeof(buf));
	CHECK_STR_EQ(buf, "capacity 19,984 connections: open-files limit 20000 per process "
	                  "(its share: 2,000)");

	/* 60,000 over two: 30,000 each does not fit, so the advice stays. */
	p.connections = 60000;
	coord_join_capacity(&c, &h, buf, sizeof(buf));
	CHECK_STR_EQ(buf, OPEN_FILES " (its share: 30,000)");

	/* Weights: big 3, small 1 (named), 30,000 connections: 22,500 and 7,500. */
	p.connections = 30000;
	p.nnames = 2;
	p.names = names;
	snprintf(w[0].name, sizeof(w[0].name), "big");
	w[0].weight = 3;
	p.nweights = 1;
	p.weights = w;
	hello(&h, "big", 19984, OPEN_FILES);
	coord_join_capacity(&c, &h, buf, sizeof(buf));
	CHECK_STR_EQ(buf, OPEN_FILES " (its share: 22,500)");
	hello(&h, "small", 19984, OPEN_FILES);
	coord_join_capacity(&c, &h, buf, sizeof(buf));
	CHECK_STR_EQ(buf, "capacity 19,984 connections: open-files limit 20000 per process "
	                  "(its share: 7,500)");

	/* Several dashes: only the advice after the last one goes. */
	p.nnames = 0;
	p.nweights = 0;
	p.connections = 10;
	hello(&h, "m", 5000,
	      "capacity 5,000 connections: memory — 200,000 kB available — free memory");
	coord_join_capacity(&c, &h, buf, sizeof(buf));
	CHECK_STR_EQ(buf,
	             "capacity 5,000 connections: memory — 200,000 kB available (its share: 5)");
	return check_exit("unit.coordinator.join_capacity");
}
