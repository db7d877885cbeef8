/* chart.c — SVG bar charts (see chart.h).  Owns the geometry and the
 * labels; must not read the audit trail or know HTTP. */
#include "web/chart.h"

#include <time.h>

#include "web/html.h"

/* The canvas, in SVG user units. */
#define W 720
#define H 240
#define LEFT 48      /* room for the y labels */
#define RIGHT 12
#define TOP 28       /* room for the title */
#define BOTTOM 40    /* room for the x labels (hour, then date) */
#define Y_TICKS 5

uint32_t chart_tick_step(uint32_t max, unsigned max_ticks, uint32_t *top_r)
{
	static const uint32_t mult[] = {1, 2, 5};
	if (max_ticks == 0)
		max_ticks = 1;
	uint64_t step = 1;
	for (uint64_t pow = 1;; pow *= 10) {
		for (size_t i = 0; i < 3; i++) {
			step = pow * mult[i];
			if ((max + step - 1) / step <= max_ticks) {
				uint64_t top = (max + step - 1) / step * step;
				if (top == 0)
					top = step;
				*top_r = top > UINT32_MAX ? UINT32_MAX : (uint32_t)top;
				return (uint32_t)step;
			}
		}
		if (pow > UINT32_MAX / 10) { /* cannot be reached for max_ticks >= 1 */
			*top_r = UINT32_MAX;
			return (uint32_t)step;
		}
	}
}

static void y_axis(buf *out, uint32_t step, uint32_t top)
{
	double plot_h = H - TOP - BOTTOM;
	for (uint64_t v = 0; v <= top; v += step) {
		double y = TOP + plot_h - plot_h * (double)v / top;
		BUF_PRINTF(out, "<line class=\"grid\" x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#dde\"/>"
		           "<text class=\"ytick\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%llu</text>\n",
		           LEFT, y, W - RIGHT, y, LEFT - 6, y + 4, (unsigned long long)v);
	}
}

/* A label under every hour that is a multiple of `every` hours (UTC), and
 * the date under each midnight; over more than a week, only the dates
 * (every few days, so that at most about ten show). */
static void x_axis(buf *out, const chart_spec *s, double slot)
{
	unsigned every = s->n <= 24 ? 3 : s->n <= 72 ? 6 : s->n <= 168 ? 12 : 0;
	size_t day_step = s->n <= 240 ? 1 : (s->n / 24 + 9) / 10;
	for (size_t i = 0, day = 0; i < s->n; i++) {
		time_t t = (time_t)(s->start + (long long)i * 3600);
		struct tm tm;
		if (gmtime_r(&t, &tm) == NULL)
			continue;
		double x = LEFT + slot * (double)i;
		if (every != 0 && tm.tm_hour % every == 0)
			BUF_PRINTF(out, "<line class=\"xtick\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#667\"/>"
			           "<text class=\"xlabel\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%02d:00</text>\n",
			           x, H - BOTTOM, x, H - BOTTOM + 4, x, H - BOTTOM + 16, tm.tm_hour);
		if (tm.tm_hour == 0 && day++ % day_step == 0) {
			char date[16];
			strftime(date, sizeof date, "%b %d", &tm);
			if (every == 0) /* else the hour label drew the tick */
				BUF_PRINTF(out, "<line class=\"xtick\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" "
				           "stroke=\"#667\"/>", x, H - BOTTOM, x, H - BOTTOM + 4);
			BUF_PRINTF(out, "<text class=\"xdate\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n",
			           x, H - BOTTOM + 32, date);
		}
	}
}

static void bars(buf *out, const chart_spec *s, double slot, uint32_t top)
{
	double plot_h = H - TOP - BOTTOM;
	double w = slot > 2 ? slot * 0.8 : slot;
	for (size_t i = 0; i < s->n; i++) {
		uint32_t v = s->values[i];
		if (v == 0)
			continue;
		double h = plot_h * (double)v / top;
		long long hour = s->start + (long long)i * 3600;
		BUF_PRINTF(out, "<rect class=\"bar\" data-hour=\"%lld\" data-count=\"%u\" x=\"%.2f\" y=\"%.2f\" "
		           "width=\"%.2f\" height=\"%.2f\" fill=\"%s\"><title>", hour, v,
		           LEFT + slot * (double)i + (slot - w) / 2, TOP + plot_h - h, w, h, s->color);
		html_time(out, hour);
		BUF_PRINTF(out, " UTC: %u</title></rect>\n", v);
	}
}

void chart_svg(const chart_spec *s, buf *out)
{
	uint32_t max = 0;
	for (size_t i = 0; i < s->n; i++)
		if (s->values[i] > max)
			max = s->values[i];
	uint32_t top, step = chart_tick_step(max, Y_TICKS, &top);
	BUF_PRINTF(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	           "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" "
	           "font-family=\"sans-serif\" font-size=\"11\" fill=\"#223\" role=\"img\" aria-label=\"",
	           W, H, W, H);
	html_text(out, s->title);
	BUF_PUTS(out, "\">\n<title>");
	html_text(out, s->title);
	BUF_PRINTF(out, "</title>\n<text class=\"title\" x=\"%d\" y=\"18\" font-size=\"14\" "
	           "font-weight=\"bold\">", LEFT);
	html_text(out, s->title);
	BUF_PUTS(out, "</text>\n");
	y_axis(out, step, top);
	double slot = s->n ? (double)(W - LEFT - RIGHT) / (double)s->n : 0;
	x_axis(out, s, slot);
	bars(out, s, slot, top);
	BUF_PRINTF(out, "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#223\"/>"
	           "<line class=\"axis\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#223\"/>\n",
	           LEFT, TOP, LEFT, H - BOTTOM, LEFT, H - BOTTOM, W - RIGHT, H - BOTTOM);
	if (max == 0)
		BUF_PRINTF(out, "<text class=\"empty\" x=\"%d\" y=\"%d\" text-anchor=\"middle\" fill=\"#889\">"
		           "no messages in this period</text>\n", (LEFT + W - RIGHT) / 2, (TOP + H - BOTTOM) / 2);
	BUF_PUTS(out, "</svg>\n");
}
