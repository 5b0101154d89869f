/*
 * testlib — what the end-to-end tests share: real processes started with
 * their stdout on a pipe, line reads with deadlines, loopback sockets bound
 * to a chosen 127.0.0.x source, and stats_req over a real ZeroMQ socket.
 */
#ifndef CONNSCALE_TESTLIB_H
#define CONNSCALE_TESTLIB_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#include "stats.h"

struct tl_proc {
	pid_t pid;
	int out;        /* read end of its stdout */
	char buf[8192]; /* stdout read so far, NUL-terminated */
	size_t len;
};

/* Starts argv[0] with stdout on a pipe; nofile > 0 sets its RLIMIT_NOFILE. */
int tl_spawn(struct tl_proc *p, char *const argv[], long nofile);
/* Reads stdout until a line starts with prefix; copies the rest of that line. */
int tl_expect_line(struct tl_proc *p, const char *prefix, char *rest, size_t size, int timeout_ms);
/* Signals p and waits (bounded) for it to exit, keeping what it printed; returns the status. */
int tl_stop(struct tl_proc *p, int sig, int timeout_ms);

/* Parses "ADDR:PORT" into sa. */
int tl_parse_addr(const char *text, struct sockaddr_in *sa);
/* A blocking TCP connection from src ("127.0.0.x") to dst, or -1. */
int tl_connect(const char *src, const struct sockaddr_in *dst);
/*
 * Sends len bytes and reads the echo back over one socket, both directions at
 * once (so a large payload cannot deadlock), within timeout_ms. Returns 0 when
 * the echo matched byte for byte, -1 on mismatch/EOF/error/timeout.
 */
int tl_echo(int fd, const unsigned char *data, size_t len, int timeout_ms);
/* With half_close: shutdown(SHUT_WR) once all is sent, and expect EOF after the whole echo. */
int tl_echo_ex(int fd, const unsigned char *data, size_t len, int timeout_ms, bool half_close);

/* One stats_req to endpoint, answered within timeout_ms. */
int tl_stats(const char *endpoint, struct server_stats *out, int timeout_ms);
/* Polls stats until conns_current == want or the deadline; returns the last value. */
long tl_wait_current(const char *endpoint, long want, int timeout_ms);

#endif
