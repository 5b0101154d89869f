/*
 * sockdiag — a watched process's TCP sockets from NETLINK_SOCK_DIAG instead
 * of /proc/net/tcp{,6}: the kernel filters by state and local port (an
 * inet_diag bytecode), so a stats reply reads the few rows it counts rather
 * than formatting and parsing the host's whole table (both ends of every
 * loopback connection: 40,000 rows at 20,000 connections).
 *
 * The rows go through the same host_tcp_tally (matched by inode to the
 * process's own descriptors) as /proc/net/tcp's did, each socket once: a dump
 * spans several recv() calls, and one resumed while connections come and go
 * can list a socket twice (as a /proc/net/tcp read can), which a count, and
 * the highest count ever seen, must not take for two. The socket answers for
 * the watcher's own network namespace only.
 */
#ifndef CONNSCALE_SERVER_SOCKDIAG_H
#define CONNSCALE_SERVER_SOCKDIAG_H

#include <stddef.h>

#include "host.h"

/* Ports one filter names at most; more, and the dump is filtered by state only. */
#define SOCKDIAG_MAX_PORTS 64

struct sockdiag {
	int fd; /* the NETLINK_SOCK_DIAG socket; -1 when closed */
	unsigned seq;
	char *buf; /* one recv() of the dump */
	size_t size;
	struct host_tcp_row *rows; /* the process's own rows of the dump, to count once */
	size_t nrows;
	size_t caprows;
};

/* Opens the netlink socket: 0, or -errno (then the caller reads /proc/net/tcp instead). */
int sockdiag_open(struct sockdiag *d);
void sockdiag_close(struct sockdiag *d);
/*
 * Feeds every IPv4 and IPv6 TCP socket in one of `states` (a mask of
 * 1 << HOST_TCP_*) whose local port is one of ports[0..nports) (nports 0, or
 * more than SOCKDIAG_MAX_PORTS: any port) and whose inode is in `own` through
 * host_tcp_tally_row(), once per inode. Does not clear t. 0 or -errno.
 */
int sockdiag_tally(struct sockdiag *d, unsigned states, const unsigned *ports, size_t nports,
                   const struct host_inodes *own, struct host_tcp_tally *t);

#endif
