/*
 * html_load.c — "At work": what the server did with the plan's open-loop
 * load at each plateau. Per step, achieved msg/s against the rate offered
 * (with y = x, where every offered message came back in time) and the
 * latency percentiles against the rate, then both over time (the
 * timeline's load rows); then one table of every step and rate with the
 * console summary's columns (summary.c, print_loads()). Then the churn's
 * table, and the plan's load and churn as the settings say them.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "host.h"
#include "html_chart.h"
#include "html_load.h"
#include "msg.h"

/*
 * A series of the load entries' (xkey, ykey), only the points where both are
 * numbers (a null is a figure not measured, not zero); none added without one.
 */
static struct html_series *load_series(struct html_chart *c, const char *label, const json_t *loads,
                                       const char *xkey, const char *ykey, unsigned color)
{
	const json_t *l;
	size_t i;
	int n = 0;

	json_array_foreach(loads, i, l) n +=
	    isfinite(html_jnum(l, xkey)) && isfinite(html_jnum(l, ykey));
	struct html_series *s = html_series_add(c, label, n, color);
	if (s == NULL)
		return NULL;
	n = 0;
	json_array_foreach(loads, i, l)
	{
		double x = html_jnum(l, xkey), y = html_jnum(l, ykey);
		if (!isfinite(x) || !isfinite(y))
			continue;
		s->x[n] = x;
		s->y[n] = y;
		n++;
	}
	return s;
}

static void chart_achieved(FILE *f, const json_t *loads, const char *id, const char *at)
{
	char title[96];
	struct html_chart c = {.id = id,
	                       .title = title,
	                       .xlabel = "rate offered (msg/s)",
	                       .ylabel = "achieved (msg/s)"};
	const json_t *l;
	size_t i;
	double top = 0;

	snprintf(title, sizeof(title), "Achieved against offered at %s connections", at);
	json_array_foreach(loads, i, l)
	{
		double rate = html_jnum(l, "rate_per_s");
		if (isfinite(rate) && rate > top)
			top = rate;
	}
	/* y = x: every message offered came back within the sub-step. */
	struct html_series *s = html_series_add(&c, "offered (y = x)", 2, 8);
	if (s != NULL) {
		s->dashed = true;
		s->x[1] = top;
		s->y[1] = top;
	}
	load_series(&c, "achieved", loads, "rate_per_s", "achieved_per_s", 0);
	html_chart_write_or_note(f, &c, "no rate was run");
}

static void chart_load_latency(FILE *f, const json_t *loads, const char *id, const char *at)
{
	static const char *const pcts[] = {"p50", "p99", "p999"};
	char title[96], key[32], label[32];
	struct html_chart c = {
	    .id = id, .title = title, .xlabel = "rate offered (msg/s)", .ylabel = "milliseconds"};

	snprintf(title, sizeof(title), "Latency against offered at %s connections (linear)", at);
	for (unsigned p = 0; p < sizeof(pcts) / sizeof(pcts[0]); p++) {
		snprintf(key, sizeof(key), "latency.%s", pcts[p]);
		snprintf(label, sizeof(label), "%s", pcts[p]);
		struct html_series *s = load_series(&c, label, loads, "rate_per_s", key, p);
		if (s != NULL)
			s->dashed = p == 0;
	}
	html_chart_write_or_note(f, &c, "no latency was measured");
}

/*
 * The timeline's load rows of one step, in time order (timeline.c writes
 * them so): how many, and the first.
 */
static size_t step_rows(const json_t *rows, double step, size_t *first)
{
	const json_t *row;
	size_t i, n = 0;

	json_array_foreach(rows, i, row)
	{
		if (html_jnum(row, "step") != step)
			continue;
		if (n++ == 0)
			*first = i;
	}
	return n;
}

/* A mark at each rate's first row: where the offered rate changed. */
static void mark_rates(struct html_chart *c, const json_t *rows, size_t first, size_t n)
{
	double sub = -1;

	for (size_t i = first; i < first + n && c->nmarks < HTML_MAX_MARKS; i++) {
		const json_t *row = json_array_get(rows, i);
		if (html_jnum(row, "sub") == sub)
			continue;
		sub = html_jnum(row, "sub");
		c->marks[c->nmarks] = html_jnum(row, "t");
		snprintf(c->mark_labels[c->nmarks++], sizeof(c->mark_labels[0]), "%.0f/s",
		         html_jnum(row, "rate_per_s"));
	}
}

/*
 * Messages verified a second between two rows of the same rate (the rows
 * count each sub-step from 0), against the rate offered.
 */
static void chart_rate_over_time(FILE *f, const json_t *rows, size_t first, size_t n,
                                 const char *id, const char *at)
{
	char title[96];
	struct html_chart c = {
	    .id = id, .title = title, .xlabel = "seconds since start", .ylabel = "messages/s"};
	struct html_series *off = html_series_add(&c, "offered", (int)n, 8);
	struct html_series *ach = html_series_add(&c, "achieved", n > 1 ? (int)n - 1 : 0, 0);
	int k = 0;

	snprintf(title, sizeof(title), "Messages a second over time at %s connections", at);
	if (off != NULL)
		off->dashed = true;
	for (size_t i = first; off != NULL && i < first + n; i++) {
		const json_t *row = json_array_get(rows, i);
		const json_t *prev = i > first ? json_array_get(rows, i - 1) : NULL;
		off->x[i - first] = html_jnum(row, "t");
		off->y[i - first] = html_jnum(row, "rate_per_s");
		if (ach == NULL || prev == NULL || html_jnum(prev, "sub") != html_jnum(row, "sub"))
			continue;
		double dt = html_jnum(row, "t") - html_jnum(prev, "t");
		if (!(dt > 0))
			continue;
		ach->x[k] = html_jnum(row, "t");
		ach->y[k++] = (html_jnum(row, "verified") - html_jnum(prev, "verified")) / dt;
	}
	if (ach != NULL)
		ach->n = k;
	mark_rates(&c, rows, first, n);
	html_chart_write_or_note(f, &c, "too few samples for a rate");
}

/* The worst agent's percentiles of the messages verified since the previous row. */
static void chart_latency_over_time(FILE *f, const json_t *rows, size_t first, size_t n,
                                    const char *id, const char *at)
{
	static const char *const keys[] = {"p50_ms", "p99_ms", "max_ms"};
	char title[112];
	struct html_chart c = {
	    .id = id, .title = title, .xlabel = "seconds since start", .ylabel = "milliseconds"};

	snprintf(title, sizeof(title), "Latency over time at %s connections (worst agent a sample)",
	         at);
	for (unsigned p = 0; p < sizeof(keys) / sizeof(keys[0]); p++) {
		int k = 0;
		for (size_t i = first; i < first + n; i++)
			k += html_jnum(json_array_get(rows, i), "count") > 0;
		struct html_series *s = html_series_add(&c, keys[p], k, p);
		if (s == NULL)
			break;
		k = 0;
		for (size_t i = first; i < first + n; i++) {
			const json_t *row = json_array_get(rows, i);
			if (!(html_jnum(row, "count") > 0))
				continue; /* no message verified in it: no latency, not 0 */
			s->x[k] = html_jnum(row, "t");
			s->y[k++] = html_jnum(row, keys[p]);
		}
		s->dashed = p == 0;
	}
	mark_rates(&c, rows, first, n);
	html_chart_write_or_note(f, &c, "no latency was sampled while it ran");
}

/* A count with thousands separators, or a dash when not measured. */
static void td_count(FILE *f, double v)
{
	char b[32];

	if (!isfinite(v)) {
		html_td_num(f, v, "%.0f");
		return;
	}
	fputs("<td class=\"n\">", f);
	html_esc(f, host_fmt_count((long)v, b, sizeof(b)));
	fputs("</td>", f);
}

static void table_loads(FILE *f, const json_t *steps, int index)
{
	const json_t *st, *l;
	size_t k, i;

	fprintf(f,
	        "<div class=\"scroll\"><table id=\"load-%d\"><tr><th>load at</th><th>rate/s</th>"
	        "<th>achieved/s</th><th>p50 ms</th><th>p99 ms</th><th>max ms</th><th>behind</th>"
	        "<th>srv &micro;s/msg</th><th>ctxsw/msg</th><th>agt &micro;s/msg</th></tr>\n",
	        index);
	json_array_foreach(steps, k, st) json_array_foreach(json_object_get(st, "load"), i, l)
	{
		fputs("<tr>", f);
		td_count(f, html_jnum(st, "connections"));
		td_count(f, html_jnum(l, "rate_per_s"));
		td_count(f, html_jnum(l, "achieved_per_s"));
		html_td_num(f, html_jnum(l, "latency.p50"), "%.2f");
		html_td_num(f, html_jnum(l, "latency.p99"), "%.2f");
		html_td_num(f, html_jnum(l, "latency.max"), "%.2f");
		td_count(f, html_jnum(l, "behind_schedule"));
		html_td_num(f, html_jnum(l, "server_cpu_us_per_msg"), "%.1f");
		html_td_num(f, html_jnum(l, "ctxsw_per_msg"), "%.2f");
		html_td_num(f, html_jnum(l, "agent_cpu_us_per_msg"), "%.1f");
		fputs("</tr>\n", f);
	}
	fputs("</table></div>\n", f);
}

void html_load_section(FILE *f, const json_t *r, int index)
{
	const json_t *steps = json_object_get(r, "steps"), *st;
	const json_t *rows = json_object_get(json_object_get(r, "timeline"), "load");
	char id[48], at[32];
	bool any = false;
	size_t k;

	json_array_foreach(steps, k, st) any =
	    any || json_array_size(json_object_get(st, "load")) > 0;
	if (!any)
		return;
	fputs("<h2>At work</h2>\n<p class=\"note\">At every plateau, after the echo phase, the "
	      "agents sent open-loop messages at each rate in turn. Achieved is the messages "
	      "verified over the slowest agent's time; latency is counted from each message's "
	      "scheduled send time, so a server that falls behind shows as latency, not as a "
	      "slower sender. Server figures are blank without its stats.</p>\n",
	      f);
	json_array_foreach(steps, k, st)
	{
		const json_t *loads = json_object_get(st, "load");

		if (json_array_size(loads) == 0)
			continue;
		host_fmt_count((long)html_jnum(st, "connections"), at, sizeof(at));
		snprintf(id, sizeof(id), "chart-load-achieved-%d-%zu", index, k);
		chart_achieved(f, loads, id, at);
		snprintf(id, sizeof(id), "chart-load-latency-%d-%zu", index, k);
		chart_load_latency(f, loads, id, at);
		size_t first = 0, n = step_rows(rows, (double)k, &first);
		if (n == 0)
			continue; /* a report from before the timeline had load rows */
		snprintf(id, sizeof(id), "chart-load-rate-time-%d-%zu", index, k);
		chart_rate_over_time(f, rows, first, n, id, at);
		snprintf(id, sizeof(id), "chart-load-latency-time-%d-%zu", index, k);
		chart_latency_over_time(f, rows, first, n, id, at);
	}
	table_loads(f, steps, index);
}

/*
 * The plan's load for the settings, or "none": "1,000, 2,000 messages/s, 2 s
 * each, 64 bytes a message" (a sweep), "500 messages/s for 2 s, 64 bytes a
 * message" (one rate).
 */
void html_load_describe(const json_t *plan, char *v, size_t size)
{
	const json_t *load = json_object_get(plan, "load");
	const json_t *rates = json_object_get(load, "rate_per_s"), *rt;
	char b[32];
	size_t i, off = 0;

	snprintf(v, size, "none");
	if (!json_is_object(load))
		return;
	if (json_is_number(rates))
		off = (size_t)snprintf(v, size, "%s",
		                       host_fmt_count((long)json_number_value(rates), b, 32));
	json_array_foreach(rates, i, rt)
	{
		if (off < size)
			off += (size_t)snprintf(v + off, size - off, "%s%s", i ? ", " : "",
			                        host_fmt_count((long)json_number_value(rt), b, 32));
	}
	if (off < size)
		snprintf(v + off, size - off, " messages/s%s %g s%s, %.0f bytes a message",
		         json_array_size(rates) > 1 ? "," : " for", html_jnum(load, "duration_s"),
		         json_array_size(rates) > 1 ? " each" : "",
		         html_jnum(load, "payload_bytes"));
}

/* "100 new connections/s for 3 s" on top of the held ones, or "none". */
void html_churn_describe(const json_t *plan, char *v, size_t size)
{
	const json_t *churn = json_object_get(plan, "churn");
	char b[32];

	if (!json_is_object(churn)) {
		snprintf(v, size, "none");
		return;
	}
	snprintf(v, size, "%s new connections/s for %g s",
	         host_fmt_count((long)html_jnum(churn, "rate_per_s"), b, 32),
	         html_jnum(churn, "duration_s"));
}

/* "3 (refused 2, timeout 1)": failed connections by reason, or "0". */
static void td_failed(FILE *f, const json_t *failed)
{
	char v[256], b[32];
	size_t off = 0;
	long total = 0;
	const char *sep = " (";

	for (int k = 0; k < MSG_REASON_COUNT; k++)
		total += (long)json_integer_value(
		    json_object_get(failed, msg_reason_name((enum msg_reason)k)));
	off = (size_t)snprintf(v, sizeof(v), "%s", host_fmt_count(total, b, sizeof(b)));
	for (int k = 0; k < MSG_REASON_COUNT; k++) {
		const char *key = msg_reason_name((enum msg_reason)k);
		long n = (long)json_integer_value(json_object_get(failed, key));
		if (n > 0 && off < sizeof(v)) {
			off += (size_t)snprintf(v + off, sizeof(v) - off, "%s%s %s", sep, key,
			                        host_fmt_count(n, b, sizeof(b)));
			sep = ", ";
		}
	}
	if (*sep == ',' && off < sizeof(v))
		snprintf(v + off, sizeof(v) - off, ")");
	fputs("<td class=\"n\">", f);
	html_esc(f, v);
	fputs("</td>", f);
}

/*
 * The churn at each plateau (steps[].churn): connections opened, echoed once
 * and closed on top of the held ones, with what each cost the server. A dash
 * is a figure not measured (null), never a zero. Nothing without a churn.
 */
void html_churn_section(FILE *f, const json_t *r, int index)
{
	const json_t *steps = json_object_get(r, "steps"), *st;
	bool any = false;
	size_t k;

	json_array_foreach(steps, k, st) any = any || json_is_object(json_object_get(st, "churn"));
	if (!any)
		return;
	fprintf(f,
	        "<h2>Churn</h2>\n<p class=\"note\">At every plateau, new connections on top of the "
	        "held ones, each connected, echoed once and closed. Latency runs from connect() to "
	        "the first echo verified; achieved is ok over the planned duration. Server figures "
	        "are blank without its stats.</p>\n<div class=\"scroll\"><table id=\"churn-%d\">"
	        "<tr><th>churn at</th><th>rate/s</th><th>attempted</th><th>ok</th>"
	        "<th>failed</th><th>achieved/s</th><th>p50 ms</th><th>p99 ms</th>"
	        "<th>srv &micro;s/conn</th><th>ctxsw/conn</th><th>server accepted</th></tr>\n",
	        index);
	json_array_foreach(steps, k, st)
	{
		const json_t *ch = json_object_get(st, "churn");
		if (!json_is_object(ch))
			continue;
		fputs("<tr>", f);
		td_count(f, html_jnum(st, "connections"));
		td_count(f, html_jnum(ch, "rate_per_s"));
		td_count(f, html_jnum(ch, "attempted"));
		td_count(f, html_jnum(ch, "ok"));
		td_failed(f, json_object_get(ch, "failed"));
		td_count(f, html_jnum(ch, "achieved_per_s"));
		html_td_num(f, html_jnum(ch, "latency.p50"), "%.2f");
		html_td_num(f, html_jnum(ch, "latency.p99"), "%.2f");
		html_td_num(f, html_jnum(ch, "server_cpu_us_per_conn"), "%.1f");
		html_td_num(f, html_jnum(ch, "ctxsw_per_conn"), "%.2f");
		td_count(f, html_jnum(ch, "server_accepted"));
		fputs("</tr>\n", f);
	}
	fputs("</table></div>\n", f);
}
