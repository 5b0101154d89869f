/*
 * check — the assertion macros of the proto unit tests. A failed check prints
 * file:line and both values and marks the test failed; the test keeps going so
 * one run shows every broken expectation. main() returns check_failed().
 */
#ifndef CONNSCALE_TEST_CHECK_H
#define CONNSCALE_TEST_CHECK_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* The failure count lives in main's frame: each test passes it down as `int *fails`. */
#define CHECK(fails, cond)                                                                         \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond);   \
			(*(fails))++;                                                              \
		}                                                                                  \
	} while (0)

#define CHECK_U64(fails, a, b)                                                                     \
	do {                                                                                       \
		uint64_t check_a_ = (uint64_t)(a), check_b_ = (uint64_t)(b);                       \
		if (check_a_ != check_b_) {                                                        \
			fprintf(stderr, "%s:%d: %s == %s failed: %" PRIu64 " != %" PRIu64 "\n",    \
			        __FILE__, __LINE__, #a, #b, check_a_, check_b_);                   \
			(*(fails))++;                                                              \
		}                                                                                  \
	} while (0)

/* haystack must contain needle; NULL haystack fails. */
#define CHECK_STR_HAS(fails, haystack, needle)                                                     \
	do {                                                                                       \
		const char *check_h_ = (haystack), *check_n_ = (needle);                           \
		if (check_h_ == NULL || strstr(check_h_, check_n_) == NULL) {                      \
			fprintf(stderr, "%s:%d: \"%s\" does not contain \"%s\"\n", __FILE__,       \
			        __LINE__, check_h_ ? check_h_ : "(null)", check_n_);               \
			(*(fails))++;                                                              \
		}                                                                                  \
	} while (0)

/* One named case; CMake registers each as its own ctest (`exe case-name`). */
struct check_case {
	const char *name;
	void (*fn)(int *fails);
};

/* Runs the case named by argv[1], or every case without an argument. */
static inline int check_main(int argc, char **argv, const struct check_case *cases, size_t n)
{
	int fails = 0, ran = 0;

	for (size_t i = 0; i < n; i++) {
		int before = fails;

		if (argc > 1 && strcmp(argv[1], cases[i].name) != 0)
			continue;
		cases[i].fn(&fails);
		ran++;
		fprintf(stderr, "%s: %s\n", cases[i].name, fails == before ? "ok" : "FAILED");
	}
	if (ran == 0) {
		fprintf(stderr, "%s: no case named \"%s\"\n", argv[0], argc > 1 ? argv[1] : "");
		return 1;
	}
	return fails ? 1 : 0;
}

#define CHECK_MAIN(cases) check_main(argc, argv, (cases), sizeof(cases) / sizeof((cases)[0]))

#endif
