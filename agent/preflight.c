#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "preflight.h"

long preflight_reserve_fds(unsigned threads)
{
	return 16 + 2 * (long)threads;
}

int preflight_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	if (rl.rlim_cur == rl.rlim_max)
		return 0;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -errno;
	return 0;
}

int preflight_sources(const struct in_addr *sources, unsigned nsources, char *msg, size_t len)
{
	struct sockaddr_in sa;
	char text[INET_ADDRSTRLEN];
	unsigned i;
	int fd, one = 1, err;

	for (i = 0; i < nsources; i++) {
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		memset(&sa, 0, sizeof(sa));
		sa.sin_family = AF_INET;
		sa.sin_addr = sources[i];
		/* Checks the address without taking a port. */
		err = 0;
		if (setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one)) < 0 ||
		    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
			err = errno;
		close(fd);
		if (err) {
			inet_ntop(AF_INET, &sources[i], text, sizeof(text));
			snprintf(msg, len,
			         "agent: preflight: source address %s is not present on this host "
			         "(bind: %s); add it (ip addr add %s/32 dev IFACE) or drop it from "
			         "--source-ip",
			         text, strerror(err), text);
			return -EADDRNOTAVAIL;
		}
	}
	return 0;
}

int preflight_limits(const struct host_limits *l, uint64_t n, unsigned threads, unsigned nsources,
                     char *msg, size_t len)
{
	char a[32], b[32], c[32];
	long reserve = preflight_reserve_fds(threads);
	long ports = host_ports_per_source(l);
	uint64_t per_source;
	unsigned srcs = nsources ? nsources : 1;

	if (l->nofile_soft >= 0 && (uint64_t)l->nofile_soft < n + (uint64_t)reserve) {
		snprintf(msg, len,
		         "agent: preflight: -n %s needs %s open files but the open-files limit "
		         "(RLIMIT_NOFILE) is %ld; raise it (ulimit -n, LimitNOFILE= in systemd, "
		         "nofile in limits.conf; the ceiling is fs.nr_open = %ld) or split the "
		         "connections over several agents",
		         host_fmt_count((long)n, a, sizeof(a)),
		         host_fmt_count((long)n + reserve, b, sizeof(b)), l->nofile_soft,
		         l->nr_open);
		return -ENOSPC;
	}
	per_source = (n + srcs - 1) / srcs;
	if (ports > 0 && per_source > (uint64_t)ports) {
		snprintf(
		    msg, len,
		    "agent: preflight: -n %s from %u source address%s needs %s ports per source "
		    "address but net.ipv4.ip_local_port_range %ld-%ld gives %s per (source, "
		    "target); add addresses with --source-ip (each gives %s more) or widen the "
		    "range (sysctl -w net.ipv4.ip_local_port_range=\"1024 65535\")",
		    host_fmt_count((long)n, a, sizeof(a)), srcs, srcs == 1 ? "" : "es",
		    host_fmt_count((long)per_source, b, sizeof(b)), l->port_lo, l->port_hi,
		    host_fmt_count(ports, c, sizeof(c)), c);
		return -ENOSPC;
	}
	return 0;
}

int preflight_port_warning(const struct host_limits *l, uint64_t n, unsigned nsources, char *msg,
                           size_t len)
{
	char a[32], b[32], c[32];
	long ports = host_ports_per_source(l);
	unsigned srcs = nsources ? nsources : 1;
	uint64_t per_source = (n + srcs - 1) / srcs;

	if (ports <= 0 || per_source <= (uint64_t)ports / 2)
		return 0;
	snprintf(msg, len,
	         "agent: preflight: warning: %s connections a source address take %.0f%% of the "
	         "%s ports net.ipv4.ip_local_port_range %ld-%ld gives it; connect() slows sharply "
	         "past half (it tries every even port before an odd one): more addresses "
	         "(--source-ip) keep each below %s",
	         host_fmt_count((long)per_source, a, sizeof(a)),
	         100.0 * (double)per_source / (double)ports, host_fmt_count(ports, b, sizeof(b)),
	         l->port_lo, l->port_hi, host_fmt_count(ports / 2, c, sizeof(c)));
	return 1;
}
