/*
 * work.c — the arithmetic of a load or churn phase: each agent's share of the
 * rate, the most its answer may count, and the server's CPU, context
 * switches and accepts around it (deltas of two samples). run.c runs the phases.
 */
#include <stdint.h>

#include "coord.h"

/*
 * An agent's part of the current load rate: the rate in proportion to the
 * connections it holds at this step. One that holds none is given the whole
 * rate: with no connection it sends nothing, and a rate must be positive.
 */
struct msg_go_load coord_load_share(const struct coord *c, const struct coord_agent *a, int step)
{
	const struct plan *p = c->plan;
	struct msg_go_load l = {
	    .sub = c->load_sub,
	    .rate_per_s = p->load_rates[c->load_sub],
	    .duration_ms = (int64_t)(p->load_duration_s * 1000.0 + 0.5),
	    .payload_bytes = p->load_payload_bytes,
	};

	if (a->assign.steps[step] > 0)
		l.rate_per_s *= (double)a->assign.steps[step] / (double)p->steps[step];
	if (l.duration_ms < 1)
		l.duration_ms = 1;
	return l;
}

/*
 * An agent's part of the churn: whole connections a second, in proportion
 * to its connections at this step, the remainders going to the largest
 * fractions (so the parts add up to the plan's rate, rounded, exactly). An
 * agent whose part is 0 opens none.
 */
void coord_churn_split(struct coord *c, int step)
{
	const struct plan *p = c->plan;
	int64_t total = (int64_t)(p->churn_rate_per_s + 0.5), given = 0;
	double frac[PLAN_MAX_AGENTS];

	for (int i = 0; i < c->nagents; i++) {
		struct coord_agent *a = &c->agents[i];
		double exact =
		    (double)total * (double)a->assign.steps[step] / (double)p->steps[step];

		a->churn_rate = a->state == AGENT_READY ? (int64_t)exact : 0;
		frac[i] = a->state == AGENT_READY ? exact - (double)a->churn_rate : -1;
		given += a->churn_rate;
	}
	while (given < total) {
		int best = -1;

		for (int i = 0; i < c->nagents; i++)
			if (frac[i] >= 0 && (best < 0 || frac[i] > frac[best]))
				best = i;
		if (best < 0)
			break;
		c->agents[best].churn_rate++;
		frac[best] = -1;
		given++;
	}
}

struct msg_go_churn coord_churn_share(const struct coord *c, const struct coord_agent *a)
{
	struct msg_go_churn ch = {
	    .rate_per_s = (double)a->churn_rate,
	    .duration_ms = (int64_t)(c->plan->churn_duration_s * 1000.0 + 0.5),
	};

	if (ch.duration_ms < 1)
		ch.duration_ms = 1;
	return ch;
}

/*
 * The most a load or churn answer may count: rate x duration twice over
 * (rounding, a slow clock), every held connection's last send, and a
 * thousand to spare. Past it, the agent is not telling the truth.
 */
int64_t coord_work_bound(double rate_per_s, int64_t duration_ms, int64_t held)
{
	double n = rate_per_s * (double)duration_ms / 1000.0 * 2 + (double)held + 1000;

	return n >= 9e18 ? INT64_MAX : (int64_t)n;
}

/* The server's CPU, context switches and the host's CPU around one load rate. */
void coord_load_delta(struct coord_load *l, const struct server_stats *a,
                      const struct server_stats *b)
{
	double busy_a = a->host_cpu_user_s + a->host_cpu_sys_s + a->host_cpu_softirq_s;
	double busy_b = b->host_cpu_user_s + b->host_cpu_sys_s + b->host_cpu_softirq_s;

	l->have_server = true;
	l->server_cpu_s = (b->cpu_user_s + b->cpu_sys_s) - (a->cpu_user_s + a->cpu_sys_s);
	l->server_ctxsw = (b->ctxsw_voluntary + b->ctxsw_involuntary) -
	                  (a->ctxsw_voluntary + a->ctxsw_involuntary);
	l->host_softirq_s = b->host_cpu_softirq_s - a->host_cpu_softirq_s;
	l->host_busy_s = busy_b - busy_a;
	l->host_total_s = (busy_b + b->host_cpu_idle_s) - (busy_a + a->host_cpu_idle_s);
}

/* The churn's server side: CPU and context switches per connection, and its accept count. */
void coord_churn_delta(struct coord_churn *ch, const struct server_stats *a,
                       const struct server_stats *b)
{
	ch->have_server = true;
	ch->server_cpu_s = (b->cpu_user_s + b->cpu_sys_s) - (a->cpu_user_s + a->cpu_sys_s);
	ch->server_ctxsw = (b->ctxsw_voluntary + b->ctxsw_involuntary) -
	                   (a->ctxsw_voluntary + a->ctxsw_involuntary);
	ch->server_accepted = b->conns_total - a->conns_total;
}
