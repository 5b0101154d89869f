/*
 * reap_stop: children that go on the signal are reaped at once; one that
 * ignores it is killed at the deadline, not before and not much after; a
 * process group goes whole; empty slots are skipped.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "clock.h"
#include "reap.h"

/*
 * A child sleeping until signalled; ignore_term: it shrugs SIGTERM off. It says
 * so on a pipe once its disposition is set, so no signal can come before.
 */
static pid_t child(bool ignore_term)
{
	int fds[2];
	char ready;

	if (pipe(fds) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		if (ignore_term)
			signal(SIGTERM, SIG_IGN);
		if (write(fds[1], "r", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	CHECK(pid > 0 && read(fds[0], &ready, 1) == 1, "a child started");
	close(fds[0]);
	close(fds[1]);
	return pid;
}

/* Not running: gone, or a zombie waiting for its new parent. */
static bool alive(pid_t pid)
{
	char path[64], stat[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return false;
	size_t n = fread(stat, 1, sizeof(stat) - 1, f);
	fclose(f);
	stat[n] = '\0';
	const char *end = strrchr(stat, ')'); /* the state follows "(comm) " */
	return end != NULL && end[1] == ' ' && end[2] != 'Z' && end[2] != 'X';
}

int main(void)
{
	pid_t pids[3] = {child(false), 0, child(false)};
	int64_t t0 = clock_ms();

	CHECK_EQ(reap_stop(pids, 3, SIGTERM, false, 2000, NULL), 0);
	CHECK(clock_ms() - t0 < 1000, "two willing children took %lld ms",
	      (long long)(clock_ms() - t0));
	CHECK_EQ(pids[0], 0);
	CHECK_EQ(pids[2], 0);

	pid_t stubborn[1] = {child(true)};
	t0 = clock_ms();
	CHECK_EQ(reap_stop(stubborn, 1, SIGTERM, false, 300, NULL), 1);
	int64_t took = clock_ms() - t0;
	CHECK(took >= 300 && took < 3000, "a stubborn child took %lld ms to kill", (long long)took);
	CHECK_EQ(stubborn[0], 0);

	/*
	 * A group: the leader's child ignores SIGTERM too and goes (SIGKILL to the
	 * group). Orphaned, it may stay a zombie until init reaps it: dead all the same.
	 */
	int fds[2];
	CHECK(pipe(fds) == 0);
	pid_t leader = fork();
	if (leader == 0) {
		setpgid(0, 0);
		signal(SIGTERM, SIG_IGN);
		pid_t g = fork();
		if (g == 0)
			for (;;)
				pause();
		if (write(fds[1], &g, sizeof(g)) != sizeof(g))
			_exit(1);
		for (;;)
			pause();
	}
	setpgid(leader, leader);
	pid_t grandchild = 0;
	CHECK(read(fds[0], &grandchild, sizeof(grandchild)) == sizeof(grandchild));
	pid_t group[1] = {leader};
	CHECK_EQ(reap_stop(group, 1, SIGTERM, true, 200, NULL), 1);
	usleep(50000);
	CHECK(!alive(grandchild), "the group's other process %d outlived reap_stop",
	      (int)grandchild);
	return check_exit("unit.common.reap");
}
