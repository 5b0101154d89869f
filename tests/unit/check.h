/* Tiny assertion helpers for unit tests: report and count, never abort early. */
#ifndef CONNSCALE_UNIT_CHECK_H
#define CONNSCALE_UNIT_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);   \
			check_failures++;                                                          \
		}                                                                                  \
	} while (0)

#define CHECK_EQ_U(a, b)                                                                           \
	do {                                                                                       \
		unsigned long long va_ = (a), vb_ = (b);                                           \
		if (va_ != vb_) {                                                                  \
			fprintf(stderr, "%s:%d: %s == %llu, expected %s == %llu\n", __FILE__,      \
			        __LINE__, #a, va_, #b, vb_);                                       \
			check_failures++;                                                          \
		}                                                                                  \
	} while (0)

#define CHECK_STR(a, b)                                                                            \
	do {                                                                                       \
		const char *sa_ = (a), *sb_ = (b);                                                 \
		if (strcmp(sa_, sb_) != 0) {                                                       \
			fprintf(stderr, "%s:%d:\n  got      \"%s\"\n  expected \"%s\"\n",          \
			        __FILE__, __LINE__, sa_, sb_);                                     \
			check_failures++;                                                          \
		}                                                                                  \
	} while (0)

static inline int check_report(const char *name)
{
	if (check_failures) {
		fprintf(stderr, "%s: %d check(s) failed\n", name, check_failures);
		return 1;
	}
	printf("%s: all checks passed\n", name);
	return 0;
}

#endif
