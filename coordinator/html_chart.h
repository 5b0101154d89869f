/*
 * html_chart — the page's building blocks, shared by html.c and the sections
 * drawn in files of their own (html_load.c): inline SVG line charts, table
 * cells, the report's values by dotted path, and escaping. Every string that
 * comes from a report goes through html_esc(): a report is input, not markup.
 */
#ifndef CONNSCALE_HTML_CHART_H
#define CONNSCALE_HTML_CHART_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#define HTML_MAX_SERIES 24
#define HTML_MAX_MARKS  128

struct html_series {
	char label[96];
	int n;
	double *x, *y; /* owned by the series */
	bool area;     /* filled down to `base` (stacked) */
	double *base;  /* the series below, or NULL for the axis */
	unsigned color;
	bool dashed;
};

struct html_chart {
	const char *id, *title, *xlabel, *ylabel;
	struct html_series s[HTML_MAX_SERIES];
	int ns;
	double marks[HTML_MAX_MARKS];
	char mark_labels[HTML_MAX_MARKS][24];
	int nmarks;
};

/* "a.b.c" in a report: the value (NULL when absent), a number (NAN when absent or null), a string
 * ("" when absent). */
const json_t *html_jget(const json_t *o, const char *path);
double html_jnum(const json_t *o, const char *path);
const char *html_jstr(const json_t *o, const char *path);

/* Text into HTML: the five characters that matter. */
void html_esc(FILE *f, const char *s);

/* A series of n points (x and y zeroed) in color (an index into the palette); NULL when full. */
struct html_series *html_series_add(struct html_chart *c, const char *label, int n, unsigned color);

/* Whether any series has a finite point to draw. */
bool html_chart_has_data(const struct html_chart *c);
/* The chart as inline SVG; html_chart_free() its series after. */
void html_chart_write(FILE *f, const struct html_chart *c);
void html_chart_free(struct html_chart *c);
/* The chart, or when it has nothing to draw one line saying why; frees its series. */
void html_chart_write_or_note(FILE *f, struct html_chart *c, const char *why);

/* A right-aligned number cell, a dash when not finite; a text cell (cls escaped too). */
void html_td_num(FILE *f, double v, const char *fmt);
void html_td_str(FILE *f, const char *s, const char *cls);

#endif
