/*
 * summary_print REPORT.json — the tables a run prints at its end (summary.c),
 * made from a report read back: so a test can feed the summary a crafted
 * report (a step without the server's answer, a null rate) without a run.
 */
#include <stdio.h>

#include <jansson.h>

#include "summary.h"

int main(int argc, char **argv)
{
	json_error_t err;

	if (argc != 2) {
		fprintf(stderr, "usage: summary_print REPORT.json\n");
		return 2;
	}
	json_t *r = json_load_file(argv[1], 0, &err);
	if (r == NULL) {
		fprintf(stderr, "summary_print: %s: %s (line %d)\n", argv[1], err.text, err.line);
		return 2;
	}
	summary_print(stdout, r);
	json_decref(r);
	return 0;
}
