/*
 * plan_json — the plan as the report shows it: every value the run used,
 * defaults included, in plan.json's own shape (so it parses back to the
 * same struct plan). Optional parts that were not given stay absent.
 */
#include "plan.h"

static json_t *plan_agents_json(const struct plan *p)
{
	json_t *names = NULL, *weights = NULL;

	if (p->nnames > 0) {
		names = json_array();
		for (int64_t i = 0; names != NULL && i < p->nnames; i++) {
			if (json_array_append_new(names, json_string(p->names[i])) != 0) {
				json_decref(names);
				names = NULL;
			}
		}
		if (names == NULL)
			return NULL;
	}
	if (p->nweights > 0) {
		weights = json_object();
		for (int64_t i = 0; weights != NULL && i < p->nweights; i++) {
			if (json_object_set_new(weights, p->weights[i].name,
			                        json_real(p->weights[i].weight)) != 0) {
				json_decref(weights);
				weights = NULL;
			}
		}
		if (weights == NULL) {
			json_decref(names);
			return NULL;
		}
	}
	/* "o*" steals and skips a NULL value: absent names/weights stay absent. */
	return json_pack("{s:I, s:f, s:o*, s:o*}", "count", (json_int_t)p->agents_count,
	                 "join_timeout_s", p->join_timeout_s, "names", names, "weights", weights);
}

static json_t *plan_lists_json(const struct plan *p, json_t **thresholds)
{
	json_t *steps = json_array();

	*thresholds = json_array();
	for (int64_t i = 0; steps != NULL && i < p->nsteps; i++) {
		if (json_array_append_new(steps, json_integer((json_int_t)p->steps[i])) != 0) {
			json_decref(steps);
			steps = NULL;
		}
	}
	for (int64_t i = 0; *thresholds != NULL && i < p->nthresholds; i++) {
		if (json_array_append_new(*thresholds, json_string(p->thresholds[i].expr)) != 0) {
			json_decref(*thresholds);
			*thresholds = NULL;
		}
	}
	return steps;
}

/* local.server with a command: the argv as written ("{port}" kept) and its timeout. */
static json_t *plan_command_json(const struct plan *p)
{
	json_t *argv = json_array();

	for (int64_t i = 0; argv != NULL && i < p->local_ncommand; i++) {
		if (json_array_append_new(argv, json_string(p->local_command[i])) != 0) {
			json_decref(argv);
			argv = NULL;
		}
	}
	return json_pack("{s:o, s:f}", "command", argv, "ready_timeout_s", p->local_ready_s);
}

static json_t *plan_local_json(const struct plan *p)
{
	if (p->local_ncommand > 0)
		return json_pack("{s:I, s:o}", "agents", (json_int_t)p->local_agents, "server",
		                 plan_command_json(p));
	json_t *server =
	    json_pack("{s:s, s:s}", "model", p->local_model, "stack_size", p->local_stack_size);

	/* 0 = not given: the coordinator picks enough processes for the open-files limit. */
	if (server != NULL && p->local_processes > 0 &&
	    json_object_set_new(server, "processes",
	                        json_integer((json_int_t)p->local_processes))) {
		json_decref(server);
		return NULL;
	}
	return json_pack("{s:I, s:o}", "agents", (json_int_t)p->local_agents, "server", server);
}

/* "load" as given: one rate as a number, a sweep as a list. */
static json_t *plan_load_json(const struct plan *p)
{
	json_t *rates = p->nload_rates == 1 ? json_real(p->load_rates[0]) : json_array();

	for (int64_t i = 0; p->nload_rates > 1 && rates != NULL && i < p->nload_rates; i++) {
		if (json_array_append_new(rates, json_real(p->load_rates[i])) != 0) {
			json_decref(rates);
			rates = NULL;
		}
	}
	return json_pack("{s:o, s:f, s:I}", "rate_per_s", rates, "duration_s", p->load_duration_s,
	                 "payload_bytes", (json_int_t)p->load_payload_bytes);
}

json_t *plan_to_json(const struct plan *p)
{
	json_t *thresholds, *steps = plan_lists_json(p, &thresholds);
	json_t *server =
	    json_pack("{s:s*, s:I}", "stats", p->server_stats[0] ? p->server_stats : NULL,
	              "interval_ms", (json_int_t)p->server_interval_ms);
	json_t *j;

	j = json_pack("{s:s, s:{s:s, s:I}, s:o, s:I, s:o, s:{s:f, s:I}, s:{s:I, s:I, s:I, s:I}, "
	              "s:f, s:o, s:o}",
	              "name", p->name, "target", "host", p->target_name, "port",
	              (json_int_t)p->target_port, "agents", plan_agents_json(p), "connections",
	              (json_int_t)p->connections, "steps", steps, "ramp", "rate_per_s",
	              p->rate_per_s, "connect_timeout_ms", (json_int_t)p->connect_timeout_ms,
	              "echo", "payload_bytes", (json_int_t)p->payload_bytes, "rounds",
	              (json_int_t)p->rounds, "interval_ms", (json_int_t)p->interval_ms,
	              "timeout_ms", (json_int_t)p->echo_timeout_ms, "hold_s", p->hold_s, "server",
	              server, "thresholds", thresholds);
	if (j != NULL && p->nload_rates > 0 &&
	    json_object_set_new(j, "load", plan_load_json(p)) != 0) {
		json_decref(j);
		return NULL;
	}
	if (j != NULL && p->churn_rate_per_s > 0 &&
	    json_object_set_new(j, "churn",
	                        json_pack("{s:f, s:f}", "rate_per_s", p->churn_rate_per_s,
	                                  "duration_s", p->churn_duration_s)) != 0) {
		json_decref(j);
		return NULL;
	}
	if (j != NULL && p->local && json_object_set_new(j, "local", plan_local_json(p)) != 0) {
		json_decref(j);
		return NULL;
	}
	return j;
}
