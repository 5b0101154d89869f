/*
 * html_load — the page's "At work" section: each step's load sweep (the
 * plan's "load"), achieved msg/s and latency against the rate offered, and a
 * table of every step and rate. Nothing at all when the report has no load.
 * Also the churn's table, and both as the settings table says them.
 */
#ifndef CONNSCALE_HTML_LOAD_H
#define CONNSCALE_HTML_LOAD_H

#include <jansson.h>
#include <stdio.h>

/* index: the report's place on the page (comparisons), for unique element ids. */
void html_load_section(FILE *f, const json_t *r, int index);
/* "Churn": a table of every step's churn (steps[].churn); nothing without a churn. */
void html_churn_section(FILE *f, const json_t *r, int index);

/* The plan's load and churn in a sentence for the settings table, or "none". */
void html_load_describe(const json_t *plan, char *buf, size_t size);
void html_churn_describe(const json_t *plan, char *buf, size_t size);

#endif
