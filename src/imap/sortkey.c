/* sortkey.c — sort keys of a message and the sort (see sortkey.h). */
#include "imap/sortkey.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "imap/args.h"
#include "imap/casemap.h"
#include "lib/strutil.h"
#include "mime/address.h"
#include "mime/charset.h"
#include "mime/header.h"

/* Nobody threads on more references than these (the newest are kept). */
#define SORT_MAX_REFS 256

static const struct {
	const char *name;
	imap_sort_key key;
} sort_keys[] = {
	{"ARRIVAL", IMAP_SORT_ARRIVAL}, {"CC", IMAP_SORT_CC}, {"DATE", IMAP_SORT_DATE},
	{"FROM", IMAP_SORT_FROM}, {"SIZE", IMAP_SORT_SIZE}, {"SUBJECT", IMAP_SORT_SUBJECT},
	{"TO", IMAP_SORT_TO}, {"DISPLAYFROM", IMAP_SORT_DISPLAYFROM},
	{"DISPLAYTO", IMAP_SORT_DISPLAYTO},
};

bool imap_sort_parse_criteria(const imap_arg *list, imap_sort_prog *p, const char **error_r)
{
	p->n = 0;
	if (list == NULL || list->type != IMAP_ARG_LIST || list->child == NULL) {
		*error_r = "SORT needs a list of sort criteria.";
		return false;
	}
	bool reverse = false;
	for (const imap_arg *a = list->child; a != NULL; a = a->next) {
		if (imap_arg_atom_is(a, "REVERSE") && !reverse) {
			reverse = true;
			continue;
		}
		size_t k = 0;
		while (k < sizeof sort_keys / sizeof sort_keys[0] && !imap_arg_atom_is(a, sort_keys[k].name))
			k++;
		if (k == sizeof sort_keys / sizeof sort_keys[0]) {
			*error_r = "Unknown sort criterion.";
			return false;
		}
		if (p->n == IMAP_SORT_MAX_CRITERIA) {
			*error_r = "Too many sort criteria.";
			return false;
		}
		p->c[p->n].key = sort_keys[k].key;
		p->c[p->n++].reverse = reverse;
		reverse = false;
	}
	if (reverse) {
		*error_r = "REVERSE must be followed by a sort key.";
		return false;
	}
	return true;
}

/* ---- base subject (RFC 5256 2.1) ---- */

static bool is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* subj-blob: "[" *BLOBCHAR "]" *WSP; its length or 0. */
static size_t blob_len(const char *s)
{
	if (s[0] != '[')
		return 0;
	size_t i = 1;
	while (s[i] != '\0' && s[i] != '[' && s[i] != ']')
		i++;
	if (s[i] != ']')
		return 0;
	i++;
	while (is_wsp(s[i]))
		i++;
	return i;
}

/* subj-refwd: ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"; its length or 0. */
static size_t refwd_len(const char *s)
{
	size_t i;
	if (strncasecmp(s, "re", 2) == 0)
		i = 2;
	else if (strncasecmp(s, "fwd", 3) == 0)
		i = 3;
	else if (strncasecmp(s, "fw", 2) == 0)
		i = 2;
	else
		return 0;
	while (is_wsp(s[i]))
		i++;
	i += blob_len(s + i);
	return s[i] == ':' ? i + 1 : 0;
}

/* subj-leader: (*subj-blob subj-refwd) / WSP; its length or 0, *refwd_r
 * when it held a subj-refwd. */
static size_t leader_len(const char *s, bool *refwd_r)
{
	if (is_wsp(s[0]))
		return 1;
	size_t i = 0, k;
	while ((k = blob_len(s + i)) > 0)
		i += k;
	k = refwd_len(s + i);
	if (k > 0)
		*refwd_r = true;
	return k > 0 ? i + k : 0;
}

/* Steps 2 to 6 on s (decoded, blanks collapsed), in place. */
static void extract(char *s, bool *reply)
{
	for (;;) {
		size_t n = strlen(s);
		/* (2) trailers: "(fwd)" or WSP */
		for (;;) {
			if (n > 0 && is_wsp(s[n - 1])) {
				n--;
			} else if (n >= 5 && strncasecmp(s + n - 5, "(fwd)", 5) == 0) {
				n -= 5;
				*reply = true;
			} else {
				break;
			}
		}
		s[n] = '\0';
		/* (3) leaders, (4) a blob when something is left after it, (5) again */
		size_t b = 0;
		for (;;) {
			size_t k = leader_len(s + b, reply);
			if (k > 0) {
				b += k;
				continue;
			}
			k = blob_len(s + b);
			if (k > 0 && s[b + k] != '\0') {
				b += k;
				continue;
			}
			break;
		}
		memmove(s, s + b, n - b + 1);
		n -= b;
		/* (6) "[fwd:" ... "]": unwrap and go again from (2) */
		if (n >= 6 && strncasecmp(s, "[fwd:", 5) == 0 && s[n - 1] == ']') {
			s[n - 1] = '\0';
			memmove(s, s + 5, n - 5);
			*reply = true;
			continue;
		}
		return;
	}
}

char *imap_base_subject(const char *subject, bool *is_reply_r)
{
	/* (1) encoded-words decoded, blanks and line ends to one space */
	char *d = mime_decode_header(subject);
	size_t o = 0;
	for (size_t i = 0; d[i] != '\0'; i++) {
		char c = d[i] == '\t' || d[i] == '\r' || d[i] == '\n' ? ' ' : d[i];
		if (c == ' ' && o > 0 && d[o - 1] == ' ')
			continue;
		d[o++] = c;
	}
	d[o] = '\0';
	bool reply = false;
	extract(d, &reply);
	if (is_reply_r != NULL)
		*is_reply_r = reply;
	return d;
}

/* ---- sent date ---- */

static const char *skip_cfws(const char *p)
{
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p != '(')
			return p;
		int depth = 0;
		do {
			if (*p == '\\' && p[1] != '\0')
				p++;
			else if (*p == '(')
				depth++;
			else if (*p == ')')
				depth--;
			p++;
		} while (*p != '\0' && depth > 0);
	}
}

/* A zone: "+hhmm", "-hhmm" or an obsolete name (RFC 5322 4.3); seconds
 * east of UTC, 0 when unknown. */
static long zone_offset(const char *z)
{
	static const struct {
		const char *name;
		int hours;
	} names[] = {{"UT", 0}, {"GMT", 0}, {"EST", -5}, {"EDT", -4}, {"CST", -6}, {"CDT", -5},
	             {"MST", -7}, {"MDT", -6}, {"PST", -8}, {"PDT", -7}};
	if ((z[0] == '+' || z[0] == '-') && isdigit((unsigned char)z[1]) && isdigit((unsigned char)z[2]) &&
	    isdigit((unsigned char)z[3]) && isdigit((unsigned char)z[4])) {
		long h = (z[1] - '0') * 10 + (z[2] - '0'), m = (z[3] - '0') * 10 + (z[4] - '0');
		if (m > 59)
			return 0;
		return (z[0] == '-' ? -1 : 1) * (h * 3600 + m * 60);
	}
	for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
		size_t l = strlen(names[k].name);
		if (strncasecmp(z, names[k].name, l) == 0 && !isalpha((unsigned char)z[l]))
			return names[k].hours * 3600L;
	}
	return 0;
}

time_t imap_sent_date(const char *value, time_t fallback)
{
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	if (value == NULL)
		return fallback;
	const char *p = skip_cfws(value);
	if (isalpha((unsigned char)*p)) { /* day-of-week "," */
		while (isalpha((unsigned char)*p))
			p++;
		p = skip_cfws(p);
		if (*p != ',')
			return fallback;
		p++;
	}
	int day, year, hh, mm, ss = 0, used = 0;
	char mon[4];
	if (sscanf(skip_cfws(p), "%2d %3[A-Za-z] %4d %2d:%2d%n", &day, mon, &year, &hh, &mm, &used) != 5)
		return fallback;
	p = skip_cfws(p) + used;
	if (*p == ':') {
		int u2 = 0;
		if (sscanf(p, ":%2d%n", &ss, &u2) != 1)
			return fallback;
		p += u2;
	}
	int m = -1;
	for (int k = 0; k < 12; k++)
		if (strcasecmp(mon, months[k]) == 0)
			m = k;
	if (year < 50)
		year += 2000; /* RFC 5322 4.3 obs-year */
	else if (year < 1000)
		year += 1900;
	if (m < 0 || day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60 || year > 9999)
		return fallback;
	struct tm tm = {.tm_mday = day, .tm_mon = m, .tm_year = year - 1900, .tm_hour = hh,
	                .tm_min = mm, .tm_sec = ss};
	return timegm(&tm) - zone_offset(skip_cfws(p));
}

/* ---- message fields ---- */

static char *casemapped(const char *s)
{
	return imap_casemap_key(s, strlen(s));
}

static char *unquoted(const char *s)
{
	size_t n = strlen(s);
	if (n >= 2 && s[0] == '"' && s[n - 1] == '"') {
		char *o = xcalloc(n, 1);
		for (size_t i = 1, k = 0; i + 1 < n; i++) {
			if (s[i] == '\\' && i + 2 < n)
				i++;
			o[k++] = s[i];
		}
		return o;
	}
	return xstrdup(s);
}

/* The first mailbox of an address field: its mailbox key and its display
 * key (the decoded display name, or the addr-spec when it has none, RFC
 * 5957 2). */
static void first_address(const char *value, char **mailbox_r, char **display_r)
{
	mime_addrlist l;
	mime_parse_addresses(value ? value : "", &l);
	const mime_address *a = NULL;
	for (size_t k = 0; k < l.n && a == NULL; k++)
		if (l.items[k].host != NULL && l.items[k].mailbox != NULL)
			a = &l.items[k];
	char *mbox = unquoted(a ? a->mailbox : "");
	*mailbox_r = casemapped(mbox);
	char *disp;
	if (a != NULL && a->name != NULL && a->name[0] != '\0') {
		char *u = unquoted(a->name);
		disp = mime_decode_header(u);
		free(u);
	} else {
		disp = a ? xasprintf("%s%s%s", mbox, a->host[0] ? "@" : "", a->host) : xstrdup("");
	}
	*display_r = casemapped(disp);
	free(disp);
	free(mbox);
	mime_addrlist_free(&l);
}

/* The msg-ids "<...>" in value, in order (at most max, the last ones). */
static size_t msg_ids(const char *value, char ***v_r, size_t max)
{
	char **v = NULL;
	size_t n = 0;
	for (const char *p = value ? value : ""; (p = strchr(p, '<')) != NULL;) {
		const char *e = p + 1;
		while (*e != '\0' && *e != '>' && *e != '<' && !isspace((unsigned char)*e))
			e++;
		if (*e != '>' || e == p + 1) {
			p = e;
			continue;
		}
		if (n == max) {
			free(v[0]);
			memmove(v, v + 1, (n - 1) * sizeof(char *));
			n--;
		}
		v = xrealloc(v, (n + 1) * sizeof(char *));
		v[n++] = xstrndup(p, (size_t)(e + 1 - p));
		p = e + 1;
	}
	*v_r = v;
	return n;
}

void imap_sort_msg_fill(imap_sort_msg *m, const char *hdr, size_t len)
{
	char *subject = mime_header_value(hdr, 0, len, "Subject");
	char *base = imap_base_subject(subject ? subject : "", &m->is_reply);
	m->subject = casemapped(base);
	free(base);
	free(subject);
	char *date = mime_header_value(hdr, 0, len, "Date");
	m->date = imap_sent_date(date, m->arrival);
	free(date);
	static const char *const fields[] = {"From", "To", "Cc"};
	char **mb[] = {&m->from, &m->to, &m->cc};
	char *disp[3];
	for (int k = 0; k < 3; k++) {
		char *v = mime_header_value(hdr, 0, len, fields[k]);
		first_address(v, mb[k], &disp[k]);
		free(v);
	}
	m->dfrom = disp[0];
	m->dto = disp[1];
	free(disp[2]);
	char *id = mime_header_value(hdr, 0, len, "Message-ID");
	char **ids;
	size_t nid = msg_ids(id, &ids, 1);
	m->msgid = nid > 0 ? ids[0] : NULL;
	free(ids);
	free(id);
	char *refs = mime_header_value(hdr, 0, len, "References");
	m->nrefs = msg_ids(refs, &m->refs, SORT_MAX_REFS);
	free(refs);
	if (m->nrefs == 0) { /* RFC 5256 3 (1): then In-Reply-To's first */
		char *irt = mime_header_value(hdr, 0, len, "In-Reply-To");
		char **v;
		size_t n = msg_ids(irt, &v, SIZE_MAX);
		if (n > 0) {
			m->refs = xcalloc(1, sizeof(char *));
			m->refs[0] = v[0];
			m->nrefs = 1;
		}
		for (size_t k = 1; k < n; k++)
			free(v[k]);
		free(v);
		free(irt);
	}
}

void imap_sort_msg_free(imap_sort_msg *m)
{
	free(m->subject);
	free(m->from);
	free(m->to);
	free(m->cc);
	free(m->dfrom);
	free(m->dto);
	free(m->msgid);
	for (size_t k = 0; k < m->nrefs; k++)
		free(m->refs[k]);
	free(m->refs);
	m->subject = m->from = m->to = m->cc = m->dfrom = m->dto = m->msgid = NULL;
	m->refs = NULL;
	m->nrefs = 0;
}

/* ---- the sort ---- */

static int cmp_num(uint64_t a, uint64_t b)
{
	return a < b ? -1 : a > b;
}

static int cmp_key(const imap_sort_msg *a, const imap_sort_msg *b, imap_sort_key k)
{
	switch (k) {
	case IMAP_SORT_ARRIVAL: return cmp_num((uint64_t)a->arrival, (uint64_t)b->arrival);
	case IMAP_SORT_DATE: return cmp_num((uint64_t)a->date, (uint64_t)b->date);
	case IMAP_SORT_SIZE: return cmp_num(a->size, b->size);
	case IMAP_SORT_CC: return strcmp(a->cc, b->cc);
	case IMAP_SORT_FROM: return strcmp(a->from, b->from);
	case IMAP_SORT_TO: return strcmp(a->to, b->to);
	case IMAP_SORT_SUBJECT: return strcmp(a->subject, b->subject);
	case IMAP_SORT_DISPLAYFROM: return strcmp(a->dfrom, b->dfrom);
	case IMAP_SORT_DISPLAYTO: return strcmp(a->dto, b->dto);
	}
	return 0;
}

static int cmp_msgs(const void *x, const void *y, void *arg)
{
	const imap_sort_msg *a = x, *b = y;
	const imap_sort_prog *p = arg;
	for (size_t k = 0; k < p->n; k++) {
		int c = cmp_key(a, b, p->c[k].key);
		if (c != 0)
			return p->c[k].reverse ? -c : c;
	}
	return cmp_num(a->seq, b->seq);
}

void imap_sort_run(imap_sort_msg *v, size_t n, const imap_sort_prog *p)
{
	qsort_r(v, n, sizeof(*v), cmp_msgs, (void *)p);
}
