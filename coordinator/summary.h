/*
 * summary — report.json as the tables a run prints at its end.
 */
#ifndef CONNSCALE_SUMMARY_H
#define CONNSCALE_SUMMARY_H

#include <stdio.h>

#include <jansson.h>

/* Agents, steps, the load and churn tables, the server's word and the thresholds. */
void summary_print(FILE *out, const json_t *report);

#endif
