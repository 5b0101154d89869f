/* netaddr — host name syntax and the one IPv4 lookup (see netaddr.h). */
#define _POSIX_C_SOURCE 200809L /* getaddrinfo */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "netaddr.h"
#include "proto.h"

#define NETADDR_NAME_MAX  253
#define NETADDR_LABEL_MAX 63

static bool netaddr_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool netaddr_is_hostname(const char *s)
{
	size_t len = s != NULL ? strlen(s) : 0;
	const char *label = s;
	bool digits_only = true;

	if (len == 0 || len > NETADDR_NAME_MAX)
		return false;
	for (const char *p = s;; p++) {
		if (*p == '.' || *p == '\0') {
			size_t n = (size_t)(p - label);
			if (n == 0 || n > NETADDR_LABEL_MAX || label[0] == '-' || p[-1] == '-')
				return false;
			if (*p == '\0')
				return !digits_only;
			label = p + 1;
			digits_only = true;
			continue;
		}
		if (!netaddr_alnum(*p) && *p != '-')
			return false;
		if (*p < '0' || *p > '9')
			digits_only = false;
	}
}

int netaddr_resolve(const char *host, struct in_addr *out, char *err, size_t errlen)
{
	struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM}, *res = NULL;

	if (proto_is_ipv4(host) && inet_pton(AF_INET, host, out) == 1)
		return 0;
	if (!netaddr_is_hostname(host)) {
		snprintf(err, errlen,
		         "expected an IPv4 address (dotted quad) or a host name, got '%s'", host);
		return -EINVAL;
	}
	int rc = getaddrinfo(host, NULL, &hints, &res);
	if (rc != 0 || res == NULL) {
		snprintf(err, errlen, "cannot resolve '%s' to an IPv4 address: %s", host,
		         rc == 0            ? "no address"
		         : rc == EAI_SYSTEM ? strerror(errno)
		                            : gai_strerror(rc));
		if (res != NULL)
			freeaddrinfo(res);
		return -EINVAL;
	}
	*out = ((const struct sockaddr_in *)(const void *)res->ai_addr)->sin_addr;
	freeaddrinfo(res);
	return 0;
}
