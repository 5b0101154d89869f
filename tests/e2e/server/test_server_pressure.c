/*
 * e2e: a server under pressure. Two servers, each sent several times more
 * connections than it may hold:
 *  - one under an open-files limit of 64: the excess is shed (EMFILE), counted;
 *  - one with --max-conns 20: the excess is refused as max_conns.
 * In both, every connection is either served (echoes) or refused (counted),
 * exactly; the server stays up; and a fresh connection afterwards echoes.
 *
 * usage: test_server_pressure SERVER MODEL SOURCE_IP
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "testlib.h"

#define NCONN 300

struct scenario {
	const char *name;
	long nofile;           /* RLIMIT_NOFILE for the server, 0 = inherit */
	const char *max_conns; /* --max-conns, or NULL */
	enum stats_refusal reason;
};

static long refused(const char *endpoint, enum stats_refusal reason, long *current)
{
	struct server_stats st;

	if (tl_stats(endpoint, &st, 2000) < 0)
		return -1;
	*current = (long)st.conns_current;
	return (long)st.refused[reason];
}

static void run(const struct scenario *sc, char **argv)
{
	static int fds[NCONN];
	char addr[64], endpoint[256];
	struct sockaddr_in dst;
	struct tl_proc srv;
	long current = 0, shed = 0;
	const unsigned char msg[] = "are you there?";
	char *args[16] = {argv[1],        "--listen", "127.0.0.1:0", "--model",           argv[2],
	                  "--stack-size", "64k",      "--stats",     "tcp://127.0.0.1:*", NULL};

	if (sc->max_conns) {
		args[9] = "--max-conns";
		args[10] = (char *)sc->max_conns;
		args[11] = NULL;
	}
	if (tl_spawn(&srv, args, sc->nofile) < 0 ||
	    tl_expect_line(&srv, "server: listening on ", addr, sizeof(addr), 5000) < 0 ||
	    tl_expect_line(&srv, "server: stats on ", endpoint, sizeof(endpoint), 5000) < 0) {
		CHECK(0, "%s: server did not start: %s", sc->name, srv.buf);
		return;
	}
	tl_parse_addr(addr, &dst);
	for (int i = 0; i < NCONN; i++)
		fds[i] = tl_connect(argv[3], &dst);
	/* Wait (bounded) until the server has decided about every connection. */
	for (int i = 0; i < 200; i++) {
		shed = refused(endpoint, sc->reason, &current);
		if (shed + current >= NCONN)
			break;
		usleep(50 * 1000);
	}
	struct server_stats st;
	if (shed + current < NCONN && tl_stats(endpoint, &st, 2000) == 0)
		fprintf(stderr,
		        "%s: stalled: current %lld, refused emfile %lld enfile %lld thread %lld "
		        "other %lld, fds %lld, threads %lld\n",
		        sc->name, (long long)st.conns_current,
		        (long long)st.refused[STATS_REFUSED_EMFILE],
		        (long long)st.refused[STATS_REFUSED_ENFILE],
		        (long long)st.refused[STATS_REFUSED_THREAD],
		        (long long)st.refused[STATS_REFUSED_OTHER], (long long)st.fds,
		        (long long)st.threads);
	int ok = 0;
	for (int i = 0; i < NCONN; i++) {
		if (fds[i] >= 0 && tl_echo(fds[i], msg, sizeof(msg), 5000) == 0)
			ok++;
		if (fds[i] >= 0)
			close(fds[i]);
	}
	fprintf(stderr, "%s: %d served, %ld refused\n", sc->name, ok, shed);
	CHECK(ok > 0 && ok < NCONN, "%s: served %d of %d", sc->name, ok, NCONN);
	CHECK_EQ(ok, current);
	CHECK_EQ(ok + shed, NCONN);
	if (sc->max_conns)
		CHECK_EQ(ok, atol(sc->max_conns));
	CHECK_EQ(tl_wait_current(endpoint, 0, 10000), 0);

	/* Still serving: a fresh connection echoes. */
	int fd = tl_connect(argv[3], &dst);
	CHECK(fd >= 0 && tl_echo(fd, msg, sizeof(msg), 5000) == 0, "%s: fresh echo", sc->name);
	if (fd >= 0)
		close(fd);

	int status = tl_stop(&srv, SIGTERM, 10000);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: exit status %#x", sc->name,
	      status);
}

int main(int argc, char **argv)
{
	static const struct scenario scenarios[] = {
	    {"open-files limit 64", 64, NULL, STATS_REFUSED_EMFILE},
	    {"--max-conns 20", 0, "20", STATS_REFUSED_MAX_CONNS},
	};

	if (argc != 4) {
		fprintf(stderr, "usage: %s SERVER MODEL SOURCE_IP\n", argv[0]);
		return 2;
	}
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++)
		run(&scenarios[i], argv);
	return check_failed() ? 1 : 0;
}
