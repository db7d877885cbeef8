/* when.c — parsing the search form's times (see when.h). */
#include "web/when.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

static bool parse_ago(const char *s, time_t now, time_t *t_r)
{
	long long n = 0;
	size_t i = 0;
	while (isdigit((unsigned char)s[i]) && i < 6)
		n = n * 10 + (s[i++] - '0');
	if (i == 0 || s[i] == '\0' || s[i + 1] != '\0')
		return false;
	static const struct {
		char unit;
		long long secs;
	} units[] = {{'m', 60}, {'h', 3600}, {'d', 86400}, {'w', 7 * 86400}};
	for (size_t k = 0; k < sizeof(units) / sizeof(units[0]); k++)
		if (s[i] == units[k].unit) {
			*t_r = now - (time_t)(n * units[k].secs);
			return true;
		}
	return false;
}

static bool parse_date(const char *s, time_t *t_r)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, used = 0;
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &used) != 3 || used != 10)
		return false;
	const char *rest = s + used;
	if (*rest == 'T' || *rest == ' ') {
		int more = 0;
		if (sscanf(rest + 1, "%2d:%2d%n", &h, &mi, &more) != 2 || more != 5)
			return false;
		rest += 1 + more;
		if (*rest == ':') {
			if (sscanf(rest + 1, "%2d%n", &sec, &more) != 1 || more != 2)
				return false;
			rest += 3;
		}
	}
	if (*rest != '\0' || y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
	    sec > 60 || h < 0 || mi < 0 || sec < 0)
		return false;
	struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h,
	                .tm_min = mi, .tm_sec = sec};
	time_t t = timegm(&tm);
	if (t == (time_t)-1 || tm.tm_mday != d) /* 2026-02-30 rolls over: refused */
		return false;
	*t_r = t;
	return true;
}

bool web_when_parse(const char *s, time_t now, time_t *t_r)
{
	while (*s == ' ')
		s++;
	if (*s == '\0') {
		*t_r = 0;
		return true;
	}
	if (strlen(s) > 32)
		return false;
	return parse_ago(s, now, t_r) || parse_date(s, t_r);
}
