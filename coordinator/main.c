/*
 * coordinator: reads a plan, drives the agents through it over ZeroMQ, and
 * writes one report.
 *
 * Exit codes: 0 pass, 1 thresholds failed, 2 bad invocation or plan,
 * 3 run failed, degraded (an agent lost) or aborted (SIGINT).
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coord.h"
#include "local.h"
#include "plan.h"
#include "report.h"

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

static const char usage[] =
	"usage: coordinator [--bind ENDPOINT] [--report PATH] [--quiet] PLAN.json\n"
	"\n"
	"  --bind ENDPOINT  where agents connect (default tcp://*:5700; with a \"local\"\n"
	"                   plan, a private ipc:// endpoint)\n"
	"  --report PATH    report file, written atomically (default report.json)\n"
	"  --quiet          no progress on stderr\n"
	"\n"
	"Exit: 0 pass, 1 thresholds failed, 2 bad invocation or plan, 3 run failed,\n"
	"degraded or aborted.\n";

static int parse_args(int argc, char **argv, struct coord_options *o, const char **plan)
{
	static const struct option longopts[] = {
		{"bind", required_argument, NULL, 'b'},
		{"report", required_argument, NULL, 'r'},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int opt;

	o->report = "report.json";
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":hq", longopts, NULL)) != -1) {
		switch (opt) {
		case 'b':
			o->bind = optarg;
			break;
		case 'r':
			o->report = optarg;
			break;
		case 'q':
			o->quiet = true;
			break;
		case 'h':
			fputs(usage, stdout);
			exit(COORD_PASS);
		default:
			fprintf(stderr, "coordinator: %s '%s'\n%s",
				opt == ':' ? "missing value for" : "unknown option", argv[optind - 1],
				usage);
			return -1;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "coordinator: expected one plan file\n%s", usage);
		return -1;
	}
	*plan = argv[optind];
	return 0;
}

/* The endpoint local agents are given: known before anything binds. */
static int local_endpoint(const struct coord_options *o, char *buf, size_t size)
{
	if (o->bind == NULL) {
		const char *tmp = getenv("TMPDIR");
		snprintf(buf, size, "ipc://%s/connscale-%d.ipc", tmp ? tmp : "/tmp", (int)getpid());
		return 0;
	}
	if (strchr(o->bind, '*') != NULL) {
		fprintf(stderr, "coordinator: --bind %s: a local plan needs a concrete endpoint "
				"(its agents are started before the coordinator binds)\n",
			o->bind);
		return -1;
	}
	snprintf(buf, size, "%s", o->bind);
	return 0;
}

static int finish(struct coord *c, const struct report_times *t)
{
	int code = COORD_RUN_FAILED;
	int64_t t0 = coord_now_ms();
	json_t *report = report_build(c, t, &code);

	if (report == NULL) {
		fprintf(stderr, "coordinator: out of memory building the report\n");
		return COORD_RUN_FAILED;
	}
	int err = report_write(c->opt->report, report);
	if (!c->opt->quiet)
		fprintf(stderr, "coordinator: report built and written in %lld ms\n",
			(long long)(coord_now_ms() - t0));
	report_print_summary(stdout, report);
	if (err < 0) {
		fprintf(stderr, "coordinator: cannot write %s: %s\n", c->opt->report, strerror(-err));
		code = COORD_RUN_FAILED;
	} else {
		printf("\n  report: %s\n", c->opt->report);
	}
	json_decref(report);
	return code;
}

int main(int argc, char **argv)
{
	struct coord_options opt = {0};
	struct plan plan;
	struct proto_err err;
	struct local_procs lp = {.server_out = -1};
	struct coord c = {0};
	struct report_times t;
	char endpoint[512];
	const char *plan_path;
	struct sigaction sa = {.sa_handler = on_signal};

	if (parse_args(argc, argv, &opt, &plan_path) < 0)
		return COORD_USAGE;
	if (plan_load(plan_path, &plan, &err) < 0) {
		fprintf(stderr, "coordinator: %s\n", err.msg);
		return COORD_USAGE;
	}
	c.plan = &plan;
	c.opt = &opt;
	c.interrupted = &interrupted;
	snprintf(c.target_host, sizeof(c.target_host), "%s", plan.target_host);
	c.target_port = plan.target_port;
	snprintf(c.stats_endpoint, sizeof(c.stats_endpoint), "%s", plan.server_stats);
	c.agents = calloc((size_t)plan.agents_count, sizeof(*c.agents));
	if (plan.local && local_endpoint(&opt, endpoint, sizeof(endpoint)) < 0) {
		plan_free(&plan);
		free(c.agents);
		return COORD_USAGE;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	t.started = time(NULL);
	int code = COORD_RUN_FAILED;
	/* Local processes first: no ZeroMQ context may exist when we fork. */
	if (plan.local) {
		opt.bind = endpoint;
		if (local_start(&plan, endpoint, &lp) < 0)
			goto out;
		snprintf(c.target_host, sizeof(c.target_host), "%s", lp.target_host);
		c.target_port = lp.target_port;
		snprintf(c.stats_endpoint, sizeof(c.stats_endpoint), "%s", lp.stats);
	} else if (opt.bind == NULL) {
		opt.bind = "tcp://*:5700";
	}
	if (c.agents == NULL || coord_open(&c) < 0)
		goto out;
	coord_run(&c);
	t.ended = time(NULL);
	code = finish(&c, &t);
out:
	coord_close(&c);
	local_stop(&lp);
	if (plan.local && strncmp(endpoint, "ipc://", 6) == 0)
		unlink(endpoint + 6);
	for (int i = 0; i < c.nagents; i++)
		free(c.agents[i].result);
	free(c.agents);
	free(c.samples);
	plan_free(&plan);
	return code;
}
