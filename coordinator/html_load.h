/*
 * html_load — the page's "At work" section: each step's load sweep (the
 * plan's "load"), achieved msg/s and latency against the rate offered, and a
 * table of every step and rate. Nothing at all when the report has no load.
 */
#ifndef CONNSCALE_HTML_LOAD_H
#define CONNSCALE_HTML_LOAD_H

#include <jansson.h>
#include <stdio.h>

/* index: the report's place on the page (comparisons), for unique element ids. */
void html_load_section(FILE *f, const json_t *r, int index);

#endif
