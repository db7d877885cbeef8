/* verdict.c — reply splitting, spam scores and virus names out of what
 * filters send (see verdict.h).  No protocol, no I/O. */
#include "milter/verdict.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "lib/buf.h"
#include "lib/strutil.h"

/* p points at an enhanced status "d.ddd.ddd"?  Its length, or 0. */
static size_t status_len(const char *p)
{
	size_t i = 0;
	for (int part = 0; part < 3; part++) {
		size_t d = 0;
		while (isdigit((unsigned char)p[i]) && d < 3) {
			i++;
			d++;
		}
		if (d == 0 || (part == 0 && d != 1))
			return 0;
		if (part < 2 && p[i++] != '.')
			return 0;
	}
	return p[i] == ' ' || p[i] == '\0' || p[i] == '\r' ? i : 0;
}

void milter_reply_split(const char *reply, int *code_r, char **status_r, char **text_r)
{
	*code_r = atoi(reply);
	*status_r = NULL;
	buf t;
	buf_init(&t, BUF_UNBOUNDED);
	const char *p = reply;
	for (bool first = true;; first = false) {
		const char *eol = strstr(p, "\r\n");
		size_t n = eol ? (size_t)(eol - p) : strlen(p);
		const char *s = n > 4 ? p + 4 : p + n;
		size_t sl = n > 4 ? status_len(s) : 0;
		if (first && sl > 0)
			*status_r = xstrndup(s, sl);
		if (sl > 0)
			s += sl + (s[sl] == ' ');
		if (!first)
			BUF_PUTC(&t, '\n');
		BUF_APPEND(&t, s, (size_t)(p + n - s));
		if (eol == NULL)
			break;
		p = eol + 2;
	}
	*text_r = buf_steal(&t);
}

/* The number at p (after spaces), into *v. */
static bool number_at(const char *p, double *v)
{
	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	char *end;
	double d = strtod(p, &end);
	if (end == p || (*end != '\0' && !isspace((unsigned char)*end) && *end != '/' && *end != ']' &&
	                 *end != ';' && *end != ','))
		return false;
	*v = d;
	return true;
}

bool milter_spam_score(const char *name, const char *value, double *score_r)
{
	if (str_ascii_ieq(name, "X-Spamd-Result")) {
		const char *b = strchr(value, '[');
		return b != NULL && number_at(b + 1, score_r);
	}
	if (str_ascii_ieq(name, "X-Rspamd-Score") || str_ascii_ieq(name, "X-Spam-Score"))
		return number_at(value, score_r);
	if (str_ascii_ieq(name, "X-Spam-Status")) {
		const char *s = strstr(value, "score=");
		return s != NULL && number_at(s + 6, score_r);
	}
	return false;
}

char *milter_virus_name(const char *name, const char *value)
{
	if (!str_ascii_ieq(name, "X-Virus-Status"))
		return NULL;
	while (*value == ' ' || *value == '\t')
		value++;
	if (str_ascii_nieq(value, "Clean", 5))
		return xstrdup("");
	if (!str_ascii_nieq(value, "Infected", 8))
		return NULL;
	const char *o = strchr(value, '('), *c = o ? strchr(o, ')') : NULL;
	if (o == NULL || c == NULL || c == o + 1)
		return xstrdup("unknown");
	return xstrndup(o + 1, (size_t)(c - o - 1));
}
