/*
 * fence — the networks an agent may be aimed at (--allow-target). An agent is
 * a traffic cannon; the fence keeps it pointed at the lab. Default: loopback
 * only (127.0.0.0/8). Checked before any connection is attempted: on the
 * standalone --target, and on every assignment from a coordinator.
 */
#ifndef CONNSCALE_FENCE_H
#define CONNSCALE_FENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <netinet/in.h>

#define FENCE_MAX_NETS 32
#define FENCE_DEFAULT  "127.0.0.0/8"

struct fence_net {
	uint32_t addr; /* network address, host order */
	uint32_t mask; /* host order */
	unsigned len;  /* prefix length */
};

struct fence {
	struct fence_net nets[FENCE_MAX_NETS];
	int nnets;
};

/*
 * Parses "a.b.c.d/len[,...]" (a bare address is a /32). Host bits must be
 * zero: 10.1.2.3/8 is refused, naming 10.0.0.0/8. Returns 0 or -EINVAL with
 * err filled ("agent: --allow-target: ...").
 */
int fence_parse(const char *arg, struct fence *f, char *err, size_t errlen);
bool fence_allows(const struct fence *f, struct in_addr a);
/* "127.0.0.0/8,10.0.0.0/8" */
void fence_format(const struct fence *f, char *buf, size_t size);

#endif
