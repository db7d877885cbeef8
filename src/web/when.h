/* when.h — the time fields of the delivery log's search form: "" (no
 * bound), a time ago ("30m", "6h", "2d", "1w"), a date ("2026-12-06",
 * midnight UTC) or a date and time ("2026-12-06T09:30" as a browser's
 * datetime-local field sends it, or with a space; seconds optional; UTC).
 * Pure; the clock is passed in. */
#ifndef YUBIN_WEB_WHEN_H
#define YUBIN_WEB_WHEN_H

#include <stdbool.h>
#include <time.h>

/* *t_r gets the unix time (0 for ""); false when s is none of the forms. */
bool web_when_parse(const char *s, time_t now, time_t *t_r);

#endif
