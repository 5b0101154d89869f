/*
 * coordinator: reads a plan, drives the agents through it over ZeroMQ, and
 * writes one report.
 *
 * Exit codes: 0 pass, 1 thresholds failed, 2 bad invocation or plan,
 * 3 run failed, degraded (an agent lost) or aborted (SIGINT).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "auth.h"
#include "console.h"
#include "coord.h"
#include "html.h"
#include "keys.h"
#include "local.h"
#include "plan.h"
#include "netaddr.h"
#include "report.h"
#include "summary.h"

/* The first SIGINT or SIGTERM: its number (the run stops; the report names it), or 0. */
static volatile sig_atomic_t interrupted;
/*
 * A second one, or any once the run is over and only the local processes are
 * left to stop: they are killed at once, not given 5 s to stop.
 */
static volatile sig_atomic_t hurried;
static volatile sig_atomic_t run_over; /* set before the last local_stop() */

static void on_signal(int sig)
{
	static const char second[] =
	    "coordinator: a second signal: killing the local processes now, not waiting\n";
	static const char over[] =
	    "coordinator: a signal: the run is over; killing the local processes now\n";

	if (interrupted == 0 && !run_over) {
		interrupted = sig;
		return;
	}
	if (!hurried) {
		const char *say = interrupted == 0 ? over : second;

		(void)!write(STDERR_FILENO, say, strlen(say));
	}
	hurried = 1;
}

static const char usage[] =
    "usage: coordinator [--bind ENDPOINT] [--report PATH] [--html PATH] [--quiet]\n"
    "                   [--curve-secret FILE --authorized-agents DIR [--stats-key FILE]]\n"
    "                   [--insecure] PLAN.json\n"
    "       coordinator --render-html PATH REPORT.json...\n"
    "       coordinator --gen-keys DIR [--name NAME]\n"
    "       coordinator --help\n"
    "\n"
    "  --bind ENDPOINT  where agents connect (default tcp://*:5700; with a \"local\"\n"
    "                   plan, a private ipc:// endpoint)\n"
    "  --report PATH    report file, written atomically (default report.json)\n"
    "  --quiet          no progress on stderr\n"
    "  --html PATH      also write the report as one self-contained HTML page\n"
    "  --render-html PATH REPORT.json...\n"
    "                   write a page from existing reports (several: compared) and exit\n"
    "\n"
    "Security (without keys, only a loopback or ipc:// --bind is allowed):\n"
    "  --curve-secret FILE       the coordinator's CURVE secret key (from --gen-keys)\n"
    "  --authorized-agents DIR   admit only agents whose public key is a DIR/*.pub\n"
    "  --stats-key FILE          the server's public key: sample its stats over CURVE\n"
    "  --insecure                allow a non-loopback --bind without keys\n"
    "  --gen-keys DIR            write DIR/NAME.pub and DIR/NAME.key and exit\n"
    "  --name NAME               the key files' name (default coordinator)\n"
    "  -h, --help                this text\n"
    "\n"
    "Exit: 0 pass, 1 thresholds failed, 2 bad invocation or plan, 3 run failed,\n"
    "degraded or aborted.\n";

enum {
	OPT_CURVE_SECRET = 256,
	OPT_AUTHORIZED,
	OPT_STATS_KEY,
	OPT_INSECURE,
	OPT_GEN_KEYS,
	OPT_NAME,
	OPT_HTML,
	OPT_RENDER_HTML,
};

static const struct option longopts[] = {
    {"bind", required_argument, NULL, 'b'},
    {"report", required_argument, NULL, 'r'},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {"curve-secret", required_argument, NULL, OPT_CURVE_SECRET},
    {"authorized-agents", required_argument, NULL, OPT_AUTHORIZED},
    {"stats-key", required_argument, NULL, OPT_STATS_KEY},
    {"insecure", no_argument, NULL, OPT_INSECURE},
    {"gen-keys", required_argument, NULL, OPT_GEN_KEYS},
    {"name", required_argument, NULL, OPT_NAME},
    {"html", required_argument, NULL, OPT_HTML},
    {"render-html", required_argument, NULL, OPT_RENDER_HTML},
    {NULL, 0, NULL, 0},
};

/* Where each option's value goes; false for one that is not an option of ours. */
static bool parse_opt(int opt, struct coord_options *o)
{
	switch (opt) {
	case 'b':
		o->bind = optarg;
		return true;
	case 'r':
		o->report = optarg;
		return true;
	case 'q':
		o->quiet = true;
		return true;
	case OPT_CURVE_SECRET:
		o->curve_secret = optarg;
		return true;
	case OPT_AUTHORIZED:
		o->authorized_agents = optarg;
		return true;
	case OPT_STATS_KEY:
		o->stats_key = optarg;
		return true;
	case OPT_INSECURE:
		o->insecure = true;
		return true;
	case OPT_GEN_KEYS:
		o->gen_keys = optarg;
		return true;
	case OPT_NAME:
		o->name = optarg;
		return true;
	case OPT_HTML:
		o->html = optarg;
		return true;
	case OPT_RENDER_HTML:
		o->render_html = optarg;
		return true;
	}
	return false;
}

/* 0 to go on, 1 after --help, -1 after saying what was wrong. */
static int parse_args(int argc, char **argv, struct coord_options *o, const char **plan)
{
	int opt;

	o->report = "report.json";
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":hq", longopts, NULL)) != -1) {
		if (opt == 'h') {
			fputs(usage, stdout);
			return 1;
		}
		if (!parse_opt(opt, o)) {
			fprintf(stderr, "coordinator: %s '%s'\n%s",
			        opt == ':' ? "missing value for" : "unknown option",
			        argv[optind - 1], usage);
			return -1;
		}
	}
	if (o->gen_keys != NULL && optind == argc)
		return 0;
	if (o->render_html != NULL) {
		o->reports = argv + optind;
		o->nreports = argc - optind;
		if (o->nreports > 0)
			return 0;
		fprintf(stderr, "coordinator: --render-html: expected REPORT.json files\n%s",
		        usage);
		return -1;
	}
	if (optind != argc - 1) {
		fprintf(stderr, "coordinator: expected one plan file\n%s", usage);
		return -1;
	}
	*plan = argv[optind];
	return 0;
}

/*
 * An output file is written after the run: a path that cannot take it would
 * lose the run's results, so it is checked before anything starts. The file
 * is written as PATH.tmp.PID in PATH's directory and renamed over PATH.
 */
static int check_output(const char *option, const char *path)
{
	char dir[4096];
	const char *slash = strrchr(path, '/');
	size_t n = strlen(path);
	struct stat st;

	if (n == 0) {
		fprintf(stderr, "coordinator: %s: an empty path\n", option);
		return -1;
	}
	if (path[n - 1] == '/' || (stat(path, &st) == 0 && S_ISDIR(st.st_mode))) {
		fprintf(stderr, "coordinator: %s %s: is a directory; name a file\n", option, path);
		return -1;
	}
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		/* The rename would replace a device or FIFO node with the report. */
		fprintf(stderr, "coordinator: %s %s: exists and is not a regular file\n", option,
		        path);
		return -1;
	}
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if ((size_t)snprintf(dir, sizeof(dir), "%.*s", (int)(slash - path), path) >=
	         sizeof(dir)) {
		fprintf(stderr, "coordinator: %s %s: path too long\n", option, path);
		return -1;
	}
	if (dir[0] == '\0')
		snprintf(dir, sizeof(dir), "/");
	int e = stat(dir, &st) < 0             ? errno
	        : !S_ISDIR(st.st_mode)         ? ENOTDIR
	        : access(dir, W_OK | X_OK) < 0 ? errno
	                                       : 0;
	if (e != 0) {
		fprintf(stderr, "coordinator: %s %s: cannot write in %s: %s\n", option, path, dir,
		        strerror(e));
		return -1;
	}
	return 0;
}

/* The real path of a file that may not exist yet: its folder resolved, then its name. */
static void real_output(const char *path, char *out, size_t size)
{
	char dir[PATH_MAX], real[PATH_MAX];
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;

	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else
		snprintf(dir, sizeof(dir), "%.*s", slash == path ? 1 : (int)(slash - path), path);
	if (realpath(dir, real) == NULL)
		snprintf(real, sizeof(real), "%s", dir);
	snprintf(out, size, "%s/%s", real, base);
}

/* --report r.json and --html ./r.json are one file, however they are written. */
static bool same_file(const char *a, const char *b)
{
	char ra[2 * PATH_MAX], rb[2 * PATH_MAX];

	real_output(a, ra, sizeof(ra));
	real_output(b, rb, sizeof(rb));
	return strcmp(ra, rb) == 0;
}

/* An output that is one of the inputs would replace it: said, and true. */
static bool overwrites(const char *input, const char *option, const char *output)
{
	if (!same_file(input, output))
		return false;
	fprintf(stderr, "coordinator: %s %s: is the input %s, which it would replace\n", option,
	        output, input);
	return true;
}

static int check_outputs(const struct coord_options *o)
{
	if (check_output("--report", o->report) < 0 ||
	    (o->html != NULL && check_output("--html", o->html) < 0))
		return -1;
	if (o->html != NULL && same_file(o->html, o->report)) {
		fprintf(stderr, "coordinator: --html %s: is also the --report file\n", o->html);
		return -1;
	}
	return 0;
}

/* --render-html PATH REPORT.json...: one page, the reports side by side. */
static int render_html(const struct coord_options *o)
{
	json_t **reports = calloc((size_t)o->nreports, sizeof(*reports));
	json_error_t jerr;
	int code = COORD_USAGE, n = 0;

	if (reports == NULL)
		return COORD_RUN_FAILED;
	if (check_output("--render-html", o->render_html) < 0)
		goto out;
	for (int k = 0; k < o->nreports; k++)
		if (overwrites(o->reports[k], "--render-html", o->render_html))
			goto out;
	for (; n < o->nreports; n++) {
		reports[n] = json_load_file(o->reports[n], 0, &jerr);
		if (reports[n] == NULL || !json_is_object(json_object_get(reports[n], "plan"))) {
			fprintf(stderr, "coordinator: %s: %s\n", o->reports[n],
			        reports[n] ? "not a connscale report" : jerr.text);
			goto out;
		}
	}
	int err = html_write(o->render_html, reports, n);
	if (err < 0)
		fprintf(stderr, "coordinator: cannot write %s: %s\n", o->render_html,
		        strerror(-err));
	code = err < 0 ? COORD_RUN_FAILED : COORD_PASS;
out:
	for (int i = 0; i <= n && i < o->nreports; i++)
		json_decref(reports[i]);
	free(reports);
	return code;
}

/* --gen-keys DIR: DIR/NAME.pub and DIR/NAME.key, NAME being --name or "coordinator". */
static int gen_keys(const struct coord_options *o)
{
	char pub[4096], secret[4096], err[512];

	if (keys_generate(o->gen_keys, o->name ? o->name : "coordinator", pub, secret, sizeof(pub),
	                  err, sizeof(err)) < 0) {
		fprintf(stderr, "coordinator: %s\n", err);
		return COORD_USAGE;
	}
	printf("coordinator: public key %s\ncoordinator: secret key %s (mode 0600)\n", pub, secret);
	return fflush(stdout) == 0 ? COORD_PASS : COORD_RUN_FAILED;
}

/*
 * Who may command the agents. With keys: only holders of an authorized key.
 * Without: only processes on this host, unless --insecure says otherwise.
 * Reads the key files, so a bad one is a usage error before anything starts.
 */
static int check_security(const struct coord_options *o, bool local, struct coord *c)
{
	char err[512];

	if ((o->curve_secret == NULL) != (o->authorized_agents == NULL)) {
		fprintf(stderr, "coordinator: %s needs %s too\n",
		        o->curve_secret ? "--curve-secret" : "--authorized-agents",
		        o->curve_secret ? "--authorized-agents DIR" : "--curve-secret FILE");
		return -1;
	}
	if (o->stats_key != NULL && o->curve_secret == NULL) {
		fprintf(stderr, "coordinator: --stats-key needs --curve-secret FILE (the "
		                "coordinator's own key pair)\n");
		return -1;
	}
	if (o->curve_secret != NULL && local) {
		fprintf(stderr, "coordinator: a \"local\" plan starts its own agents on this "
		                "host over ipc://; --curve-secret and --authorized-agents do not "
		                "apply\n");
		return -1;
	}
	if (o->curve_secret != NULL) {
		c->curve = true;
		if (keys_read_secret(o->curve_secret, &c->kp, err, sizeof(err)) < 0 ||
		    (o->stats_key &&
		     keys_read_public(o->stats_key, c->stats_key, err, sizeof(err)) < 0)) {
			fprintf(stderr, "coordinator: %s\n", err);
			return -1;
		}
		return 0;
	}
	if (auth_endpoint_is_loopback(o->bind)) {
		fprintf(stderr,
		        "coordinator: the control plane on %s is unauthenticated (no "
		        "--curve-secret): only processes on this host can reach it\n",
		        o->bind);
		return 0;
	}
	if (!o->insecure) {
		fprintf(stderr,
		        "coordinator: --bind %s is reachable from other hosts, and without keys "
		        "anyone there could join the run and command its agents: give "
		        "--curve-secret FILE --authorized-agents DIR (keys from --gen-keys), "
		        "bind a loopback or ipc:// endpoint, or pass --insecure to accept an "
		        "unauthenticated control plane\n",
		        o->bind);
		return -1;
	}
	fprintf(stderr,
	        "coordinator: warning: --insecure: the control plane on %s is "
	        "unauthenticated and unencrypted; anyone who can reach it can join the run "
	        "and command its agents\n",
	        o->bind);
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
		fprintf(stderr,
		        "coordinator: --bind %s: a local plan needs a concrete endpoint "
		        "(its agents are started before the coordinator binds)\n",
		        o->bind);
		return -1;
	}
	snprintf(buf, size, "%s", o->bind);
	return 0;
}

/*
 * libzmq's bind takes an address or an interface name, not a host name:
 * "tcp://localhost:5700" fails with "No such device". The host is resolved
 * here, once (IPv4, as the agents connect), and the policy check then sees
 * the address that is really bound.
 */
static int resolve_bind(const char *bind, bool quiet, char *buf, size_t size)
{
	struct in_addr a;
	char host[256], ip[INET_ADDRSTRLEN], msg[320];
	const char *p = bind + 6, *colon = strrchr(bind, ':');

	snprintf(buf, size, "%s", bind);
	if (strstr(bind, "://") == NULL) {
		fprintf(stderr,
		        "coordinator: --bind %s: expected a ZeroMQ endpoint with its transport, "
		        "e.g. tcp://%s\n",
		        bind, bind);
		return -1;
	}
	if (strncmp(bind, "tcp://", 6) != 0 || strchr(p, ';') != NULL || colon < p || colon == p ||
	    p[0] == '[' || (size_t)(colon - p) >= sizeof(host))
		return 0; /* not tcp, or a form libzmq takes as is (or rejects itself) */
	memcpy(host, p, (size_t)(colon - p));
	host[colon - p] = '\0';
	if (strcmp(host, "*") == 0 || inet_pton(AF_INET, host, &a) == 1 ||
	    if_nametoindex(host) != 0)
		return 0;
	/* One lookup, the plan's and the server's way (netaddr.h). */
	if (netaddr_resolve(host, &a, msg, sizeof(msg)) < 0) {
		fprintf(stderr, "coordinator: --bind %s: %s\n", bind, msg);
		return -1;
	}
	inet_ntop(AF_INET, &a, ip, sizeof(ip));
	if ((size_t)snprintf(buf, size, "tcp://%s%s", ip, colon) >= size) {
		fprintf(stderr, "coordinator: --bind %s: endpoint too long\n", bind);
		return -1;
	}
	if (!quiet)
		fprintf(stderr, "coordinator: --bind %s: %s is %s, binding %s\n", bind, host, ip,
		        buf);
	return 0;
}

/* The socket file an ipc:// endpoint binds, and whether this run made it. */
struct ipc_file {
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	dev_t dev;
	ino_t ino;
	bool ours;
};

/*
 * libzmq unlinks whatever is at an ipc:// path before it binds: a regular
 * file would be lost, and a running coordinator's endpoint silently taken
 * over. So the path must be free, or a stale socket nobody listens on (a run
 * killed with -9), which is removed here.
 */
static int ipc_claim(const char *endpoint, struct ipc_file *f)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	const char *path = endpoint + 6;
	struct stat st;

	f->path[0] = '\0';
	f->ours = false;
	if (strncmp(endpoint, "ipc://", 6) != 0 || path[0] == '@' || strcmp(path, "*") == 0)
		return 0; /* not a file, or one libzmq names and removes itself */
	if (strlen(path) >= sizeof(f->path)) {
		fprintf(stderr, "coordinator: --bind %s: the path is longer than %zu bytes\n",
		        endpoint, sizeof(f->path) - 1);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s", path);
	if (lstat(path, &st) < 0 && errno == ENOENT)
		return 0;
	if (lstat(path, &st) < 0) {
		fprintf(stderr, "coordinator: --bind %s: %s\n", endpoint, strerror(errno));
		return -1;
	}
	if (!S_ISSOCK(st.st_mode)) {
		fprintf(stderr,
		        "coordinator: --bind %s: %s exists and is not a socket; binding would "
		        "delete it\n",
		        endpoint, path);
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path));
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		perror("coordinator: socket");
		return -1;
	}
	int rc = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? errno : 0;
	close(fd);
	if (rc != ECONNREFUSED) {
		fprintf(stderr, "coordinator: --bind %s: %s\n", endpoint,
		        rc == 0 || rc == EAGAIN ? "another process is listening there (another "
		                                  "coordinator?)"
		                                : strerror(rc));
		return -1;
	}
	if (unlink(path) < 0 && errno != ENOENT) {
		fprintf(stderr, "coordinator: --bind %s: cannot remove the stale socket: %s\n",
		        endpoint, strerror(errno));
		return -1;
	}
	fprintf(stderr, "coordinator: removed a stale socket %s (nobody listened on it)\n", path);
	return 0;
}

/* After the bind: the socket file at the path is the one this run made. */
static void ipc_note(struct ipc_file *f)
{
	struct stat st;

	if (f->path[0] != '\0' && lstat(f->path, &st) == 0 && S_ISSOCK(st.st_mode)) {
		f->dev = st.st_dev;
		f->ino = st.st_ino;
		f->ours = true;
	}
}

/* Once the sockets are closed: libzmq leaves the file behind. Only ours goes. */
static void ipc_remove(const struct ipc_file *f)
{
	struct stat st;

	if (f->ours && lstat(f->path, &st) == 0 && st.st_dev == f->dev && st.st_ino == f->ino &&
	    unlink(f->path) < 0 && errno != ENOENT)
		fprintf(stderr, "coordinator: cannot remove %s: %s\n", f->path, strerror(errno));
}

static int finish(struct coord *c, const struct report_times *t)
{
	int code = COORD_RUN_FAILED;
	int64_t t0 = clock_ms();
	json_t *report = report_build(c, t, &code);

	if (report == NULL) {
		fprintf(stderr, "coordinator: out of memory building the report\n");
		return COORD_RUN_FAILED;
	}
	int err = report_write(c->opt->report, report);
	if (!c->opt->quiet)
		fprintf(stderr, "coordinator: report built and written in %lld ms\n",
		        (long long)(clock_ms() - t0));
	summary_print(stdout, report);
	if (err < 0) {
		fprintf(stderr, "coordinator: cannot write %s: %s\n", c->opt->report,
		        strerror(-err));
		code = COORD_RUN_FAILED;
	} else {
		printf("\n  report: %s\n", c->opt->report);
	}
	if (c->opt->html != NULL) {
		err = html_write(c->opt->html, &report, 1);
		if (err < 0) {
			fprintf(stderr, "coordinator: cannot write %s: %s\n", c->opt->html,
			        strerror(-err));
			code = COORD_RUN_FAILED;
		} else {
			printf("  html:   %s\n", c->opt->html);
		}
	}
	json_decref(report);
	return code;
}

/*
 * The run set up from the plan and options: output paths checked, endpoints
 * resolved, keys read, the ipc file claimed. 0, or -1 once said why (the
 * caller frees the plan and c->agents).
 */
static int setup(struct coord *c, struct coord_options *opt, struct plan *plan, char *bind,
                 size_t bindlen, char *endpoint, size_t eplen, struct ipc_file *ipc)
{
	if (check_outputs(opt) < 0 ||
	    (opt->bind != NULL && resolve_bind(opt->bind, opt->quiet, bind, bindlen) < 0))
		return -1;
	if (opt->bind != NULL)
		opt->bind = bind;
	c->plan = plan;
	c->opt = opt;
	c->interrupted = &interrupted;
	snprintf(c->target_host, sizeof(c->target_host), "%s", plan->target_host);
	c->target_port = plan->target_port;
	snprintf(c->stats_endpoint, sizeof(c->stats_endpoint), "%s", plan->server_stats);
	c->agents = calloc((size_t)plan->agents_count, sizeof(*c->agents));
	if (plan->local && local_endpoint(opt, endpoint, eplen) < 0)
		return -1;
	if (plan->local)
		opt->bind = endpoint;
	else if (opt->bind == NULL)
		opt->bind = "tcp://*:5700";
	if (check_security(opt, plan->local, c) < 0 || ipc_claim(opt->bind, ipc) < 0) {
		memset(&c->kp, 0, sizeof(c->kp));
		return -1;
	}
	return 0;
}

/* Starts the local processes (if any), runs the plan, writes the report: the exit code. */
static int run(struct coord *c, struct local_procs *lp, struct console *con, const char *endpoint,
               struct ipc_file *ipc)
{
	const struct coord_options *opt = c->opt;
	struct report_times t = {.started = time(NULL)};
	int rc;

	/* Local processes first: no ZeroMQ context may exist when we fork. */
	if (c->plan->local) {
		console_capture(con, opt->quiet); /* the children's lines, never on the status */
		rc = local_start(c->plan, endpoint, opt->report, opt->quiet, c->interrupted,
		                 &hurried, lp);
		console_release(con);
		if (rc < 0)
			return COORD_RUN_FAILED;
		snprintf(c->target_host, sizeof(c->target_host), "%s", lp->target_host);
		c->target_port = lp->target_port;
		snprintf(c->stats_endpoint, sizeof(c->stats_endpoint), "%s", lp->stats);
		c->server_exit = local_server_exited;
		c->server_exit_arg = lp;
	}
	rc = c->agents ? coord_open(c) : -1;
	ipc_note(ipc);
	if (rc < 0)
		return rc == -2 ? COORD_USAGE : COORD_RUN_FAILED;
	coord_run(c);
	if (c->server_exited)
		local_say_log(lp);
	coord_log_flush(c); /* whatever way the run ended */
	t.ended = time(NULL);
	return finish(c, &t);
}

int main(int argc, char **argv)
{
	struct coord_options opt = {0};
	struct plan plan;
	struct proto_err err;
	struct local_procs lp = {.server_out = -1};
	struct console con = {.on = false};
	struct coord c = {0};
	struct ipc_file ipc = {0};
	char endpoint[512], bind[512];
	const char *plan_path;
	struct sigaction sa = {.sa_handler = on_signal};

	int parsed = parse_args(argc, argv, &opt, &plan_path);
	if (parsed != 0)
		return parsed > 0 ? COORD_PASS : COORD_USAGE; /* 1: --help was printed */
	if (opt.gen_keys != NULL)
		return gen_keys(&opt);
	if (opt.render_html != NULL)
		return render_html(&opt);
	if (overwrites(plan_path, "--report", opt.report) ||
	    (opt.html != NULL && overwrites(plan_path, "--html", opt.html)))
		return COORD_USAGE;
	if (plan_load(plan_path, &plan, &err) < 0) {
		fprintf(stderr, "coordinator: %s\n", err.msg);
		return COORD_USAGE;
	}
	if (setup(&c, &opt, &plan, bind, sizeof(bind), endpoint, sizeof(endpoint), &ipc) < 0) {
		plan_free(&plan);
		free(c.agents);
		return COORD_USAGE;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	int code = run(&c, &lp, &con, endpoint, &ipc);
	run_over = 1;
	/* Local agents first, while the socket they talk to is still there to hear their bye. */
	local_stop(&lp);
	coord_close(&c);
	ipc_remove(&ipc);
	console_stop(&con);
	coord_free(&c);
	plan_free(&plan);
	return code;
}
