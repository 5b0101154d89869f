/*
 * html_load.c — "At work": what the server did with the plan's open-loop
 * load at each plateau. Per step, achieved msg/s against the rate offered
 * (with y = x, where every offered message came back in time) and the
 * latency percentiles against the rate; then one table of every step and
 * rate with the console summary's columns (report.c, print_loads()).
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "host.h"
#include "html_chart.h"
#include "html_load.h"

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
	}
	table_loads(f, steps, index);
}
