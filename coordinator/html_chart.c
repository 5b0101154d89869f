/*
 * html_chart.c — the page's building blocks (html_chart.h): inline SVG line
 * charts with their axes, ticks and phase marks, table cells, the report's
 * values by dotted path, and escaping.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html_chart.h"

#define W     1100.0
#define H     330.0
#define PAD_L 78.0
#define PAD_R 24.0
#define PAD_T 40.0
#define PAD_B 48.0

static const char *const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                      "#8c564b", "#e377c2", "#17becf", "#7f7f7f", "#bcbd22"};
#define NCOLORS (sizeof(palette) / sizeof(palette[0]))

const json_t *html_jget(const json_t *o, const char *path)
{
	char key[64];

	while (o != NULL && *path) {
		size_t n = strcspn(path, ".");
		if (n >= sizeof(key))
			return NULL;
		memcpy(key, path, n);
		key[n] = '\0';
		o = json_object_get(o, key);
		path += n + (path[n] == '.');
	}
	return o;
}

double html_jnum(const json_t *o, const char *path)
{
	const json_t *v = html_jget(o, path);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

const char *html_jstr(const json_t *o, const char *path)
{
	const char *s = json_string_value(html_jget(o, path));

	return s ? s : "";
}

/* Text into HTML: the five characters that matter. */
void html_esc(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '<':
			fputs("&lt;", f);
			break;
		case '>':
			fputs("&gt;", f);
			break;
		case '&':
			fputs("&amp;", f);
			break;
		case '"':
			fputs("&quot;", f);
			break;
		case '\'':
			fputs("&#39;", f);
			break;
		default:
			fputc(*s, f);
		}
	}
}

struct html_series *html_series_add(struct html_chart *c, const char *label, int n, unsigned color)
{
	if (c->ns == HTML_MAX_SERIES || n <= 0)
		return NULL;
	struct html_series *s = &c->s[c->ns];
	memset(s, 0, sizeof(*s));
	s->x = calloc((size_t)n, sizeof(double));
	s->y = calloc((size_t)n, sizeof(double));
	if (s->x == NULL || s->y == NULL) {
		free(s->x);
		free(s->y);
		return NULL;
	}
	snprintf(s->label, sizeof(s->label), "%s", label);
	s->n = n;
	s->color = color % NCOLORS;
	c->ns++;
	return s;
}

void html_chart_free(struct html_chart *c)
{
	for (int i = 0; i < c->ns; i++) {
		free(c->s[i].x);
		free(c->s[i].y);
	}
	c->ns = 0;
}

/* A round step giving about `want` ticks over range: 1, 2 or 5 times a power of ten. */
static double nice_step(double range, int want)
{
	double raw = range / want, mag = pow(10, floor(log10(raw)));
	double norm = raw / mag;

	return (norm < 1.5 ? 1 : norm < 3.5 ? 2 : norm < 7.5 ? 5 : 10) * mag;
}

struct scale {
	double x0, x1, y0, y1; /* y0 < 0 only for data that goes negative (host deltas) */
};

static void bounds(const struct html_chart *c, struct scale *sc)
{
	sc->x0 = INFINITY;
	sc->x1 = -INFINITY;
	sc->y0 = 0;
	sc->y1 = 0;
	for (int i = 0; i < c->ns; i++)
		for (int k = 0; k < c->s[i].n; k++) {
			if (!isfinite(c->s[i].x[k]) || !isfinite(c->s[i].y[k]))
				continue;
			sc->x0 = fmin(sc->x0, c->s[i].x[k]);
			sc->x1 = fmax(sc->x1, c->s[i].x[k]);
			sc->y0 = fmin(sc->y0, c->s[i].y[k]);
			sc->y1 = fmax(sc->y1, c->s[i].y[k]);
		}
	if (!isfinite(sc->x0)) {
		sc->x0 = 0;
		sc->x1 = 1;
	}
	if (sc->x1 <= sc->x0)
		sc->x1 = sc->x0 + 1;
	sc->y1 = sc->y1 > 0 ? sc->y1 * 1.08 : 1;
	sc->y0 *= 1.08;
}

/* Data to pixels. */

static double px(const struct scale *sc, double v)
{
	return PAD_L + (v - sc->x0) / (sc->x1 - sc->x0) * (W - PAD_L - PAD_R);
}

static double py(const struct scale *sc, double v)
{
	return H - PAD_B - (v - sc->y0) / (sc->y1 - sc->y0) * (H - PAD_T - PAD_B);
}

static void fmt_tick(char *buf, size_t size, double v)
{
	if (fabs(v) >= 1e6)
		snprintf(buf, size, "%gM", v / 1e6);
	else if (fabs(v) >= 1e4)
		snprintf(buf, size, "%gk", v / 1e3);
	else
		snprintf(buf, size, "%g", v);
}

static void axes(FILE *f, const struct scale *sc, const struct html_chart *c)
{
	double sx = nice_step(sc->x1 - sc->x0, 8), sy = nice_step(sc->y1 - sc->y0, 5);
	char t[32];

	for (double v = ceil(sc->y0 / sy) * sy; v <= sc->y1 + 1e-9; v += sy) {
		fmt_tick(t, sizeof(t), v);
		fprintf(f,
		        "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
		        "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
		        PAD_L, py(sc, v), W - PAD_R, py(sc, v), PAD_L - 6, py(sc, v) + 4, t);
	}
	for (double v = ceil(sc->x0 / sx) * sx; v <= sc->x1 + 1e-9; v += sx) {
		fmt_tick(t, sizeof(t), v);
		fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n",
		        px(sc, v), H - PAD_B + 18, t);
	}
	fprintf(f,
	        "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
	        "<line class=\"axis\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
	        PAD_L, py(sc, 0), W - PAD_R, py(sc, 0), PAD_L, PAD_T, PAD_L, H - PAD_B);
	fprintf(f, "<text class=\"label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">",
	        (W + PAD_L) / 2, H - 8);
	html_esc(f, c->xlabel);
	fprintf(f,
	        "</text><text class=\"label\" transform=\"translate(16 %.1f) rotate(-90)\" "
	        "text-anchor=\"middle\">",
	        (H - PAD_B + PAD_T) / 2);
	html_esc(f, c->ylabel);
	fputs("</text>\n", f);
}

static void draw_series(FILE *f, const struct html_series *s, const struct scale *sc)
{
	if (s->area || s->n == 1) { /* an area (stacked), or a lone point */
		if (s->n == 1) {
			fprintf(f,
			        "<circle class=\"series\" cx=\"%.1f\" cy=\"%.1f\" r=\"4\" "
			        "fill=\"%s\"/>\n",
			        px(sc, s->x[0]), py(sc, s->y[0]), palette[s->color]);
			return;
		}
		fprintf(f,
		        "<polygon class=\"series\" fill=\"%s\" fill-opacity=\"0.55\" stroke=\"%s\" "
		        "points=\"",
		        palette[s->color], palette[s->color]);
		for (int k = 0; k < s->n; k++)
			fprintf(f, "%.1f,%.1f ", px(sc, s->x[k]), py(sc, s->y[k]));
		for (int k = s->n - 1; k >= 0; k--)
			fprintf(f, "%.1f,%.1f ", px(sc, s->x[k]), py(sc, s->base ? s->base[k] : 0));
		fputs("\"/>\n", f);
		return;
	}
	fprintf(f,
	        "<polyline class=\"series\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s "
	        "points=\"",
	        palette[s->color], s->dashed ? " stroke-dasharray=\"6 4\"" : "");
	for (int k = 0; k < s->n; k++)
		if (isfinite(s->y[k]))
			fprintf(f, "%.1f,%.1f ", px(sc, s->x[k]), py(sc, s->y[k]));
	fputs("\"/>\n", f);
	for (int k = 0; k < s->n && s->n <= 40; k++)
		if (isfinite(s->y[k]))
			fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n",
			        px(sc, s->x[k]), py(sc, s->y[k]), palette[s->color]);
}

void html_chart_write(FILE *f, const struct html_chart *c)
{
	struct scale sc;

	bounds(c, &sc);
	/* A phase that starts after the last sample (the close) is still on the chart. */
	for (int m = 0; m < c->nmarks; m++)
		if (isfinite(c->marks[m]) && c->marks[m] > sc.x1)
			sc.x1 = c->marks[m];
	fprintf(f, "<figure class=\"chart\"><figcaption>");
	html_esc(f, c->title);
	/* The legend is HTML, so a long one wraps instead of running off the chart. */
	fputs("</figcaption>\n<ul class=\"legend\">", f);
	for (int i = 0; i < c->ns; i++) {
		fprintf(f, "<li><span style=\"background:%s\"></span>", palette[c->s[i].color]);
		html_esc(f, c->s[i].label);
		fputs(c->s[i].dashed ? " (dashed)</li>" : "</li>", f);
	}
	fprintf(f,
	        "</ul>\n<svg id=\"%s\" viewBox=\"0 0 %.0f %.0f\" width=\"%.0f\" "
	        "height=\"%.0f\" role=\"img\" xmlns=\"http://www.w3.org/2000/svg\">\n",
	        c->id, W, H, W, H);
	axes(f, &sc, c);
	for (int m = 0; m < c->nmarks; m++) {
		/* A label near the right edge ends at its line: it would be cut off. */
		bool end = px(&sc, c->marks[m]) > W - PAD_R - 60;
		fprintf(f,
		        "<line class=\"mark\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>"
		        "<text class=\"marklabel\" x=\"%.1f\" y=\"%.1f\"%s>",
		        px(&sc, c->marks[m]), PAD_T, px(&sc, c->marks[m]), H - PAD_B,
		        px(&sc, c->marks[m]) + (end ? -3 : 3), PAD_T + 10 + (m % 3) * 11,
		        end ? " text-anchor=\"end\"" : "");
		html_esc(f, c->mark_labels[m]);
		fputs("</text>\n", f);
	}
	/* Areas last-to-first so the stack's lower layers stay visible. */
	for (int i = c->ns - 1; i >= 0; i--)
		draw_series(f, &c->s[i], &sc);
	fputs("</svg></figure>\n", f);
}

bool html_chart_has_data(const struct html_chart *c)
{
	for (int i = 0; i < c->ns; i++)
		for (int k = 0; k < c->s[i].n; k++)
			if (isfinite(c->s[i].x[k]) && isfinite(c->s[i].y[k]))
				return true;
	return false;
}

/* The chart, or when it has nothing to draw (an aborted run) one line saying why. */
void html_chart_write_or_note(FILE *f, struct html_chart *c, const char *why)
{
	if (html_chart_has_data(c)) {
		html_chart_write(f, c);
	} else {
		fputs("<p class=\"note nodata\">", f);
		html_esc(f, c->title);
		fputs(": not drawn, ", f);
		html_esc(f, why);
		fputs(".</p>\n", f);
	}
	html_chart_free(c);
}

void html_td_num(FILE *f, double v, const char *fmt)
{
	fputs("<td class=\"n\">", f);
	if (isfinite(v))
		fprintf(f, fmt, v);
	else
		fputs("–", f);
	fputs("</td>", f);
}

/* A cell; cls, when given, is a class taken from the report (a state), so escaped too. */
void html_td_str(FILE *f, const char *s, const char *cls)
{
	fputs("<td", f);
	if (cls != NULL) {
		fputs(" class=\"", f);
		html_esc(f, cls);
		fputc('"', f);
	}
	fputc('>', f);
	html_esc(f, s);
	fputs("</td>", f);
}
