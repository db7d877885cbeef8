/* date.c — IMAP date and date-time parsing (see date.h).  Civil date to
 * days uses the proleptic Gregorian calendar. */
#include "imap/date.h"

#include <stdint.h>

#include "lib/strutil.h"

static const char *const months[12] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

static bool is_leap(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int y, int m)
{
	static const int d[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	return m == 2 && is_leap(y) ? 29 : d[m - 1];
}

/* Days from 1970-01-01 to y-m-d (m 1..12). */
static int64_t days_from_civil(int y, int m, int d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static bool digits(const char *s, size_t n, int *v_r)
{
	int v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*v_r = v;
	return true;
}

/* "MMM-yyyy" at s (8 bytes), after the day and its "-". */
static bool month_year(const char *s, int *m_r, int *y_r)
{
	int m = 0;
	for (int i = 0; i < 12; i++)
		if (str_ascii_nieq(s, months[i], 3))
			m = i + 1;
	if (m == 0 || s[3] != '-' || !digits(s + 4, 4, y_r) || *y_r == 0)
		return false;
	*m_r = m;
	return true;
}

/* The date part; day of 1 or 2 digits (space_day: " d" allowed too, for
 * date-time).  Returns the bytes used, 0 on error. */
static size_t parse_day_date(const char *s, size_t len, bool fixed, int64_t *days_r)
{
	size_t dl;
	int d, m, y;
	if (fixed) {
		dl = 2;
		if (len < 2 || !(s[0] == ' ' ? digits(s + 1, 1, &d) : digits(s, 2, &d)))
			return 0;
	} else {
		dl = len >= 2 && s[1] != '-' ? 2 : 1;
		if (len < dl || !digits(s, dl, &d))
			return 0;
	}
	if (len < dl + 9 || s[dl] != '-' || !month_year(s + dl + 1, &m, &y))
		return 0;
	if (d < 1 || d > days_in_month(y, m))
		return 0;
	*days_r = days_from_civil(y, m, d);
	return dl + 9;
}

bool imap_date_parse(const char *s, size_t len, time_t *t_r)
{
	int64_t days;
	size_t n = parse_day_date(s, len, false, &days);
	if (n == 0 || n != len)
		return false;
	*t_r = (time_t)(days * 86400);
	return true;
}

bool imap_date_parse_arg(const imap_arg *a, time_t *t_r)
{
	if (a == NULL || (a->type != IMAP_ARG_ATOM && a->type != IMAP_ARG_QUOTED))
		return false;
	return imap_date_parse(a->str, a->len, t_r);
}

bool imap_datetime_parse(const char *s, size_t len, time_t *t_r, int *offset_r)
{
	int64_t days;
	int hh, mm, ss, zh, zm;
	/* "dd-MMM-yyyy" 11, " hh:mm:ss" 9, " +zzzz" 6 */
	if (len != 26 || parse_day_date(s, len, true, &days) != 11)
		return false;
	const char *t = s + 11;
	if (t[0] != ' ' || !digits(t + 1, 2, &hh) || t[3] != ':' || !digits(t + 4, 2, &mm) ||
	    t[6] != ':' || !digits(t + 7, 2, &ss) || t[9] != ' ' ||
	    (t[10] != '+' && t[10] != '-') || !digits(t + 11, 2, &zh) || !digits(t + 13, 2, &zm))
		return false;
	if (hh > 23 || mm > 59 || ss > 60 || zh > 23 || zm > 59)
		return false;
	int off = (zh * 60 + zm) * (t[10] == '-' ? -1 : 1);
	*t_r = (time_t)(days * 86400 + hh * 3600 + mm * 60 + ss - (int64_t)off * 60);
	*offset_r = off;
	return true;
}

bool imap_datetime_parse_arg(const imap_arg *a, time_t *t_r, int *offset_r)
{
	if (a == NULL || a->type != IMAP_ARG_QUOTED)
		return false;
	return imap_datetime_parse(a->str, a->len, t_r, offset_r);
}
