/*
 * check — the assertion macros the host unit tests share. A failed check
 * prints file:line and both values and bumps the caller's local `fails`
 * (no globals); main returns 1 if any case failed. Checks do not stop the
 * case, so one run shows every broken expectation.
 */
#ifndef CONNSCALE_TEST_CHECK_H
#define CONNSCALE_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK_LONG(got, want)                                                                      \
	do {                                                                                       \
		long check_g = (long)(got), check_w = (long)(want);                                \
		if (check_g != check_w) {                                                          \
			fprintf(stderr, "%s:%d: %s == %ld, want %ld\n", __FILE__, __LINE__, #got,  \
			        check_g, check_w);                                                 \
			fails++;                                                                   \
		}                                                                                  \
	} while (0)

#define CHECK_TRUE(cond)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond);        \
			fails++;                                                                   \
		}                                                                                  \
	} while (0)

#define CHECK_STR(got, want)                                                                       \
	do {                                                                                       \
		const char *check_g = (got), *check_w = (want);                                    \
		if (!check_g || strcmp(check_g, check_w) != 0) {                                   \
			fprintf(stderr, "%s:%d: %s == \"%s\", want \"%s\"\n", __FILE__, __LINE__,  \
			        #got, check_g ? check_g : "(null)", check_w);                      \
			fails++;                                                                   \
		}                                                                                  \
	} while (0)

/* Substring check: sentences are for people, so tests pin their key words only. */
#define CHECK_HAS(text, word)                                                                      \
	do {                                                                                       \
		const char *check_t = (text), *check_s = (word);                                   \
		if (!strstr(check_t, check_s)) {                                                   \
			fprintf(stderr, "%s:%d: \"%s\" lacks \"%s\"\n", __FILE__, __LINE__,        \
			        check_t, check_s);                                                 \
			fails++;                                                                   \
		}                                                                                  \
	} while (0)

/* Reads fixtures/<name> into a malloc'd string; NULL (and a message) if it cannot. */
static inline char *check_fixture(const char *name)
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
