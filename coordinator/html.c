/*
 * html.c — the report as a page people look at. Charts are inline SVG drawn
 * here from the report's numbers; nothing is fetched and nothing runs.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "host.h"
#include "html.h"
#include "html_chart.h"
#include "html_load.h"
#include "msg.h"
#include "report.h"

/* A figure at path, or where a report of format 1 (before the renames) had it. */
static double v1_or(const json_t *r, const char *path, const char *v1_path)
{
	return html_jget(r, path) != NULL ? html_jnum(r, path) : html_jnum(r, v1_path);
}

/*
 * "threads, 64 KiB stacks" / "epoll": how a report's server is labelled in
 * comparisons. From its final answer; without one (it never answered, or
 * stopped), from the plan: its model, "command", or "external".
 */
static void model_label(const json_t *r, char *buf, size_t size)
{
	const json_t *final = html_jget(r, "server.final");
	const char *model = html_jstr(final, "model");
	double stack = html_jnum(final, "stack_size");

	if (!json_is_object(final)) {
		const char *stack_size = html_jstr(r, "plan.local.server.stack_size");
		model = html_jstr(r, "plan.local.server.model");
		if (html_jget(r, "plan.local.server.command") != NULL)
			snprintf(buf, size, "command");
		else if (*model && strcmp(model, "threads") == 0 && *stack_size)
			snprintf(buf, size, "threads, %s stacks", stack_size);
		else
			snprintf(buf, size, "%s", *model ? model : "external");
	} else if (strcmp(model, "threads") == 0 && stack > 0)
		snprintf(buf, size, "threads, %.0f KiB stacks", stack / 1024);
	else if (*html_jstr(final, "process")) /* server --watch: the process it watched */
		snprintf(buf, size, "%s (external)", html_jstr(final, "process"));
	else
		snprintf(buf, size, "%s", *model ? model : "external");
}

/*
 * Where a change between two samples (t0, t1] is drawn. Connections open only
 * while a step connects and close when the run closes, so a change is drawn
 * at the earliest time in the interval at which a connect or close phase was
 * under way; with none (failures during a hold), at t1, where it was first
 * heard. Drawing it anywhere else would show connections opening in a hold.
 */
static double change_at(const json_t *phases, double t0, double t1)
{
	size_t n = json_array_size(phases);
	double at = t1;

	for (size_t i = 0; i < n; i++) {
		const char *phase = html_jstr(json_array_get(phases, i), "phase");
		double from = html_jnum(json_array_get(phases, i), "t");
		double to = i + 1 < n ? html_jnum(json_array_get(phases, i + 1), "t") : INFINITY;
		if (strcmp(phase, "connect") != 0 && strcmp(phase, "close") != 0)
			continue;
		if (from <= t1 && to > t0)
			at = fmin(at, fmax(from, t0));
	}
	return at;
}

/*
 * Connections held per agent over time, stacked, with phase boundaries. Drawn
 * as steps from the coordinator's samples (each agent's count as last heard):
 * a count holds until the next sample, and changes where change_at() says.
 */
static void chart_connections(FILE *f, const json_t *r)
{
	struct html_chart c = {.id = "chart-connections",
	                       .title = "Connections over time",
	                       .xlabel = "seconds since start",
	                       .ylabel = "open connections"};
	const json_t *tl = html_jget(r, "timeline"), *t = json_object_get(tl, "t"), *a, *ph;
	const json_t *phases = json_object_get(tl, "phases");
	int n = (int)json_array_size(t);
	size_t i;
	double *below = NULL;

	json_array_foreach(json_object_get(tl, "agents"), i, a)
	{
		/* The first sample, then each change as an edge (old count, new count)
		 * at change_at(), and the last count held to the last sample. */
		struct html_series *s =
		    html_series_add(&c, html_jstr(a, "name"), n > 0 ? 2 * n : 0, (unsigned)i);
		const json_t *cur = json_object_get(a, "current");
		if (s == NULL)
			break;
		for (int k = 0; k < n; k++) {
			double tk = json_number_value(json_array_get(t, (size_t)k));
			double v = json_number_value(json_array_get(cur, (size_t)k));
			if (k == 0) {
				s->x[0] = tk;
				s->y[0] = v;
				continue;
			}
			double t0 = json_number_value(json_array_get(t, (size_t)k - 1));
			s->x[2 * k - 1] = s->x[2 * k] = change_at(phases, t0, tk);
			s->y[2 * k - 1] = s->y[2 * k - 2];
			s->y[2 * k] = v;
		}
		if (n > 0) {
			s->x[2 * n - 1] = json_number_value(json_array_get(t, (size_t)n - 1));
			s->y[2 * n - 1] = s->y[2 * n - 2];
		}
		for (int k = 0; below != NULL && k < 2 * n; k++)
			s->y[k] += below[k]; /* stacked on the agent below */
		s->area = true;
		s->base = below; /* NULL for the first: down to the axis */
		below = s->y;
	}
	json_array_foreach(phases, i, ph)
	{
		if (c.nmarks == HTML_MAX_MARKS)
			break;
		c.marks[c.nmarks] = html_jnum(ph, "t");
		snprintf(c.mark_labels[c.nmarks++], sizeof(c.mark_labels[0]), "%s %.0f",
		         html_jstr(ph, "phase"), html_jnum(ph, "step"));
	}
	html_chart_write_or_note(f, &c, "no agent's connections were sampled");
}

/*
 * Why there is no memory chart. "No server.stats in the plan" only when there
 * was none: a local plan samples its own server, and an endpoint that never
 * answered is reported in server.error.
 */
static void server_not_sampled(FILE *f, const json_t *r)
{
	const char *stats = *html_jstr(r, "plan.server.stats") ? html_jstr(r, "plan.server.stats")
	                                                       : html_jstr(r, "server.stats");
	const char *error = html_jstr(r, "server.error");

	fputs("<p class=\"note\">The server was not sampled", f);
	if (*error) {
		fputs(": ", f);
		html_esc(f, error);
	} else if (*stats) {
		fputs(": server.stats ", f);
		html_esc(f, stats);
		fputs(" gave no samples", f);
	} else if (html_jget(r, "plan.local") != NULL) {
		fputs(": the local server gave no samples", f);
	} else {
		fputs(" (no server.stats in the plan)", f);
	}
	/* server.error is a sentence of its own; it may bring its full stop. */
	fputs(*error && error[strlen(error) - 1] == '.' ? "</p>\n" : ".</p>\n", f);
}

/* The server's memory over time: user RSS and the kernel's share, separately. */
static void chart_memory(FILE *f, const json_t *r)
{
	static const struct {
		const char *key, *label;
	} parts[] = {{"rss_kb", "user RSS"},
	             {"kernel_stack_kb", "kernel stacks"},
	             {"slab_kb", "slab (sockets, task structs)"},
	             {"page_tables_kb", "page tables"}};
	struct html_chart c = {.id = "chart-memory",
	                       .title = "Server memory over time",
	                       .xlabel = "seconds since start",
	                       .ylabel = "MiB"};
	const json_t *samples = html_jget(r, "server.samples"), *smp;
	int n = (int)json_array_size(samples);
	size_t k;

	for (unsigned p = 0; p < sizeof(parts) / sizeof(parts[0]); p++) {
		struct html_series *s = html_series_add(&c, parts[p].label, n, p);
		if (s == NULL)
			break;
		json_array_foreach(samples, k, smp)
		{
			s->x[k] = html_jnum(smp, "t");
			s->y[k] = html_jnum(smp, parts[p].key) / 1024.0;
		}
	}
	if (!html_chart_has_data(&c)) {
		html_chart_free(&c);
		server_not_sampled(f, r);
		return;
	}
	html_chart_write(f, &c);
	html_chart_free(&c);
	if (*html_jstr(r, "server.error")) { /* sampled, then it stopped answering */
		const char *error = html_jstr(r, "server.error");
		fputs("<p class=\"note\">Server sampling ended early: ", f);
		html_esc(f, error);
		fputs(error[strlen(error) - 1] == '.' ? "</p>\n" : ".</p>\n", f);
	}
}

/* Memory per connection against connections: one colour per report, user solid, kernel dashed. */
static void chart_per_conn(FILE *f, json_t *const *reports, int nreports)
{
	struct html_chart c = {.id = "chart-per-connection",
	                       .title =
	                           "Memory per connection at each step (user solid, kernel dashed)",
	                       .xlabel = "connections held",
	                       .ylabel = "KiB per connection"};
	char label[64], name[96];

	for (int r = 0; r < nreports; r++) {
		const json_t *steps = json_object_get(reports[r], "steps"), *st;
		int n = (int)json_array_size(steps);
		size_t k;
		model_label(reports[r], label, sizeof(label));
		for (int part = 0; part < 2; part++) {
			snprintf(name, sizeof(name), "%s: %s", label, part ? "kernel" : "user");
			struct html_series *s = html_series_add(&c, name, n, (unsigned)r);
			if (s == NULL)
				break;
			s->dashed = part == 1;
			json_array_foreach(steps, k, st)
			{
				s->x[k] = html_jnum(st, "server.conns_current");
				s->y[k] = html_jnum(st, part ? "server.kernel_kb_per_conn"
				                             : "server.user_kb_per_conn");
			}
		}
	}
	html_chart_write_or_note(f, &c, "no step was completed with a sample of the server");
}

/* Latency percentiles per step: connect and echo p50/p99 (echo p99 only when comparing). */
static void chart_latency(FILE *f, json_t *const *reports, int nreports)
{
	static const char *const which[][2] = {
	    {"connect", "p50"}, {"connect", "p99"}, {"echo", "p50"}, {"echo", "p99"}};
	struct html_chart c = {.id = "chart-latency",
	                       .title = "Latency per step",
	                       .xlabel = "connections held",
	                       .ylabel = "milliseconds"};
	char path[64], label[64], name[128];

	for (int r = 0; r < nreports; r++) {
		const json_t *steps = json_object_get(reports[r], "steps"), *st;
		size_t k;
		model_label(reports[r], label, sizeof(label));
		for (int w = nreports > 1 ? 3 : 0; w < 4; w++) {
			snprintf(name, sizeof(name), "%s%s%s %s", nreports > 1 ? label : "",
			         nreports > 1 ? ": " : "", which[w][0], which[w][1]);
			struct html_series *s =
			    html_series_add(&c, name, (int)json_array_size(steps),
			                    nreports > 1 ? (unsigned)r : (unsigned)w);
			if (s == NULL)
				break;
			s->dashed = strcmp(which[w][1], "p50") == 0;
			snprintf(path, sizeof(path), "latency.%s.%s", which[w][0], which[w][1]);
			json_array_foreach(steps, k, st)
			{
				s->x[k] = html_jnum(st, "connections");
				s->y[k] = html_jnum(st, path);
			}
		}
	}
	html_chart_write_or_note(f, &c, "no step was completed");
}

/* "p50 / p99" of latency.WHICH, or a dash when nothing was measured (an aborted run). */
static void td_p50_p99(FILE *f, const json_t *totals, const char *which)
{
	char path[64];

	snprintf(path, sizeof(path), "latency.%s.count", which);
	if (!(html_jnum(totals, path) > 0)) {
		fputs("<td class=\"n\">–</td>", f);
		return;
	}
	snprintf(path, sizeof(path), "latency.%s.p50", which);
	fprintf(f, "<td class=\"n\">%.2f / ", html_jnum(totals, path));
	snprintf(path, sizeof(path), "latency.%s.p99", which);
	fprintf(f, "%.2f</td>", html_jnum(totals, path));
}

/*
 * The run's kernel KiB/conn and what it covers (server.kernel_scope): the
 * host's kernel memory, with the agents' sockets in it when they share its
 * kernel. Below zero it is flagged as the host's noise, not shown as a cost.
 */
static void td_kernel(FILE *f, const json_t *r)
{
	double v = v1_or(r, "server.kernel_kb_per_conn", "server.per_connection.kernel_kb");
	const char *scope = html_jstr(r, "server.kernel_scope");

	fputs("<td class=\"n\">", f);
	if (!isfinite(v))
		fputs("–", f);
	else if (v < 0)
		fprintf(f,
		        "<span class=\"noise\" title=\"below zero: the rest of the host freed more "
		        "kernel memory than the connections took\">(%.2f) not a cost: host "
		        "noise</span>",
		        v);
	else
		fprintf(f, "%.2f", v);
	if (scope != NULL && *scope) {
		fputs("<br><small class=\"scope\">", f);
		html_esc(f, scope);
		fputs("</small>", f);
	}
	fputs("</td>", f);
}

static void table_summary(FILE *f, json_t *const *reports, int nreports)
{
	char label[64];

	fputs("<table id=\"summary\"><tr><th>run</th><th>server</th><th>status</th><th>planned</th>"
	      "<th>estab&shy;lished</th><th>held</th><th>failed</th><th>echo ok</th><th>echo "
	      "errors</th>"
	      "<th>connect p50/p99 ms</th><th>echo p50/p99 ms</th><th>server max conns</th>"
	      "<th>user KiB/conn</th><th>kernel KiB/conn</th></tr>\n",
	      f);
	for (int i = 0; i < nreports; i++) {
		const json_t *r = reports[i], *t = json_object_get(r, "totals");
		double failed = (double)msg_failed_total_json(t);
		model_label(r, label, sizeof(label));
		fputs("<tr>", f);
		html_td_str(f, html_jstr(r, "plan.name"), NULL);
		html_td_str(f, label, NULL);
		html_td_str(f, html_jstr(r, "status"), html_jstr(r, "status"));
		html_td_num(f, html_jnum(r, "plan.connections"), "%.0f");
		html_td_num(f, html_jnum(t, "established"), "%.0f");
		html_td_num(f, html_jnum(t, "held"), "%.0f");
		html_td_num(f, failed, "%.0f");
		html_td_num(f, html_jnum(t, "echo_ok"), "%.0f");
		html_td_num(f, html_jnum(t, "echo_errors"), "%.0f");
		td_p50_p99(f, t, "connect");
		td_p50_p99(f, t, "echo");
		html_td_num(f, html_jnum(r, "server.final.conns_max"), "%.0f");
		html_td_num(f, v1_or(r, "server.user_kb_per_conn", "server.per_connection.user_kb"),
		            "%.2f");
		td_kernel(f, r);
		fputs("</tr>\n", f);
	}
	fputs("</table>\n", f);
}

/* Seconds since 1970 of "YYYY-MM-DDTHH:MM:SSZ", or NAN. */
static double iso_seconds(const char *s)
{
	struct tm tm = {0};
	char z = 0;

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%c", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
	           &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &z) != 7 ||
	    z != 'Z')
		return NAN;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (double)timegm(&tm);
}

/*
 * How long the run took: to the gathering of its results (timing.results_s,
 * from the coordinator's start, ms), or, for a run that never got there (one
 * aborted while agents joined), its started_at to ended_at in whole seconds.
 */
static double run_seconds(const json_t *r)
{
	double s = html_jnum(r, "timing.results_s");

	if (isfinite(s) && s > 0)
		return s;
	s = iso_seconds(html_jstr(r, "ended_at")) - iso_seconds(html_jstr(r, "started_at"));
	return isfinite(s) && s >= 0 ? s : NAN;
}

/* What each status means, for the banner. */
static const char *status_meaning(const char *status, int failed, int nthresholds, char *buf,
                                  size_t size)
{
	if (strcmp(status, "pass") == 0)
		return "every threshold met";
	if (strcmp(status, "fail") == 0) {
		snprintf(buf, size, "%d of %d thresholds not met", failed, nthresholds);
		return buf;
	}
	if (strcmp(status, "degraded") == 0)
		return "part of the run was not measured (an agent lost, or the server not "
		       "sampled)";
	if (strcmp(status, "aborted") == 0)
		return "the run stopped before it finished: nothing is judged";
	if (strcmp(status, "running") == 0)
		return "a checkpoint of a run still under way";
	return "unknown status";
}

/* Each threshold with its verdict and what was measured; "not judged" when aborted. */
static void banner_thresholds(FILE *f, const json_t *ths, bool aborted)
{
	const json_t *t;
	size_t i;

	fprintf(f, "<p>thresholds%s:</p>\n<ul class=\"checks\">",
	        aborted ? " (not judged: the run was aborted)" : "");
	json_array_foreach(ths, i, t)
	{
		bool ok = json_is_true(json_object_get(t, "ok"));
		const char *cls = ok ? "ok" : "fail", *word = ok ? "ok" : "FAIL";
		if (aborted) {
			cls = "nj";
			word = "not judged";
		}
		fprintf(f, "<li class=\"%s\"><span class=\"verdict\">%s</span> <code>", cls, word);
		html_esc(f, html_jstr(t, "expr"));
		fputs("</code>", f);
		if (!aborted)
			fprintf(f, " <span class=\"measured\">measured %g</span>",
			        html_jnum(t, "value"));
		fputs("</li>\n", f);
	}
	fputs("</ul>\n", f);
}

/*
 * The verdict first: status, duration, every threshold with what was measured
 * (an aborted run measured nothing: "not judged"), and why a run that did not
 * finish well did not (error, server.error).
 */
static void banner(FILE *f, const json_t *r, int index)
{
	static const char *const known[] = {"pass", "fail", "degraded", "aborted", "running"};
	const char *status = html_jstr(r, "status"), *cls = "unknown";
	char meaning[96];
	bool aborted = strcmp(status, "aborted") == 0;
	const json_t *ths = json_object_get(r, "thresholds"), *t;
	int failed = 0;
	size_t i;
	double secs = run_seconds(r);

	for (size_t k = 0; k < sizeof(known) / sizeof(known[0]); k++)
		if (strcmp(status, known[k]) == 0)
			cls = known[k]; /* a class of ours, never the report's text */
	json_array_foreach(ths, i, t) failed += !json_is_true(json_object_get(t, "ok"));
	if (index == 0)
		fprintf(f, "<section id=\"banner\" class=\"banner st-%s\">\n", cls);
	else
		fprintf(f, "<section id=\"banner-%d\" class=\"banner st-%s\">\n", index + 1, cls);
	fputs("<p class=\"verdict\"><span class=\"status\">", f);
	html_esc(f, status);
	fputs("</span> ", f);
	html_esc(
	    f, status_meaning(status, failed, (int)json_array_size(ths), meaning, sizeof(meaning)));
	fputs("</p>\n<p>", f);
	html_esc(f, html_jstr(r, "plan.name"));
	fputs(": ", f);
	html_esc(f, html_jstr(r, "started_at"));
	fputs(" to ", f);
	html_esc(f, *html_jstr(r, "ended_at") ? html_jstr(r, "ended_at") : "(still running)");
	fputs(", duration <span class=\"duration\">", f);
	if (isfinite(secs))
		fprintf(f, secs >= 60 ? "%.1f s (%.0f min %.0f s)" : "%.1f s", secs,
		        floor(secs / 60), fmod(round(secs), 60));
	else
		fputs("unknown", f);
	fputs("</span></p>\n", f);
	if (*html_jstr(r, "error")) {
		fputs("<p class=\"error\"><b>error:</b> ", f);
		html_esc(f, html_jstr(r, "error"));
		fputs("</p>\n", f);
	}
	if (*html_jstr(r, "server.error")) {
		fputs("<p class=\"error\"><b>server.error:</b> ", f);
		html_esc(f, html_jstr(r, "server.error"));
		fputs("</p>\n", f);
	}
	banner_thresholds(f, ths, aborted);
	fputs("</section>\n", f);
}

static void setting_row(FILE *f, const char *key, const char *value)
{
	fputs("<tr><th>", f);
	html_esc(f, key);
	fputs("</th><td>", f);
	html_esc(f, value);
	fputs("</td></tr>\n", f);
}

/*
 * The local server: its command, argv joined ("python3 echo.py --port
 * {port}", an argument with a space quoted), or "epoll, default stacks, 2
 * processes" (the processes only when the plan gave them).
 */
static void setting_local_server(FILE *f, const json_t *server)
{
	const json_t *argv = json_object_get(server, "command"), *arg;
	char v[512];
	size_t i, off = 0;

	v[0] = '\0';
	json_array_foreach(argv, i, arg)
	{
		const char *a = json_string_value(arg) ? json_string_value(arg) : "";
		const char *q = *a == '\0' || strpbrk(a, " \t") ? "'" : "";
		if (off < sizeof(v))
			off += (size_t)snprintf(v + off, sizeof(v) - off, "%s%s%s%s", i ? " " : "",
			                        q, a, q);
	}
	if (json_is_array(argv)) {
		setting_row(f, "local server", v);
		return;
	}
	snprintf(v, sizeof(v), "%s",
	         *html_jstr(server, "model") ? html_jstr(server, "model") : "threads");
	if (*html_jstr(server, "stack_size"))
		snprintf(v + strlen(v), sizeof(v) - strlen(v), ", %s stacks",
		         html_jstr(server, "stack_size"));
	if (html_jnum(server, "processes") > 0)
		snprintf(v + strlen(v), sizeof(v) - strlen(v), ", %.0f process%s",
		         html_jnum(server, "processes"),
		         html_jnum(server, "processes") == 1 ? "" : "es");
	setting_row(f, "local server", v);
}

/* The plan's settings, as the run used them (the target as resolved, with its real port). */
static void table_settings(FILE *f, const json_t *r, int index)
{
	const json_t *plan = json_object_get(r, "plan"), *st;
	char v[512], b[32];
	size_t i, off = 0;
	const char *host = html_jstr(r, "target.host");
	double port = html_jnum(r, "target.port");

	if (*host == '\0' || !isfinite(port)) {
		host = html_jstr(plan, "target.host");
		port = html_jnum(plan, "target.port");
	}
	if (index == 0)
		fputs("<div class=\"scroll\"><table id=\"settings\">\n", f);
	else
		fprintf(f, "<div class=\"scroll\"><table id=\"settings-%d\">\n", index + 1);
	if (strcmp(host, html_jstr(plan, "target.host")) != 0 && *html_jstr(plan, "target.host"))
		snprintf(v, sizeof(v), "%s (%s:%.0f)", html_jstr(plan, "target.host"), host, port);
	else
		snprintf(v, sizeof(v), "%s:%.0f", host, port);
	setting_row(f, "target", v);
	snprintf(v, sizeof(v), "%.0f%s", html_jnum(plan, "agents.count"),
	         html_jget(plan, "local") ? " (local)" : "");
	setting_row(f, "agents", v);
	setting_row(f, "connections", host_fmt_count((long)html_jnum(plan, "connections"), b, 32));
	json_array_foreach(json_object_get(plan, "steps"), i, st)
	{
		if (off < sizeof(v))
			off += (size_t)snprintf(v + off, sizeof(v) - off, "%s%s", i ? ", " : "",
			                        host_fmt_count((long)json_number_value(st), b, 32));
	}
	setting_row(f, "steps", off ? v : "one: all connections");
	if (html_jnum(plan, "ramp.rate_per_s") > 0)
		snprintf(v, sizeof(v), "%s connections/s",
		         host_fmt_count((long)html_jnum(plan, "ramp.rate_per_s"), b, 32));
	else
		snprintf(v, sizeof(v), "unlimited");
	setting_row(f, "ramp rate", v);
	snprintf(v, sizeof(v), "%.0f ms", html_jnum(plan, "ramp.connect_timeout_ms"));
	setting_row(f, "connect timeout", v);
	snprintf(v, sizeof(v), "%.0f bytes", html_jnum(plan, "echo.payload_bytes"));
	setting_row(f, "payload", v);
	snprintf(v, sizeof(v), "%.0f", html_jnum(plan, "echo.rounds"));
	setting_row(f, "echo rounds", v);
	snprintf(v, sizeof(v), "every %.0f ms, timeout %.0f ms",
	         html_jnum(plan, "echo.interval_ms"), html_jnum(plan, "echo.timeout_ms"));
	setting_row(f, "echo pacing", v);
	snprintf(v, sizeof(v), "%g s", html_jnum(plan, "hold_s"));
	setting_row(f, "hold", v);
	html_load_describe(plan, v, sizeof(v));
	setting_row(f, "load", v);
	html_churn_describe(plan, v, sizeof(v));
	setting_row(f, "churn", v);
	if (*html_jstr(plan, "server.stats"))
		snprintf(v, sizeof(v), "%s every %.0f ms", html_jstr(plan, "server.stats"),
		         html_jnum(plan, "server.interval_ms"));
	else if (html_jget(plan, "local"))
		snprintf(v, sizeof(v), "the local server every %.0f ms",
		         html_jnum(plan, "server.interval_ms"));
	else
		snprintf(v, sizeof(v), "not sampled (no server.stats)");
	setting_row(f, "server sampling", v);
	if (html_jget(plan, "local.server"))
		setting_local_server(f, json_object_get(json_object_get(plan, "local"), "server"));
	fputs("</table></div>\n", f);
}

static void table_agents(FILE *f, const json_t *r)
{
	const json_t *a;
	size_t i;

	fputs("<table class=\"agents\"><tr><th>agent</th><th>host</th><th>state</th>"
	      "<th>assigned</th><th>established</th><th>held</th><th>failed (by reason)</th>"
	      "<th>echo ok</th>"
	      "<th>echo errors</th><th>connect p99 ms</th><th>echo p99 ms</th></tr>\n",
	      f);
	json_array_foreach(json_object_get(r, "agents"), i, a)
	{
		char reasons[256] = "";
		size_t off = 0;
		/* The reasons msg_failed_total_json() sums, in their order. */
		for (int k = 0; k < MSG_REASON_COUNT; k++) {
			const char *key = msg_reason_name((enum msg_reason)k);
			json_int_t n =
			    json_integer_value(json_object_get(json_object_get(a, "failed"), key));
			if (n > 0 && off < sizeof(reasons))
				off += (size_t)snprintf(reasons + off, sizeof(reasons) - off,
				                        "%s%s %lld", off ? ", " : "", key,
				                        (long long)n);
		}
		fputs("<tr>", f);
		html_td_str(f, html_jstr(a, "name"), NULL);
		html_td_str(f, html_jstr(a, "host"), NULL);
		html_td_str(f, html_jstr(a, "state"), html_jstr(a, "state"));
		html_td_num(f, html_jnum(a, "assigned"), "%.0f");
		html_td_num(f, html_jnum(a, "established"), "%.0f");
		html_td_num(f, html_jnum(a, "held"), "%.0f");
		html_td_str(f, off ? reasons : "none", NULL);
		html_td_num(f, html_jnum(a, "echo_ok"), "%.0f");
		html_td_num(f, html_jnum(a, "echo_errors"), "%.0f");
		html_td_num(f, html_jnum(a, "latency.connect.p99"), "%.2f");
		html_td_num(f, html_jnum(a, "latency.echo.p99"), "%.2f");
		fputs("</tr>\n", f);
		if (*html_jstr(a, "why")) {
			fputs("<tr><td></td><td colspan=\"10\" class=\"note\">", f);
			html_esc(f, html_jstr(a, "why"));
			fputs("</td></tr>\n", f);
		}
	}
	fputs("</table>\n", f);
}

/* What each component said would stop it: the capacity sentences. */
static void list_limits(FILE *f, const json_t *r)
{
	const json_t *a;
	size_t i;

	fputs("<ul class=\"limits\">", f);
	if (*html_jstr(r, "server.final.capacity_limit")) {
		fputs("<li><b>server</b>: ", f);
		html_esc(f, html_jstr(r, "server.final.capacity_limit"));
		fputs("</li>", f);
	}
	json_array_foreach(json_object_get(r, "agents"), i, a)
	{
		/* A report of format 1 had the sentence under "capacity". */
		const char *limit = *html_jstr(a, "capacity_limit") ? html_jstr(a, "capacity_limit")
		                                                    : html_jstr(a, "capacity");
		if (*limit == '\0')
			continue;
		fputs("<li><b>", f);
		html_esc(f, html_jstr(a, "name"));
		fputs("</b>: ", f);
		html_esc(f, limit);
		fputs("</li>", f);
	}
	fputs("</ul>\n", f);
}

static const char style[] =
    "body{font:14px/1.45 system-ui,sans-serif;color:#222;margin:0 auto;max-width:1160px;"
    "padding:16px;overflow-wrap:anywhere}h1{font-size:22px}h2{font-size:17px;margin-top:28px;"
    "border-bottom:1px solid #ddd}div.scroll{overflow-x:auto;max-width:100%}table{border-"
    "collapse:collapse;margin:8px 0;width:100%;overflow-wrap:normal}th,td{border:1px solid "
    "#ddd;padding:3px 7px;text-align:left}th{background:#f4f4f4}td.n{text-align:right;"
    "font-variant-numeric:tabular-nums}#summary{font-size:12px}#summary th,#summary td{"
    "padding:2px 3px}"
    "table[id^=settings]{width:auto}table[id^=settings] th{font-weight:normal}"
    ".pass,.done,.ok .verdict{color:#1a7f37;font-weight:600}.fail,.FAIL,.fail .verdict,"
    ".lost,.aborted,.degraded,.rejected{color:#c62828;font-weight:600}.nj .verdict{color:#666;"
    "font-weight:600}.mono{font-family:monospace}.note{color:#666}"
    ".banner{border:1px solid #ccc;border-left:8px solid #888;padding:4px 14px;margin:12px 0}"
    ".banner p{margin:6px 0}.banner ul.checks{list-style:none;padding:0;margin:4px 0}"
    ".banner .status{font-size:20px;font-weight:700;text-transform:uppercase;margin-right:8px}"
    ".st-pass{border-left-color:#1a7f37;background:#f1f8f3}.st-pass .status{color:#1a7f37}"
    ".st-fail,.st-aborted,.st-degraded{border-left-color:#c62828;background:#fdf2f2}"
    ".st-fail .status,.st-aborted .status,.st-degraded .status{color:#c62828}"
    ".banner .error{color:#8a1c1c}figure.chart{margin:10px 0}figcaption{font-weight:600}"
    "ul.legend{list-style:none;padding:0;margin:4px 0;display:flex;flex-wrap:"
    "wrap;gap:4px 18px}ul.legend span{display:inline-block;width:12px;height:12px;margin-right:"
    "5px;vertical-align:-1px}svg text{font:12px sans-serif;fill:#333}svg "
    ".label{font-weight:600}svg .grid{stroke:#eee}"
    "svg .axis{stroke:#555}svg .mark{stroke:#999;stroke-dasharray:3 3}svg .marklabel{font-size:"
    "10px;fill:#777}svg{max-width:100%;height:auto}@media print{body{max-width:none}"
    "figure.chart{break-inside:avoid}div.scroll{overflow:visible}}";

static void page(FILE *f, json_t *const *reports, int n)
{
	const json_t *r = reports[0];

	fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
	      "<meta name=\"viewport\" content=\"width=device-width\"><title>connscale: ",
	      f);
	html_esc(f, n > 1 ? "comparison" : html_jstr(r, "plan.name"));
	fprintf(f, "</title><style>%s</style></head><body>\n<h1>connscale: ", style);
	html_esc(f, n > 1 ? "comparison of server models" : html_jstr(r, "plan.name"));
	/* Every string from a report goes through html_esc(): a report is input, not markup. */
	fputs("</h1>\n", f);
	for (int i = 0; i < n; i++)
		banner(f, reports[i], i);
	fputs("<p class=\"note\">Is thread-per-connection scalable? Each connection's cost is "
	      "shown as user memory (RSS) and the kernel's share (kernel stack, slab, page "
	      "tables), which RSS alone hides.</p>\n",
	      f);
	fputs("<h2>Summary</h2>\n<div class=\"scroll\">", f);
	table_summary(f, reports, n);
	fputs("</div>\n", f);
	if (n == 1) {
		fputs("<h2>Settings</h2>\n", f);
		table_settings(f, r, 0);
		chart_connections(f, r);
		chart_memory(f, r);
	}
	chart_per_conn(f, reports, n);
	chart_latency(f, reports, n);
	for (int i = 0; i < n; i++) {
		if (n > 1) {
			fputs("<h2>Run ", f);
			html_esc(f, html_jstr(reports[i], "plan.name"));
			fputs("</h2>\n<h3>Settings</h3>\n", f);
			table_settings(f, reports[i], i);
		}
		html_load_section(f, reports[i], i);
		html_churn_section(f, reports[i], i);
		fputs("<h2>Agents</h2>\n<div class=\"scroll\">", f);
		table_agents(f, reports[i]);
		fputs("</div>\n<h2>Host limits</h2>\n", f);
		list_limits(f, reports[i]);
	}
	fputs("</body></html>\n", f);
}

struct html_pages {
	json_t *const *reports;
	int n;
};

static int fill_page(FILE *f, const void *arg)
{
	const struct html_pages *p = arg;

	page(f, p->reports, p->n);
	return 0;
}

int html_write(const char *path, json_t *const *reports, int nreports)
{
	struct html_pages p = {reports, nreports};

	if (nreports < 1)
		return -EINVAL;
	return report_write_file(path, fill_page, &p);
}
