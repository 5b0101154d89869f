#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fence.h"

static int fence_parse_one(const char *text, struct fence_net *net, char *err, size_t errlen)
{
	char buf[64], *end;
	const char *slash = strchr(text, '/');
	size_t alen = slash ? (size_t)(slash - text) : strlen(text);
	struct in_addr a;
	unsigned long len = 32;

	if (alen == 0 || alen >= sizeof(buf))
		goto bad;
	memcpy(buf, text, alen);
	buf[alen] = '\0';
	if (inet_pton(AF_INET, buf, &a) != 1)
		goto bad;
	if (slash != NULL) {
		errno = 0;
		if (slash[1] < '0' || slash[1] > '9')
			goto bad;
		len = strtoul(slash + 1, &end, 10);
		if (errno != 0 || *end != '\0' || len > 32)
			goto bad;
	}
	net->len = (unsigned)len;
	net->mask = len ? ~0u << (32 - len) : 0;
	net->addr = ntohl(a.s_addr);
	if ((net->addr & ~net->mask) != 0) {
		struct in_addr n = {.s_addr = htonl(net->addr & net->mask)};
		char nbuf[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &n, nbuf, sizeof(nbuf));
		snprintf(err, errlen,
		         "agent: --allow-target: '%s' has host bits set; did you mean %s/%u?", text,
		         nbuf, net->len);
		return -EINVAL;
	}
	return 0;
bad:
	snprintf(err, errlen,
	         "agent: --allow-target: expected an IPv4 network a.b.c.d/len, got '%s'", text);
	return -EINVAL;
}

int fence_parse(const char *arg, struct fence *f, char *err, size_t errlen)
{
	char item[128];
	const char *p = arg, *comma;
	struct fence out = {.nnets = 0};

	for (;;) {
		comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		if (n == 0 || n >= sizeof(item)) {
			snprintf(err, errlen,
			         "agent: --allow-target: empty or oversized entry in '%s'", arg);
			return -EINVAL;
		}
		if (out.nnets == FENCE_MAX_NETS) {
			snprintf(err, errlen, "agent: --allow-target: more than %d networks",
			         FENCE_MAX_NETS);
			return -EINVAL;
		}
		memcpy(item, p, n);
		item[n] = '\0';
		if (fence_parse_one(item, &out.nets[out.nnets], err, errlen) < 0)
			return -EINVAL;
		out.nnets++;
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	*f = out;
	return 0;
}

bool fence_allows(const struct fence *f, struct in_addr a)
{
	uint32_t h = ntohl(a.s_addr);

	for (int i = 0; i < f->nnets; i++)
		if ((h & f->nets[i].mask) == f->nets[i].addr)
			return true;
	return false;
}

void fence_format(const struct fence *f, char *buf, size_t size)
{
	size_t off = 0;

	if (size == 0)
		return;
	buf[0] = '\0';
	for (int i = 0; i < f->nnets && off < size; i++) {
		struct in_addr a = {.s_addr = htonl(f->nets[i].addr)};
		char abuf[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &a, abuf, sizeof(abuf));
		int n =
		    snprintf(buf + off, size - off, "%s%s/%u", i ? "," : "", abuf, f->nets[i].len);
		if (n < 0)
			break;
		off += (size_t)n;
	}
}
