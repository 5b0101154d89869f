/* Option parsing: defaults, values, and the exact error sentence for each bad invocation. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>

#include "check.h"
#include "options.h"
#include "preflight.h"

static char err[512];

/* Parses a NULL-terminated argument list (after argv[0]). */
static int parse(struct agent_options *o, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;

	argv[argc++] = "agent";
	va_start(ap, o);
	while ((argv[argc] = va_arg(ap, char *)) != NULL)
		argc++;
	va_end(ap);
	err[0] = '\0';
	return options_parse(argc, argv, o, err, sizeof(err));
}

static void expect_error(const char *expected, int rc)
{
	CHECK_EQ_U(rc, (unsigned long long)-EINVAL);
	CHECK_STR_EQ(err, expected);
}

static void test_good(void)
{
	struct agent_options o;
	char addr[INET_ADDRSTRLEN];

	CHECK_EQ_U(parse(&o, "--target", "127.0.0.1:1234", "-n", "100", NULL), 0);
	CHECK_EQ_U(o.mode, AGENT_MODE_STANDALONE);
	CHECK_EQ_U(o.n, 100);
	CHECK_EQ_U(ntohs(o.target.sin_port), 1234);
	CHECK_EQ_U(o.payload, 64);
	CHECK_EQ_U(o.rounds, 1);
	CHECK_EQ_U(o.rate, 0);
	CHECK_EQ_U(o.connect_timeout_ms, 3000);
	CHECK_EQ_U(o.echo_timeout_ms, 5000);
	CHECK_EQ_U(o.nsources, 0);
	options_free(&o);

	CHECK_EQ_U(parse(&o, "--target", "127.0.0.1:9", "-n", "5", "--rate", "2000", "--payload",
	                 "1000", "--rounds", "3", "--interval", "10", "--hold", "2", "--threads",
	                 "4", "--connect-timeout", "500", "--echo-timeout", "700", "--json",
	                 "--source-ip", "127.0.0.1,127.0.0.2", NULL),
	           0);
	CHECK_EQ_U(o.rate, 2000);
	CHECK_EQ_U(o.payload, 1000);
	CHECK_EQ_U(o.rounds, 3);
	CHECK_EQ_U(o.interval_ms, 10);
	CHECK_EQ_U(o.hold_s, 2);
	CHECK_EQ_U(o.threads, 4);
	CHECK_EQ_U(o.connect_timeout_ms, 500);
	CHECK_EQ_U(o.echo_timeout_ms, 700);
	CHECK(o.json);
	CHECK_EQ_U(o.nsources, 2);
	inet_ntop(AF_INET, &o.sources[1], addr, sizeof(addr));
	CHECK_STR_EQ(addr, "127.0.0.2");
	options_free(&o);

	/* CIDR: hosts only (no network/broadcast) up to /30; /31 and /32 are all hosts. */
	CHECK_EQ_U(
	    parse(&o, "--target", "127.0.0.1:9", "-n", "5", "--source-ip", "127.0.1.0/29", NULL),
	    0);
	CHECK_EQ_U(o.nsources, 6);
	inet_ntop(AF_INET, &o.sources[0], addr, sizeof(addr));
	CHECK_STR_EQ(addr, "127.0.1.1");
	inet_ntop(AF_INET, &o.sources[5], addr, sizeof(addr));
	CHECK_STR_EQ(addr, "127.0.1.6");
	options_free(&o);
	CHECK_EQ_U(
	    parse(&o, "--target", "127.0.0.1:9", "-n", "5", "--source-ip", "127.0.0.7/32", NULL),
	    0);
	CHECK_EQ_U(o.nsources, 1);
	options_free(&o);

	/* Durations: fractions and units, as the plan's hold_s takes 2.5. */
	CHECK_EQ_U(parse(&o, "--target", "127.0.0.1:9", "-n", "5", "--hold", "1.5", "--interval",
	                 "0.25s", "--connect-timeout", "2.5s", "--echo-timeout", "1m", NULL),
	           0);
	CHECK(o.hold_s == 1.5);
	CHECK_EQ_U(o.interval_ms, 250);
	CHECK_EQ_U(o.connect_timeout_ms, 2500);
	CHECK_EQ_U(o.echo_timeout_ms, 60000);
	options_free(&o);
	CHECK_EQ_U(parse(&o, "--target", "127.0.0.1:9", "-n", "5", "--hold", "250ms", NULL), 0);
	CHECK(o.hold_s == 0.25);
	options_free(&o);

	/* Load: off by default; the duration takes units; the payload defaults to --payload. */
	CHECK_EQ_U(parse(&o, "--target", "127.0.0.1:9", "-n", "5", NULL), 0);
	CHECK_EQ_U(o.load_rate, 0);
	CHECK_EQ_U(o.load_duration_ms, 10000);
	options_free(&o);
	CHECK_EQ_U(parse(&o, "--target", "127.0.0.1:9", "-n", "5", "--load-rate", "50000",
	                 "--load-duration", "1.5m", "--load-payload", "512", NULL),
	           0);
	CHECK_EQ_U(o.load_rate, 50000);
	CHECK_EQ_U(o.load_duration_ms, 90000);
	CHECK_EQ_U(o.load_payload, 512);
	options_free(&o);
	CHECK_EQ_U(parse(&o, "--target", "127.0.0.1:9", "-n", "5", "--churn-rate", "300",
	                 "--churn-duration", "500ms", NULL),
	           0);
	CHECK_EQ_U(o.churn_rate, 300);
	CHECK_EQ_U(o.churn_duration_ms, 500);
	CHECK_EQ_U(o.load_rate, 0);
	options_free(&o);

	CHECK_EQ_U(parse(&o, "--coordinator", "tcp://127.0.0.1:5700", NULL), 0);
	CHECK_EQ_U(o.mode, AGENT_MODE_CONTROL);
	options_free(&o);
	CHECK_EQ_U(parse(&o, "--help", NULL), 0);
	CHECK_EQ_U(o.mode, AGENT_MODE_HELP);
}

static void test_errors(void)
{
	struct agent_options o;

	expect_error("agent: missing --target HOST:PORT (see agent --help)",
	             parse(&o, "-n", "5", NULL));
	expect_error("agent: missing -n N (see agent --help)",
	             parse(&o, "--target", "127.0.0.1:1", NULL));
	expect_error("agent: -n: expected an integer from 1 to 4294967295, got '0'",
	             parse(&o, "--target", "127.0.0.1:1", "-n", "0", NULL));
	expect_error("agent: -n: expected a positive integer, got '10k'",
	             parse(&o, "--target", "127.0.0.1:1", "-n", "10k", NULL));
	expect_error("agent: --rate: expected a non-negative integer, got '-5'",
	             parse(&o, "--target", "127.0.0.1:1", "-n", "5", "--rate", "-5", NULL));
	expect_error("agent: --payload: expected an integer from 1 to 1048576, got '2000000'",
	             parse(&o, "--target", "127.0.0.1:1", "-n", "5", "--payload", "2000000", NULL));
	expect_error("agent: --rounds: expected a non-negative integer, got 'many'",
	             parse(&o, "--target", "127.0.0.1:1", "-n", "5", "--rounds", "many", NULL));
	expect_error("agent: --threads: expected an integer from 1 to 1024, got '0'",
	             parse(&o, "--target", "127.0.0.1:1", "-n", "5", "--threads", "0", NULL));
	expect_error("agent: --hold: expected a duration in seconds (e.g. 1.5, 250ms, 2m), got "
	             "'1.5x'",
	             parse(&o, "--target", "127.0.0.1:1", "-n", "5", "--hold", "1.5x", NULL));
	expect_error("agent: --hold: expected a duration from 0 to 604800 s, got '200h'",
	             parse(&o, "--target", "127.0.0.1:1", "-n", "5", "--hold", "200h", NULL));
	expect_error(
	    "agent: --connect-timeout: expected a duration from 1 ms to 3600 s, got '0'",
	    parse(&o, "--target", "127.0.0.1:1", "-n", "5", "--connect-timeout", "0", NULL));
	expect_error("agent: --load-rate: expected an integer from 1 to 100000000, got '0'",
	             parse(&o, "--target", "127.0.0.1:1", "-n", "5", "--load-rate", "0", NULL));
	expect_error("agent: --churn-duration needs --churn-rate R",
	             parse(&o, "--target", "127.0.0.1:1", "-n", "5", "--load-rate", "5",
	                   "--churn-duration", "5", NULL));
	expect_error("agent: --load-duration and --load-payload need --load-rate R",
	             parse(&o, "--target", "127.0.0.1:1", "-n", "5", "--churn-rate", "5",
	                   "--load-duration", "5", NULL));
	expect_error("agent: --load-duration and --load-payload need --load-rate R",
	             parse(&o, "--target", "127.0.0.1:1", "-n", "5", "--load-duration", "5", NULL));
	expect_error("agent: --coordinator: the plan sets the target, connections, load and churn; "
	             "drop --target, -n, --load-* and --churn-*",
	             parse(&o, "--coordinator", "tcp://127.0.0.1:1", "--load-rate", "5", NULL));
	/* netaddr's grammar, as the plan's target.host and server --listen have it. */
	expect_error("agent: --target: expected an IPv4 address (dotted quad) or a host name, got "
	             "'127.1'",
	             parse(&o, "--target", "127.1:80", "-n", "5", NULL));
	expect_error("agent: --target: expected HOST:PORT, got '127.0.0.1'",
	             parse(&o, "--target", "127.0.0.1", "-n", "5", NULL));
	expect_error("agent: --target: expected a port from 1 to 65535, got '70000'",
	             parse(&o, "--target", "127.0.0.1:70000", "-n", "5", NULL));
	expect_error("agent: --source-ip: '10.0.0.300' is not an IPv4 address",
	             parse(&o, "--target", "127.0.0.1:1", "-n", "5", "--source-ip",
	                   "10.0.0.1,10.0.0.300", NULL));
	expect_error(
	    "agent: --source-ip: expected a prefix length from 0 to 32, got '33'",
	    parse(&o, "--target", "127.0.0.1:1", "-n", "5", "--source-ip", "10.0.0.0/33", NULL));
	expect_error(
	    "agent: --source-ip: '10.0.0.0/8' holds 16777214 addresses, more than the "
	    "4096 supported",
	    parse(&o, "--target", "127.0.0.1:1", "-n", "5", "--source-ip", "10.0.0.0/8", NULL));
	expect_error("agent: --source-ip: empty or oversized entry in '10.0.0.1,,10.0.0.2'",
	             parse(&o, "--target", "127.0.0.1:1", "-n", "5", "--source-ip",
	                   "10.0.0.1,,10.0.0.2", NULL));
	expect_error(
	    "agent: --source-ip: empty or oversized entry in '10.0.0.1,'",
	    parse(&o, "--target", "127.0.0.1:1", "-n", "5", "--source-ip", "10.0.0.1,", NULL));
	expect_error("agent: unknown option '--bogus' (see agent --help)",
	             parse(&o, "--target", "127.0.0.1:1", "-n", "5", "--bogus", NULL));
	expect_error("agent: --rate: missing value",
	             parse(&o, "--target", "127.0.0.1:1", "-n", "5", "--rate", NULL));
	expect_error("agent: --source-ip: 127.0.0.1 is given twice",
	             parse(&o, "--target", "127.0.0.1:1", "-n", "5", "--source-ip",
	                   "127.0.0.1,127.0.0.2,127.0.0.1", NULL));
	expect_error("agent: unexpected argument 'extra'",
	             parse(&o, "--target", "127.0.0.1:1", "-n", "5", "extra", NULL));
	expect_error("agent: --coordinator: the plan sets the target, connections, load and churn; "
	             "drop --target, -n, --load-* and --churn-*",
	             parse(&o, "--coordinator", "tcp://x:1", "-n", "5", NULL));
}

static void test_preflight(void)
{
	struct host_limits l;

	memset(&l, 0, sizeof(l));
	l.nofile_soft = 20000;
	l.nofile_hard = 20000;
	l.nr_open = 1048576;
	l.port_lo = 32768;
	l.port_hi = 60999;
	CHECK_EQ_U(preflight_limits(&l, 19000, 2, 0, err, sizeof(err)), 0);
	CHECK_EQ_U(preflight_limits(&l, 30000, 2, 2, err, sizeof(err)),
	           (unsigned long long)-ENOSPC);
	CHECK_STR_EQ(err, "agent: preflight: -n 30,000 needs 30,020 open files but the open-files "
	                  "limit (RLIMIT_NOFILE) is 20000; raise it (ulimit -n, LimitNOFILE= in "
	                  "systemd, nofile in limits.conf; the ceiling is fs.nr_open = 1048576) or "
	                  "split the connections over several agents");
	l.nofile_soft = 100000;
	CHECK_EQ_U(preflight_limits(&l, 30000, 2, 0, err, sizeof(err)),
	           (unsigned long long)-ENOSPC);
	CHECK_STR_EQ(err,
	             "agent: preflight: -n 30,000 from 1 source address needs 30,000 ports per "
	             "source address but net.ipv4.ip_local_port_range 32768-60999 gives 28,232 per "
	             "(source, target); add addresses with --source-ip (each gives 28,232 more) or "
	             "widen the range (sysctl -w net.ipv4.ip_local_port_range=\"1024 65535\")");
	CHECK_EQ_U(preflight_limits(&l, 30000, 2, 2, err, sizeof(err)), 0);

	/* Half the range a source address: quiet; one more: said, as a warning. */
	CHECK_EQ_U(preflight_port_warning(&l, 14116, 0, err, sizeof(err)), 0);
	CHECK_EQ_U(preflight_port_warning(&l, 28232, 2, err, sizeof(err)), 0);
	CHECK_EQ_U(preflight_port_warning(&l, 14117, 0, err, sizeof(err)), 1);
	CHECK_EQ_U(preflight_port_warning(&l, 30000, 2, err, sizeof(err)), 1);
	CHECK_STR_EQ(err,
	             "agent: preflight: warning: 15,000 connections a source address take 53% of "
	             "the 28,232 ports net.ipv4.ip_local_port_range 32768-60999 gives it; "
	             "connect() slows sharply past half (it tries every even port before an odd "
	             "one): more addresses (--source-ip) keep each below 14,116");
}

int main(void)
{
	test_good();
	test_errors();
	test_preflight();
	return check_exit("unit.agent.options");
}
