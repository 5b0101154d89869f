/*
 * netaddr — where a host name becomes an IPv4 address, once, the same way
 * for the plan's target.host and `server --listen`: a dotted quad is taken
 * as is; anything else must be a host name (RFC 1123) and is resolved with
 * getaddrinfo(), IPv4 only, first answer. Shorthands getaddrinfo would take
 * ("127.1", "10.0.258") are refused rather than guessed at.
 */
#ifndef CONNSCALE_NETADDR_H
#define CONNSCALE_NETADDR_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * Letters, digits and hyphens in dot-separated labels of 1..63 (no hyphen at
 * either end), 253 characters at most, and a last label that is not all
 * digits (so no mistyped address passes for a name). Syntax only: no lookup.
 */
bool netaddr_is_hostname(const char *s);

/*
 * host as an IPv4 address: a dotted quad, or a host name looked up now.
 * Returns 0, or -EINVAL with err holding a sentence naming host ("cannot
 * resolve 'db.example' to an IPv4 address: Name or service not known").
 */
int netaddr_resolve(const char *host, struct in_addr *out, char *err, size_t errlen);

#endif
