#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host.h"
#include "keys.h"
#include "netaddr.h"
#include "options.h"
#include "proto.h"
#include "stack_size.h"

static const char usage[] =
    "usage: server [--listen ADDR:PORT] [--model threads|epoll] [--stack-size SIZE]\n"
    "              [--processes N] [--backlog N] [--stats ENDPOINT] [--max-conns N]\n"
    "              [--curve-secret FILE [--authorized-keys DIR]] [--ready-fd N]\n"
    "       server --watch PID | --watch-port PORT --stats ENDPOINT\n"
    "              [--curve-secret FILE [--authorized-keys DIR]] [--ready-fd N]\n"
    "       server --gen-keys DIR [--name NAME]\n"
    "\n"
    "  --listen ADDR:PORT   address or host name to listen on (default 0.0.0.0:1234; port 0\n"
    "                       picks one); a name is resolved once, at start (IPv4)\n"
    "  --model MODEL        threads: a thread per connection (default); epoll: one event loop\n"
    "  --stack-size SIZE    thread stack: 16k, 64k, 8m, 1g (at most), a byte count, or default\n"
    "                       (ulimit -s)\n"
    "  --processes N        N pre-forked workers sharing the port (SO_REUSEPORT, kept to\n"
    "                       this server's workers); default 1\n"
    "  --backlog N          listen backlog (default net.core.somaxconn)\n"
    "  --stats ENDPOINT     ZeroMQ endpoint answering stats_req, e.g. tcp://127.0.0.1:5701\n"
    "                       (off loopback without --curve-secret: a warning, anyone can read it)\n"
    "  --max-conns N        refuse connections beyond N concurrent (default: no limit)\n"
    "  --curve-secret FILE  the stats endpoint is a CURVE server with this secret key\n"
    "  --authorized-keys DIR  and answers only clients whose public key is a DIR/*.pub\n"
    "  --ready-fd N         once listening (and the stats endpoint bound), write one JSON\n"
    "                       line to descriptor N and close it: {\"address\", \"port\",\n"
    "                       \"stats\", \"pid\", \"model\", \"processes\"} (with --watch also\n"
    "                       \"watched\": [pids] and \"process\")\n"
    "  --gen-keys DIR       write DIR/NAME.pub and DIR/NAME.key (NAME: --name or server)\n"
    "                       and exit\n"
    "  --watch PID          serve no connections: measure process PID (any server) and\n"
    "                       answer stats_req for it (model \"external\"); its connections\n"
    "                       are its established TCP sockets on the ports it listens on\n"
    "  --watch-port PORT    the same for the process(es) listening on TCP port PORT\n"
    "                       (several, e.g. pre-forked workers: summed)\n"
    "\n"
    "On SIGINT/SIGTERM it prints a summary and exits 0. Exit 1: could not listen (also\n"
    "\"Address already in use\" when anything listens on the port already), or with --watch:\n"
    "no such process, nothing listening on the port, or a watched process exited (said at\n"
    "once; it never answers with a dead process's numbers); 2: bad usage.\n";

/* ADDR:PORT, ADDR a dotted quad, a host name (resolved here, once) or empty (0.0.0.0). */
static int parse_listen(const char *text, struct server_config *cfg)
{
	struct sockaddr_in *sa = &cfg->listen;
	char host[sizeof(cfg->listen_name)], err[320];
	const char *colon = strrchr(text, ':');
	char *end;

	if (colon == NULL || (size_t)(colon - text) >= sizeof(host)) {
		fprintf(stderr, "server: --listen: expected ADDR:PORT, got '%s'\n", text);
		return -1;
	}
	memcpy(host, text, (size_t)(colon - text));
	host[colon - text] = '\0';
	errno = 0;
	long port = strtol(colon + 1, &end, 10);
	if (errno != 0 || end == colon + 1 || *end != '\0' || port < 0 || port > 65535) {
		fprintf(stderr, "server: --listen: expected a port from 0 to 65535, got '%s'\n",
		        text);
		return -1;
	}
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons((uint16_t)port);
	cfg->listen_name[0] = '\0';
	if (host[0] == '\0')
		return inet_pton(AF_INET, "0.0.0.0", &sa->sin_addr) == 1 ? 0 : -1;
	if (netaddr_resolve(host, &sa->sin_addr, err, sizeof(err)) < 0) {
		fprintf(stderr, "server: --listen: %s\n", err);
		return -1;
	}
	if (!proto_is_ipv4(host))
		memcpy(cfg->listen_name, host, sizeof(host));
	return 0;
}

/* --ready-fd N: N must be open for writing now, not only when the server is ready. */
static int parse_ready_fd(const char *text, struct server_config *cfg)
{
	long n;
	char *end;

	errno = 0;
	n = strtol(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || n < 0 || n > INT_MAX) {
		fprintf(stderr, "server: --ready-fd: expected a file descriptor number, got '%s'\n",
		        text);
		return -1;
	}
	int flags = fcntl((int)n, F_GETFL);
	if (flags < 0) {
		fprintf(stderr, "server: --ready-fd %ld: not an open file descriptor (%s)\n", n,
		        strerror(errno));
		return -1;
	}
	if ((flags & O_ACCMODE) == O_RDONLY) {
		fprintf(stderr,
		        "server: --ready-fd %ld: open for reading only; expected a pipe or file "
		        "to write to\n",
		        n);
		return -1;
	}
	cfg->ready_fd = (int)n;
	return 0;
}

static int parse_count(const char *opt, const char *text, long min, long max, long *out)
{
	char *end;

	errno = 0;
	long n = strtol(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || n < min || n > max) {
		fprintf(stderr, "server: %s: expected an integer in %ld..%ld, got '%s'\n", opt, min,
		        max, text);
		return -1;
	}
	*out = n;
	return 0;
}

/* Rounds to whole pages and raises to the platform minimum, saying so. */
static size_t clamp_stack(size_t want, const char *text)
{
	long page = sysconf(_SC_PAGESIZE);
	long min = sysconf(_SC_THREAD_STACK_MIN);

	if (page <= 0)
		page = 4096;
	if (min <= 0)
		min = PTHREAD_STACK_MIN;
	size_t size = (want + (size_t)page - 1) / (size_t)page * (size_t)page;
	if (size < (size_t)min) {
		fprintf(stderr,
		        "server: --stack-size %s is below the platform minimum of %ld bytes; "
		        "using %ld\n",
		        text, min, min);
		size = (size_t)min;
	}
	return size;
}

static int set_option(int opt, const char *arg, struct server_config *cfg)
{
	long n;
	size_t size;
	int rc;

	switch (opt) {
	case 'W':
		if (parse_count("--watch", arg, 1, INT_MAX, &n) < 0)
			return -1;
		cfg->watch_pid = (pid_t)n;
		return 0;
	case 'P':
		if (parse_count("--watch-port", arg, 1, 65535, &n) < 0)
			return -1;
		cfg->watch_port = (unsigned)n;
		return 0;
	case 'l':
		return parse_listen(arg, cfg);
	case 'r':
		return parse_ready_fd(arg, cfg);
	case 'm':
		if (strcmp(arg, "threads") == 0 || strcmp(arg, "epoll") == 0) {
			cfg->model = arg[0] == 't' ? SERVER_MODEL_THREADS : SERVER_MODEL_EPOLL;
			return 0;
		}
		fprintf(stderr, "server: --model: expected threads or epoll, got '%s'\n", arg);
		return -1;
	case 's':
		rc = stack_size_parse(arg, &size);
		if (rc < 0) {
			fprintf(stderr, "server: --stack-size: expected %s, got '%s'\n",
			        rc == -ERANGE
			            ? "at most 1g"
			            : "a size like 16k, 64k, 8m, 1g, a byte count or default",
			        arg);
			return -1;
		}
		cfg->stack_size = size == 0 ? 0 : clamp_stack(size, arg);
		return 0;
	case 'p':
		if (parse_count("--processes", arg, 1, SERVER_MAX_PROCESSES, &n) < 0)
			return -1;
		cfg->processes = (int)n;
		return 0;
	case 'b':
		if (parse_count("--backlog", arg, 1, INT_MAX, &n) < 0)
			return -1;
		cfg->backlog = (int)n;
		return 0;
	case 'S':
		cfg->stats = arg;
		return 0;
	case 'c':
		if (parse_count("--max-conns", arg, 1, LONG_MAX, &n) < 0)
			return -1;
		cfg->max_conns = n;
		return 0;
	case 'K':
		cfg->curve_secret = arg;
		return 0;
	case 'A':
		cfg->authorized_keys = arg;
		return 0;
	}
	return -1;
}

/*
 * --watch PID and --watch-port PORT: one of them, with --stats (the only way
 * a watcher reports) and none of the options of a server that listens.
 */
static int check_watch(const struct server_config *cfg, const char *listener_opt)
{
	const char *watch = cfg->watch_pid ? "--watch" : "--watch-port";

	if (!cfg->watch_pid && !cfg->watch_port)
		return 0;
	if (cfg->watch_pid && cfg->watch_port) {
		fprintf(stderr, "server: give --watch PID or --watch-port PORT, not both\n");
		return -1;
	}
	if (listener_opt != NULL) {
		fprintf(stderr,
		        "server: %s cannot be combined with --%s: a watcher serves no connections "
		        "of its own (it takes --stats, --curve-secret, --authorized-keys and "
		        "--ready-fd only)\n",
		        watch, listener_opt);
		return -1;
	}
	if (cfg->stats == NULL) {
		fprintf(stderr, "server: %s needs --stats ENDPOINT: that is where it reports\n",
		        watch);
		return -1;
	}
	return 0;
}

/* --gen-keys: 1 (done, exit 0) or -1 after saying why. */
static int gen_key_pair(const char *dir, const char *name)
{
	char pub[4096], secret[4096], err[512];

	if (keys_generate(dir, name, pub, secret, sizeof(pub), err, sizeof(err)) < 0) {
		fprintf(stderr, "server: %s\n", err);
		return -1;
	}
	printf("server: public key %s\nserver: secret key %s (mode 0600)\n", pub, secret);
	return fflush(stdout) == 0 ? 1 : -1;
}

int server_options_parse(int argc, char **argv, struct server_config *cfg)
{
	static const struct option longopts[] = {
	    {"listen", required_argument, NULL, 'l'},
	    {"model", required_argument, NULL, 'm'},
	    {"stack-size", required_argument, NULL, 's'},
	    {"processes", required_argument, NULL, 'p'},
	    {"backlog", required_argument, NULL, 'b'},
	    {"stats", required_argument, NULL, 'S'},
	    {"max-conns", required_argument, NULL, 'c'},
	    {"curve-secret", required_argument, NULL, 'K'},
	    {"authorized-keys", required_argument, NULL, 'A'},
	    {"ready-fd", required_argument, NULL, 'r'},
	    {"gen-keys", required_argument, NULL, 'G'},
	    {"name", required_argument, NULL, 'N'},
	    {"watch", required_argument, NULL, 'W'},
	    {"watch-port", required_argument, NULL, 'P'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *gen_keys = NULL, *name = "server", *listener_opt = NULL;
	int opt, idx = -1;

	parse_listen("0.0.0.0:1234", cfg);
	cfg->ready_fd = -1;
	cfg->model = SERVER_MODEL_THREADS;
	cfg->stack_size = 0;
	cfg->processes = 1;
	cfg->backlog = 0;
	cfg->stats = NULL;
	cfg->max_conns = 0;
	cfg->curve_secret = NULL;
	cfg->authorized_keys = NULL;
	cfg->watch_pid = 0;
	cfg->watch_port = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", longopts, &idx)) != -1) {
		if (opt == 'h') {
			fputs(usage, stdout);
			return 1;
		}
		if (opt == '?' || opt == ':') {
			fprintf(stderr, "server: %s '%s'\n%s",
			        opt == '?' ? "unknown option" : "missing value for",
			        argv[optind - 1], usage);
			return -1;
		}
		if (opt == 'G' || opt == 'N') {
			*(opt == 'G' ? &gen_keys : &name) = optarg;
			continue;
		}
		/* The options of a server that listens: a watcher takes none of them. */
		if (strchr("lmspbc", opt) != NULL && listener_opt == NULL && idx >= 0)
			listener_opt = longopts[idx].name;
		if (set_option(opt, optarg, cfg) < 0)
			return -1;
	}
	if (optind < argc) {
		fprintf(stderr, "server: unexpected argument '%s'\n%s", argv[optind], usage);
		return -1;
	}
	if (gen_keys != NULL)
		return gen_key_pair(gen_keys, name);
	if (cfg->authorized_keys != NULL && cfg->curve_secret == NULL) {
		fprintf(stderr, "server: --authorized-keys needs --curve-secret FILE\n");
		return -1;
	}
	if (check_watch(cfg, listener_opt) < 0)
		return -1;
	if (cfg->curve_secret != NULL && cfg->stats == NULL) {
		fprintf(stderr, "server: --curve-secret secures the stats endpoint: give --stats "
		                "ENDPOINT too\n");
		return -1;
	}
	return 0;
}
