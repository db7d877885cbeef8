/* mtasts.c — MTA-STS's pure parts (see mtasts.h): TXT selection, the
 * policy parser, MX pattern matching and the cache decisions.  Must not
 * do I/O or keep state. */
#include "delivery/mtasts.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *mtasts_mode_name(mtasts_mode m)
{
	return m == MTASTS_MODE_ENFORCE ? "enforce" : m == MTASTS_MODE_TESTING ? "testing" : "none";
}

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* One TXT value: true for "v=STSv1" followed by a field delimiter (so
 * that "v=STSv10;" is not taken). */
static bool starts_sts(const char *v, size_t len)
{
	if (len < 7 || memcmp(v, "v=STSv1", 7) != 0)
		return false;
	size_t i = 7;
	while (i < len && is_wsp(v[i]))
		i++;
	return i < len && v[i] == ';';
}

/* The id of a record that starts with v=STSv1: the fields after it are
 * name=value separated by ";" with optional blanks; id= must be there with
 * 1 to 32 letters or digits.  NULL when invalid. */
static char *record_id(const char *v, size_t len)
{
	char *id = NULL;
	size_t i = 7;
	while (i < len) {
		while (i < len && (is_wsp(v[i]) || v[i] == ';'))
			i++;
		if (i >= len)
			break;
		size_t start = i;
		while (i < len && v[i] != ';')
			i++;
		size_t end = i;
		while (end > start && is_wsp(v[end - 1]))
			end--;
		const char *f = v + start;
		size_t flen = end - start;
		const char *eq = memchr(f, '=', flen);
		if (eq == NULL || eq == f) {
			free(id);
			return NULL; /* not a field */
		}
		if (eq - f == 2 && memcmp(f, "id", 2) == 0 && id == NULL) {
			size_t n = flen - 3;
			if (n < 1 || n > MTASTS_ID_MAX)
				return NULL;
			for (size_t k = 0; k < n; k++)
				if (!isalnum((unsigned char)eq[1 + k]))
					return NULL;
			id = xstrndup(eq + 1, n);
		}
	}
	return id;
}

mtasts_txt mtasts_txt_select(const char *const *values, const size_t *lens, size_t n, char **id_r,
                             const char **why_r)
{
	*id_r = NULL;
	size_t found = 0, which = 0;
	for (size_t i = 0; i < n; i++) {
		size_t len = lens != NULL ? lens[i] : strlen(values[i]);
		if (starts_sts(values[i], len)) {
			found++;
			which = i;
		}
	}
	if (found == 0) {
		*why_r = "no TXT record starts with v=STSv1";
		return MTASTS_TXT_NONE;
	}
	if (found > 1) {
		*why_r = "more than one v=STSv1 TXT record";
		return MTASTS_TXT_NONE;
	}
	size_t len = lens != NULL ? lens[which] : strlen(values[which]);
	if (memchr(values[which], '\0', len) != NULL) {
		*why_r = "the v=STSv1 record holds a NUL byte";
		return MTASTS_TXT_NONE;
	}
	char *id = record_id(values[which], len);
	if (id == NULL) {
		*why_r = "the v=STSv1 record has no valid id (1 to 32 letters and digits)";
		return MTASTS_TXT_NONE;
	}
	*id_r = id;
	*why_r = NULL;
	return MTASTS_TXT_FOUND;
}

/* ---- the policy file ---- */

/* max_age: 1 to 10 digits, at most one year. */
static bool parse_max_age(const char *v, size_t n, long *out)
{
	if (n < 1 || n > 10)
		return false;
	long long x = 0;
	for (size_t i = 0; i < n; i++) {
		if (v[i] < '0' || v[i] > '9')
			return false;
		x = x * 10 + (v[i] - '0');
	}
	if (x > MTASTS_MAX_AGE_MAX)
		return false;
	*out = (long)x;
	return true;
}

/* An mx value: ["*."] followed by a host name of letters, digits, hyphens
 * and dots (A-labels), lower-cased, without a final dot. */
static char *parse_mx(const char *v, size_t n)
{
	if (n > 0 && v[n - 1] == '.')
		n--;
	size_t i = n >= 2 && v[0] == '*' && v[1] == '.' ? 2 : 0;
	if (n <= i || n > 253)
		return NULL;
	for (size_t k = i; k < n; k++) {
		unsigned char c = (unsigned char)v[k];
		if (!isalnum(c) && c != '-' && c != '.' && c != '_')
			return NULL;
		if (c == '.' && (k == i || v[k - 1] == '.'))
			return NULL;
	}
	char *s = xstrndup(v, n);
	str_ascii_lower(s);
	return s;
}

typedef struct seen {
	bool version, mode, max_age;
} seen;

/* One "key: value" line (value without trailing blanks). */
static bool policy_field(const char *key, size_t klen, const char *val, size_t vlen, mtasts_policy *p, seen *s,
                         const char **why_r)
{
	if (klen == 7 && memcmp(key, "version", 7) == 0) {
		if (s->version)
			return true;
		s->version = true;
		if (vlen != 5 || memcmp(val, "STSv1", 5) != 0) {
			*why_r = "version is not STSv1";
			return false;
		}
	} else if (klen == 4 && memcmp(key, "mode", 4) == 0) {
		if (s->mode)
			return true;
		s->mode = true;
		if (vlen == 7 && memcmp(val, "enforce", 7) == 0)
			p->mode = MTASTS_MODE_ENFORCE;
		else if (vlen == 7 && memcmp(val, "testing", 7) == 0)
			p->mode = MTASTS_MODE_TESTING;
		else if (vlen == 4 && memcmp(val, "none", 4) == 0)
			p->mode = MTASTS_MODE_NONE;
		else {
			*why_r = "mode is not enforce, testing or none";
			return false;
		}
	} else if (klen == 7 && memcmp(key, "max_age", 7) == 0) {
		if (s->max_age)
			return true;
		s->max_age = true;
		if (!parse_max_age(val, vlen, &p->max_age)) {
			*why_r = "max_age is not a number of seconds up to 31557600";
			return false;
		}
	} else if (klen == 2 && memcmp(key, "mx", 2) == 0) {
		char *mx = parse_mx(val, vlen);
		if (mx == NULL) {
			*why_r = "an mx pattern is not a host name or *.host name";
			return false;
		}
		if (p->mx.n >= 1000) {
			free(mx);
			*why_r = "more than 1000 mx patterns";
			return false;
		}
		strlist_add_owned(&p->mx, mx);
	}
	return true; /* other keys: ignored (RFC 8461 3.2) */
}

bool mtasts_policy_parse(const char *text, size_t len, mtasts_policy *p, const char **why_r)
{
	*p = (mtasts_policy){0};
	strlist_init(&p->mx);
	seen s = {0};
	*why_r = NULL;
	if (len > MTASTS_POLICY_MAX) {
		*why_r = "the policy is larger than 64 KiB";
		return false;
	}
	size_t i = 0;
	bool ok = true;
	while (ok && i < len) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - text) : len;
		size_t next = nl ? end + 1 : len;
		if (end > i && text[end - 1] == '\r')
			end--;
		while (end > i && is_wsp(text[end - 1]))
			end--;
		const char *line = text + i;
		size_t n = end - i;
		i = next;
		if (n == 0)
			continue;
		if (memchr(line, '\0', n) != NULL || memchr(line, '\r', n) != NULL) {
			*why_r = "the policy holds a NUL or a bare CR";
			ok = false;
			break;
		}
		const char *colon = memchr(line, ':', n);
		if (colon == NULL || colon == line) {
			*why_r = "a line is not \"key: value\"";
			ok = false;
			break;
		}
		const char *val = colon + 1;
		while (val < line + n && is_wsp(*val))
			val++;
		ok = policy_field(line, (size_t)(colon - line), val, (size_t)(line + n - val), p, &s, why_r);
	}
	if (ok && !s.version) {
		*why_r = "no version";
		ok = false;
	} else if (ok && !s.mode) {
		*why_r = "no mode";
		ok = false;
	} else if (ok && !s.max_age) {
		*why_r = "no max_age";
		ok = false;
	} else if (ok && p->mode != MTASTS_MODE_NONE && p->mx.n == 0) {
		*why_r = "no mx pattern";
		ok = false;
	}
	if (!ok)
		mtasts_policy_clear(p);
	return ok;
}

void mtasts_policy_clear(mtasts_policy *p)
{
	strlist_free(&p->mx);
	free(p->id);
	*p = (mtasts_policy){0};
	strlist_init(&p->mx);
}

mtasts_policy *mtasts_policy_dup(const mtasts_policy *p)
{
	mtasts_policy *c = xcalloc(1, sizeof(*c));
	*c = *p;
	strlist_init(&c->mx);
	for (size_t i = 0; i < p->mx.n; i++)
		strlist_add(&c->mx, p->mx.items[i]);
	c->id = p->id ? xstrdup(p->id) : NULL;
	return c;
}

void mtasts_policy_free(mtasts_policy **pp)
{
	if (*pp == NULL)
		return;
	mtasts_policy_clear(*pp);
	free(*pp);
	*pp = NULL;
}

/* ---- matching ---- */

bool mtasts_pattern_match(const char *pattern, const char *host)
{
	size_t hn = strlen(host);
	if (hn > 0 && host[hn - 1] == '.')
		hn--;
	if (hn == 0 || host[0] == '[' || strchr(host, ':') != NULL)
		return false;
	/* an IPv4 address literal is no host name */
	bool digits_dots = true;
	for (size_t i = 0; i < hn; i++)
		if (!isdigit((unsigned char)host[i]) && host[i] != '.')
			digits_dots = false;
	if (digits_dots)
		return false;
	if (pattern[0] == '*' && pattern[1] == '.') {
		const char *dot = memchr(host, '.', hn);
		if (dot == NULL || dot == host)
			return false; /* the wildcard needs one non-empty leftmost label */
		size_t rest = hn - (size_t)(dot + 1 - host);
		return strlen(pattern + 2) == rest && strncasecmp(pattern + 2, dot + 1, rest) == 0;
	}
	return strlen(pattern) == hn && strncasecmp(pattern, host, hn) == 0;
}

bool mtasts_mx_match(const mtasts_policy *p, const char *host)
{
	for (size_t i = 0; i < p->mx.n; i++)
		if (mtasts_pattern_match(p->mx.items[i], host))
			return true;
	return false;
}

/* ---- the cache decisions (RFC 8461 5.1) ---- */

mtasts_action mtasts_decide(bool cached_valid, const char *cached_id, mtasts_txt txt, const char *txt_id,
                            bool fetch_blocked)
{
	if (txt != MTASTS_TXT_FOUND)
		return cached_valid ? MTASTS_USE_CACHED : MTASTS_NO_POLICY;
	if (cached_valid && cached_id != NULL && txt_id != NULL && strcmp(cached_id, txt_id) == 0)
		return MTASTS_USE_CACHED;
	if (fetch_blocked)
		return cached_valid ? MTASTS_USE_CACHED : MTASTS_NO_POLICY;
	return MTASTS_FETCH;
}

mtasts_action mtasts_after_fetch(bool fetch_ok, bool cached_valid)
{
	if (fetch_ok)
		return MTASTS_FETCH;
	return cached_valid ? MTASTS_USE_CACHED : MTASTS_NO_POLICY;
}
