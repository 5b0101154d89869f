/*
 * watch_pthread_exit [SECONDS] — a server whose main thread calls
 * pthread_exit() while a second thread accepts and holds connections, for
 * test_watch.sh: such a process reads as a zombie (state Z in /proc/PID/stat,
 * empty /proc/PID/fd and /proc/PID/net) although it runs and serves.
 *
 * Listens on 127.0.0.1:0 and prints the port on one line; holds every
 * connection it accepts (up to 4096) without reading; exits 0 after SECONDS
 * (default 120), so a test that forgets it does not leave it behind.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define HOLD_MAX 4096

struct holder {
	int listener;
	long seconds;
};

static void *hold(void *arg)
{
	const struct holder *h = arg;
	time_t end = time(NULL) + h->seconds;
	static int held[HOLD_MAX];
	int n = 0;

	while (time(NULL) < end) {
		struct pollfd p = {.fd = h->listener, .events = POLLIN};
		int rc = poll(&p, 1, 200);

		if (rc < 0 && errno != EINTR) {
			perror("watch_pthread_exit: poll");
			exit(1);
		}
		if (rc <= 0)
			continue;
		int fd = accept4(h->listener, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0)
			continue;
		if (n < HOLD_MAX)
			held[n++] = fd;
		else
			close(fd);
	}
	exit(0); /* the whole process: its main thread is gone already */
}

int main(int argc, char **argv)
{
	static struct holder h;
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	pthread_t t;

	h.seconds = argc > 1 ? atol(argv[1]) : 120;
	h.listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (h.listener < 0 || bind(h.listener, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(h.listener, 4096) < 0 ||
	    getsockname(h.listener, (struct sockaddr *)&sa, &len) < 0) {
		perror("watch_pthread_exit: listen");
		return 1;
	}
	if (pthread_create(&t, NULL, hold, &h) != 0) {
		fprintf(stderr, "watch_pthread_exit: pthread_create failed\n");
		return 1;
	}
	printf("%u\n", (unsigned)ntohs(sa.sin_port));
	fflush(stdout);
	pthread_exit(NULL); /* the process lives on in `hold` */
}
