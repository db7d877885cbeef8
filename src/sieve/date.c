/* date.c — the date and currentdate tests (RFC 5260 4-5) with :zone and
 * :originalzone, the date parts of 4.2, and the RFC 5322 3.3 date-time
 * parser they need (obsolete zone names included, comments skipped).  A
 * date that cannot be read makes the test false, not an error.  Without
 * :zone, values are shown in the local zone (sieve_env or the process's). */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sieve/sieve_int.h"

static const char *const months[] = {"jan", "feb", "mar", "apr", "may", "jun",
				     "jul", "aug", "sep", "oct", "nov", "dec"};

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static long long days_from_civil(long long y, unsigned m, unsigned d)
{
	y -= m <= 2;
	long long era = (y >= 0 ? y : y - 399) / 400;
	unsigned yoe = (unsigned)(y - era * 400);
	unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long long)doe - 719468;
}

static const char *skip_cfws(const char *s)
{
	for (;;) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s != '(')
			return s;
		int depth = 0;
		for (; *s != '\0'; s++) {
			if (*s == '\\' && s[1] != '\0')
				s++;
			else if (*s == '(')
				depth++;
			else if (*s == ')' && --depth == 0) {
				s++;
				break;
			}
		}
	}
}

static bool number(const char **s, int mindig, int maxdig, int *out)
{
	const char *p = *s;
	int v = 0, n = 0;
	while (isdigit((unsigned char)*p) && n < maxdig) {
		v = v * 10 + (*p++ - '0');
		n++;
	}
	if (n < mindig)
		return false;
	*out = v;
	*s = p;
	return true;
}

/* Zone: +hhmm, or an obsolete name (RFC 5322 4.3); minutes east of UTC. */
static bool zone(const char *s, int *min_r)
{
	if ((*s == '+' || *s == '-') && isdigit((unsigned char)s[1])) {
		int v;
		const char *p = s + 1;
		if (!number(&p, 4, 4, &v) || v % 100 > 59)
			return false;
		*min_r = (v / 100 * 60 + v % 100) * (*s == '-' ? -1 : 1);
		return true;
	}
	static const struct { const char *n; int h; } names[] = {
		{"ut", 0}, {"gmt", 0}, {"z", 0}, {"est", -5}, {"edt", -4}, {"cst", -6},
		{"cdt", -5}, {"mst", -7}, {"mdt", -6}, {"pst", -8}, {"pdt", -7}};
	size_t n = 0;
	while (isalpha((unsigned char)s[n]))
		n++;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i].n) == n && str_ascii_nieq(s, names[i].n, n)) {
			*min_r = names[i].h * 60;
			return true;
		}
	if (n == 1) {     /* military zones mean nothing reliable: -0000 */
		*min_r = 0;
		return true;
	}
	return false;
}

/* RFC 5322 date-time: the instant and its zone. */
static bool parse_date(const char *s, long long *t_r, int *zone_r)
{
	s = skip_cfws(s);
	if (isalpha((unsigned char)*s)) {     /* day-of-week "," */
		while (isalpha((unsigned char)*s))
			s++;
		s = skip_cfws(s);
		if (*s++ != ',')
			return false;
		s = skip_cfws(s);
	}
	int day, mon = -1, year, hh, mm, ss = 0, z;
	if (!number(&s, 1, 2, &day))
		return false;
	s = skip_cfws(s);
	for (int i = 0; i < 12; i++)
		if (str_ascii_nieq(s, months[i], 3))
			mon = i;
	if (mon < 0)
		return false;
	s = skip_cfws(s + 3);
	const char *ys = s;
	if (!number(&s, 2, 4, &year))
		return false;
	if (s - ys == 2)
		year += year < 50 ? 2000 : 1900;
	else if (s - ys == 3)
		year += 1900;
	s = skip_cfws(s);
	if (!number(&s, 1, 2, &hh) || *(s = skip_cfws(s)) != ':')
		return false;
	s = skip_cfws(s + 1);
	if (!number(&s, 1, 2, &mm))
		return false;
	s = skip_cfws(s);
	if (*s == ':') {
		s = skip_cfws(s + 1);
		if (!number(&s, 1, 2, &ss))
			return false;
		s = skip_cfws(s);
	}
	if (!zone(s, &z) || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60)
		return false;
	*t_r = days_from_civil(year, (unsigned)mon + 1, (unsigned)day) * 86400 + hh * 3600 +
	       mm * 60 + ss - (long long)z * 60;
	*zone_r = z;
	return true;
}

static int local_zone(const sieve_interp *it, time_t t)
{
	if (it->environment->zone_set)
		return it->environment->zone_minutes;
	struct tm tm;
	localtime_r(&t, &tm);
	return (int)(tm.tm_gmtoff / 60);
}

/* The date part of instant t shown in zone z (minutes east). */
static char *date_part(long long t, int z, const char *part)
{
	static const char *const wd[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char *const mn[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul",
					 "Aug", "Sep", "Oct", "Nov", "Dec"};
	time_t lt = (time_t)(t + (long long)z * 60);
	struct tm tm;
	gmtime_r(&lt, &tm);
	int az = z < 0 ? -z : z;
	char sign = z < 0 ? '-' : '+';
	int y = tm.tm_year + 1900;
	if (str_ascii_ieq(part, "year")) return xasprintf("%04d", y);
	if (str_ascii_ieq(part, "month")) return xasprintf("%02d", tm.tm_mon + 1);
	if (str_ascii_ieq(part, "day")) return xasprintf("%02d", tm.tm_mday);
	if (str_ascii_ieq(part, "date"))
		return xasprintf("%04d-%02d-%02d", y, tm.tm_mon + 1, tm.tm_mday);
	if (str_ascii_ieq(part, "julian"))
		return xasprintf("%lld", days_from_civil(y, (unsigned)tm.tm_mon + 1,
							 (unsigned)tm.tm_mday) + 40587);
	if (str_ascii_ieq(part, "hour")) return xasprintf("%02d", tm.tm_hour);
	if (str_ascii_ieq(part, "minute")) return xasprintf("%02d", tm.tm_min);
	if (str_ascii_ieq(part, "second")) return xasprintf("%02d", tm.tm_sec);
	if (str_ascii_ieq(part, "time"))
		return xasprintf("%02d:%02d:%02d", tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (str_ascii_ieq(part, "iso8601") && z == 0)   /* RFC 3339 5.6: "Z" for UTC */
		return xasprintf("%04d-%02d-%02dT%02d:%02d:%02dZ", y, tm.tm_mon + 1, tm.tm_mday,
				 tm.tm_hour, tm.tm_min, tm.tm_sec);
	if (str_ascii_ieq(part, "iso8601"))
		return xasprintf("%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", y, tm.tm_mon + 1,
				 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, sign, az / 60, az % 60);
	if (str_ascii_ieq(part, "std11"))
		return xasprintf("%s, %02d %s %04d %02d:%02d:%02d %c%02d%02d", wd[tm.tm_wday],
				 tm.tm_mday, mn[tm.tm_mon], y, tm.tm_hour, tm.tm_min, tm.tm_sec,
				 sign, az / 60, az % 60);
	if (str_ascii_ieq(part, "zone")) return xasprintf("%c%02d%02d", sign, az / 60, az % 60);
	if (str_ascii_ieq(part, "weekday")) return xasprintf("%d", tm.tm_wday);
	return NULL;
}

static void set_zone(sieve_opts *o, const char *tag, sieve_arg *a)
{
	o->zone_kind = strcmp(tag, "zone") == 0 ? ZONE_GIVEN : ZONE_ORIGINAL;
	o->zone = a;
}

static bool check_date(sieve_compiler *c, sieve_node *n)
{
	/* an unknown date part makes the test false and an invalid :zone is
	 * ignored at run time, as in Pigeonhole: neither is a compile error */
	if (n->o.zone_kind == ZONE_ORIGINAL && n->def->test != NULL && n->npos == 2)
		return sieve_fail(c, n->line, n->col, "currentdate takes no :originalzone");
	return true;
}

/* Compare the date part of instant t (written in zone orig) to the keys. */
static int compare_at(sieve_interp *it, const sieve_node *n, long long t, int orig)
{
	int z = orig;
	if (n->o.zone_kind == ZONE_LOCAL) {
		z = local_zone(it, (time_t)t);
	} else if (n->o.zone_kind == ZONE_GIVEN) {
		char *zs = sieve_expand(it, n->o.zone->strs[0]);
		bool ok = (zs[0] == '+' || zs[0] == '-') && strlen(zs) == 5 && zone(zs, &z);
		free(zs);
		if (!ok)          /* not "+hhmm": as if absent (Pigeonhole does the same) */
			z = local_zone(it, (time_t)t);
	}
	char *part = sieve_expand(it, n->pos[n->npos - 2]->strs[0]);
	char *v = date_part(t, z, part);
	free(part);
	strlist values, keys;
	strlist_init(&values);
	if (v != NULL)
		strlist_add_owned(&values, v);
	sieve_expand_list(it, n->pos[n->npos - 1], &keys);
	bool r = sieve_match_values(it, &n->o, &values, &keys);
	strlist_free(&values);
	strlist_free(&keys);
	return r;
}

static int test_date(sieve_interp *it, const sieve_node *n)
{
	char *name = sieve_expand(it, n->pos[0]->strs[0]);
	strlist all;
	strlist_init(&all);
	sieve_msg_header_values(it, name, false, &all);
	const char *value = NULL;
	if (n->o.index == 0)
		value = all.n > 0 ? all.items[0] : NULL;
	else if (n->o.index <= all.n)
		value = all.items[n->o.last ? all.n - n->o.index : n->o.index - 1];
	int r = 0;
	long long t;
	int z;
	if (value != NULL) {
		const char *semi = strrchr(value, ';');
		if (str_ascii_ieq(name, "received") && semi != NULL)
			value = semi + 1;    /* RFC 5260 4: the date after the last ';' */
		if (parse_date(value, &t, &z))
			r = compare_at(it, n, t, z);
	}
	strlist_free(&all);
	free(name);
	return r;
}

static int test_currentdate(sieve_interp *it, const sieve_node *n)
{
	const sieve_env *e = it->environment;
	time_t now = e->now != NULL ? e->now(e->ctx) : time(NULL);
	return compare_at(it, n, (long long)now, local_zone(it, now));
}

static const sieve_tag_def zone_tags[] = {
	{"zone", 0, 'S', 17, set_zone}, {"originalzone", 0, 0, 17, set_zone},
	{NULL, 0, 0, 0, NULL}};
static const sieve_tag_def *const date_tags[] = {zone_tags, sieve_tags_cmp, sieve_tags_match,
	sieve_tags_index, NULL};
static const sieve_tag_def *const cur_tags[] = {zone_tags, sieve_tags_cmp, sieve_tags_match,
	NULL};

const sieve_def sieve_defs_date[] = {
	{"date", CAP_DATE, true, date_tags, "SSL", false, 0, 0, check_date, NULL, test_date},
	{"currentdate", CAP_DATE, true, cur_tags, "SL", false, 0, 0, check_date, NULL,
	 test_currentdate},
	{NULL, 0, false, NULL, NULL, false, 0, 0, NULL, NULL, NULL},
};
