/*
 * preflight — before a standalone run, the limits that would stop it halfway:
 * open files vs connections, ports per source address vs connections per
 * source, and whether every source address exists here. Refuses with one
 * sentence naming the limit and how to raise it.
 */
#ifndef CONNSCALE_PREFLIGHT_H
#define CONNSCALE_PREFLIGHT_H

#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#include "host.h"

/* File descriptors an agent keeps besides connections: stdio, per-thread epoll + eventfd. */
long preflight_reserve_fds(unsigned threads);

/* Raises RLIMIT_NOFILE's soft limit to the hard limit (an agent needs one fd per connection). */
int preflight_raise_nofile(void);

/* Checks every source address can be bound here. -EADDRNOTAVAIL with msg naming the first that
 * cannot. */
int preflight_sources(const struct in_addr *sources, unsigned nsources, char *msg, size_t len);

/*
 * Checks n connections (over threads workers, from nsources addresses; 0 =
 * one, the kernel's choice) against the limits l. 0, or -ENOSPC with msg.
 */
int preflight_limits(const struct host_limits *l, uint64_t n, unsigned threads, unsigned nsources,
                     char *msg, size_t len);

/*
 * A share that fits but will be slow: more than half the ports a source
 * address has towards one target. Linux's connect() tries the even ports of
 * net.ipv4.ip_local_port_range first, so once they are taken every connect
 * walks all of them before it finds an odd one: measured here (28,232 ports,
 * loopback), 20,600 connects/s to a third of the range, then 740/s to two
 * thirds and 410/s to the top. 1 with msg (a warning), else 0.
 */
int preflight_port_warning(const struct host_limits *l, uint64_t n, unsigned nsources, char *msg,
                           size_t len);

#endif
