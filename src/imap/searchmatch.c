/* searchmatch.c — one message against a SEARCH key tree (see
 * searchmatch.h).  The tree is at most 64 levels deep (search.c), so the
 * recursion is bounded. */
#include "imap/searchmatch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "mime/header.h"
#include "store/mdname.h"

static bool load(imap_match_msg *v)
{
	if (!v->loaded) {
		v->loaded = true;
		v->data = v->read(v->read_arg, &v->len);
		if (v->data != NULL) {
			const char *p = v->data;
			const char *e = NULL;
			for (size_t k = 0; k + 1 < v->len && e == NULL; k++)
				if (p[k] == '\n' && (p[k + 1] == '\n' || (p[k + 1] == '\r' && k + 2 < v->len && p[k + 2] == '\n')))
					e = p + k + 1;
			v->hdr_end = e ? (size_t)(e - p) : v->len;
		}
	}
	return v->data != NULL;
}

char *imap_match_read_mbox(void *arg, size_t *len_r)
{
	const imap_match_src *src = arg;
	return mbox_read(src->mb, src->i, (size_t)1 << 31, len_r);
}

void imap_match_msg_done(imap_match_msg *msg)
{
	free(msg->data);
	msg->data = NULL;
	msg->loaded = false;
}

bool imap_uids_have(const uint32_t *v, size_t n, uint32_t uid)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (v[mid] == uid)
			return true;
		if (v[mid] < uid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static bool contains_ci(const char *hay, size_t n, const char *needle, size_t m)
{
	if (m == 0)
		return true;
	for (size_t i = 0; i + m <= n; i++)
		if (strncasecmp(hay + i, needle, m) == 0)
			return true;
	return false;
}

/* Any field called name whose unfolded value holds str. */
static bool header_has(imap_match_msg *v, const char *name, const char *str, size_t len)
{
	if (!load(v))
		return false;
	size_t pos = 0;
	mime_field f;
	while (mime_header_next(v->data, v->hdr_end, &pos, &f)) {
		if (!mime_field_is(v->data, &f, name))
			continue;
		char *val = mime_field_value(v->data, &f);
		bool hit = contains_ci(val, strlen(val), str, len);
		free(val);
		if (hit)
			return true;
	}
	return false;
}

/* The day of a Date: header (RFC 5322 3.3), time and zone disregarded as
 * SENT* asks; -1 when there is none or it cannot be read. */
static time_t sent_day(imap_match_msg *v)
{
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	                                     "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	if (!load(v))
		return -1;
	mime_field f;
	if (!mime_header_find(v->data, 0, v->hdr_end, "Date", &f))
		return -1;
	char *val = mime_field_value(v->data, &f);
	int day = 0, year = 0, mon = -1;
	char name[4] = "";
	const char *p = strchr(val, ',');
	p = p ? p + 1 : val;
	if (sscanf(p, " %d %3s %d", &day, name, &year) == 3)
		for (int k = 0; k < 12; k++)
			if (strcasecmp(name, months[k]) == 0)
				mon = k;
	free(val);
	if (mon < 0 || day < 1 || day > 31 || year < 1900)
		return -1;
	struct tm tm = {.tm_mday = day, .tm_mon = mon, .tm_year = year - 1900};
	return timegm(&tm);
}

static time_t day_of(time_t t)
{
	return t - (t % 86400 + 86400) % 86400;
}

static bool has_keyword(const imap_match_msg *v, const char *name)
{
	int k = store_keywords_find(v->kw, name);
	return k >= 0 && (v->m->kw & (1u << k));
}

/* The keys on flags alone. */
static bool flag_key(imap_search_op op, unsigned f, bool *hit_r)
{
	static const struct { imap_search_op op; unsigned flag; bool set; } keys[] = {
		{IMAP_SK_ANSWERED, MDF_ANSWERED, true},   {IMAP_SK_DELETED, MDF_DELETED, true},
		{IMAP_SK_DRAFT, MDF_DRAFT, true},         {IMAP_SK_FLAGGED, MDF_FLAGGED, true},
		{IMAP_SK_SEEN, MDF_SEEN, true},           {IMAP_SK_UNANSWERED, MDF_ANSWERED, false},
		{IMAP_SK_UNDELETED, MDF_DELETED, false},  {IMAP_SK_UNDRAFT, MDF_DRAFT, false},
		{IMAP_SK_UNFLAGGED, MDF_FLAGGED, false},  {IMAP_SK_UNSEEN, MDF_SEEN, false},
	};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		if (keys[i].op == op) {
			*hit_r = ((f & keys[i].flag) != 0) == keys[i].set;
			return true;
		}
	}
	return false;
}

bool imap_search_match(const imap_search_key *k, imap_match_msg *v, uint32_t seq, uint32_t max_seq,
                       uint32_t max_uid)
{
	const mbox_msg *m = v->m;
	bool hit;
	if (flag_key(k->op, m->flags, &hit))
		return hit;
	switch (k->op) {
	case IMAP_SK_ALL: return true;
	case IMAP_SK_RECENT: return v->recent;
	case IMAP_SK_NEW: return v->recent && !(m->flags & MDF_SEEN);
	case IMAP_SK_OLD: return !v->recent;
	case IMAP_SK_KEYWORD: return has_keyword(v, k->str);
	case IMAP_SK_UNKEYWORD: return !has_keyword(v, k->str);
	case IMAP_SK_FROM: return header_has(v, "From", k->str, k->len);
	case IMAP_SK_TO: return header_has(v, "To", k->str, k->len);
	case IMAP_SK_CC: return header_has(v, "Cc", k->str, k->len);
	case IMAP_SK_BCC: return header_has(v, "Bcc", k->str, k->len);
	case IMAP_SK_SUBJECT: return header_has(v, "Subject", k->str, k->len);
	case IMAP_SK_HEADER: return header_has(v, k->field, k->str, k->len);
	case IMAP_SK_BODY:
		return load(v) && contains_ci(v->data + v->hdr_end, v->len - v->hdr_end, k->str, k->len);
	case IMAP_SK_TEXT: return load(v) && contains_ci(v->data, v->len, k->str, k->len);
	case IMAP_SK_BEFORE: return day_of(m->internal) < k->date;
	case IMAP_SK_ON: return day_of(m->internal) == k->date;
	case IMAP_SK_SINCE: return day_of(m->internal) >= k->date;
	case IMAP_SK_SENTBEFORE: { time_t d = sent_day(v); return d >= 0 && d < k->date; }
	case IMAP_SK_SENTON: return sent_day(v) == k->date;
	case IMAP_SK_SENTSINCE: { time_t d = sent_day(v); return d >= 0 && d >= k->date; }
	case IMAP_SK_SAVEDBEFORE: return day_of(m->savedate) < k->date;
	case IMAP_SK_SAVEDON: return day_of(m->savedate) == k->date;
	case IMAP_SK_SAVEDSINCE: return day_of(m->savedate) >= k->date;
	case IMAP_SK_SAVEDATESUPPORTED: return true;
	case IMAP_SK_OLDER: return m->internal <= k->date;
	case IMAP_SK_YOUNGER: return m->internal > k->date;
	case IMAP_SK_LARGER: return m->vsize > k->number;
	case IMAP_SK_SMALLER: return m->vsize < k->number;
	case IMAP_SK_UID:
	case IMAP_SK_SEQSET:
		if (k->set.searchres)
			return imap_uids_have(v->saved, v->n_saved, m->uid);
		return imap_seqset_contains(&k->set, k->op == IMAP_SK_UID ? m->uid : seq,
		                            k->op == IMAP_SK_UID ? max_uid : max_seq);
	case IMAP_SK_MODSEQ: return m->modseq >= k->number; /* one mod-sequence for all metadata */
	case IMAP_SK_NOT: return !imap_search_match(k->child, v, seq, max_seq, max_uid);
	case IMAP_SK_OR:
		return imap_search_match(k->child, v, seq, max_seq, max_uid) ||
		       imap_search_match(k->child->next, v, seq, max_seq, max_uid);
	case IMAP_SK_AND:
		for (const imap_search_key *c = k->child; c != NULL; c = c->next)
			if (!imap_search_match(c, v, seq, max_seq, max_uid))
				return false;
		return true;
	default: return false;
	}
}
