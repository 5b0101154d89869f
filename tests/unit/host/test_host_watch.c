/*
 * What server --watch reads: /proc/net/tcp rows, socket inode sets, the tally
 * of a process's own sockets by port, /proc/PID/stat and a task's context
 * switches; on fixtures, on broken text, and live on a socket this test holds.
 */
#include "host.h"
#include "check.h"
#include "fixture.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

/* Feeds every line of a fixture through host_parse_tcp_row and the tally; returns rows parsed. */
static long tally_fixture(const char *name, struct host_tcp_tally *t, const struct host_inodes *own)
{
	char *text = fixture_read(name);
	long parsed = 0;

	if (!text)
		return -1;
	for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
		struct host_tcp_row row;

		if (host_parse_tcp_row(line, &row) == 0) {
			host_tcp_tally_row(t, &row, own);
			parsed++;
		}
	}
	free(text);
	return parsed;
}

static void test_tcp_rows(void)
{
	struct host_tcp_row row = {0};
	char addr[INET6_ADDRSTRLEN];

	CHECK_EQ(host_parse_tcp_row("   1: 0100007F:1F90 0200007F:C350 01 00000000:00000000 "
	                            "00:00000000 00000000  1000        0 1002 1 0000 20 4 30 10 -1",
	                            &row),
	         0);
	CHECK_EQ(row.family, AF_INET);
	CHECK_EQ(row.port, 8080);
	CHECK_EQ(row.state, HOST_TCP_ESTABLISHED);
	CHECK_EQ(row.inode, 1002);
	CHECK_STR_EQ(inet_ntop(AF_INET, row.addr, addr, sizeof(addr)), "127.0.0.1");
	/* IPv6, an IPv4-mapped address: each 32-bit word is printed in host order. */
	CHECK_EQ(host_parse_tcp_row("   1: 0000000000000000FFFF00000100007F:1F90 "
	                            "0000000000000000FFFF00000200007F:C353 01 00000000:00000000 "
	                            "00:00000000 00000000  1000        0 1006 1 0 20 4 30 10 -1",
	                            &row),
	         0);
	CHECK_EQ(row.family, AF_INET6);
	CHECK_STR_EQ(inet_ntop(AF_INET6, row.addr, addr, sizeof(addr)), "::ffff:127.0.0.1");
	CHECK_EQ(row.inode, 1006);
	/* The header, and rows cut short or spoiled, are not rows; row stays as it was. */
	CHECK_EQ(host_parse_tcp_row("  sl  local_address rem_address   st tx_queue rx_queue tr "
	                            "tm->when retrnsmt   uid  timeout inode",
	                            &row),
	         -EINVAL);
	CHECK_EQ(host_parse_tcp_row("   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000", &row),
	         -EINVAL);
	CHECK_EQ(host_parse_tcp_row("   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 "
	                            "00:00000000 00000000  1000        0 lots",
	                            &row),
	         -EINVAL);
	CHECK_EQ(host_parse_tcp_row("   0: 00007F:1F90 00000000:0000 0A 00000000:00000000 "
	                            "00:00000000 00000000  1000        0 5",
	                            &row),
	         -EINVAL);
	CHECK_EQ(host_parse_tcp_row("", &row), -EINVAL);
	CHECK_EQ(host_parse_tcp_row(NULL, &row), -EINVAL);
	CHECK_EQ(row.inode, 1006);
}

static void test_inodes(void)
{
	struct host_inodes set = {0};

	CHECK(!host_inodes_has(&set, 1));
	for (unsigned long i = 1000; i > 0; i--) /* reversed, with every one twice */
		CHECK_EQ(host_inodes_add(&set, i % 500 + 7), 0);
	host_inodes_sort(&set);
	CHECK_EQ(set.n, 500);
	CHECK(host_inodes_has(&set, 7));
	CHECK(host_inodes_has(&set, 506));
	CHECK(!host_inodes_has(&set, 6));
	CHECK(!host_inodes_has(&set, 507));
	host_inodes_free(&set);
	CHECK_EQ(set.n, 0);
	CHECK(set.v == NULL);
}

/*
 * The fixtures: this process owns 1001..1007 (a listener on 8080 in each
 * family, 4 connections to it, one on 8081 it does not listen on); 2001 (the
 * client end of a connection to 8080), 3001/3002 (sshd) and a TIME_WAIT row
 * are someone else's.
 */
static void test_tally(void)
{
	struct host_tcp_tally *t = malloc(sizeof(*t));
	struct host_inodes own = {0};

	CHECK(t != NULL);
	if (!t)
		return;
	for (unsigned long i = 1001; i <= 1007; i++)
		host_inodes_add(&own, i);
	host_inodes_sort(&own);
	host_tcp_tally_clear(t);
	CHECK_EQ(tally_fixture("net_tcp", t, &own), 8);
	CHECK_EQ(tally_fixture("net_tcp6", t, &own), 3);
	CHECK_EQ(t->rows, 7);
	CHECK_EQ(t->listen[8080], 1);
	CHECK_EQ(t->listen[22], 0); /* sshd's, not ours */
	CHECK_EQ(t->established[8080], 4);
	CHECK_EQ(t->established[8081], 1);
	CHECK_EQ(t->established[50000], 0);         /* the client end: another process's */
	CHECK_EQ(host_tcp_tally_conns(t, 0), 4);    /* on the ports listened on */
	CHECK_EQ(host_tcp_tally_conns(t, 8080), 4); /* --watch-port 8080 */
	CHECK_EQ(host_tcp_tally_conns(t, 8081), 1);
	CHECK_EQ(host_tcp_tally_conns(t, 22), 0);
	/* Without ownership nothing counts, whatever the table holds. */
	host_inodes_free(&own);
	host_tcp_tally_clear(t);
	CHECK_EQ(tally_fixture("net_tcp", t, &own), 8);
	CHECK_EQ(t->rows, 0);
	CHECK_EQ(host_tcp_tally_conns(t, 0), 0);
	free(t);
}

static void test_pidstat(void)
{
	struct host_pidstat st = {0};
	char *text = fixture_read("pid_stat");

	CHECK(text != NULL);
	if (text) {
		CHECK_EQ(host_parse_pidstat(text, &st), 0);
		CHECK_STR_EQ(st.comm, "py (echo) srv"); /* the name ends at the last ')' */
		CHECK_EQ(st.state, 'S');
		CHECK_EQ(st.utime, 1234);
		CHECK_EQ(st.stime, 567);
		CHECK_EQ((long)st.starttime, 98765432);
	}
	free(text);
	/* A realtime, reniced process: priority -6, nice -10 (both signed). */
	CHECK_EQ(host_parse_pidstat("4242 (rt) S 1 4242 4242 0 -1 4194560 100 0 0 0 "
	                            "77 33 0 0 -6 -10 3 0 555 0 0",
	                            &st),
	         0);
	CHECK_EQ(st.utime, 77);
	CHECK_EQ(st.stime, 33);
	CHECK_EQ((long)st.starttime, 555);
	/* utime never is. */
	CHECK_EQ(host_parse_pidstat("4242 (rt) S 1 4242 4242 0 -1 4194560 100 0 0 0 "
	                            "-77 33 0 0 -6 -10 3 0 555 0 0",
	                            &st),
	         -EINVAL);
	CHECK_EQ(host_parse_pidstat("4242 (x) Z", &st), -EINVAL);
	CHECK_EQ(host_parse_pidstat("4242 x S 1 2 3", &st), -EINVAL);
	CHECK_EQ(host_parse_pidstat("4242 (x) S 1 2 3 4 5 6 7 8 9 10 x 12", &st), -EINVAL);
	CHECK_EQ(host_parse_pidstat("", &st), -EINVAL);
	CHECK_EQ(host_parse_pidstat(NULL, &st), -EINVAL);
	CHECK_EQ(st.utime, 77); /* failures leave it alone */
}

static void test_ctxsw(void)
{
	char *text = fixture_read("task_status");
	long vol = -1, invol = -1;

	CHECK(text != NULL);
	if (text) {
		CHECK_EQ(host_parse_ctxsw(text, &vol, &invol), 0);
		CHECK_EQ(vol, 150);
		CHECK_EQ(invol, 7);
	}
	free(text);
	/* "voluntary_ctxt_switches" must not be found inside "nonvoluntary_...". */
	CHECK_EQ(host_parse_ctxsw("nonvoluntary_ctxt_switches:\t7\n", &vol, &invol), -EINVAL);
	CHECK_EQ(host_parse_ctxsw("voluntary_ctxt_switches:\tx\n"
	                          "nonvoluntary_ctxt_switches:\t7\n",
	                          &vol, &invol),
	         -EINVAL);
	CHECK_EQ(vol, 150);
}

/* Threads that exit keep their last counts; a tid taken by a new thread retires the old one. */
static void test_tasks_retired(void)
{
	struct host_task_ctxsw a[] = {{10, 5, 1}, {11, 7, 2}, {12, 100, 9}, {13, 3, 3}};
	struct host_task_ctxsw b[] = {{10, 6, 1}, {12, 2, 0}, {14, 1, 1}};
	struct host_tasks prev = {a, 4, 4}, now = {b, 3, 3}, none = {0};
	long vol = 1000, invol = 2000;

	/* 11 and 13 exited, 12 is a new thread (fewer switches): theirs are kept. */
	host_tasks_retired(&prev, &now, &vol, &invol);
	CHECK_EQ(vol, 1000 + 7 + 100 + 3);
	CHECK_EQ(invol, 2000 + 2 + 9 + 3);
	/* All gone; and nothing before. */
	vol = invol = 0;
	host_tasks_retired(&prev, &none, &vol, &invol);
	CHECK_EQ(vol, 115);
	CHECK_EQ(invol, 15);
	host_tasks_retired(&none, &now, &vol, &invol);
	CHECK_EQ(vol, 115);
	/* Sorted by tid, whatever order /proc listed them in. */
	struct host_task_ctxsw c[] = {{30, 0, 0}, {4, 0, 0}, {17, 0, 0}};
	struct host_tasks unsorted = {c, 3, 3};
	host_tasks_sort(&unsorted);
	CHECK_EQ(c[0].tid, 4);
	CHECK_EQ(c[2].tid, 30);
}

/* A listener this test holds, shared with a child: found by port, owned by both. */
static void test_live(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	struct host_inodes listeners = {0}, own = {0};
	struct host_tcp_tally *t = malloc(sizeof(*t));
	struct host_pidstat st;
	char addr[64] = "";
	pid_t pids[4], child;
	size_t n = 0;
	struct host_tasks tasks = {0};
	long unreadable = 0;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	CHECK(t != NULL && fd >= 0);
	if (!t || fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		CHECK(0, "no listening socket on 127.0.0.1: %s", strerror(errno));
		free(t);
		return;
	}
	unsigned port = ntohs(sa.sin_port);
	CHECK_EQ(host_tcp_listeners(port, &listeners, addr, sizeof(addr)), 0);
	CHECK_EQ(listeners.n, 1);
	CHECK_STR_EQ(addr, "127.0.0.1");
	CHECK_EQ(host_socket_inodes_read(getpid(), &own), 0);
	host_inodes_sort(&own);
	CHECK(listeners.n == 1 && host_inodes_has(&own, listeners.v[0]));
	CHECK_EQ(host_tcp_tally_read(getpid(), &own, t), 0);
	CHECK_EQ(t->listen[port], 1);
	CHECK_EQ(host_tcp_tally_conns(t, port), 0);
	/* The owners' scan leaves the caller out: a child holding the same socket is found. */
	child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	usleep(100 * 1000);
	CHECK_EQ(host_socket_owners(&listeners, pids, 4, &n, &unreadable), 0);
	CHECK_EQ(n, 1);
	CHECK_EQ(n > 0 ? pids[0] : 0, child);
	CHECK_EQ(host_pidstat_read(child, &st), 0);
	CHECK_STR_EQ(st.comm, "test_host_watch");
	CHECK_EQ(host_tasks_read(getpid(), &tasks), 0);
	CHECK_EQ(tasks.n, 1);
	CHECK_EQ(tasks.n > 0 ? tasks.v[0].tid : 0, getpid());
	CHECK(tasks.n > 0 && tasks.v[0].voluntary + tasks.v[0].involuntary > 0);
	host_tasks_free(&tasks);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	CHECK_EQ(host_pidstat_read(child, &st), -ENOENT);
	close(fd);
	host_inodes_free(&listeners);
	host_inodes_free(&own);
	free(t);
}

int main(void)
{
	test_tcp_rows();
	test_inodes();
	test_tally();
	test_pidstat();
	test_ctxsw();
	test_tasks_retired();
	test_live();
	return check_exit("unit.host.watch");
}
