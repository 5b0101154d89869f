/*
 * e2e: the server under abuse, one case per run, while a well-behaved client
 * keeps checking that it is still served correctly:
 *
 *  idle      100 clients connect and never send: all are counted and held
 *            (no EOF, no reset) for 3 s, and another client still echoes.
 *  flood     4 clients send as fast as the server takes bytes and never read
 *            (trying 32 MiB each): back-pressure stops each of them short,
 *            the server's RSS grows by less than 8 MiB, and another client
 *            echoes during the flood. Closing them (unread data: RST) is
 *            counted as resets and current returns to 0.
 *  resets    3000 connections closed with SO_LINGER 0 (an RST), half of them
 *            after sending a byte: the server stays up, counts the resets,
 *            current returns to 0, and a fresh connection echoes.
 *  halfopen  50 clients send 0..256 KiB, then shutdown(SHUT_WR): each reads
 *            its whole echo and then EOF (the server echoes what it got, then
 *            closes), and none of it counts as a reset.
 *
 * usage: test_server_abuse SERVER MODEL SOURCE_IP idle|flood|resets|halfopen
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "testlib.h"

#define NIDLE        100
#define NFLOOD       4
#define FLOOD_TRY    (32L * 1024 * 1024)
#define RSS_SLACK_KB (8 * 1024)
#define NRESETS      3000
#define NHALF        50

struct ctx {
	const char *model;
	const char *src; /* 127.0.0.x every client binds to */
	struct sockaddr_in dst;
	char endpoint[256];
	struct tl_proc srv;
};

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void fill_pattern(unsigned char *p, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (unsigned char)(seed >> 16);
	}
}

/* One connection, one echo of a few KB, closed: the server still serves. */
static int good_echo(const struct ctx *c, unsigned seed)
{
	unsigned char msg[3000];
	int fd = tl_connect(c->src, &c->dst);
	int rc = -1;

	fill_pattern(msg, sizeof(msg), seed);
	if (fd >= 0)
		rc = tl_echo(fd, msg, sizeof(msg), 10000);
	if (fd >= 0)
		close(fd);
	return rc;
}

static struct server_stats stats(const struct ctx *c)
{
	struct server_stats st;

	if (tl_stats(c->endpoint, &st, 5000) != 0) {
		CHECK(0, "no answer from the stats endpoint");
		memset(&st, 0, sizeof(st));
		st.conns_current = -1;
	}
	return st;
}

/* True if the server closed or reset fd (it must not, for a client that is only quiet). */
static int peer_gone(int fd)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};
	char b;

	if (poll(&pfd, 1, 0) <= 0)
		return 0;
	return recv(fd, &b, 1, MSG_DONTWAIT) <= 0;
}

static void case_idle(struct ctx *c)
{
	static int fds[NIDLE];
	int gone = 0;

	for (int i = 0; i < NIDLE; i++) {
		fds[i] = tl_connect(c->src, &c->dst);
		CHECK(fds[i] >= 0, "idle connection %d not established", i);
	}
	CHECK_EQ(tl_wait_current(c->endpoint, NIDLE, 10000), NIDLE);
	/* Held for 3 s while someone else is served, once per half second. */
	for (int round = 0; round < 6; round++) {
		CHECK(good_echo(c, (unsigned)round) == 0, "echo beside %d idle clients", NIDLE);
		poll(NULL, 0, 500);
	}
	for (int i = 0; i < NIDLE; i++)
		gone += fds[i] >= 0 && peer_gone(fds[i]);
	CHECK_EQ(gone, 0);
	struct server_stats st = stats(c);
	CHECK_EQ(st.conns_current, NIDLE);
	CHECK_EQ(st.conns_total, NIDLE + 6);
	if (strcmp(c->model, "threads") == 0)
		CHECK(st.threads >= NIDLE + 1, "threads %lld for %d idle clients",
		      (long long)st.threads, NIDLE);
	/* A quiet client still gets its echo when it finally speaks. */
	CHECK(fds[0] >= 0 && tl_echo(fds[0], (const unsigned char *)"late", 4, 5000) == 0,
	      "late echo on an idle connection");
	for (int i = 0; i < NIDLE; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	CHECK_EQ(tl_wait_current(c->endpoint, 0, 10000), 0);
	CHECK_EQ(stats(c).resets, 0);
}

/*
 * Sends from every flooder until each has either pushed FLOOD_TRY bytes or
 * made no progress for 2 s (the server stopped taking bytes), checking on
 * the way that a good client is still served. Returns bytes pushed in total.
 */
static long flood(const struct ctx *c, const int *fds, long *pushed)
{
	static unsigned char chunk[256 * 1024];
	long last_progress[NFLOOD], total = 0, next_echo = now_ms() + 500;
	long deadline = now_ms() + 60000;
	int active = NFLOOD, echoes = 0;

	fill_pattern(chunk, sizeof(chunk), 7);
	for (int i = 0; i < NFLOOD; i++)
		last_progress[i] = now_ms();
	while (active > 0 && now_ms() < deadline) {
		struct pollfd pfd[NFLOOD];

		for (int i = 0; i < NFLOOD; i++) {
			int live = fds[i] >= 0 && pushed[i] < FLOOD_TRY &&
			           now_ms() - last_progress[i] < 2000;
			pfd[i] = (struct pollfd){.fd = live ? fds[i] : -1, .events = POLLOUT};
		}
		poll(pfd, NFLOOD, 100);
		active = 0;
		for (int i = 0; i < NFLOOD; i++) {
			if (pfd[i].fd < 0)
				continue;
			active++;
			if (!(pfd[i].revents & POLLOUT))
				continue;
			ssize_t n = send(fds[i], chunk, sizeof(chunk), MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n > 0) {
				pushed[i] += n;
				last_progress[i] = now_ms();
			}
		}
		if (now_ms() >= next_echo) {
			CHECK(good_echo(c, 100u + (unsigned)echoes) == 0, "echo during the flood");
			echoes++;
			next_echo = now_ms() + 500;
		}
	}
	CHECK(active == 0, "the flood did not end within 60 s");
	CHECK(echoes >= 1 || good_echo(c, 99) == 0, "echo during the flood");
	for (int i = 0; i < NFLOOD; i++)
		total += pushed[i];
	return total;
}

static void case_flood(struct ctx *c)
{
	int fds[NFLOOD];
	long pushed[NFLOOD] = {0};

	/* Warm up (first thread, first ZeroMQ reply) before taking the baseline. */
	CHECK(good_echo(c, 1) == 0, "first echo");
	CHECK_EQ(tl_wait_current(c->endpoint, 0, 5000), 0);
	struct server_stats before = stats(c);
	for (int i = 0; i < NFLOOD; i++) {
		fds[i] = tl_connect(c->src, &c->dst);
		CHECK(fds[i] >= 0, "flooder %d not established", i);
	}
	long total = flood(c, fds, pushed);
	struct server_stats during = stats(c);
	fprintf(stderr,
	        "flood: %ld kB pushed by %d clients that never read; server rss %lld -> %lld kB\n",
	        total / 1024, NFLOOD, (long long)before.rss_kb, (long long)during.rss_kb);
	for (int i = 0; i < NFLOOD; i++)
		CHECK(pushed[i] < FLOOD_TRY, "flooder %d pushed %ld bytes: nothing held it back", i,
		      pushed[i]);
	CHECK(during.rss_kb - before.rss_kb < RSS_SLACK_KB,
	      "server rss grew by %lld kB under the flood (limit %d)",
	      (long long)(during.rss_kb - before.rss_kb), RSS_SLACK_KB);
	CHECK_EQ(tl_wait_current(c->endpoint, NFLOOD, 5000), NFLOOD);
	CHECK(good_echo(c, 2) == 0, "echo while the flooders are stalled");
	/* Closing with unread echo in the receive queue sends an RST. */
	for (int i = 0; i < NFLOOD; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	CHECK_EQ(tl_wait_current(c->endpoint, 0, 20000), 0);
	CHECK_EQ(stats(c).resets, NFLOOD);
}

/* connect, maybe one byte, then an abortive close (RST instead of FIN). */
static int connect_reset(const struct ctx *c, int send_first)
{
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	int fd = tl_connect(c->src, &c->dst);

	if (fd < 0)
		return -1;
	if (send_first)
		send(fd, "x", 1, MSG_NOSIGNAL);
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(fd);
	return 0;
}

static void case_resets(struct ctx *c)
{
	long deadline = now_ms() + 60000;
	int done = 0, failed = 0;

	for (int i = 0; i < NRESETS && now_ms() < deadline; i++) {
		if (connect_reset(c, i % 2) == 0)
			done++;
		else
			failed++;
		/* Now and then, someone well-behaved. */
		if (i % 500 == 499)
			CHECK(good_echo(c, (unsigned)i) == 0, "echo after %d resets", i + 1);
	}
	CHECK_EQ(done, NRESETS);
	CHECK_EQ(failed, 0);
	CHECK_EQ(tl_wait_current(c->endpoint, 0, 20000), 0);
	struct server_stats st = stats(c);
	fprintf(stderr, "resets: %d connect-and-reset, server counted %lld resets of %lld served\n",
	        done, (long long)st.resets, (long long)st.conns_total);
	/*
	 * An RST can beat accept() or the first read, so not every one is a
	 * counted reset; those that sent a byte first (half) all are.
	 */
	CHECK(st.resets >= NRESETS / 2 && st.resets <= NRESETS,
	      "resets %lld for %d aborted connections", (long long)st.resets, NRESETS);
	CHECK(st.conns_total >= st.resets, "total %lld < resets %lld", (long long)st.conns_total,
	      (long long)st.resets);
	CHECK(good_echo(c, 3) == 0, "fresh echo after the resets");
}

static void case_halfopen(struct ctx *c)
{
	static unsigned char data[256 * 1024];
	static const size_t sizes[] = {0, 1, 2047, 2048, 2049, 65536, 100000, sizeof(data)};
	int ok = 0;

	fill_pattern(data, sizeof(data), 11);
	for (int i = 0; i < NHALF; i++) {
		size_t len = sizes[i % (int)(sizeof(sizes) / sizeof(sizes[0]))];
		int fd = tl_connect(c->src, &c->dst);

		if (fd >= 0 && tl_echo_ex(fd, data, len, 10000, true) == 0)
			ok++;
		else
			CHECK(0, "half-closed connection %d (%zu bytes): echo then EOF", i, len);
		if (fd >= 0)
			close(fd);
	}
	CHECK_EQ(ok, NHALF);
	CHECK_EQ(tl_wait_current(c->endpoint, 0, 10000), 0);
	struct server_stats st = stats(c);
	CHECK_EQ(st.conns_total, NHALF);
	CHECK_EQ(st.resets, 0);
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		void (*run)(struct ctx *);
	} cases[] = {
	    {"idle", case_idle},
	    {"flood", case_flood},
	    {"resets", case_resets},
	    {"halfopen", case_halfopen},
	};
	struct ctx c = {.model = argc > 2 ? argv[2] : "", .src = argc > 3 ? argv[3] : ""};
	char addr[64];
	size_t i = 0;

	while (argc == 5 && i < sizeof(cases) / sizeof(cases[0]) && strcmp(cases[i].name, argv[4]))
		i++;
	if (argc != 5 || i == sizeof(cases) / sizeof(cases[0])) {
		fprintf(stderr, "usage: %s SERVER MODEL SOURCE_IP idle|flood|resets|halfopen\n",
		        argv[0]);
		return 2;
	}
	char *args[] = {argv[1],        "--listen", "127.0.0.1:0", "--model",           argv[2],
	                "--stack-size", "64k",      "--stats",     "tcp://127.0.0.1:*", NULL};
	if (tl_spawn(&c.srv, args, 0) < 0 ||
	    tl_expect_line(&c.srv, "server: listening on ", addr, sizeof(addr), 5000) < 0 ||
	    tl_expect_line(&c.srv, "server: stats on ", c.endpoint, sizeof(c.endpoint), 5000) < 0) {
		fprintf(stderr, "server did not start: %s\n", c.srv.buf);
		return 1;
	}
	tl_parse_addr(addr, &c.dst);
	cases[i].run(&c);
	int status = tl_stop(&c.srv, SIGTERM, 10000);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "exit status %#x: %s", status,
	      c.srv.buf);
	return check_failed() ? 1 : 0;
}
