/*
 * summary — the human end of a run: report.json read back into the tables the
 * coordinator prints (agents, steps, load, churn, the server, the thresholds).
 * It reads only the report, so what it prints is what the file says.
 */
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "host.h"
#include "msg.h"
#include "summary.h"

static long jint(const json_t *o, const char *key)
{
	return (long)json_integer_value(json_object_get(o, key));
}

static double jnum(const json_t *o, const char *path1, const char *path2)
{
	const json_t *v = json_object_get(o, path1);

	if (path2 != NULL)
		v = json_object_get(v, path2);
	return json_is_number(v) ? json_number_value(v) : NAN;
}

/* v with prec decimals, or "-" where the report has null (not measured). */
static const char *fnum(char *b, size_t size, double v, int prec)
{
	if (isfinite(v))
		snprintf(b, size, "%.*f", prec, v);
	else
		snprintf(b, size, "-");
	return b;
}

/* A count with thousands separators, or "-" where the report has null (not measured). */
static const char *fcount(char *b, size_t size, double v)
{
	if (isfinite(v))
		return host_fmt_count((long)v, b, size);
	snprintf(b, size, "-");
	return b;
}

/* "server refused: max_conns 400" — the server's side of the failures. */
static void print_refused(FILE *out, const json_t *refused)
{
	const char *key, *sep = "";
	json_t *v;
	char b[32];

	json_object_foreach((json_t *)refused, key, v)
	{
		if (json_integer_value(v) <= 0)
			continue;
		fprintf(out, "%s%s %s", *sep ? sep : "  server refused: ", key,
		        host_fmt_count(json_integer_value(v), b, 32));
		sep = ", ";
	}
	if (*sep)
		fputc('\n', out);
}

/* "failures: eof_early 500, refused 3" — the reasons, not only a count. */
static void print_failures(FILE *out, const json_t *totals)
{
	const json_t *failed = json_object_get(totals, "failed");
	const char *sep = "";
	char b[32];

	if (msg_failed_total_json(totals) == 0)
		return;
	fprintf(out, "\n  failures:");
	for (int r = 0; r < MSG_REASON_COUNT; r++) {
		const char *name = msg_reason_name((enum msg_reason)r);
		if (jint(failed, name) == 0)
			continue;
		fprintf(out, "%s %s %s", sep, name, host_fmt_count(jint(failed, name), b, 32));
		sep = ",";
	}
	fputc('\n', out);
}

static void print_row(FILE *out, const char *name, const char *state, const json_t *j)
{
	char b[6][32];
	const json_t *lat = json_object_get(j, "latency");

	fprintf(out, "  %-16s %-9s %9s %11s %9s %7s %9s %8s", name, state,
	        host_fmt_count(jint(j, "assigned"), b[0], 32),
	        host_fmt_count(jint(j, "established"), b[1], 32),
	        json_is_integer(json_object_get(j, "held"))
	            ? host_fmt_count(jint(j, "held"), b[3], 32)
	            : "-",
	        host_fmt_count(msg_failed_total_json(j), b[4], 32),
	        host_fmt_count(jint(j, "echo_ok"), b[2], 32),
	        host_fmt_count(jint(j, "echo_errors"), b[5], 32));
	char f[4][32];
	if (lat != NULL)
		fprintf(out, "   %7s %7s   %7s %7s",
		        fnum(f[0], 32, jnum(json_object_get(lat, "connect"), "p50", NULL), 2),
		        fnum(f[1], 32, jnum(json_object_get(lat, "connect"), "p99", NULL), 2),
		        fnum(f[2], 32, jnum(json_object_get(lat, "echo"), "p50", NULL), 2),
		        fnum(f[3], 32, jnum(json_object_get(lat, "echo"), "p99", NULL), 2));
	fputc('\n', out);
}

/*
 * A kernel KiB/conn cell: the figure, or a negative one in parentheses. The
 * kernel figures are the host's (/proc/meminfo deltas): one below zero says
 * the rest of the host freed more than the connections took, not a cost.
 */
static const char *fkernel(char *b, size_t size, double v, bool *negative)
{
	if (!(isfinite(v) && v < 0))
		return fnum(b, size, v, 2);
	*negative = true;
	snprintf(b, size, "(%.2f)", v);
	return b;
}

/*
 * The kernel column's one estimate (server_stats.page_frag_kb): how the server
 * came by it, or that an older server left it out.
 */
static void print_page_frags(FILE *out, const json_t *server)
{
	const json_t *final = json_object_get(server, "final");
	const json_t *frag = json_object_get(final, "page_frag_kb");
	const char *model = json_string_value(json_object_get(final, "model"));

	if (!json_is_object(final) || model == NULL)
		return; /* the server never answered: the column is dashes */
	if (json_is_null(frag) || frag == NULL)
		fprintf(out,
		        "  (without the server's page fragments: its build does not count them)\n");
	else if (strcmp(model, "external") == 0)
		fprintf(
		    out,
		    "  (with the server's page fragments, estimated: one of 32 KiB per thread it "
		    "gained since the watcher started)\n");
	else
		fprintf(out,
		        "  (with the server's page fragments: one of 32 KiB per server thread that "
		        "has sent, counted by the server)\n");
}

/* Under the step table: what the kernel column covers, and what a negative figure is. */
static void print_kernel_scope(FILE *out, const json_t *server, bool negative)
{
	const char *scope = json_string_value(json_object_get(server, "kernel_scope"));

	if (scope != NULL && strncmp(scope, "host, shared with ", 18) == 0)
		fprintf(out,
		        "  (kernel KiB/conn: the whole host's kernel memory, %s on the same "
		        "kernel: their ends of the connections are in it too)\n",
		        scope + 6);
	else if (scope != NULL && strcmp(scope, "host") == 0)
		fprintf(out, "  (kernel KiB/conn: the whole host's kernel memory; no agent on its "
		             "kernel)\n");
	else if (scope != NULL)
		fprintf(
		    out,
		    "  (kernel KiB/conn: the whole host's kernel memory; whether agents share it "
		    "is unknown)\n");
	print_page_frags(out, server);
	if (negative)
		fprintf(out,
		        "  (a kernel KiB/conn in parentheses is below zero: the rest of the host "
		        "freed more kernel memory than the connections took; not the server's "
		        "cost)\n");
}

/*
 * Each plateau and the server's word at it. A step the server did not answer
 * at gets dashes in its columns, so the accept lag stays under its heading.
 * Under it, what the kernel column covers (server.kernel_scope).
 */
static void print_steps(FILE *out, const json_t *steps, const json_t *server)
{
	size_t i;
	const json_t *s;
	char b[4][32];
	bool any = false;      /* some step has the server's stats (its answer or an accept lag) */
	bool negative = false; /* some step's kernel KiB/conn is below zero */

	if (json_array_size(steps) == 0)
		return;
	fprintf(out, "\n  %-12s %12s %9s %13s %10s %14s %16s %10s\n", "step", "established", "held",
	        "server conns", "rss MiB", "user KiB/conn", "kernel KiB/conn", "accept s");
	json_array_foreach(steps, i, s)
	{
		const json_t *srv = json_object_get(s, "server");
		char f[3][32];
		fprintf(out, "  %-12s %12s %9s", host_fmt_count(jint(s, "connections"), b[0], 32),
		        host_fmt_count(jint(s, "established"), b[1], 32),
		        host_fmt_count(jint(s, "held"), b[3], 32));
		fprintf(out, " %13s %10s %14s %16s",
		        fcount(b[2], 32, jnum(srv, "conns_current", NULL)),
		        fnum(f[0], 32, jnum(srv, "rss_kb", NULL) / 1024.0, 1),
		        fnum(f[1], 32, jnum(srv, "user_kb_per_conn", NULL), 2),
		        fkernel(f[2], 32, jnum(srv, "kernel_kb_per_conn", NULL), &negative));
		if (json_is_number(json_object_get(s, "accept_lag_s")))
			fprintf(out, " %10.2f%s", jnum(s, "accept_lag_s", NULL),
			        json_is_true(json_object_get(s, "accept_lag_complete")) ? "" : "+");
		else
			fprintf(out, " %10s", "-");
		any = any || json_is_object(srv) ||
		      json_is_number(json_object_get(s, "accept_lag_s"));
		fputc('\n', out);
	}
	if (!any)
		fprintf(out,
		        "  (no server stats: the echo and load latency may include the time the "
		        "server took to accept)\n");
	else
		print_kernel_scope(out, server, negative);
}

/* A per-message figure in a column of width, or "-" where the report has null (no server stats). */
static void print_per_msg(FILE *out, const json_t *load, const char *key, int width, int prec)
{
	char b[32];

	fprintf(out, " %*s", width, fnum(b, sizeof(b), jnum(load, key, NULL), prec));
}

/* Each step's load sweep: what was asked, what came back, and at what cost. */
static void print_loads(FILE *out, const json_t *steps)
{
	size_t i, k;
	const json_t *s, *l;
	char b[4][32];
	bool header = false;

	json_array_foreach(steps, i, s) json_array_foreach(json_object_get(s, "load"), k, l)
	{
		const json_t *lat = json_object_get(l, "latency");

		if (!header)
			fprintf(out, "\n  %-12s %10s %10s %8s %8s %8s %8s %10s %9s %10s\n",
			        "load at", "rate/s", "achieved/s", "p50 ms", "p99 ms", "max ms",
			        "behind", "srv us/msg", "ctxsw/msg", "agt us/msg");
		header = true;
		char f[3][32];
		fprintf(out, "  %-12s %10s %10s %8s %8s %8s %8s",
		        host_fmt_count(jint(s, "connections"), b[0], 32),
		        fcount(b[1], 32, jnum(l, "rate_per_s", NULL)),
		        fcount(b[2], 32, jnum(l, "achieved_per_s", NULL)),
		        fnum(f[0], 32, jnum(lat, "p50", NULL), 2),
		        fnum(f[1], 32, jnum(lat, "p99", NULL), 2),
		        fnum(f[2], 32, jnum(lat, "max", NULL), 2),
		        host_fmt_count(jint(l, "behind_schedule"), b[3], 32));
		print_per_msg(out, l, "server_cpu_us_per_msg", 10, 1);
		print_per_msg(out, l, "ctxsw_per_msg", 9, 2);
		print_per_msg(out, l, "agent_cpu_us_per_msg", 10, 1);
		fputc('\n', out);
	}
}

/* Each step's churn: connections a second asked and made, what each cost, failures. */
static void print_churn(FILE *out, const json_t *steps)
{
	size_t i;
	const json_t *s;
	char b[5][32];
	bool header = false;

	json_array_foreach(steps, i, s)
	{
		const json_t *ch = json_object_get(s, "churn");
		const json_t *lat = json_object_get(ch, "latency");

		if (!json_is_object(ch))
			continue;
		if (!header)
			fprintf(out, "\n  %-12s %10s %10s %9s %9s %10s %10s %11s %11s\n",
			        "churn at", "rate/s", "achieved/s", "ok", "failed", "1st p50 ms",
			        "1st p99 ms", "srv us/conn", "agt us/conn");
		header = true;
		char f[2][32];
		fprintf(out, "  %-12s %10s %10s %9s %9s %10s %10s",
		        host_fmt_count(jint(s, "connections"), b[0], 32),
		        fcount(b[1], 32, jnum(ch, "rate_per_s", NULL)),
		        fcount(b[2], 32, jnum(ch, "achieved_per_s", NULL)),
		        host_fmt_count(jint(ch, "ok"), b[3], 32),
		        host_fmt_count(msg_failed_total_json(ch), b[4], 32),
		        fnum(f[0], 32, jnum(lat, "p50", NULL), 2),
		        fnum(f[1], 32, jnum(lat, "p99", NULL), 2));
		print_per_msg(out, ch, "server_cpu_us_per_conn", 11, 1);
		print_per_msg(out, ch, "agent_cpu_us_per_conn", 11, 1);
		fputc('\n', out);
	}
}

void summary_print(FILE *out, const json_t *r)
{
	size_t i;
	const json_t *a, *t;
	const json_t *plan = json_object_get(r, "plan");

	fprintf(out, "\nconnscale: %s: %s\n", json_string_value(json_object_get(plan, "name")),
	        json_string_value(json_object_get(r, "status")));
	if (json_object_get(r, "error"))
		fprintf(out, "  error: %s\n", json_string_value(json_object_get(r, "error")));
	fprintf(out, "\n  %-16s %-9s %9s %11s %9s %7s %9s %8s   %-15s   %-15s\n", "agent", "state",
	        "assigned", "established", "held", "failed", "echo ok", "echo err",
	        "connect p50/p99", "echo p50/p99 ms");
	json_array_foreach(json_object_get(r, "agents"), i, a)
	    print_row(out, json_string_value(json_object_get(a, "name")),
	              json_string_value(json_object_get(a, "state")), a);
	print_row(out, "total", "", json_object_get(r, "totals"));
	print_failures(out, json_object_get(r, "totals"));
	json_array_foreach(json_object_get(r, "agents"), i, a) if (json_object_get(a, "why"))
	    fprintf(out, "  agent %s %s: %s\n", json_string_value(json_object_get(a, "name")),
	            json_string_value(json_object_get(a, "state")),
	            json_string_value(json_object_get(a, "why")));
	print_steps(out, json_object_get(r, "steps"), json_object_get(r, "server"));
	print_loads(out, json_object_get(r, "steps"));
	print_churn(out, json_object_get(r, "steps"));
	const json_t *server = json_object_get(r, "server");
	const json_t *final = json_object_get(server, "final");
	char fb[32], mb[32], nb[32];
	if (json_object_get(server, "error"))
		fprintf(out, "\n  %s\n", json_string_value(json_object_get(server, "error")));
	/* A watched server (server --watch) has a process name, and no accept count. */
	const char *process = json_string_value(json_object_get(final, "process"));
	if (json_is_object(final) && process != NULL && *process)
		fprintf(out, "\n  server: %s (external, watched), max concurrent %s, now %s\n",
		        process, fcount(mb, sizeof(mb), jnum(final, "conns_max", NULL)),
		        fcount(nb, sizeof(nb), jnum(final, "conns_current", NULL)));
	else if (json_is_object(final)) /* conns_total: null from a server that does not count */
		fprintf(out, "\n  server: %s model, max concurrent %s, total accepted %s, now %s\n",
		        json_string_value(json_object_get(final, "model")),
		        fcount(mb, sizeof(mb), jnum(final, "conns_max", NULL)),
		        fcount(fb, sizeof(fb), jnum(final, "conns_total", NULL)),
		        fcount(nb, sizeof(nb), jnum(final, "conns_current", NULL)));
	print_refused(out, json_object_get(final, "refused"));
	/* An aborted run measured nothing to judge: "ok failed == 0" would be a claim. */
	const char *status = json_string_value(json_object_get(r, "status"));
	bool aborted = status != NULL && strcmp(status, "aborted") == 0;
	fprintf(out, "\n  thresholds%s:\n", aborted ? " (not judged: the run was aborted)" : "");
	json_array_foreach(json_object_get(r, "thresholds"), i, t)
	{
		const char *expr = json_string_value(json_object_get(t, "expr"));
		if (aborted)
			fprintf(out, "    --   %s\n", expr);
		else if (json_is_number(json_object_get(t, "value")))
			fprintf(out, "    %-4s %-36s (measured %g)\n",
			        json_is_true(json_object_get(t, "ok")) ? "ok" : "FAIL", expr,
			        jnum(t, "value", NULL));
		else
			fprintf(out, "    %-4s %-36s (not measured)\n",
			        json_is_true(json_object_get(t, "ok")) ? "ok" : "FAIL", expr);
	}
	fflush(out);
}
