/*
 * options — the agent's command line. Parsing never prints or exits: it fills
 * struct agent_options or returns -EINVAL with one sentence naming the option
 * and the value ("agent: --rate: expected a non-negative integer, got 'x'").
 */
#ifndef CONNSCALE_OPTIONS_H
#define CONNSCALE_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include "fence.h"

#define OPTIONS_MAX_SOURCES 4096
#define OPTIONS_MAX_PAYLOAD (1024 * 1024)

/* The agent's exit codes (options_usage says them to the user). */
enum agent_exit {
	AGENT_EXIT_OK = 0, /* standalone: every connection and echo verified; control: stopped */
	AGENT_EXIT_FAILED =
	    1,                /* standalone: a failure or an interruption; control: socket failed */
	AGENT_EXIT_USAGE = 2, /* bad invocation, unusable keys, a preflight refusal */
};

enum agent_mode {
	AGENT_MODE_STANDALONE, /* --target HOST:PORT -n N */
	AGENT_MODE_CONTROL,    /* --coordinator ENDPOINT (driven over ZeroMQ) */
	AGENT_MODE_HELP,       /* --help */
	AGENT_MODE_GEN_KEYS,   /* --gen-keys DIR */
};

struct agent_options {
	enum agent_mode mode;
	const char *coordinator;     /* --coordinator ENDPOINT */
	const char *name;            /* --name NAME (control mode) */
	const char *target_arg;      /* --target as given, for messages */
	struct sockaddr_in target;   /* --target HOST:PORT */
	uint64_t n;                  /* -n N */
	uint64_t rate;               /* --rate R (0 = unlimited) */
	unsigned payload;            /* --payload B, default 64 */
	unsigned rounds;             /* --rounds K, default 1 (0 = no echo) */
	unsigned interval_ms;        /* --interval MS, default 0 */
	uint64_t load_rate;          /* --load-rate R messages/s (0 = no load phase) */
	uint64_t load_duration_ms;   /* --load-duration S, default 10 s */
	unsigned load_payload;       /* --load-payload B, default 0 = --payload */
	uint64_t churn_rate;         /* --churn-rate R connections/s (0 = no churn phase) */
	uint64_t churn_duration_ms;  /* --churn-duration S, default 10 s */
	double hold_s;               /* --hold S (fractions too: 1.5, 250ms), default 0 */
	unsigned threads;            /* --threads T, default 0 = online CPUs */
	unsigned connect_timeout_ms; /* --connect-timeout MS, default 3000 */
	unsigned echo_timeout_ms;    /* --echo-timeout MS, default 5000 */
	struct in_addr *sources;     /* --source-ip LIST|CIDR (malloc'ed) */
	unsigned nsources;
	bool json;                   /* --json */
	const char *gen_keys;        /* --gen-keys DIR */
	const char *curve_secret;    /* --curve-secret FILE: our CURVE secret key */
	const char *coordinator_key; /* --coordinator-key FILE: the coordinator's .pub */
	bool insecure;               /* --insecure: a non-loopback coordinator without keys */
	struct fence fence;          /* --allow-target CIDR[,CIDR...], default 127.0.0.0/8 */
};

int options_parse(int argc, char **argv, struct agent_options *o, char *err, size_t errlen);
void options_free(struct agent_options *o);
/* Parses "a.b.c.d,e.f.g.h" or "a.b.c.d/len" into a malloc'ed array. */
int options_parse_sources(const char *arg, struct in_addr **out, unsigned *count, char *err,
                          size_t errlen);
extern const char options_usage[];

#endif
