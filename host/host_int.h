/*
 * host_int.h — what host.c, host_net.c and host_limits.c share, and no one else.
 */
#ifndef CONNSCALE_HOST_INT_H
#define CONNSCALE_HOST_INT_H

#include <sys/types.h>

/* status is ~1.5 KB; the fields we need come before the long Mems_allowed lines. */
#define HOST_TEXT_MAX 16384

/* Reads a whole (small) file as a NUL-terminated string; returns its length or -errno. */
ssize_t host_read_text(const char *path, char *buf, size_t size);
/* Parses one decimal at *s, skipping leading blanks; advances *s past it. 0 or -errno. */
int host_parse_long(const char **s, long *out);
/* Finds the line "key: <number>..." in text; -ENOENT if no line has that key. */
int host_parse_field(const char *text, const char *key, long *out);

#endif
