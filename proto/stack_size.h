/*
 * stack_size — the one grammar of a thread stack size, shared by the plan's
 * local.server.stack_size and `server --stack-size`, so a size the plan
 * accepts is one the server starts with, and the other way round.
 *
 *   "default"                 the platform's default (0 here; glibc: ulimit -s)
 *   "65536", "16k", "8m", "1g" a byte count, or KiB/MiB/GiB (suffix in either case);
 *                             no sign, no space, no leading zero; 1 byte .. 1 GiB
 */
#ifndef CONNSCALE_STACK_SIZE_H
#define CONNSCALE_STACK_SIZE_H

#include <stddef.h>

#define STACK_SIZE_MAX ((size_t)1 << 30)

/* Returns 0 with *bytes set, -EINVAL for text that is not a size, -ERANGE above 1 GiB. */
int stack_size_parse(const char *text, size_t *bytes);

#endif
