#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "duration.h"
#include "grow.h"
#include "msg.h"
#include "netaddr.h"
#include "options.h"

const char options_usage[] =
    "usage: agent --target HOST:PORT -n N [--rate R] [--payload B] [--rounds K]\n"
    "             [--interval MS] [--load-rate R [--load-duration S] [--load-payload B]]\n"
    "             [--churn-rate R [--churn-duration S]]\n"
    "             [--hold S] [--connect-timeout MS] [--echo-timeout MS]\n"
    "             [--source-ip LIST|CIDR] [--threads T] [--allow-target CIDR,...] [--json]\n"
    "       agent --coordinator ENDPOINT [--name NAME] [--source-ip LIST|CIDR] [--threads T]\n"
    "             [--allow-target CIDR,...] [--curve-secret FILE --coordinator-key FILE]\n"
    "             [--insecure]\n"
    "       agent --gen-keys DIR [--name NAME]\n"
    "       agent --help\n"
    "\n"
    "  --coordinator ENDPOINT  ZeroMQ endpoint of the coordinator, transport included\n"
    "                          (tcp://host:5700, ipc://PATH); the agent takes only what its\n"
    "                          assignment allows, says when nobody answers, and reconnects\n"
    "  --name NAME             this agent's name in the run (default HOSTNAME-PID)\n"
    "  --target HOST:PORT      echo server to load (IPv4)\n"
    "  -n N                    connections to open and hold\n"
    "  --rate R                connection attempts per second, all threads (0 = unlimited)\n"
    "  --payload B             bytes per echo round (default 64)\n"
    "  --rounds K              echo rounds per connection (default 1, 0 = none)\n"
    "  --interval MS           start round r at r*MS after the first (default 0: back to back)\n"
    "  --load-rate R           after the echo rounds, R messages/s in all, open loop: each\n"
    "                          connection sends once per (N / R) s on its own offset, and\n"
    "                          latency counts from the scheduled send time\n"
    "  --load-duration S       how long the load is scheduled (default 10 s)\n"
    "  --load-payload B        bytes per load message (default: --payload)\n"
    "  --churn-rate R          then, on top of the held connections, open R connections a\n"
    "                          second, each verifying one echo and closing (TIME_WAIT: R x 60\n"
    "                          ports of a source address)\n"
    "  --churn-duration S      how long new ones are opened (default 10 s)\n"
    "  --hold S                keep the connections open S seconds before closing (default 0)\n"
    "  --source-ip LIST|CIDR   source addresses to rotate through (a,b,c or a.b.c.d/len)\n"
    "  --threads T             worker threads (default: online CPUs)\n"
    "  --connect-timeout MS    per connection attempt (default 3000)\n"
    "  --echo-timeout MS       per echo round (default 5000)\n"
    "                          Durations: a number with an optional unit, ms, s, m or h\n"
    "                          (--hold 1.5, --hold 500ms, --connect-timeout 2.5s); without\n"
    "                          one, the unit named above (S: seconds, MS: milliseconds)\n"
    "  --json                  print the result as JSON instead of a table\n"
    "\n"
    "Security:\n"
    "  --allow-target CIDR[,CIDR...]  networks this agent may load (default " FENCE_DEFAULT ");\n"
    "                          any other target is refused before a connection is tried\n"
    "  --curve-secret FILE     this agent's CURVE secret key (from --gen-keys)\n"
    "  --coordinator-key FILE  the coordinator's public key: talk to no other\n"
    "  --insecure              allow a coordinator off this host without keys\n"
    "  --gen-keys DIR          write DIR/NAME.pub and DIR/NAME.key (NAME: --name or the\n"
    "                          hostname) and exit\n"
    "  -h, --help              this text\n"
    "\n"
    "Exit: 0 standalone: every connection established, every echo verified and every load\n"
    "message its schedule held sent; control mode: stopped by SIGINT/SIGTERM. 1 standalone:\n"
    "a connection or echo failed, the load fell short of its schedule, or it was\n"
    "interrupted; control mode: the control socket failed. 2 bad invocation, unusable\n"
    "keys, or a preflight refusal that names the limit.\n";

enum {
	OPT_TARGET = 256,
	OPT_RATE,
	OPT_PAYLOAD,
	OPT_ROUNDS,
	OPT_INTERVAL,
	OPT_HOLD,
	OPT_SOURCE_IP,
	OPT_THREADS,
	OPT_CONNECT_TIMEOUT,
	OPT_ECHO_TIMEOUT,
	OPT_JSON,
	OPT_COORDINATOR,
	OPT_NAME,
	OPT_HELP,
	OPT_GEN_KEYS,
	OPT_CURVE_SECRET,
	OPT_COORDINATOR_KEY,
	OPT_INSECURE,
	OPT_ALLOW_TARGET,
	OPT_LOAD_RATE,
	OPT_LOAD_DURATION,
	OPT_LOAD_PAYLOAD,
	OPT_CHURN_RATE,
	OPT_CHURN_DURATION,
};

static const struct option options_long[] = {
    {"target", required_argument, NULL, OPT_TARGET},
    {"rate", required_argument, NULL, OPT_RATE},
    {"payload", required_argument, NULL, OPT_PAYLOAD},
    {"rounds", required_argument, NULL, OPT_ROUNDS},
    {"interval", required_argument, NULL, OPT_INTERVAL},
    {"hold", required_argument, NULL, OPT_HOLD},
    {"source-ip", required_argument, NULL, OPT_SOURCE_IP},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
    {"echo-timeout", required_argument, NULL, OPT_ECHO_TIMEOUT},
    {"json", no_argument, NULL, OPT_JSON},
    {"coordinator", required_argument, NULL, OPT_COORDINATOR},
    {"name", required_argument, NULL, OPT_NAME},
    {"help", no_argument, NULL, OPT_HELP},
    {"gen-keys", required_argument, NULL, OPT_GEN_KEYS},
    {"curve-secret", required_argument, NULL, OPT_CURVE_SECRET},
    {"coordinator-key", required_argument, NULL, OPT_COORDINATOR_KEY},
    {"insecure", no_argument, NULL, OPT_INSECURE},
    {"allow-target", required_argument, NULL, OPT_ALLOW_TARGET},
    {"load-rate", required_argument, NULL, OPT_LOAD_RATE},
    {"load-duration", required_argument, NULL, OPT_LOAD_DURATION},
    {"load-payload", required_argument, NULL, OPT_LOAD_PAYLOAD},
    {"churn-rate", required_argument, NULL, OPT_CHURN_RATE},
    {"churn-duration", required_argument, NULL, OPT_CHURN_DURATION},
    {NULL, 0, NULL, 0},
};

/* Decimal integer in [lo, hi]; the whole string, no sign, no spaces. */
static int options_uint(const char *name, const char *arg, uint64_t lo, uint64_t hi, uint64_t *out,
                        char *err, size_t errlen)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (arg[0] < '0' || arg[0] > '9')
		goto bad;
	v = strtoull(arg, &end, 10);
	if (errno || *end != '\0')
		goto bad;
	if (v < lo || v > hi) {
		snprintf(err, errlen,
		         "agent: %s: expected an integer from %" PRIu64 " to %" PRIu64 ", got '%s'",
		         name, lo, hi, arg);
		return -EINVAL;
	}
	*out = v;
	return 0;
bad:
	snprintf(err, errlen, "agent: %s: expected %s integer, got '%s'", name,
	         lo ? "a positive" : "a non-negative", arg);
	return -EINVAL;
}

/* A duration (see duration.h): NUMBER[ms|s|m|h], a bare number in the option's unit. */
static int options_duration(const char *name, const char *arg, enum duration_unit bare,
                            double lo_ms, double hi_ms, double *out_ms, char *err, size_t errlen)
{
	char msg[256];

	if (duration_parse(name, arg, bare, lo_ms, hi_ms, out_ms, msg, sizeof(msg)) == 0)
		return 0;
	snprintf(err, errlen, "agent: %s", msg);
	return -EINVAL;
}

static int options_target(const char *arg, struct sockaddr_in *out, char *err, size_t errlen)
{
	const char *colon = strrchr(arg, ':');
	char host[256], msg[320];
	uint64_t port;
	size_t hlen;

	if (!colon || colon == arg || (hlen = (size_t)(colon - arg)) >= sizeof(host)) {
		snprintf(err, errlen, "agent: --target: expected HOST:PORT, got '%s'", arg);
		return -EINVAL;
	}
	memcpy(host, arg, hlen);
	host[hlen] = '\0';
	if (options_uint("--target", colon + 1, 1, 65535, &port, err, errlen) < 0) {
		snprintf(err, errlen, "agent: --target: expected a port from 1 to 65535, got '%s'",
		         colon + 1);
		return -EINVAL;
	}
	memset(out, 0, sizeof(*out));
	out->sin_family = AF_INET;
	out->sin_port = htons((uint16_t)port);
	/* One lookup, the plan's and the server's way (netaddr.h). */
	if (netaddr_resolve(host, &out->sin_addr, msg, sizeof(msg)) < 0) {
		snprintf(err, errlen, "agent: --target: %s", msg);
		return -EINVAL;
	}
	return 0;
}

/* a.b.c.d/len: every host address of the block (network and broadcast only from /31 up). */
static int options_sources_cidr(const char *arg, const char *slash, struct in_addr **out,
                                unsigned *count, char *err, size_t errlen)
{
	struct in_addr a, *list;
	uint64_t len, first, last, i;
	size_t alen = (size_t)(slash - arg);
	char buf[64];
	unsigned n = 0;

	if (alen >= sizeof(buf))
		goto bad;
	memcpy(buf, arg, alen);
	buf[alen] = '\0';
	if (inet_pton(AF_INET, buf, &a) != 1)
		goto bad;
	if (options_uint("--source-ip", slash + 1, 0, 32, &len, err, errlen) < 0) {
		snprintf(err, errlen,
		         "agent: --source-ip: expected a prefix length from 0 to 32, got '%s'",
		         slash + 1);
		return -EINVAL;
	}
	first = ntohl(a.s_addr) & (len ? ~0u << (32 - len) : 0);
	last = first + ((1ULL << (32 - len)) - 1);
	/* Network and broadcast addresses are not hosts, except in /31 and /32. */
	if (len <= 30) {
		first++;
		last--;
	}
	if (last - first + 1 > OPTIONS_MAX_SOURCES) {
		snprintf(err, errlen,
		         "agent: --source-ip: '%s' holds %" PRIu64 " addresses, more than the %d "
		         "supported",
		         arg, last - first + 1, OPTIONS_MAX_SOURCES);
		return -EINVAL;
	}
	list = calloc(last - first + 1, sizeof(*list));
	if (!list)
		return -ENOMEM;
	for (i = first; i <= last; i++)
		list[n++].s_addr = htonl((uint32_t)i);
	*out = list;
	*count = n;
	return 0;
bad:
	snprintf(err, errlen, "agent: --source-ip: expected a.b.c.d/len, got '%s'", arg);
	return -EINVAL;
}

/* a,b,c: each an IPv4 literal. */
static int options_sources_list(const char *arg, struct in_addr **out, unsigned *count, char *err,
                                size_t errlen)
{
	struct in_addr *list = NULL, a;
	const char *p = arg, *comma;
	unsigned n = 0;
	size_t cap = 0;
	char buf[64];
	size_t alen;

	for (;;) {
		comma = strchr(p, ',');
		alen = comma ? (size_t)(comma - p) : strlen(p);
		if (alen == 0 || alen >= sizeof(buf)) {
			snprintf(err, errlen,
			         "agent: --source-ip: empty or oversized entry in '%s'", arg);
			goto fail;
		}
		memcpy(buf, p, alen);
		buf[alen] = '\0';
		if (inet_pton(AF_INET, buf, &a) != 1) {
			snprintf(err, errlen, "agent: --source-ip: '%s' is not an IPv4 address",
			         buf);
			goto fail;
		}
		if (n == OPTIONS_MAX_SOURCES) {
			snprintf(err, errlen, "agent: --source-ip: more than %d addresses",
			         OPTIONS_MAX_SOURCES);
			goto fail;
		}
		/* Each address gives its own ports: one named twice would count them twice. */
		for (unsigned i = 0; i < n; i++)
			if (list[i].s_addr == a.s_addr) {
				snprintf(err, errlen, "agent: --source-ip: %s is given twice", buf);
				goto fail;
			}
		if (n == cap && grow((void **)&list, &cap, sizeof(*list), 8) < 0) {
			free(list);
			return -ENOMEM;
		}
		list[n++] = a;
		if (!comma)
			break;
		p = comma + 1;
	}
	*out = list;
	*count = n;
	return 0;
fail:
	free(list);
	return -EINVAL;
}

int options_parse_sources(const char *arg, struct in_addr **out, unsigned *count, char *err,
                          size_t errlen)
{
	const char *slash = strchr(arg, '/');

	*out = NULL;
	*count = 0;
	if (slash)
		return options_sources_cidr(arg, slash, out, count, err, errlen);
	return options_sources_list(arg, out, count, err, errlen);
}

/* Keys come in pairs; without them, only a coordinator on this host (or --insecure). */
static int options_check_control(const struct agent_options *o, char *err, size_t errlen)
{
	/* Without a transport, zmq_connect says only "Invalid argument". */
	if (strstr(o->coordinator, "://") == NULL) {
		snprintf(err, errlen,
		         "agent: --coordinator %s: expected a ZeroMQ endpoint with its transport, "
		         "e.g. tcp://%s",
		         o->coordinator, o->coordinator[0] ? o->coordinator : "127.0.0.1:5700");
		return -EINVAL;
	}
	if ((o->curve_secret == NULL) != (o->coordinator_key == NULL)) {
		snprintf(err, errlen, "agent: %s needs %s too",
		         o->curve_secret ? "--curve-secret" : "--coordinator-key",
		         o->curve_secret ? "--coordinator-key FILE" : "--curve-secret FILE");
		return -EINVAL;
	}
	if (o->curve_secret == NULL && !o->insecure && !auth_endpoint_is_loopback(o->coordinator)) {
		snprintf(err, errlen,
		         "agent: --coordinator %s is not on this host, and without keys anyone "
		         "could command this agent: give --curve-secret FILE --coordinator-key "
		         "FILE, or --insecure to accept an unauthenticated control plane",
		         o->coordinator);
		return -EINVAL;
	}
	return 0;
}

static void options_defaults(struct agent_options *o)
{
	memset(o, 0, sizeof(*o));
	o->mode = AGENT_MODE_STANDALONE;
	o->payload = MSG_DEFAULT_PAYLOAD_BYTES;
	o->rounds = MSG_DEFAULT_ROUNDS;
	o->connect_timeout_ms = MSG_DEFAULT_CONNECT_TIMEOUT_MS;
	o->echo_timeout_ms = MSG_DEFAULT_ECHO_TIMEOUT_MS;
	o->load_duration_ms = MSG_DEFAULT_LOAD_DURATION_S * 1000;
	o->churn_duration_ms = MSG_DEFAULT_CHURN_DURATION_S * 1000;
	fence_parse(FENCE_DEFAULT, &o->fence, NULL, 0);
}

/* Which options a command line gave, for the checks made once all are read. */
struct options_seen {
	bool n, load, load_detail, churn_duration;
};

/* A duration option in [min, max] of `unit`, into whole milliseconds. */
static int options_ms(const char *name, const char *arg, enum duration_unit unit, double min,
                      double max, uint64_t *out, char *err, size_t errlen)
{
	double ms = 0;
	int rc = options_duration(name, arg, unit, min, max, &ms, err, errlen);

	*out = (uint64_t)(ms + 0.5);
	return rc;
}

/* The options that size the run: counts, rates, payloads and times. 1: not one of these. */
static int options_sizes(int c, const char *arg, struct agent_options *o, char *err, size_t errlen)
{
	uint64_t v = 0;
	double ms = 0;
	int rc;

	switch (c) {
	case OPT_RATE:
		return options_uint("--rate", arg, 0, 100000000, &o->rate, err, errlen);
	case OPT_PAYLOAD:
		rc = options_uint("--payload", arg, 1, OPTIONS_MAX_PAYLOAD, &v, err, errlen);
		o->payload = (unsigned)v;
		return rc;
	case OPT_ROUNDS:
		rc = options_uint("--rounds", arg, 0, 65535, &v, err, errlen);
		o->rounds = (unsigned)v;
		return rc;
	case OPT_INTERVAL:
		rc = options_ms("--interval", arg, DURATION_MS, 0, 3600000, &v, err, errlen);
		o->interval_ms = (unsigned)v;
		return rc;
	case OPT_HOLD:
		/* The plan's hold_s limit, fractions included (--hold 1.5). */
		rc = options_duration("--hold", arg, DURATION_S, 0, 604800000.0, &ms, err, errlen);
		o->hold_s = ms / 1000.0;
		return rc;
	case OPT_THREADS:
		rc = options_uint("--threads", arg, 1, 1024, &v, err, errlen);
		o->threads = (unsigned)v;
		return rc;
	case OPT_CONNECT_TIMEOUT:
		rc = options_ms("--connect-timeout", arg, DURATION_MS, 1, 3600000, &v, err, errlen);
		o->connect_timeout_ms = (unsigned)v;
		return rc;
	case OPT_ECHO_TIMEOUT:
		rc = options_ms("--echo-timeout", arg, DURATION_MS, 1, 3600000, &v, err, errlen);
		o->echo_timeout_ms = (unsigned)v;
		return rc;
	}
	return 1;
}

/* --load-* and --churn-*. 1: not one of these. */
static int options_work(int c, const char *arg, struct agent_options *o, char *err, size_t errlen)
{
	uint64_t v = 0;
	int rc;

	switch (c) {
	case OPT_LOAD_RATE:
		return options_uint("--load-rate", arg, 1, 100000000, &o->load_rate, err, errlen);
	case OPT_LOAD_DURATION:
		return options_ms("--load-duration", arg, DURATION_S, 1, 86400000.0,
		                  &o->load_duration_ms, err, errlen);
	case OPT_LOAD_PAYLOAD:
		rc = options_uint("--load-payload", arg, 1, OPTIONS_MAX_PAYLOAD, &v, err, errlen);
		o->load_payload = (unsigned)v;
		return rc;
	case OPT_CHURN_RATE:
		return options_uint("--churn-rate", arg, 1, 10000000, &o->churn_rate, err, errlen);
	case OPT_CHURN_DURATION:
		return options_ms("--churn-duration", arg, DURATION_S, 1, 86400000.0,
		                  &o->churn_duration_ms, err, errlen);
	}
	return 1;
}

/* The control plane's and the keys' options, and --json. 1: not one of these. */
static int options_control(int c, const char *arg, struct agent_options *o, char *err,
                           size_t errlen)
{
	switch (c) {
	case OPT_JSON:
		o->json = true;
		return 0;
	case OPT_COORDINATOR:
		o->coordinator = arg;
		o->mode = AGENT_MODE_CONTROL;
		return 0;
	case OPT_NAME:
		o->name = arg;
		/* The name is the routing id: the coordinator admits nothing else. */
		if (msg_agent_name_valid(arg, strlen(arg)))
			return 0;
		snprintf(err, errlen,
		         "agent: --name: expected 1 to %d printable ASCII characters without "
		         "spaces, got '%.64s'",
		         MSG_AGENT_NAME_MAX, arg);
		return -EINVAL;
	case OPT_GEN_KEYS:
		o->gen_keys = arg;
		return 0;
	case OPT_CURVE_SECRET:
		o->curve_secret = arg;
		return 0;
	case OPT_COORDINATOR_KEY:
		o->coordinator_key = arg;
		return 0;
	case OPT_INSECURE:
		o->insecure = true;
		return 0;
	}
	return 1;
}

/* One option: 0, or -EINVAL with err set. */
static int options_one(int c, char **argv, struct agent_options *o, struct options_seen *seen,
                       char *err, size_t errlen)
{
	int rc = 1;

	if (c == 'n') {
		seen->n = true;
		return options_uint("-n", optarg, 1, UINT32_MAX, &o->n, err, errlen);
	}
	if (c == OPT_TARGET) {
		o->target_arg = optarg;
		return options_target(optarg, &o->target, err, errlen);
	}
	if (c == OPT_SOURCE_IP) {
		free(o->sources);
		return options_parse_sources(optarg, &o->sources, &o->nsources, err, errlen);
	}
	if (c == OPT_ALLOW_TARGET)
		return fence_parse(optarg, &o->fence, err, errlen);
	if (c == ':') {
		snprintf(err, errlen, "agent: %s: missing value", argv[optind - 1]);
		return -EINVAL;
	}
	if (c != '?')
		rc = options_sizes(c, optarg, o, err, errlen);
	if (rc == 1 && c != '?' && (rc = options_work(c, optarg, o, err, errlen)) != 1) {
		seen->load = true;
		seen->load_detail |= c == OPT_LOAD_DURATION || c == OPT_LOAD_PAYLOAD;
		seen->churn_duration |= c == OPT_CHURN_DURATION;
	}
	if (rc == 1 && c != '?')
		rc = options_control(c, optarg, o, err, errlen);
	if (rc == 1) {
		snprintf(err, errlen, "agent: unknown option '%s' (see agent --help)",
		         argv[optind - 1]);
		return -EINVAL;
	}
	return rc;
}

/* What the command line must hold together once every option is read. */
static int options_check(struct agent_options *o, const struct options_seen *seen, char *err,
                         size_t errlen)
{
	const char *why = NULL;

	if (o->mode == AGENT_MODE_CONTROL) {
		if (o->target_arg || seen->n || seen->load)
			why =
			    "agent: --coordinator: the plan sets the target, connections, load and "
			    "churn; drop --target, -n, --load-* and --churn-*";
		else
			return options_check_control(o, err, errlen);
	} else if (o->curve_secret || o->coordinator_key)
		why = "agent: --curve-secret and --coordinator-key need --coordinator";
	else if (!o->target_arg)
		why = "agent: missing --target HOST:PORT (see agent --help)";
	else if (!seen->n)
		why = "agent: missing -n N (see agent --help)";
	else if (seen->churn_duration && o->churn_rate == 0)
		why = "agent: --churn-duration needs --churn-rate R";
	else if (seen->load_detail && o->load_rate == 0)
		why = "agent: --load-duration and --load-payload need --load-rate R";
	if (why != NULL) {
		snprintf(err, errlen, "%s", why);
		return -EINVAL;
	}
	if (!fence_allows(&o->fence, o->target.sin_addr)) {
		char nets[256], addr[INET_ADDRSTRLEN];
		fence_format(&o->fence, nets, sizeof(nets));
		inet_ntop(AF_INET, &o->target.sin_addr, addr, sizeof(addr));
		snprintf(err, errlen,
		         "agent: --target %s (%s) is outside the allowed networks (%s); widen them "
		         "with --allow-target CIDR",
		         o->target_arg, addr, nets);
		return -EINVAL;
	}
	return 0;
}

int options_parse(int argc, char **argv, struct agent_options *o, char *err, size_t errlen)
{
	struct options_seen seen = {0};
	int c, rc = 0;

	options_defaults(o);
	optind = 0; /* glibc: full re-initialisation, so tests can parse repeatedly */
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":n:h", options_long, NULL)) != -1) {
		if (c == 'h' || c == OPT_HELP) {
			o->mode = AGENT_MODE_HELP;
			return 0;
		}
		rc = options_one(c, argv, o, &seen, err, errlen);
		if (rc < 0)
			goto fail;
	}
	if (optind < argc) {
		snprintf(err, errlen, "agent: unexpected argument '%s'", argv[optind]);
		rc = -EINVAL;
		goto fail;
	}
	if (o->gen_keys) {
		o->mode = AGENT_MODE_GEN_KEYS;
		return 0;
	}
	rc = options_check(o, &seen, err, errlen);
	if (rc == 0)
		return 0;
fail:
	options_free(o);
	return rc;
}

void options_free(struct agent_options *o)
{
	free(o->sources);
	o->sources = NULL;
	o->nsources = 0;
}
