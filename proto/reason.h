/*
 * reason — why a connection failed: the one list both the agent's engine
 * (enum engine_reason) and the wire (enum msg_reason, the keys under
 * "failed") are generated from, so the two cannot drift apart or be
 * reordered one without the other. The order is the order of the JSON keys
 * and of every table that prints them.
 *
 * X(ID, "json_key", "what it means")
 */
#ifndef CONNSCALE_REASON_H
#define CONNSCALE_REASON_H

#define REASON_LIST(X)                                                                             \
	X(REFUSED, "refused", "ECONNREFUSED: nothing listens")                                     \
	X(TIMEOUT, "timeout", "connect or echo deadline passed (or kernel ETIMEDOUT)")             \
	X(RESET, "reset", "ECONNRESET / EPIPE")                                                    \
	X(ADDR_NOT_AVAILABLE, "addr_not_available",                                                \
	  "EADDRNOTAVAIL: source address or its ports exhausted")                                  \
	X(EOF_EARLY, "eof_early", "peer closed before the echo was complete")                      \
	X(MISMATCH, "mismatch", "an echoed byte differs from what was sent")                       \
	X(OTHER, "other", "anything else (EMFILE, EHOSTUNREACH, ...)")

#endif
