/*
 * check — the one set of assertions every C test uses (unit and e2e). A failed
 * check prints file:line, what was checked and the values involved, counts one
 * failure and lets the test go on, so one run shows every broken expectation.
 * A test executable is one .c file: the count is its own, read by check_failed().
 *
 *   CHECK(cond)                  cond holds
 *   CHECK(cond, fmt, ...)        ... and says fmt on failure (printf-checked)
 *   CHECK_EQ(got, want)          signed integers (long long), both printed
 *   CHECK_EQ_U(got, want)        unsigned integers (unsigned long long), both printed
 *   CHECK_STR_EQ(got, want)      strings equal; NULL fails
 *   CHECK_CONTAINS(text, part)   text contains part; NULL fails (sentences are
 *                                for people, so tests usually pin their key words)
 *   CHECK_NOT_CONTAINS(text, part)
 *
 * main() ends with `return check_exit("unit.x.y");`, or, for a table of named
 * cases (one ctest each), `return CHECK_MAIN(cases);`.
 */
#ifndef CONNSCALE_TESTS_CHECK_H
#define CONNSCALE_TESTS_CHECK_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The failure count of this test executable (internal linkage: one per test binary). */
static inline int *check_count(void)
{
	static int failures;

	return &failures;
}

/* How many checks have failed so far. */
static inline int check_failed(void)
{
	return *check_count();
}

/* Records one failure: "file:line: what" and, if fmt is not NULL, ": " and the message. */
__attribute__((format(printf, 4, 5))) static inline void
check_fail(const char *file, int line, const char *what, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: %s", file, line, what);
	if (fmt != NULL) {
		fputs(fmt[0] == '\n' ? ":" : ": ", stderr);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
	}
	fputc('\n', stderr);
	(*check_count())++;
}

/*
 * CHECK takes a condition and an optional printf message. Standard C11 needs at
 * least one argument for a macro's "...", so the argument count picks CHECK_1_
 * (condition only) or CHECK_N_ (condition, format, arguments: up to 15).
 */
#define CHECK_PICK_(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14, _15, _16, n, ...) n
#define CHECK_ARITY_(...)                                                                          \
	CHECK_PICK_(__VA_ARGS__, N, N, N, N, N, N, N, N, N, N, N, N, N, N, N, 1, 0)
#define CHECK_JOIN2_(a, b) a##b
#define CHECK_JOIN_(a, b)  CHECK_JOIN2_(a, b)

#define CHECK(...) CHECK_JOIN_(CHECK_, CHECK_JOIN_(CHECK_ARITY_(__VA_ARGS__), _))(__VA_ARGS__)

#define CHECK_1_(cond)                                                                             \
	do {                                                                                       \
		if (!(cond))                                                                       \
			check_fail(__FILE__, __LINE__, "CHECK(" #cond ") failed", NULL);           \
	} while (0)

#define CHECK_N_(cond, ...)                                                                        \
	do {                                                                                       \
		if (!(cond))                                                                       \
			check_fail(__FILE__, __LINE__, "CHECK(" #cond ") failed", __VA_ARGS__);    \
	} while (0)

#define CHECK_EQ(got, want)                                                                        \
	do {                                                                                       \
		long long check_g_ = (long long)(got), check_w_ = (long long)(want);               \
		if (check_g_ != check_w_)                                                          \
			check_fail(__FILE__, __LINE__, "CHECK_EQ(" #got ", " #want ") failed",     \
			           "got %lld, want %lld", check_g_, check_w_);                     \
	} while (0)

#define CHECK_EQ_U(got, want)                                                                      \
	do {                                                                                       \
		unsigned long long check_g_ = (unsigned long long)(got);                           \
		unsigned long long check_w_ = (unsigned long long)(want);                          \
		if (check_g_ != check_w_)                                                          \
			check_fail(__FILE__, __LINE__, "CHECK_EQ_U(" #got ", " #want ") failed",   \
			           "got %llu, want %llu", check_g_, check_w_);                     \
	} while (0)

#define CHECK_STR_EQ(got, want)                                                                    \
	do {                                                                                       \
		const char *check_g_ = (got), *check_w_ = (want);                                  \
		if (check_g_ == NULL || strcmp(check_g_, check_w_) != 0)                           \
			check_fail(__FILE__, __LINE__, "CHECK_STR_EQ(" #got ", " #want ") failed", \
			           "\n  got  \"%s\"\n  want \"%s\"",                               \
			           check_g_ ? check_g_ : "(null)", check_w_);                      \
	} while (0)

#define CHECK_CONTAINS(text, part)                                                                 \
	do {                                                                                       \
		const char *check_t_ = (text), *check_p_ = (part);                                 \
		if (check_t_ == NULL || strstr(check_t_, check_p_) == NULL)                        \
			check_fail(__FILE__, __LINE__,                                             \
			           "CHECK_CONTAINS(" #text ", " #part ") failed",                  \
			           "\n  \"%s\"\n  lacks \"%s\"", check_t_ ? check_t_ : "(null)",   \
			           check_p_);                                                      \
	} while (0)

#define CHECK_NOT_CONTAINS(text, part)                                                             \
	do {                                                                                       \
		const char *check_t_ = (text), *check_p_ = (part);                                 \
		if (check_t_ == NULL || strstr(check_t_, check_p_) != NULL)                        \
			check_fail(                                                                \
			    __FILE__, __LINE__, "CHECK_NOT_CONTAINS(" #text ", " #part ") failed", \
			    "\n  \"%s\"\n  has \"%s\"", check_t_ ? check_t_ : "(null)", check_p_); \
	} while (0)

/* What main() returns: 0 when every check held, 1 (and how many failed) otherwise. */
static inline int check_exit(const char *name)
{
	if (check_failed() > 0) {
		fprintf(stderr, "%s: %d check(s) failed\n", name, check_failed());
		return 1;
	}
	fprintf(stderr, "%s: all checks passed\n", name);
	return 0;
}

/* One named case of a test executable; CMake registers each as its own ctest. */
struct check_case {
	const char *name;
	void (*fn)(void);
};

/*
 * The cases CMake registered (argv[2..]) must be exactly the table's: the build
 * runs `exe --registered NAME...` so a case missing from either side fails it.
 */
static inline int check_registered(int argc, char **argv, const struct check_case *cases, size_t n)
{
	int bad = 0;

	for (size_t i = 0; i < n; i++) {
		int found = 0;

		for (int a = 2; a < argc; a++)
			found += strcmp(argv[a], cases[i].name) == 0;
		if (found == 0)
			fprintf(stderr, "%s: case \"%s\" is not in CMake's list\n", argv[0],
			        cases[i].name);
		else if (found > 1)
			fprintf(stderr, "%s: case \"%s\" is in CMake's list %d times\n", argv[0],
			        cases[i].name, found);
		bad |= found != 1;
	}
	for (int a = 2; a < argc; a++) {
		size_t i = 0;

		while (i < n && strcmp(argv[a], cases[i].name) != 0)
			i++;
		if (i == n) {
			fprintf(stderr, "%s: CMake's list has \"%s\", which is no case here\n",
			        argv[0], argv[a]);
			bad = 1;
		}
	}
	return bad;
}

/*
 * Runs the case named by argv[1], or every case without an argument;
 * `--registered NAME...` checks the CMake list instead (see above).
 */
static inline int check_main(int argc, char **argv, const struct check_case *cases, size_t n)
{
	int ran = 0;

	if (argc > 1 && strcmp(argv[1], "--registered") == 0)
		return check_registered(argc, argv, cases, n);
	for (size_t i = 0; i < n; i++) {
		int before = check_failed();

		if (argc > 1 && strcmp(argv[1], cases[i].name) != 0)
			continue;
		cases[i].fn();
		ran++;
		fprintf(stderr, "%s: %s\n", cases[i].name,
		        check_failed() == before ? "ok" : "FAILED");
	}
	if (ran == 0) {
		fprintf(stderr, "%s: no case named \"%s\"\n", argv[0], argc > 1 ? argv[1] : "");
		return 1;
	}
	return check_failed() > 0 ? 1 : 0;
}

#define CHECK_MAIN(cases) check_main(argc, argv, (cases), sizeof(cases) / sizeof((cases)[0]))

#endif
