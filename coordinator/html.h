/*
 * html — one self-contained HTML page (inline CSS and SVG, no scripts, no
 * network) from one or more reports: connections over time per agent with
 * phase boundaries, server memory over time (user RSS and the kernel's
 * share), memory per connection against connections (a line per report when
 * comparing server models), latency percentiles per step, and the tables:
 * summary, thresholds, agents, and the host limits each component reported.
 */
#ifndef CONNSCALE_HTML_H
#define CONNSCALE_HTML_H

#include <jansson.h>

/* Writes atomically (temp file + rename). 0 or -errno. */
int html_write(const char *path, json_t *const *reports, int nreports);

#endif
