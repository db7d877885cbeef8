/* chart.h — a bar chart as an SVG document, made on the server (no
 * script, no external asset): one bar per hour for a series of counts,
 * with a y axis of round ticks, an x axis labelled every few hours and at
 * each midnight (UTC), and a title.  Pure: values in, SVG text out; the
 * dashboard's charts page (web/pg_charts.c) feeds it the audit trail's
 * hourly counts. */
#ifndef YUBIN_WEB_CHART_H
#define YUBIN_WEB_CHART_H

#include <stddef.h>
#include <stdint.h>

#include "lib/buf.h"

typedef struct chart_spec {
	const char *title;        /* escaped here */
	const char *color;        /* bar fill, "#rrggbb" (not escaped: ours) */
	long long start;          /* unix seconds of the first hour (hour-aligned) */
	const uint32_t *values;   /* one count per hour */
	size_t n;                 /* hours; 0 draws the axes and "no data" */
} chart_spec;

/* Append the SVG document (with its XML declaration) to out.  Every
 * non-zero hour is one <rect class="bar" data-hour="UNIX" data-count="N">
 * with a <title> tooltip; a zero hour draws nothing. */
void chart_svg(const chart_spec *spec, buf *out);

/* The y axis: the smallest "round" step (1, 2 or 5 times a power of ten)
 * such that at most max_ticks steps reach max; *top_r gets the axis top (a
 * multiple of the step, >= max, at least one step). */
uint32_t chart_tick_step(uint32_t max, unsigned max_ticks, uint32_t *top_r);

#endif
