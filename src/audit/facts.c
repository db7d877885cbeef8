/* facts.c — how facts go into a record's data and how a reader's
 * filter words are read: strings made safe for JSON, the Subject under
 * audit.subject, --since / --until times and state names.  Pure. */
#include "audit/audit_int.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lib/sha256.h"
#include "lib/utf8.h"

json_t *audit_str(const char *s)
{
	if (s == NULL)
		return json_null();
	size_t len = strnlen(s, AUDIT_STR_MAX);
	if (imap_utf8_valid(s, len)) { /* the common case: taken as it is */
		json_t *j = json_stringn(s, len);
		if (j != NULL)
			return j;
	}
	char *t = xcalloc(1, len + 1);
	size_t o = 0;
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		size_t n = imap_utf8_decode((const unsigned char *)s + i, len - i, &cp);
		if (n == 0) { /* not UTF-8 here, or a sequence cut at the bound */
			t[o++] = '?';
			i++;
			continue;
		}
		memcpy(t + o, s + i, n);
		o += n;
		i += n;
	}
	json_t *j = json_stringn(t, o);
	free(t);
	return j != NULL ? j : json_string("?");
}

void audit_set(json_t *o, const char *key, const char *s)
{
	if (s != NULL && s[0] != '\0')
		json_object_set_new(o, key, audit_str(s));
}

char *audit_subject_form(const config *cfg, const char *subject)
{
	const char *mode = cfg->audit.subject ? cfg->audit.subject : "hash";
	if (subject == NULL || strcmp(mode, "off") == 0)
		return NULL;
	if (strcmp(mode, "plain") == 0)
		return xstrdup(subject);
	char hex[SHA256_HEX_LEN + 1];
	sha256_hex(subject, strlen(subject), hex);
	return xasprintf("sha256:%s", hex);
}

bool audit_enabled(const config *cfg)
{
	return cfg->audit.enabled != 0;
}

int64_t audit_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "2d", "12h": an amount of units ago. */
static bool parse_ago(const char *s, int64_t now_ms, int64_t *ms_r)
{
	static const struct { char unit; int64_t ms; } units[] = {
		{'s', 1000}, {'m', 60000}, {'h', 3600000}, {'d', 86400000}, {'w', 7 * 86400000LL}};
	char *end;
	errno = 0;
	long long n = strtoll(s, &end, 10);
	if (end == s || !isdigit((unsigned char)s[0]) || errno != 0 || n > 100000 || end[0] == '\0' ||
	    end[1] != '\0')
		return false;
	for (size_t k = 0; k < sizeof units / sizeof units[0]; k++)
		if (end[0] == units[k].unit) {
			*ms_r = now_ms - n * units[k].ms;
			return true;
		}
	return false;
}

/* "2026-12-01", "2026-12-01T10:30", "2026-12-01 10:30:15", in UTC. */
static bool parse_date(const char *s, int64_t *ms_r)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, used = 0;
	char sep;
	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &used) != 3 || used != 10)
		return false;
	const char *rest = s + used;
	if (*rest != '\0') {
		int n2 = 0;
		int got = sscanf(rest, "%c%2d:%2d%n:%2d%n", &sep, &h, &mi, &n2, &sec, &n2);
		if (got < 3 || (sep != 'T' && sep != ' ') || rest[n2] != '\0')
			return false;
	}
	if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return false;
	struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi,
	                .tm_sec = sec};
	time_t t = timegm(&tm);
	if (t == (time_t)-1 || tm.tm_mday != d) /* 2026-02-31 came back as March */
		return false;
	*ms_r = (int64_t)t * 1000;
	return true;
}

bool audit_parse_when(const char *s, int64_t now_ms, int64_t *ms_r, char **err_r)
{
	if (s != NULL && s[0] == '@') {
		char *end;
		errno = 0;
		long long v = strtoll(s + 1, &end, 10);
		if (end != s + 1 && *end == '\0' && errno == 0 && v >= 0 && v < 253402300800LL) {
			*ms_r = v * 1000;
			return true;
		}
	} else if (s != NULL && (parse_ago(s, now_ms, ms_r) || parse_date(s, ms_r))) {
		return true;
	}
	*err_r = xasprintf("\"%s\" is not a time: use an age like 30m, 12h, 2d or 1w, a date like "
	                   "2026-12-01 or 2026-12-01T10:30 (UTC), or @UNIXSECONDS", s ? s : "");
	return false;
}

bool audit_status_valid(const char *s)
{
	static const char *const states[] = {"queued", "delivered", "deferred", "bounced", "removed"};
	for (size_t k = 0; s != NULL && k < sizeof states / sizeof states[0]; k++)
		if (strcmp(s, states[k]) == 0)
			return true;
	return false;
}
