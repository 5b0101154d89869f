/*
 * fuzz — what the libFuzzer harnesses share.
 *
 * Each harness (fuzz_plan.c, fuzz_msg.c, fuzz_threshold.c) defines
 * LLVMFuzzerTestOneInput and includes this header first. The same file is
 * compiled twice: with -fsanitize=fuzzer and FUZZ_LIBFUZZER defined it is a
 * libFuzzer target (bench/fuzz), and without them the main() below replays a
 * corpus, so every input the fuzzers ever kept (tests/fuzz/corpus/<harness>/)
 * runs again in `make test`, under ASan in the asan preset.
 *
 * A harness aborts on a broken invariant (a value that round-trips to
 * something else, an accepted input that breaks a documented limit), so a
 * wrong answer is a finding, not only a crash.
 */
#ifndef CONNSCALE_FUZZ_H
#define CONNSCALE_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Inputs the code under test accepted; the replay wants at least one per corpus. */
static long fuzz_accepted;

/* Prints what broke and aborts, so libFuzzer and the replay both stop on it. */
#define FUZZ_ASSERT(cond)                                                                          \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "%s:%d: invariant broken: %s\n", __FILE__, __LINE__,       \
			        #cond);                                                            \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#ifndef FUZZ_LIBFUZZER
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

/* Runs one file through the harness; 0, or -1 if it could not be read. */
static int fuzz_replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long size = -1;

	if (f != NULL && fseek(f, 0, SEEK_END) == 0)
		size = ftell(f);
	if (size >= 0 && fseek(f, 0, SEEK_SET) == 0)
		buf = malloc(size > 0 ? (size_t)size : 1);
	/* Exactly size bytes: ASan sees any read past the input. */
	if (buf == NULL || fread(buf, 1, (size_t)size, f) != (size_t)size) {
		fprintf(stderr, "%s: cannot read: %s\n", path, strerror(errno));
		free(buf);
		if (f != NULL)
			fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)size);
	free(buf);
	return 0;
}

static int fuzz_skip_dot(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/* Replays every file of dir (sorted, so a failure is reproducible); the count, or -1. */
static long fuzz_replay_dir(const char *dir)
{
	struct dirent **names;
	char path[4096];
	long n = 0;
	int count = scandir(dir, &names, fuzz_skip_dot, alphasort);

	if (count < 0) {
		fprintf(stderr, "%s: cannot list: %s\n", dir, strerror(errno));
		return -1;
	}
	for (int i = 0; i < count; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		if (n >= 0 && fuzz_replay_file(path) == 0)
			n++;
		else
			n = -1;
		free(names[i]);
	}
	free(names);
	return n;
}

/* usage: fuzz_replay_HARNESS DIR|FILE...: replays each, fails on none read or none accepted. */
int main(int argc, char **argv)
{
	long total = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR|FILE...\n", argv[0]);
		return 2;
	}
	for (int i = 1; i < argc; i++) {
		struct stat st;
		long n;

		if (stat(argv[i], &st) == 0 && S_ISDIR(st.st_mode))
			n = fuzz_replay_dir(argv[i]);
		else
			n = fuzz_replay_file(argv[i]) == 0 ? 1 : -1;
		if (n < 0)
			return 1;
		total += n;
	}
	printf("replayed %ld inputs, %ld accepted\n", total, fuzz_accepted);
	if (total == 0 || fuzz_accepted == 0) {
		fprintf(stderr, "%s: the corpus must hold inputs, some of them valid\n", argv[0]);
		return 1;
	}
	return 0;
}
#endif

#endif
