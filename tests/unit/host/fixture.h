/* fixture — reads a file of tests/unit/host/fixtures for the host unit tests. */
#ifndef CONNSCALE_TESTS_HOST_FIXTURE_H
#define CONNSCALE_TESTS_HOST_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>

/* fixtures/<name> as a malloc'd string (64 KiB at most); NULL, and a message, if it cannot. */
static inline char *fixture_read(const char *name)
{
	char path[1024];
	FILE *f;
	char *buf;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", HOST_FIXTURES, name);
	f = fopen(path, "r");
	if (!f) {
		perror(path);
		return NULL;
	}
	buf = malloc(65536);
	if (!buf) {
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, 65535, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

#endif
