#include <inttypes.h>

#include "hist.h"
#include "result.h"

json_t *result_to_json(const struct engine_result *r)
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
                        double echo_s)
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
}

bool result_passed(const struct engine_result *r, uint64_t target, bool echoed)
{
	const struct engine_counts *c = &r->counts;
	uint64_t failed = 0;
	int i;

	for (i = 0; i < ENGINE_REASON_COUNT; i++)
		failed += c->failed[i];
	return c->established == target && failed == 0 && c->aborted == 0 &&
	       (!echoed || c->echo_ok == target);
}
