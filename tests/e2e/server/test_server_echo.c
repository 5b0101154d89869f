/*
 * e2e: 2000 connections held at once against one server model, payloads of
 * mixed sizes up to 64 KiB (forcing partial reads and writes), one 8 MiB
 * payload that the server must push back while the client is still sending,
 * byte-exact echoes, the stats endpoint at 2000 and then 0, and the summary
 * on SIGTERM with exit 0.
 *
 * usage: test_server_echo SERVER MODEL SOURCE_IP
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "testlib.h"

#define NCONN 2000
#define BIG   (8 * 1024 * 1024)

static unsigned char *payload(size_t len, unsigned seed)
{
	unsigned char *p = malloc(len);

	for (size_t i = 0; i < len; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = (unsigned char)(seed >> 16);
	}
	return p;
}

/* Sizes cycle through 1 byte .. 64 KiB, both sides of the server's 2 KiB buffer. */
static size_t size_of(int i)
{
	static const size_t sizes[] = {1, 100, 2047, 2048, 2049, 10000, 65536, 65535, 4096, 777};

	return sizes[i % (int)(sizeof(sizes) / sizeof(sizes[0]))];
}

static int echo_all(int *fds, const struct sockaddr_in *dst, const char *src)
{
	int ok = 0;

	for (int i = 0; i < NCONN; i++) {
		fds[i] = tl_connect(src, dst);
		CHECK(fds[i] >= 0, "connection %d was not established", i);
	}
	for (int i = 0; i < NCONN; i++) {
		size_t len = size_of(i);
		unsigned char *p = payload(len, (unsigned)i);
		if (fds[i] >= 0 && tl_echo(fds[i], p, len, 10000) == 0)
			ok++;
		free(p);
	}
	return ok;
}

int main(int argc, char **argv)
{
	static int fds[NCONN];
	char addr[64], endpoint[256], value[128];
	struct sockaddr_in dst;
	struct tl_proc srv;
	struct server_stats st;

	if (argc != 4) {
		fprintf(stderr, "usage: %s SERVER MODEL SOURCE_IP\n", argv[0]);
		return 2;
	}
	char *args[] = {argv[1],        "--listen", "127.0.0.1:0", "--model",           argv[2],
	                "--stack-size", "64k",      "--stats",     "tcp://127.0.0.1:*", NULL};
	if (tl_spawn(&srv, args, 0) < 0 ||
	    tl_expect_line(&srv, "server: listening on ", addr, sizeof(addr), 5000) < 0 ||
	    tl_expect_line(&srv, "server: stats on ", endpoint, sizeof(endpoint), 5000) < 0) {
		fprintf(stderr, "server did not start: %s\n", srv.buf);
		return 1;
	}
	tl_parse_addr(addr, &dst);

	CHECK_EQ(echo_all(fds, &dst, argv[3]), NCONN);
	CHECK_EQ(tl_wait_current(endpoint, NCONN, 5000), NCONN);
	CHECK(tl_stats(endpoint, &st, 2000) == 0, "no stats");
	CHECK_EQ(st.conns_total, NCONN);
	CHECK(st.fds >= NCONN, "fds %lld < %d", (long long)st.fds, NCONN);
	CHECK(st.user_kb_per_conn > 0, "user_kb_per_conn %.2f", st.user_kb_per_conn);
	if (strcmp(argv[2], "threads") == 0)
		CHECK(st.threads >= NCONN + 1, "threads %lld", (long long)st.threads);
	CHECK_EQ(st.stack_size, strcmp(argv[2], "threads") == 0 ? 65536 : 0);

	/* A payload far larger than socket buffers: the server must echo while we send. */
	unsigned char *big = payload(BIG, 42);
	CHECK(tl_echo(fds[0], big, BIG, 30000) == 0, "8 MiB echo failed");
	free(big);

	for (int i = 0; i < NCONN; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	CHECK_EQ(tl_wait_current(endpoint, 0, 10000), 0);

	int status = tl_stop(&srv, SIGTERM, 10000);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "exit status %#x", status);
	snprintf(value, sizeof(value), "Max conc        %d\n", NCONN);
	CHECK(strstr(srv.buf, value) != NULL, "summary lacks '%s':\n%s", value, srv.buf);
	snprintf(value, sizeof(value), "Total           %d\n", NCONN);
	CHECK(strstr(srv.buf, value) != NULL, "summary lacks '%s'", value);
	CHECK(strstr(srv.buf, "Now             0\n") != NULL, "summary lacks Now 0");
	CHECK(strstr(srv.buf, "resident ") != NULL, "summary lacks resident");
	return check_failed() ? 1 : 0;
}
