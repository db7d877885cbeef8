/* pg_charts.c — the charts page: messages received, delivered, deferred
 * and bounced per hour over the last web.chart_days days, each an SVG
 * image made by web/chart.c from the trail's hourly counts (audit_hourly,
 * on a worker), with the period's totals.  Must not draw anything itself:
 * the geometry is chart.c's. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "audit/audit.h"
#include "lib/log.h"
#include "web/chart.h"
#include "web/html.h"
#include "web/page.h"

static const struct {
	const char *file, *title, *color;
} series[4] = {
	{"received.svg", "Received", "#2f5fb3"},
	{"delivered.svg", "Delivered", "#1e7a3c"},
	{"deferred.svg", "Deferred", "#c98a00"},
	{"bounced.svg", "Bounced", "#b3261e"},
};

typedef struct counts {
	long long start;       /* unix seconds of the first hour */
	uint32_t (*hours)[4];
	size_t n;
} counts;

/* The last days up to the end of the current hour (all zero when the
 * trail is off or empty: *absent_r). */
static void fetch(const config *cfg, counts *c, bool *absent_r, char **err_r)
{
	long long end = ((long long)time(NULL) / 3600 + 1) * 3600;
	c->start = end - (long long)cfg->web.chart_days * 86400;
	audit_reader *rd = web_trail_open(cfg, absent_r, err_r);
	if (*absent_r) {
		c->n = (size_t)cfg->web.chart_days * 24;
		c->hours = xcalloc(c->n, sizeof(*c->hours));
	}
	if (rd == NULL)
		return;
	if (!audit_hourly(rd, (int64_t)c->start * 1000, (int64_t)end * 1000, &c->hours, &c->n, err_r)) {
		c->hours = NULL;
		c->n = 0;
	}
	audit_reader_close(&rd);
}

/* ---- the page ---- */

typedef struct charts_job {
	web_job base;
	counts c;
} charts_job;

static void page_work(web_job *j)
{
	fetch(j->srv->cfg, &((charts_job *)j)->c, &j->no_trail, &j->err);
}

static void page_render(web_job *j, buf *out)
{
	charts_job *cj = (charts_job *)j;
	unsigned long long total[4] = {0};
	for (size_t h = 0; h < cj->c.n; h++)
		for (int k = 0; k < 4; k++)
			total[k] += cj->c.hours[h][k];
	html_printf(out, "<p class=\"muted\">Per hour over the last %d days, UTC, from ", j->srv->cfg->web.chart_days);
	html_time(out, cj->c.start);
	BUF_PUTS(out, ".</p>\n<table class=\"totals\"><thead><tr>");
	for (int k = 0; k < 4; k++)
		html_printf(out, "<th>%s</th>", series[k].title);
	BUF_PUTS(out, "</tr></thead><tbody><tr>");
	for (int k = 0; k < 4; k++)
		BUF_PRINTF(out, "<td>%llu</td>", total[k]);
	BUF_PUTS(out, "</tr></tbody></table>\n<div class=\"charts\">");
	for (int k = 0; k < 4; k++)
		html_printf(out, "<img src=\"/charts/%s\" alt=\"%s per hour\" width=\"720\" height=\"240\">",
		            series[k].file, series[k].title);
	BUF_PUTS(out, "</div>\n");
}

static void page_free(web_job *j)
{
	free(((charts_job *)j)->c.hours);
}

void web_get_charts(http_req *r)
{
	charts_job *cj = xcalloc(1, sizeof(*cj));
	cj->base.work = page_work;
	cj->base.render = page_render;
	cj->base.free = page_free;
	web_job_start(&cj->base, r, "Charts", "/charts");
}

/* ---- one chart, as an SVG document ---- */

typedef struct svg_job {
	http_req *r;
	const config *cfg;
	int which;
	counts c;
	char *err;
	buf svg;
} svg_job;

static void svg_work(void *arg)
{
	svg_job *s = arg;
	bool absent;
	fetch(s->cfg, &s->c, &absent, &s->err);
	if (s->err != NULL)
		return;
	uint32_t *v = xcalloc(s->c.n ? s->c.n : 1, sizeof(*v));
	for (size_t h = 0; h < s->c.n; h++)
		v[h] = s->c.hours[h][s->which];
	char *title = xasprintf("%s per hour", series[s->which].title);
	chart_spec spec = {.title = title, .color = series[s->which].color, .start = s->c.start,
	                   .values = v, .n = s->c.n};
	buf_init(&s->svg, BUF_UNBOUNDED);
	chart_svg(&spec, &s->svg);
	free(title);
	free(v);
}

static void svg_done(void *arg)
{
	svg_job *s = arg;
	if (s->err != NULL) {
		log_event(LOG_LVL_ERROR, "web_page", "req=%s path=%s error=%s", http_req_id(s->r),
		          http_req_path(s->r), s->err);
		http_add_header(s->r, "Retry-After", "10");
		web_reply_message(s->r, 503, "Not available now", "The chart cannot be drawn now; try again shortly.");
	} else {
		web_security_headers(s->r);
		http_reply(s->r, 200, "image/svg+xml; charset=utf-8", buf_str(&s->svg), s->svg.len);
	}
	buf_free(&s->svg);
	free(s->c.hours);
	free(s->err);
	free(s);
}

void web_get_chart_svg(http_req *r)
{
	const char *name = http_req_param(r, "name");
	int which = -1;
	for (int k = 0; k < 4 && name != NULL; k++)
		if (strcmp(name, series[k].file) == 0)
			which = k;
	if (which < 0) {
		web_reply_message(r, 404, "No such chart", "There is no such chart.");
		return;
	}
	server *srv = http_req_server(r);
	svg_job *s = xcalloc(1, sizeof(*s));
	s->r = r;
	s->cfg = srv->cfg;
	s->which = which;
	workers_submit(srv->wk, svg_work, svg_done, s);
}
