/* searcheval.c — SEARCH and UID SEARCH (RFC 3501 6.4.4, RFC 9051 6.4.4),
 * with ESEARCH results when RETURN is given (RFC 4731) and the saved result
 * "$" (RFC 5182 SEARCHRES): the key tree from
 * search.c evaluated for each message on a worker.  Flags, sizes, UIDs and
 * arrival dates come from the folder; header keys (FROM, SUBJECT, HEADER,
 * SENT*) read the message's header; BODY and TEXT read the message.
 * Substrings are matched without regard to ASCII case, as RFC 9051 asks;
 * the bytes are matched as they are stored (no decoding of MIME encodings). */
#include "imap/session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "imap/names.h"
#include "imap/search.h"
#include "lib/fsutil.h"
#include "lib/log.h"
#include "mime/header.h"
#include "store/mdname.h"

typedef struct search_job {
	imap_session *s;
	store_view *v;
	char *tag;
	char *text;           /* the command, re-parsed here: the tree points into it */
	imap_command cmd;
	imap_search q;
	bool uid;
	uint32_t *uids;       /* the session's messages by number */
	size_t n;
	bool *hit;            /* per message */
	uint64_t modseq;      /* the highest of the hits, for a MODSEQ search */
	const char *no;
} search_job;

/* One message as the keys see it: loaded only when a key needs it. */
typedef struct msg_view {
	const imap_session *s;  /* its saved result, for "$" (the session waits) */
	const store_view *sv;
	const mbox *mb;
	size_t i;
	char *data;
	size_t len;
	size_t hdr_end;
	bool loaded, missing;
} msg_view;

static bool load(msg_view *v)
{
	if (!v->loaded) {
		v->loaded = true;
		v->data = mbox_read(v->mb, v->i, (size_t)1 << 31, &v->len);
		v->missing = v->data == NULL;
		if (!v->missing) {
			const char *p = v->data;
			const char *e = NULL;
			for (size_t k = 0; k + 1 < v->len && e == NULL; k++)
				if (p[k] == '\n' && (p[k + 1] == '\n' || (p[k + 1] == '\r' && k + 2 < v->len && p[k + 2] == '\n')))
					e = p + k + 1;
			v->hdr_end = e ? (size_t)(e - p) : v->len;
		}
	}
	return !v->missing;
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
static bool header_has(msg_view *v, const char *name, const char *str, size_t len)
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
static time_t sent_day(msg_view *v)
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

static bool has_keyword(const msg_view *v, const char *name)
{
	int k = store_keywords_find(&v->sv->kw, name);
	return k >= 0 && (v->mb->msgs[v->i].kw & (1u << k));
}

static bool eval(const imap_search_key *k, msg_view *v, uint32_t seq, uint32_t max_seq, uint32_t max_uid)
{
	const mbox_msg *m = &v->mb->msgs[v->i];
	unsigned f = m->flags;
	switch (k->op) {
	case IMAP_SK_ALL: return true;
	case IMAP_SK_ANSWERED: return f & MDF_ANSWERED;
	case IMAP_SK_DELETED: return f & MDF_DELETED;
	case IMAP_SK_DRAFT: return f & MDF_DRAFT;
	case IMAP_SK_FLAGGED: return f & MDF_FLAGGED;
	case IMAP_SK_SEEN: return f & MDF_SEEN;
	case IMAP_SK_UNANSWERED: return !(f & MDF_ANSWERED);
	case IMAP_SK_UNDELETED: return !(f & MDF_DELETED);
	case IMAP_SK_UNDRAFT: return !(f & MDF_DRAFT);
	case IMAP_SK_UNFLAGGED: return !(f & MDF_FLAGGED);
	case IMAP_SK_UNSEEN: return !(f & MDF_SEEN);
	case IMAP_SK_NEW: case IMAP_SK_RECENT: return false; /* no session sees \Recent */
	case IMAP_SK_OLD: return true;
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
	case IMAP_SK_LARGER: return m->vsize > k->number;
	case IMAP_SK_SMALLER: return m->vsize < k->number;
	case IMAP_SK_UID:
	case IMAP_SK_SEQSET:
		if (k->set.searchres)
			return imap_saved_has(v->s, m->uid);
		return imap_seqset_contains(&k->set, k->op == IMAP_SK_UID ? m->uid : seq,
		                            k->op == IMAP_SK_UID ? max_uid : max_seq);
	case IMAP_SK_MODSEQ: return m->modseq >= k->number; /* one mod-sequence for all metadata */
	case IMAP_SK_NOT: return !eval(k->child, v, seq, max_seq, max_uid);
	case IMAP_SK_OR:
		return eval(k->child, v, seq, max_seq, max_uid) || eval(k->child->next, v, seq, max_seq, max_uid);
	case IMAP_SK_AND:
		for (const imap_search_key *c = k->child; c != NULL; c = c->next)
			if (!eval(c, v, seq, max_seq, max_uid))
				return false;
		return true;
	}
	return false;
}

static void search_work(void *arg)
{
	search_job *j = arg;
	const mbox *mb = j->v->mb;
	uint32_t max_uid = j->n > 0 ? j->uids[j->n - 1] : 0;
	for (size_t k = 0; k < j->n; k++) {
		long i = mbox_find(mb, j->uids[k]);
		if (i < 0)
			continue; /* expunged meanwhile: matches nothing */
		msg_view v = {.s = j->s, .sv = j->v, .mb = mb, .i = (size_t)i};
		j->hit[k] = eval(j->q.root, &v, (uint32_t)(k + 1), (uint32_t)j->n, max_uid);
		if (j->hit[k] && mb->msgs[i].modseq > j->modseq)
			j->modseq = mb->msgs[i].modseq;
		free(v.data);
	}
}

/* ESEARCH's ALL: a compact set (1:3,7). */
static void write_set(buf *out, const uint32_t *v, size_t n)
{
	for (size_t k = 0; k < n;) {
		size_t e = k;
		while (e + 1 < n && v[e + 1] == v[e] + 1)
			e++;
		buf_printf(out, "%s%u", k ? "," : "", v[k]);
		if (e > k)
			buf_printf(out, ":%u", v[e]);
		k = e + 1;
	}
}

/* RETURN (SAVE ...): "$" becomes the hits (their UIDs), or only the MIN
 * and / or MAX ones when those are asked for without ALL or COUNT (RFC
 * 5182 2.4). */
static void save_result(search_job *j, unsigned r)
{
	uint32_t *uids = xcalloc(j->n + 1, sizeof(uint32_t));
	size_t n = 0;
	for (size_t k = 0; k < j->n; k++)
		if (j->hit[k])
			uids[n++] = j->uids[k];
	bool ends_only = (r & (IMAP_SEARCH_RET_MIN | IMAP_SEARCH_RET_MAX)) &&
	                 !(r & (IMAP_SEARCH_RET_ALL | IMAP_SEARCH_RET_COUNT));
	if (ends_only && n > 0) {
		uint32_t lo = uids[0], hi = uids[n - 1];
		n = 0;
		if (r & IMAP_SEARCH_RET_MIN)
			uids[n++] = lo;
		if ((r & IMAP_SEARCH_RET_MAX) && (n == 0 || hi != lo))
			uids[n++] = hi;
	}
	imap_saved_set(j->s, uids, n);
}

static void search_done(void *arg)
{
	search_job *j = arg;
	imap_session *s = j->s;
	uint32_t *found = xcalloc(j->n + 1, sizeof(uint32_t));
	size_t n = 0;
	for (size_t k = 0; k < j->n; k++)
		if (j->hit[k])
			found[n++] = j->uid ? j->uids[k] : (uint32_t)(k + 1);
	bool modseq = j->q.uses_modseq && n > 0;
	unsigned r = j->q.ret ? j->q.ret : IMAP_SEARCH_RET_ALL;
	if (r & IMAP_SEARCH_RET_SAVE)
		save_result(j, r);
	buf *out = conn_out(s->c);
	/* IMAP4rev2 has no SEARCH response: ESEARCH, ALL by default (RFC 9051 6.4.4) */
	if (r == IMAP_SEARCH_RET_SAVE) {
		/* SAVE alone: no ESEARCH response (RFC 5182 2.4) */
	} else if (!j->q.esearch && !(s->enabled & IMAP_ENABLED_REV2)) {
		buf_puts(out, "* SEARCH");
		for (size_t k = 0; k < n; k++)
			buf_printf(out, " %u", found[k]);
		if (modseq)
			buf_printf(out, " (MODSEQ %llu)", (unsigned long long)j->modseq);
		buf_puts(out, "\r\n");
	} else {
		buf_printf(out, "* ESEARCH (TAG \"%s\")%s", j->tag, j->uid ? " UID" : "");
		if ((r & IMAP_SEARCH_RET_MIN) && n > 0)
			buf_printf(out, " MIN %u", found[0]);
		if ((r & IMAP_SEARCH_RET_MAX) && n > 0)
			buf_printf(out, " MAX %u", found[n - 1]);
		if ((r & IMAP_SEARCH_RET_ALL) && n > 0) {
			buf_puts(out, " ALL ");
			write_set(out, found, n);
		}
		if (r & IMAP_SEARCH_RET_COUNT)
			buf_printf(out, " COUNT %zu", n);
		if (modseq)
			buf_printf(out, " MODSEQ %llu", (unsigned long long)j->modseq);
		buf_puts(out, "\r\n");
	}
	imap_tagged(s, j->tag, "OK", "%sSEARCH completed", j->uid ? "UID " : "");
	free(found);
	imap_search_free(&j->q);
	imap_command_free(&j->cmd);
	free(j->text);
	free(j->hit);
	free(j->uids);
	free(j->tag);
	free(j);
	conn_resume(s->c);
}

void imap_search_cmd(imap_session *s, const imap_command *c, const char *raw, size_t raw_len)
{
	search_job *j = xcalloc(1, sizeof(*j));
	/* the key tree points into the command: parse a copy this job keeps */
	j->text = xmalloc(raw_len + 1);
	memcpy(j->text, raw, raw_len);
	j->text[raw_len] = '\0';
	const char *err = NULL;
	imap_parse_opts opts = {.utf8 = imap_names_utf8(s)};
	imap_search_status st = IMAP_SEARCH_BAD;
	if (imap_command_parse(j->text, raw_len, &opts, &j->cmd, &err))
		st = imap_search_parse(j->cmd.args, &j->q, &err);
	if (st != IMAP_SEARCH_OK && (j->q.ret & IMAP_SEARCH_RET_SAVE))
		imap_saved_set(s, NULL, 0); /* a failed SEARCH ... RETURN (SAVE) empties "$" (RFC 5182 2.1) */
	if (st == IMAP_SEARCH_BADCHARSET) {
		imap_tagged(s, c->tag, "NO", "[BADCHARSET (UTF-8 US-ASCII)] Unknown charset");
	} else if (st != IMAP_SEARCH_OK) {
		imap_tagged(s, c->tag, "BAD", "%s", err ? err : "Invalid SEARCH");
	} else {
		if (j->q.uses_modseq)
			s->enabled |= IMAP_ENABLED_CONDSTORE; /* RFC 7162 3.1 */
		j->s = s;
		j->v = s->view;
		j->tag = xstrdup(c->tag);
		j->uid = c->uid;
		j->uids = store_viewer_uids(s->viewer, &j->n);
		j->hit = xcalloc(j->n + 1, sizeof(bool));
		conn_pause(s->c);
		store_view_run(s->view, STORE_READ, search_work, search_done, j);
		return;
	}
	imap_search_free(&j->q);
	imap_command_free(&j->cmd);
	free(j->text);
	free(j);
}
