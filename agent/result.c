#include <inttypes.h>
#include <sys/resource.h>
#include <time.h>

#include "hist.h"
#include "result.h"

static void result_cost_now(struct result_cost *c)
{
	struct timespec ts;
	struct rusage ru;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	c->elapsed_s = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
	if (getrusage(RUSAGE_SELF, &ru) < 0) {
		c->cpu_user_s = c->cpu_sys_s = 0;
		return;
	}
	c->cpu_user_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
	c->cpu_sys_s = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

void result_cost_begin(struct result_cost *c)
{
	result_cost_now(c);
}

void result_cost_end(struct result_cost *c)
{
	struct result_cost now;

	result_cost_now(&now);
	c->elapsed_s = now.elapsed_s - c->elapsed_s;
	c->cpu_user_s = now.cpu_user_s > c->cpu_user_s ? now.cpu_user_s - c->cpu_user_s : 0;
	c->cpu_sys_s = now.cpu_sys_s > c->cpu_sys_s ? now.cpu_sys_s - c->cpu_sys_s : 0;
}

/* Microseconds of CPU per verified message; 0 when none was. */
static double result_cpu_per_msg(const struct result_load *l, uint64_t verified)
{
	return verified ? (l->cost.cpu_user_s + l->cost.cpu_sys_s) * 1e6 / (double)verified : 0;
}

static json_t *result_load_json(const struct engine_result *r, const struct result_load *l)
{
	const struct engine_counts *c = &r->counts;

	return json_pack(
	    "{s:I, s:f, s:f, s:I, s:I, s:I, s:I, s:I, s:f, s:o, s:o, s:f, s:f, s:f}", "rate_per_s",
	    (json_int_t)l->rate_per_s, "duration_s", l->duration_s, "elapsed_s", l->cost.elapsed_s,
	    "scheduled", (json_int_t)c->load_scheduled, "sent", (json_int_t)c->load_sent,
	    "verified", (json_int_t)c->load_verified, "errors", (json_int_t)c->load_errors,
	    "behind_schedule", (json_int_t)c->load_behind, "achieved_per_s",
	    l->cost.elapsed_s > 0 ? (double)c->load_verified / l->cost.elapsed_s : 0.0, "latency",
	    hist_summary_json(&r->load), "hist", hist_to_json(&r->load), "agent_cpu_user_s",
	    l->cost.cpu_user_s, "agent_cpu_sys_s", l->cost.cpu_sys_s, "agent_cpu_us_per_msg",
	    result_cpu_per_msg(l, c->load_verified));
}

static uint64_t result_churn_failed(const struct engine_counts *c)
{
	uint64_t n = 0;

	for (int i = 0; i < ENGINE_REASON_COUNT; i++)
		n += c->churn_failed[i];
	return n;
}

static json_t *result_churn_json(const struct engine_result *r, const struct result_churn *ch)
{
	const struct engine_counts *c = &r->counts;
	json_t *failed = json_object();
	double cpu = ch->cost.cpu_user_s + ch->cost.cpu_sys_s;

	for (int i = 0; failed && i < ENGINE_REASON_COUNT; i++)
		json_object_set_new(failed, engine_reason_name((enum engine_reason)i),
		                    json_integer((json_int_t)c->churn_failed[i]));
	return json_pack("{s:I, s:f, s:f, s:I, s:I, s:o, s:f, s:{s:o, s:o}, s:f}", "rate_per_s",
	                 (json_int_t)ch->rate_per_s, "duration_s", ch->duration_s, "elapsed_s",
	                 ch->cost.elapsed_s, "attempted", (json_int_t)c->churn_attempted, "ok",
	                 (json_int_t)c->churn_ok, "failed", failed, "achieved_per_s",
	                 ch->duration_s > 0 ? (double)c->churn_ok / ch->duration_s : 0.0, "latency",
	                 "connect", hist_summary_json(&r->churn_connect), "first_echo",
	                 hist_summary_json(&r->churn_echo), "agent_cpu_us_per_conn",
	                 c->churn_ok ? cpu * 1e6 / (double)c->churn_ok : 0.0);
}

json_t *result_to_json(const struct engine_result *r, const struct result_load *load,
                       const struct result_churn *churn)
{
	const struct engine_counts *c = &r->counts;
	json_t *root, *failed;
	int i;

	failed = json_object();
	if (!failed)
		return NULL;
	for (i = 0; i < ENGINE_REASON_COUNT; i++)
		json_object_set_new(failed, engine_reason_name((enum engine_reason)i),
		                    json_integer((json_int_t)c->failed[i]));
	root = json_pack(
	    "{s:I, s:I, s:o, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I,"
	    " s:{s:o, s:o}, s:{s:o, s:o}}",
	    "attempted", (json_int_t)c->attempted, "established", (json_int_t)c->established,
	    "failed", failed, "max_concurrent", (json_int_t)c->max_concurrent, "echo_ok",
	    (json_int_t)c->echo_ok, "echo_errors", (json_int_t)c->echo_errors, "current",
	    (json_int_t)c->current, "aborted", (json_int_t)c->aborted, "lost", (json_int_t)c->lost,
	    "connect_failed", (json_int_t)c->connect_failed, "echo_rounds",
	    (json_int_t)c->echo_rounds, "latency", "connect", hist_summary_json(&r->connect),
	    "echo", hist_summary_json(&r->echo), "hist", "connect", hist_to_json(&r->connect),
	    "echo", hist_to_json(&r->echo));
	if (root && load && json_object_set_new(root, "load", result_load_json(r, load)) < 0) {
		json_decref(root);
		return NULL;
	}
	if (root && churn && json_object_set_new(root, "churn", result_churn_json(r, churn)) < 0) {
		json_decref(root);
		return NULL;
	}
	return root;
}

static void result_print_hist(FILE *out, const char *name, const struct hist *h)
{
	if (h->count == 0) {
		fprintf(out, "  %-8s  (none)\n", name);
		return;
	}
	fprintf(out, "  %-8s %10" PRIu64 " %9.3f %9.3f %9.3f %9.3f %9.3f\n", name, h->count,
	        hist_percentile(h, 0.5) / 1000.0, hist_percentile(h, 0.9) / 1000.0,
	        hist_percentile(h, 0.99) / 1000.0, hist_percentile(h, 0.999) / 1000.0,
	        h->max_us / 1000.0);
}

void result_print_table(FILE *out, const struct engine_result *r, uint64_t target, double connect_s,
                        double echo_s, const struct result_load *load,
                        const struct result_churn *churn)
{
	const struct engine_counts *c = &r->counts;
	int i;

	fprintf(out,
	        "connections  target %" PRIu64 "  attempted %" PRIu64 "  established %" PRIu64
	        "  max concurrent %" PRIu64 "\n",
	        target, c->attempted, c->established, c->max_concurrent);
	if (connect_s > 0)
		fprintf(out, "connect      %.3f s  (%.0f conn/s)\n", connect_s,
		        c->established / connect_s);
	if (echo_s > 0)
		fprintf(out,
		        "echo         %.3f s  ok %" PRIu64 "  errors %" PRIu64
		        "  round trips %" PRIu64 " (%.0f/s)\n",
		        echo_s, c->echo_ok, c->echo_errors, c->echo_rounds,
		        c->echo_rounds / echo_s);
	if (load)
		fprintf(out,
		        "load         %" PRIu64 "/s asked for %.3f s: sent %" PRIu64 " of %" PRIu64
		        "  verified %" PRIu64 " in %.3f s (%.0f/s)  errors %" PRIu64
		        "  behind schedule %" PRIu64
		        "\n             agent CPU %.3f s user %.3f s sys (%.2f us/msg)\n",
		        load->rate_per_s, load->duration_s, c->load_sent, c->load_scheduled,
		        c->load_verified, load->cost.elapsed_s,
		        load->cost.elapsed_s > 0 ? (double)c->load_verified / load->cost.elapsed_s
		                                 : 0.0,
		        c->load_errors, c->load_behind, load->cost.cpu_user_s, load->cost.cpu_sys_s,
		        result_cpu_per_msg(load, c->load_verified));
	if (churn)
		fprintf(out,
		        "churn        %" PRIu64 "/s asked for %.3f s: opened %" PRIu64
		        "  ok %" PRIu64 " (%.0f/s)  failed %" PRIu64
		        "\n             agent CPU %.3f s user %.3f s sys "
		        "(%.2f us/connection)\n",
		        churn->rate_per_s, churn->duration_s, c->churn_attempted, c->churn_ok,
		        churn->duration_s > 0 ? (double)c->churn_ok / churn->duration_s : 0.0,
		        result_churn_failed(c), churn->cost.cpu_user_s, churn->cost.cpu_sys_s,
		        c->churn_ok ? (churn->cost.cpu_user_s + churn->cost.cpu_sys_s) * 1e6 /
		                          (double)c->churn_ok
		                    : 0.0);
	fprintf(out, "failed      ");
	for (i = 0; i < ENGINE_REASON_COUNT; i++)
		fprintf(out, " %s %" PRIu64, engine_reason_name((enum engine_reason)i),
		        c->failed[i]);
	fprintf(out, "\n");
	if (c->lost || c->aborted)
		fprintf(out,
		        "lost %" PRIu64 " (closed by the peer while idle)  aborted %" PRIu64 "\n",
		        c->lost, c->aborted);
	fprintf(out, "latency ms        count       p50       p90       p99     p99.9       max\n");
	result_print_hist(out, "connect", &r->connect);
	result_print_hist(out, "echo", &r->echo);
	if (load)
		result_print_hist(out, "load", &r->load);
	if (churn) {
		result_print_hist(out, "churn-c", &r->churn_connect); /* connect */
		result_print_hist(out, "churn-1e", &r->churn_echo);   /* open to first echo */
	}
}

bool result_passed(const struct engine_result *r, uint64_t target, bool echoed)
{
	const struct engine_counts *c = &r->counts;
	uint64_t failed = 0;
	int i;

	for (i = 0; i < ENGINE_REASON_COUNT; i++)
		failed += c->failed[i];
	return c->established == target && failed == 0 && c->aborted == 0 &&
	       (!echoed || c->echo_ok == target) && result_churn_failed(c) == 0 &&
	       c->churn_ok == c->churn_attempted && c->load_sent == c->load_scheduled;
}

bool result_work_short(FILE *out, const struct engine_result *r, const struct result_load *load,
                       const struct result_churn *churn)
{
	const struct engine_counts *c = &r->counts;
	bool is_short = false;

	if (load != NULL && c->load_sent < c->load_scheduled) {
		fprintf(out,
		        "agent: the load fell short of its schedule: %llu of %llu messages sent "
		        "before the %.3f s were over (%llu sends were late by this agent itself)\n",
		        (unsigned long long)c->load_sent, (unsigned long long)c->load_scheduled,
		        load->duration_s, (unsigned long long)c->load_behind);
		is_short = true;
	}
	if (churn == NULL)
		return is_short;
	/*
	 * rate x duration, less what pacing at the edges costs: a token due at
	 * the very end, or one whole-number share rounded, is not a shortfall
	 * (50/s for 1 s opens 49 or 50). Short is below 99% of it, less one.
	 */
	uint64_t asked = (uint64_t)((double)churn->rate_per_s * churn->duration_s);
	uint64_t slack = asked / 100 > 1 ? asked / 100 : 1;
	uint64_t failed = result_churn_failed(c);
	if (c->churn_attempted + slack < asked) {
		fprintf(
		    out,
		    "agent: the churn fell short of its rate: %llu of %llu connections opened in "
		    "%.3f s at %llu/s\n",
		    (unsigned long long)c->churn_attempted, (unsigned long long)asked,
		    churn->duration_s, (unsigned long long)churn->rate_per_s);
		is_short = true;
	}
	if (failed > 0 || c->churn_ok < c->churn_attempted) {
		fprintf(out, "agent: %llu of %llu churn connections failed:",
		        (unsigned long long)(c->churn_attempted - c->churn_ok),
		        (unsigned long long)c->churn_attempted);
		for (int i = 0; i < ENGINE_REASON_COUNT; i++)
			if (c->churn_failed[i] > 0)
				fprintf(out, " %s %llu", engine_reason_name((enum engine_reason)i),
				        (unsigned long long)c->churn_failed[i]);
		fputc('\n', out);
		is_short = true;
	}
	return is_short;
}
